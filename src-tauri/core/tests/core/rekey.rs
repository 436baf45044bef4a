//! A new vault identity: old copies of vault.key, recovery.key and the
//! keyring entry open nothing afterwards; every secret, fingerprint and
//! audit head carries over.

use keyward_core::inventory::{self, SecretUse};
use keyward_core::vault::{Error, RecoveryCode, VaultIdentity};
use keyward_core::{audit, findings, Origin, Passphrase, Vault};

use crate::common::*;

const NEW_PASS: &str = "copper meadow lantern 19 orbit";

fn reveal(vault: &mut Vault, id: &str, field: &str) -> Vec<u8> {
    inventory::take_secret(vault, id, field, SecretUse::Reveal, NOW)
        .unwrap()
        .expose()
        .to_vec()
}

#[test]
fn after_a_rekey_old_copies_of_the_key_files_open_nothing() {
    let (fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Kraken", "grid bot", b"rekey-secret-A-77");
    // The same secret twice: reuse must still be found afterwards.
    let b = add_key(&mut vault, "Binance", "copy", b"rekey-secret-A-77");
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let old_code = vault.create_recovery_code(proof, NOW).unwrap();
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let old_keyring = vault.remember(proof, NOW).unwrap();
    let head_before = audit::head(&vault).unwrap().unwrap();
    vault.lock().unwrap();
    let old_key = std::fs::read(fx.dir.key_path()).unwrap();
    let old_recovery = std::fs::read(fx.dir.recovery_path()).unwrap();

    let mut vault = fx.unlock();
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let done = vault.rekey(proof, &pass(), None, kdf(), true, NOW).unwrap();
    let new_code = done.recovery_code.unwrap();
    let mut vault = done.vault;
    assert_eq!(reveal(&mut vault, &a, "api_secret"), b"rekey-secret-A-77");
    assert_eq!(reveal(&mut vault, &b, "api_key"), b"AKIA-public-part");
    let reuse: Vec<_> = findings::of_vault(&vault, NOW)
        .unwrap()
        .into_iter()
        .filter(|f| f.rule.starts_with("secret.reuse") && f.key_id == a)
        .collect();
    assert!(
        !reuse.is_empty(),
        "reuse is found with the new fingerprints"
    );
    assert!(vault.check().unwrap().is_ok());
    // Heads given out before still prove their prefix.
    audit::verify_prefix(&vault, &head_before).unwrap();
    let log = audit::list(&vault).unwrap();
    let rekey = log.iter().find(|r| r.action == "vault.rekey").unwrap();
    assert_eq!(rekey.detail["secrets_resealed"], 4);
    assert_eq!(rekey.detail["recovery_code"], "replaced");
    // The append-only triggers came along.
    let e = vault
        .raw_connection()
        .execute("DELETE FROM audit", [])
        .unwrap_err();
    assert_eq!(e.to_string(), "the audit log is append-only");
    vault.lock().unwrap();

    // The passphrase is the same, and it opens the vault.
    fx.unlock().lock().unwrap();
    // The new recovery code opens it; the old one does not.
    let code = RecoveryCode::parse(new_code.expose()).unwrap();
    assert!(fx.dir.recover_identity(&code).is_ok());
    let old = RecoveryCode::parse(old_code.expose()).unwrap();
    assert!(matches!(
        fx.dir.recover_identity(&old),
        Err(Error::WrongRecoveryCode)
    ));
    // The old keyring entry is not this vault's any more.
    let remembered = VaultIdentity::from_keyring_text(&old_keyring).unwrap();
    assert!(matches!(
        fx.dir.check_identity(&remembered),
        Err(Error::RememberedKeyInvalid)
    ));
    // Its database key opens no page of this vault.db.
    assert!(matches!(
        Vault::open(&fx.dir, remembered, NOW, Origin::Test),
        Err(Error::DatabaseDamaged)
    ));

    // Old copies put back: vault.key with the old passphrase, or the old
    // recovery.key with the old code, open nothing.
    let new_key = std::fs::read(fx.dir.key_path()).unwrap();
    std::fs::write(fx.dir.key_path(), &old_key).unwrap();
    let e = Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test).unwrap_err();
    assert!(matches!(e, Error::DatabaseDamaged), "{e}");
    std::fs::write(fx.dir.key_path(), &new_key).unwrap();
    std::fs::write(fx.dir.recovery_path(), &old_recovery).unwrap();
    let identity = fx.dir.recover_identity(&old).unwrap();
    assert!(matches!(
        Vault::open(&fx.dir, identity, NOW, Origin::Test),
        Err(Error::DatabaseDamaged)
    ));
}

#[test]
fn a_rekey_can_change_the_passphrase_and_drop_the_recovery_code() {
    let (fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Kraken", "grid bot", b"rekey-secret-B-88");
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    vault.create_recovery_code(proof, NOW).unwrap();
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let new = Passphrase::new(NEW_PASS.into());
    let done = vault
        .rekey(proof, &pass(), Some(&new), kdf(), false, NOW)
        .unwrap();
    assert!(done.recovery_code.is_none());
    assert!(!fx.dir.has_recovery_code());
    done.vault.lock().unwrap();
    assert!(matches!(
        Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test),
        Err(Error::WrongPassphrase)
    ));
    let mut vault = Vault::unlock(&fx.dir, &new, NOW, Origin::Test).unwrap();
    assert_eq!(reveal(&mut vault, &a, "api_secret"), b"rekey-secret-B-88");
    let detail = &audit::list(&vault)
        .unwrap()
        .into_iter()
        .find(|r| r.action == "vault.rekey")
        .unwrap()
        .detail;
    assert_eq!(detail["recovery_code"], "removed");
    assert_eq!(detail["passphrase_changed"], true);
    // A weak new passphrase is refused before anything changes.
    let proof = vault.reauthenticate(&new, NOW).unwrap();
    let weak = Passphrase::new("password1".into());
    let e = vault
        .rekey(proof, &new, Some(&weak), kdf(), false, NOW)
        .unwrap_err();
    assert!(matches!(e, Error::WeakPassphrase { .. }), "{e}");
}

#[test]
fn a_rekey_is_refused_while_another_session_has_the_vault_open() {
    let (fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Kraken", "grid bot", b"rekey-secret-C-99");
    let key_before = std::fs::read(fx.dir.key_path()).unwrap();
    let other = fx.unlock();
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let e = vault
        .rekey(proof, &pass(), None, kdf(), false, NOW)
        .unwrap_err();
    assert!(matches!(e, Error::InUse), "{e}");
    drop(other);
    assert_eq!(std::fs::read(fx.dir.key_path()).unwrap(), key_before);
    let names: Vec<String> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".rekey")), "{names:?}");
    let mut vault = fx.unlock();
    assert_eq!(reveal(&mut vault, &a, "api_secret"), b"rekey-secret-C-99");
}
