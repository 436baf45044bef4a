//! Nothing readable on disk: every file of the vault directory — WAL and
//! shared-memory files included, while the vault is open and after it is
//! closed — is searched for the bytes of labels, platforms, notes and secrets.

use keyward_core::inventory::{self, Draft, SecretChanges, SecretUse};

use crate::common::*;

const MARKERS: [&[u8]; 7] = [
    b"ZebraLabel",
    b"QuokkaPlatform",
    b"NarwhalNote",
    b"s3cr3t-Axolotl-value",
    b"Pangolin-second-secret",
    b"OcelotOwner",
    b"TapirTag",
];

fn assert_no_marker_in(dir: &std::path::Path, when: &str) {
    let files = files_under(dir);
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        for m in MARKERS {
            assert!(
                !contains(bytes, m),
                "{when}: {} contains {:?}",
                path.display(),
                String::from_utf8_lossy(m)
            );
        }
    }
}

#[test]
fn no_vault_file_holds_a_label_platform_note_or_secret_in_plain_bytes() {
    let (fx, mut vault) = Fixture::new();
    let d = Draft {
        notes: Some("NarwhalNote".into()),
        owner: Some("OcelotOwner".into()),
        tags: Some(vec!["TapirTag".into()]),
        ..draft("QuokkaPlatform", "ZebraLabel")
    };
    let e = inventory::add(
        &mut vault,
        &d,
        vec![secret("api_secret", b"s3cr3t-Axolotl-value")],
        NOW,
    )
    .unwrap();
    let changes = SecretChanges {
        set: vec![secret("passphrase", b"Pangolin-second-secret")],
        remove: vec![],
    };
    inventory::edit(&mut vault, &e.id, &Draft::default(), changes, NOW).unwrap();
    inventory::take_secret(&mut vault, &e.id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    // While open, the WAL holds the recent pages.
    assert!(files_under(fx.dir.path())
        .iter()
        .any(|(p, _)| p.ends_with("vault.db-wal")));
    assert_no_marker_in(fx.dir.path(), "while open");

    inventory::delete(&mut vault, &e.id, NOW).unwrap();
    assert_no_marker_in(fx.dir.path(), "after delete");
    vault.lock().unwrap();
    assert_no_marker_in(fx.dir.path(), "after lock");
}

#[test]
fn a_failed_unlock_record_is_not_readable_either() {
    let (fx, vault) = Fixture::new();
    vault.lock().unwrap();
    let failed = keyward_core::Vault::unlock(
        &fx.dir,
        &keyward_core::Passphrase::new("wrong wrong wrong wrong".into()),
        NOW,
        keyward_core::Origin::Cli,
    );
    assert!(matches!(
        failed,
        Err(keyward_core::vault::Error::WrongPassphrase)
    ));
    let pending = std::fs::read(fx.dir.path().join("audit.pending")).unwrap();
    assert!(!contains(&pending, b"2026-11-22"));
    assert!(!contains(&pending, b"cli"));
}
