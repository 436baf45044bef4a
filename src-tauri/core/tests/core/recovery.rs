//! The recovery code: opens the vault when the passphrase is forgotten, and
//! nothing else once replaced or removed.

use keyward_core::vault::{Error, RecoveryCode};
use keyward_core::{audit, Origin, Passphrase, Vault};

use crate::common::*;

const NEW_PASS: &str = "copper meadow lantern 19 orbit";

#[test]
fn a_recovery_code_sets_a_new_passphrase_and_is_never_stored() {
    let (fx, mut vault) = Fixture::new();
    assert!(!fx.dir.has_recovery_code());
    let proof = vault.reauthenticate(&pass(), NOW).unwrap();
    let code = vault.create_recovery_code(proof, NOW).unwrap();
    assert!(code.expose().starts_with("AGE-SECRET-KEY-1"));
    assert!(format!("{code:?}").contains("redacted"));
    assert!(fx.dir.has_recovery_code());
    vault.lock().unwrap();
    // The code itself is on no file of the vault.
    for (path, bytes) in files_under(fx.dir.path()) {
        let c = code.expose().as_bytes();
        assert!(
            !bytes.windows(c.len()).any(|w| w == c),
            "{}",
            path.display()
        );
    }

    // Written down in groups, typed back in lower case: it still opens.
    let typed = code.grouped().to_lowercase();
    let identity = fx
        .dir
        .recover_identity(&RecoveryCode::parse(&typed).unwrap())
        .unwrap();
    let mut vault = Vault::open(&fx.dir, identity, NOW, Origin::Test).unwrap();
    vault
        .reset_passphrase(&Passphrase::new(NEW_PASS.into()), kdf(), NOW)
        .unwrap();
    assert_eq!(
        audit::list(&vault).unwrap().last().unwrap().action,
        "vault.recover"
    );
    vault.lock().unwrap();
    assert!(matches!(
        Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test),
        Err(Error::WrongPassphrase)
    ));
    let mut vault = Vault::unlock(
        &fx.dir,
        &Passphrase::new(NEW_PASS.into()),
        NOW,
        Origin::Test,
    )
    .unwrap();

    // A new code replaces the old; removing it leaves none.
    let proof = vault
        .reauthenticate(&Passphrase::new(NEW_PASS.into()), NOW)
        .unwrap();
    let newer = vault.create_recovery_code(proof, NOW).unwrap();
    assert!(matches!(
        fx.dir
            .recover_identity(&RecoveryCode::parse(code.expose()).unwrap()),
        Err(Error::WrongRecoveryCode)
    ));
    assert!(fx.dir.recover_identity(&newer).is_ok());
    assert!(vault.remove_recovery_code(NOW).unwrap());
    assert!(matches!(
        fx.dir.recover_identity(&newer),
        Err(Error::NoRecoveryCode)
    ));
    // A weak new passphrase is refused even after recovery.
    let e = vault
        .reset_passphrase(&Passphrase::new("short".into()), kdf(), NOW)
        .unwrap_err();
    assert!(e.to_string().starts_with("passphrase: too weak"), "{e}");
}

#[test]
fn a_mistyped_code_is_named_as_such() {
    for bad in ["", "hello", "AGE-SECRET-KEY-1NOTBECH32", "age1qqqq"] {
        assert!(
            matches!(RecoveryCode::parse(bad), Err(Error::BadRecoveryCode)),
            "{bad}"
        );
    }
}
