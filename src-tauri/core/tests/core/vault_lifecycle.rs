use keyward_core::audit;
use keyward_core::inventory::{self, SecretUse};
use keyward_core::vault::Error;
use keyward_core::{Origin, Passphrase, Vault, VaultDir};
use time::macros::datetime;

use crate::common::*;

#[test]
fn init_unlock_lock_and_reopen_keeps_everything() {
    let (fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid bot", b"kraken-secret-1");
    vault.lock().unwrap();

    let mut vault = fx.unlock();
    let entries = inventory::list(&vault).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, id);
    assert_eq!(entries[0].label, "grid bot");
    let v = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    assert_eq!(v.expose(), b"kraken-secret-1");
    let actions: Vec<String> = audit::list(&vault)
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "vault.init",
            "vault.unlock",
            "entry.create",
            "vault.unlock",
            "secret.reveal"
        ]
    );
    assert_eq!(audit::verify(&vault).unwrap(), 5);
}

#[test]
fn init_writes_the_four_vault_files_and_nothing_else() {
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["audit.head", "vault.db", "vault.key", "vault.pub"]);
}

#[cfg(unix)]
#[test]
fn vault_files_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(fx.dir.path()), 0o700);
    assert_eq!(mode(&fx.dir.db_path()), 0o600);
    assert_eq!(mode(&fx.dir.key_path()), 0o600);
}

#[test]
fn init_refuses_an_existing_vault() {
    let (fx, vault) = Fixture::new();
    drop(vault);
    let err = Vault::init(&fx.dir, &pass(), kdf(), NOW, Origin::Test).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
}

#[test]
fn init_refuses_a_weak_passphrase_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("v"));
    for weak in [
        "password1234",
        "short",
        "qwertyuiopasdf",
        "aaaaaaaaaaaaaaaa",
    ] {
        let err = Vault::init(
            &dir,
            &Passphrase::new(weak.into()),
            kdf(),
            NOW,
            Origin::Test,
        )
        .unwrap_err();
        match err {
            Error::WeakPassphrase { reason } => assert!(!reason.is_empty()),
            other => panic!("{weak}: {other:?}"),
        }
        assert!(!dir.exists());
    }
}

#[test]
fn unlock_without_a_vault_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Vault::unlock(&VaultDir::new(tmp.path()), &pass(), NOW, Origin::Test).unwrap_err();
    assert!(matches!(err, Error::NoVault { .. }));
    assert!(
        matches!(&err, Error::NoVault { path } if path == tmp.path()),
        "{err:?}"
    );
    assert!(err.to_string().contains("keyward init"), "{err}");
}

#[test]
fn wrong_passphrase_is_clear_leaves_the_vault_untouched_and_is_audited() {
    let (fx, mut vault) = Fixture::new();
    add_key(&mut vault, "Binance", "spot", b"binance-secret");
    vault.lock().unwrap();
    let db_before = std::fs::read(fx.dir.db_path()).unwrap();
    let key_before = std::fs::read(fx.dir.key_path()).unwrap();

    let wrong = Passphrase::new("orbit lantern cobalt meadow 43".into());
    let when = datetime!(2026-11-23 03:14 UTC);
    let err = Vault::unlock(&fx.dir, &wrong, when, Origin::Cli).unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase));
    assert_eq!(err.to_string(), "wrong passphrase");
    assert_eq!(std::fs::read(fx.dir.db_path()).unwrap(), db_before);
    assert_eq!(std::fs::read(fx.dir.key_path()).unwrap(), key_before);

    let vault = Vault::unlock(
        &fx.dir,
        &pass(),
        when + time::Duration::hours(1),
        Origin::Test,
    )
    .unwrap();
    let log = audit::list(&vault).unwrap();
    let failed: Vec<_> = log
        .iter()
        .filter(|r| r.action == "vault.unlock_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    // The locked vault's report is no trusted history: recorded when it
    // was read, with what it claims beside.
    assert_eq!(failed[0].at, when + time::Duration::hours(1));
    assert_eq!(failed[0].detail["reported_by_locked_vault"], true);
    assert_eq!(failed[0].detail["claimed_at"], "2026-11-23T03:14:00Z");
    assert_eq!(failed[0].detail["attempted_via"], "cli");
    assert_eq!(log.last().unwrap().action, "vault.unlock");
    assert!(audit::verify(&vault).is_ok());
    // Ingested once: the pending file is gone.
    drop(vault);
    let vault = fx.unlock();
    let n = audit::list(&vault)
        .unwrap()
        .iter()
        .filter(|r| r.action == "vault.unlock_failed")
        .count();
    assert_eq!(n, 1);
}

#[test]
fn changing_the_passphrase_rewraps_only_the_key_file() {
    let (fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "OKX", "hedge", b"okx-secret");
    let new = Passphrase::new("velvet harbour quartz tundra 7".into());
    let err = vault
        .change_passphrase(
            &Passphrase::new("not it at all 123".into()),
            &new,
            kdf(),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, Error::WrongPassphrase));
    let err = vault
        .change_passphrase(&pass(), &Passphrase::new("abc".into()), kdf(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::WeakPassphrase { .. }));
    vault.change_passphrase(&pass(), &new, kdf(), NOW).unwrap();
    vault.lock().unwrap();

    assert!(matches!(
        Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test),
        Err(Error::WrongPassphrase)
    ));
    let mut vault = Vault::unlock(&fx.dir, &new, NOW, Origin::Test).unwrap();
    let v = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Copy, NOW).unwrap();
    assert_eq!(v.expose(), b"okx-secret");
    assert!(audit::list(&vault)
        .unwrap()
        .iter()
        .any(|r| r.action == "vault.passphrase_change"));
}

