//! Exports and lasting grants need the current passphrase at the moment of
//! the action — a fresh unwrap of `vault.key`, not the unlocked session.

use keyward_core::settings::{self, Settings};
use keyward_core::vault::Error;
use keyward_core::{audit, KdfParams, Origin, Passphrase, Vault, VaultDir};

use crate::common::*;

fn actions(vault: &Vault) -> Vec<String> {
    audit::list(vault)
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[test]
fn a_wrong_passphrase_grants_nothing_and_is_audited() {
    let (_fx, mut vault) = Fixture::new();
    let wrong = Passphrase::new("orbit lantern cobalt meadow 41".into());
    let e = vault.reauthenticate(&wrong, NOW).unwrap_err();
    assert!(matches!(e, Error::WrongPassphrase), "{e}");
    assert_eq!(
        actions(&vault)
            .iter()
            .filter(|a| *a == "vault.reauth_failed")
            .count(),
        1
    );
    assert!(vault.reauthenticate(&pass(), NOW).is_ok());
}

#[test]
fn the_passphrase_is_checked_against_vault_key_as_it_is_now() {
    let (fx, mut vault) = Fixture::new();
    // vault.key replaced under the open session (by another vault's key
    // with the same passphrase): the session's passphrase no longer counts.
    let other = tempfile::tempdir().unwrap();
    let other_dir = VaultDir::new(other.path().join("v"));
    Vault::init(&other_dir, &pass(), kdf(), NOW, Origin::Test)
        .unwrap()
        .lock()
        .unwrap();
    std::fs::copy(other_dir.key_path(), fx.dir.key_path()).unwrap();
    let e = vault.reauthenticate(&pass(), NOW).unwrap_err();
    assert!(matches!(e, Error::KeyFileDamaged), "{e}");
    // A passphrase changed meanwhile (by another process): the old one fails.
    let (fx, mut vault) = Fixture::new();
    let mut other = fx.unlock();
    let new = Passphrase::new("copper meadow lantern 19 orbit".into());
    other.change_passphrase(&pass(), &new, kdf(), NOW).unwrap();
    assert!(matches!(
        vault.reauthenticate(&pass(), NOW),
        Err(Error::WrongPassphrase)
    ));
    assert!(vault.reauthenticate(&new, NOW).is_ok());
}

#[test]
fn where_automatic_backups_go_changes_only_with_the_passphrase() {
    let (_fx, mut vault) = Fixture::new();
    let attacker = age::x25519::Identity::generate().to_public().to_string();
    let with_recipient = Settings {
        backup_schedule: "daily".into(),
        backup_recipients: vec![attacker.clone()],
        ..Settings::default()
    };
    let e = settings::save(&mut vault, with_recipient.clone(), None, NOW).unwrap_err();
    assert_eq!(
        e.to_string(),
        "backup_recipients: confirm the change with your current passphrase"
    );
    let e = settings::save(
        &mut vault,
        Settings {
            backup_folder: Some("/tmp/elsewhere".into()),
            ..Settings::default()
        },
        None,
        NOW,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("backup_folder: "), "{e}");
    assert_eq!(settings::load(&vault).unwrap(), Settings::default());
    // Other settings need no passphrase.
    settings::save(
        &mut vault,
        Settings {
            clipboard_clear_seconds: 45,
            ..Settings::default()
        },
        None,
        NOW,
    )
    .unwrap();
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let mut want = with_recipient;
    want.clipboard_clear_seconds = 45;
    settings::save(&mut vault, want.clone(), Some(proof), NOW).unwrap();
    assert_eq!(
        settings::load(&vault).unwrap().backup_recipients,
        vec![attacker]
    );
}

#[test]
fn unlock_raises_a_low_work_factor_to_the_one_asked_for() {
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    let log_n = |dir: &VaultDir| {
        let bytes = std::fs::read(dir.key_path()).unwrap();
        let stanza = bytes.split(|&b| b == b'\n').nth(1).unwrap().to_vec();
        let stanza = String::from_utf8(stanza).unwrap();
        stanza.rsplit(' ').next().unwrap().parse::<u8>().unwrap()
    };
    assert_eq!(log_n(&fx.dir), 10);
    let want = KdfParams::insecure_for_tests(12).unwrap();
    let vault = Vault::unlock_upgrading(&fx.dir, &pass(), want, NOW, Origin::Test).unwrap();
    assert_eq!(log_n(&fx.dir), 12);
    let rows = actions(&vault);
    assert_eq!(rows.iter().filter(|a| *a == "vault.kdf_upgrade").count(), 1);
    vault.lock().unwrap();
    // Already strong enough: left alone, not recorded again.
    let vault = Vault::unlock_upgrading(&fx.dir, &pass(), kdf(), NOW, Origin::Test).unwrap();
    assert_eq!(log_n(&fx.dir), 12);
    assert_eq!(
        actions(&vault)
            .iter()
            .filter(|a| *a == "vault.kdf_upgrade")
            .count(),
        1
    );
    vault.lock().unwrap();
    // A wrong passphrase still fails as before.
    let wrong = Passphrase::new("nope nope nope nope".into());
    assert!(matches!(
        Vault::unlock_upgrading(&fx.dir, &wrong, want, NOW, Origin::Test),
        Err(Error::WrongPassphrase)
    ));
}
