//! The audit chain, attacked the way someone with the database key could.

use keyward_core::audit::{self, Error};

use crate::common::*;

/// A vault with a few rows, and the triggers dropped as an attacker would.
fn vault_with_history() -> (Fixture, keyward_core::Vault) {
    let (fx, mut vault) = Fixture::new();
    for i in 0..4 {
        add_key(&mut vault, "Kraken", &format!("k{i}"), b"s");
    }
    assert_eq!(audit::verify(&vault).unwrap(), 6);
    vault
        .raw_connection()
        .execute_batch(
            "DROP TRIGGER audit_is_append_only_update; DROP TRIGGER audit_is_append_only_delete;",
        )
        .unwrap();
    (fx, vault)
}

fn broken_at(vault: &keyward_core::Vault) -> (u64, String) {
    match audit::verify(vault) {
        Err(Error::Broken { seq, why }) => (seq, why.to_string()),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn the_log_refuses_updates_and_deletes() {
    let (_fx, vault) = Fixture::new();
    let c = vault.raw_connection();
    let e = c
        .execute("UPDATE audit SET action = 'x' WHERE seq = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c.execute("DELETE FROM audit", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn an_edited_row_is_named() {
    let (_fx, vault) = vault_with_history();
    vault
        .raw_connection()
        .execute(
            "UPDATE audit SET detail = '{\"label\":\"innocent\"}' WHERE seq = 4",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(&vault), (4, "its content was changed".into()));
}

#[test]
fn an_edited_time_is_named() {
    let (_fx, vault) = vault_with_history();
    vault
        .raw_connection()
        .execute(
            "UPDATE audit SET at = '2020-01-01T00:00:00Z' WHERE seq = 2",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(&vault).0, 2);
}

#[test]
fn a_removed_row_is_named() {
    let (_fx, vault) = vault_with_history();
    vault
        .raw_connection()
        .execute("DELETE FROM audit WHERE seq = 3", [])
        .unwrap();
    assert_eq!(broken_at(&vault), (3, "it is missing".into()));
}

#[test]
fn a_rehashed_row_still_breaks_the_link_to_the_next() {
    let (_fx, vault) = vault_with_history();
    // Rewrite row 3's hash too: row 4 no longer follows it.
    vault
        .raw_connection()
        .execute("UPDATE audit SET hash = zeroblob(32) WHERE seq = 3", [])
        .unwrap();
    let (seq, _) = broken_at(&vault);
    assert_eq!(seq, 3);
}

#[test]
fn removing_the_newest_rows_is_detected() {
    let (_fx, vault) = vault_with_history();
    vault
        .raw_connection()
        .execute("DELETE FROM audit WHERE seq >= 5", [])
        .unwrap();
    assert_eq!(
        broken_at(&vault),
        (5, "the newest entries were removed".into())
    );
}

#[test]
fn renumbered_rows_are_detected() {
    let (_fx, vault) = vault_with_history();
    let c = vault.raw_connection();
    c.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
    c.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 2", [])
        .unwrap();
    assert_eq!(broken_at(&vault).0, 2);
}

#[test]
fn verification_message_names_the_entry() {
    let (_fx, vault) = vault_with_history();
    vault
        .raw_connection()
        .execute("UPDATE audit SET origin = 'app' WHERE seq = 5", [])
        .unwrap();
    let msg = audit::verify(&vault).unwrap_err().to_string();
    assert_eq!(
        msg,
        "audit log: entry #5 is broken: its content was changed"
    );
}
