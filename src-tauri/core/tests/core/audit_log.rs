//! The audit chain, attacked the way someone with the database key could.

use keyward_core::audit::{self, Error};
use keyward_core::rusqlite::ErrorCode;

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
    assert_eq!(
        e.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "the audit log is append-only");
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c.execute("DELETE FROM audit", []).unwrap_err();
    assert_eq!(
        e.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "the audit log is append-only");
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
    let e = audit::verify(&vault).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Broken {
                seq: 5,
                why: "its content was changed"
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert_eq!(
        msg,
        "audit log: entry #5 is broken: its content was changed"
    );
}

/// The first chain's link, as anyone could compute it without a key.
fn sha_link(
    seq: i64,
    at: &str,
    origin: &str,
    action: &str,
    entry_id: Option<&str>,
    detail: &str,
    prev: &[u8],
) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"keyward-audit-v1\0");
    h.update((seq as u64).to_be_bytes());
    for part in [at, origin, action, entry_id.unwrap_or(""), detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update([u8::from(entry_id.is_some())]);
    h.update(prev);
    h.finalize().to_vec()
}

#[test]
fn a_log_rewritten_without_the_chain_key_does_not_verify() {
    let (_fx, vault) = vault_with_history();
    let c = vault.raw_connection();
    // Edit row 4 and rebuild every link from it on, as one could with a
    // plain hash chain: row 3's hash is kept, rows 4.. are recomputed.
    c.execute(
        "UPDATE audit SET detail = '{\"label\":\"innocent\"}' WHERE seq = 4",
        [],
    )
    .unwrap();
    let mut prev: Vec<u8> = c
        .query_row("SELECT hash FROM audit WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    let rows: Vec<(i64, String, String, String, Option<String>, String)> = c
        .prepare("SELECT seq, at, origin, action, entry_id, detail FROM audit WHERE seq >= 4 ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut last = (0, Vec::new());
    for (seq, at, origin, action, entry, detail) in rows {
        let h = sha_link(seq, &at, &origin, &action, entry.as_deref(), &detail, &prev);
        c.execute(
            "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            keyward_core::rusqlite::params![seq, prev, h],
        )
        .unwrap();
        prev = h.clone();
        last = (seq, h);
    }
    c.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'audit_head'",
        [format!("{}:{}", last.0, hex::encode(&last.1))],
    )
    .unwrap();
    assert_eq!(broken_at(&vault), (4, "its content was changed".into()));
}

#[test]
fn a_head_kept_elsewhere_proves_the_prefix_and_catches_a_truncation() {
    let (_fx, mut vault) = Fixture::new();
    add_key(&mut vault, "Kraken", "a", b"s1");
    let anchor = audit::head(&vault).unwrap().unwrap();
    add_key(&mut vault, "Kraken", "b", b"s2");
    add_key(&mut vault, "Kraken", "c", b"s3");
    assert_eq!(audit::verify_prefix(&vault, &anchor).unwrap(), 5);
    // Someone who can unlock removes the tail and re-records the head: the
    // chain alone still verifies, the anchor does not.
    let c = vault.raw_connection();
    c.execute_batch(
        "DROP TRIGGER audit_is_append_only_delete;
         DELETE FROM audit WHERE seq >= 2;",
    )
    .unwrap();
    let first: Vec<u8> = c
        .query_row("SELECT hash FROM audit WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    c.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'audit_head'",
        [format!("1:{}", hex::encode(first))],
    )
    .unwrap();
    assert_eq!(audit::verify(&vault).unwrap(), 1);
    let e = audit::verify_prefix(&vault, &anchor).unwrap_err();
    assert!(
        matches!(e, Error::NotThePrefix { seq, .. } if seq == anchor.seq),
        "{e}"
    );
    assert!(
        matches!(
            e,
            Error::NotThePrefix {
                why: "the log is shorter",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "audit log: it does not hold entry #{} as recorded (the log is shorter): it was rolled back or rewritten",
            anchor.seq
        )
    );
    assert!(e.to_string().contains("rolled back or rewritten"), "{e}");
    // A head of another log (same length, other hash) is no prefix either.
    let mut other = anchor.clone();
    other.seq = 1;
    other.hash[0] ^= 1;
    assert!(matches!(
        audit::verify_prefix(&vault, &other),
        Err(Error::NotThePrefix {
            seq: 1,
            why: "that entry differs"
        })
    ));
}

#[test]
fn a_vault_db_put_back_alone_is_found_at_unlock() {
    use keyward_core::vault::Error as VaultError;
    use keyward_core::{Origin, Vault};
    let (fx, mut vault) = Fixture::new();
    add_key(&mut vault, "Kraken", "a", b"s1");
    vault.lock().unwrap();
    let old_db = std::fs::read(fx.dir.db_path()).unwrap();
    let mut vault = fx.unlock();
    add_key(&mut vault, "Kraken", "revoked later", b"s2");
    vault.lock().unwrap();
    std::fs::write(fx.dir.db_path(), &old_db).unwrap();
    let e = Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test).unwrap_err();
    assert!(matches!(e, VaultError::RolledBack { .. }), "{e}");
    assert!(
        matches!(
            e,
            VaultError::RolledBack {
                expected: 5,
                why: "is shorter"
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("vault.db was rolled back or replaced: its audit log is shorter"),
        "{e}"
    );
    // Put back on purpose: accepted, recorded, and the next unlock is fine.
    let (vault, found) =
        Vault::unlock_accepting_rollback(&fx.dir, &pass(), NOW, Origin::Test).unwrap();
    assert!(found.unwrap().contains("rolled back"));
    let log = audit::list(&vault).unwrap();
    assert_eq!(log.last().unwrap().action, "audit.rollback_accepted");
    vault.lock().unwrap();
    fx.unlock().lock().unwrap();

    // audit.head itself: edited, or gone.
    let anchor = fx.dir.anchor_path();
    let text = std::fs::read_to_string(&anchor).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = format!("1{}", lines[1]);
    std::fs::write(&anchor, lines.join("\n") + "\n").unwrap();
    let e = Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test).unwrap_err();
    assert!(
        matches!(
            e,
            VaultError::AnchorUnusable {
                why: "was changed outside Keyward (its seal does not match this vault)"
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("audit.head was changed outside Keyward"),
        "{e}"
    );
    std::fs::remove_file(&anchor).unwrap();
    let e = Vault::unlock(&fx.dir, &pass(), NOW, Origin::Test).unwrap_err();
    assert!(
        matches!(e, VaultError::AnchorUnusable { why: "is missing" }),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("audit.head is missing"), "{e}");
    std::fs::write(&anchor, text).unwrap();
    fx.unlock().lock().unwrap();
}