#[test]
fn two_sessions_on_one_vault_keep_one_audit_chain() {
    let (fx, mut a) = Fixture::new();
    let mut b = fx.unlock();
    add_key(&mut a, "Kraken", "a", b"s1");
    add_key(&mut b, "Kraken", "b", b"s2");
    add_key(&mut a, "Kraken", "c", b"s3");
    assert_eq!(inventory::list(&b).unwrap().len(), 3);
    assert_eq!(
        audit::verify(&a).unwrap(),
        audit::list(&b).unwrap().len() as u64
    );
}

#[test]
fn debug_of_a_vault_and_its_identity_shows_no_key_material() {
    let (fx, vault) = Fixture::new();
    let s = format!("{vault:?}");
    assert!(s.contains("Vault"));
    assert!(!s.to_lowercase().contains("age-secret-key"));
    let id = fx.dir.unwrap_identity(&pass()).unwrap();
    assert_eq!(format!("{id:?}"), "VaultIdentity([redacted])");
    assert_eq!(format!("{:?}", pass()), "Passphrase([redacted])");
    let input = secret("api_secret", b"TOPSECRET");
    assert!(!format!("{input:?}").contains("TOPSECRET"));
}

/// What the locked vault reports (`audit.pending`) is untrusted: anyone can
/// seal a record to the public `vault.pub`.
#[test]
fn failed_unlocks_reported_while_locked_are_capped_and_never_trusted_history() {
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    let recipient: age::x25519::Recipient =
        std::fs::read_to_string(fx.dir.path().join("vault.pub"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    let seal = |record: serde_json::Value| {
        let sealed = age::encrypt(&recipient, record.to_string().as_bytes()).unwrap();
        format!("{}\n", hex::encode(sealed))
    };
    let pending = fx.dir.path().join("audit.pending");
    // A forged record: a time in the future, an origin we never write.
    let mut text =
        seal(serde_json::json!({"at": "2099-01-01T00:00:00Z", "origin": "\u{1b}[31mroot"}));
    // And far more than failed unlocks ever make.
    for _ in 0..150 {
        text.push_str(&seal(
            serde_json::json!({"at": "2026-11-21T00:00:00Z", "origin": "app"}),
        ));
    }
    std::fs::write(&pending, &text).unwrap();
    let at = NOW + time::Duration::hours(2);
    let vault = Vault::unlock(&fx.dir, &pass(), at, Origin::Test).unwrap();
    let failed: Vec<_> = audit::list(&vault)
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "vault.unlock_failed")
        .collect();
    assert_eq!(failed.len(), 101, "100 rows, then one counting the rest");
    assert!(failed.iter().all(|r| r.at == at));
    assert!(failed
        .iter()
        .all(|r| r.detail["reported_by_locked_vault"] == true));
    assert_eq!(failed[0].detail["claimed_at"], serde_json::Value::Null);
    assert_eq!(failed[0].detail["attempted_via"], "unknown");
    assert_eq!(failed[1].detail["claimed_at"], "2026-11-21T00:00:00Z");
    assert_eq!(failed[100].detail["records_beyond_the_cap"], 51);
    assert!(!pending.exists());
    vault.lock().unwrap();

    // Too big to be ours: not read, one row says so, the file goes.
    std::fs::write(&pending, vec![b'a'; 512 * 1024]).unwrap();
    let vault = fx.unlock();
    let last = audit::list(&vault).unwrap();
    let refused = last
        .iter()
        .rev()
        .find(|r| r.action == "vault.unlock_failed")
        .unwrap();
    assert!(refused.detail["file_refused"]
        .as_str()
        .unwrap()
        .starts_with("larger than 256 KiB"));
    assert!(!pending.exists());
    vault.lock().unwrap();
    // A FIFO in its place: unlock does not wait on it.
    assert!(std::process::Command::new("mkfifo")
        .arg(&pending)
        .status()
        .unwrap()
        .success());
    let vault = fx.unlock();
    assert!(audit::verify(&vault).is_ok());
}

#[test]
fn a_new_vault_ignores_what_an_earlier_one_left_beside_it() {
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    // vault.key and vault.db gone (deleted, or a failed restore's), the
    // rest left: audit.head, reminders.json.
    std::fs::remove_file(fx.dir.key_path()).unwrap();
    std::fs::remove_file(fx.dir.db_path()).unwrap();
    assert!(fx.dir.anchor_path().exists());
    let vault = Vault::init(&fx.dir, &pass(), kdf(), NOW, Origin::Test).unwrap();
    vault.lock().unwrap();
    fx.unlock().lock().unwrap();
}

#[test]
fn a_new_passphrase_must_be_typed_the_same_twice() {
    use keyward_core::vault::confirmed;
    let p = |s: &str| Passphrase::new(s.into());
    assert_eq!(
        confirmed(p("orbit lantern"), p("orbit lantern"))
            .unwrap()
            .expose(),
        "orbit lantern"
    );
    for other in ["orbit lanterN", "orbit", ""] {
        let e = confirmed(p("orbit lantern"), p(other)).unwrap_err();
        assert!(matches!(e, Error::PassphraseMismatch), "{e}");
        assert_eq!(e.to_string(), "passphrase: the two entries do not match");
    }
}
