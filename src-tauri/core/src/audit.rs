//! The audit log: append-only, each row chained to the one before by SHA-256.
//!
//! Every unlock, failed unlock, create, edit, status change, delete, reveal
//! and copy adds a row: what, when, by which front end, on which entry —
//! never a secret value. Each row's hash covers its fields and the previous
//! row's hash, and the newest hash is also kept in `meta`, so an edited,
//! removed, reordered or truncated row is found by [`verify`], which names
//! the first broken row. Triggers refuse UPDATE and DELETE on the table.
//!
//! Rows are appended inside the caller's write transaction, so an action and
//! its audit row commit together or not at all.

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::timefmt;
use crate::vault::{self, Origin, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chain does not hold at row `seq`.
    #[error("audit log: entry #{seq} is broken: {why}")]
    Broken { seq: u64, why: &'static str },
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

/// What happened. Stored as its dotted name; later features add names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    VaultInit,
    Unlock,
    UnlockFailed,
    PassphraseChange,
    EntryCreate,
    EntryEdit,
    EntryStatus,
    EntryDelete,
    SecretReveal,
    SecretCopy,
    SettingsChange,
    RotationStart,
    RotationStep,
    RotationComplete,
    RotationCancel,
    ReminderSnooze,
    ReviewStart,
    ReviewDecide,
    ReviewFinish,
    ReviewCancel,
    ReviewFollowUp,
    IncidentOpen,
    IncidentStep,
    IncidentClose,
    BackupCreate,
    BackupRestore,
    RecoveryCreate,
    RecoveryRemove,
    Recover,
    Remember,
    Import,
    SecretScan,
    /// A copy found by the leak scan was dealt with (or accepted).
    SecretScanResolved,
    /// A scan's copies were recorded in the vault (new, still there, gone).
    SecretScanCopies,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::VaultInit => "vault.init",
            Action::Unlock => "vault.unlock",
            Action::UnlockFailed => "vault.unlock_failed",
            Action::PassphraseChange => "vault.passphrase_change",
            Action::EntryCreate => "entry.create",
            Action::EntryEdit => "entry.edit",
            Action::EntryStatus => "entry.status",
            Action::EntryDelete => "entry.delete",
            Action::SecretReveal => "secret.reveal",
            Action::SecretCopy => "secret.copy",
            Action::SettingsChange => "settings.change",
            Action::RotationStart => "rotation.start",
            Action::RotationStep => "rotation.step",
            Action::RotationComplete => "rotation.complete",
            Action::RotationCancel => "rotation.cancel",
            Action::ReminderSnooze => "reminder.snooze",
            Action::ReviewStart => "review.start",
            Action::ReviewDecide => "review.decide",
            Action::ReviewFinish => "review.finish",
            Action::ReviewCancel => "review.cancel",
            Action::ReviewFollowUp => "review.followup",
            Action::IncidentOpen => "incident.open",
            Action::IncidentStep => "incident.step",
            Action::IncidentClose => "incident.close",
            Action::BackupCreate => "backup.create",
            Action::BackupRestore => "backup.restore",
            Action::RecoveryCreate => "recovery.create",
            Action::RecoveryRemove => "recovery.remove",
            Action::Recover => "vault.recover",
            Action::Remember => "vault.remember",
            Action::Import => "entry.import",
            Action::SecretScan => "secret.scan",
            Action::SecretScanResolved => "secret.scan_resolved",
            Action::SecretScanCopies => "secret.scan_copies",
        }
    }
}

/// One row of the log as read back.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Record {
    #[ts(type = "number")]
    pub seq: u64,
    #[serde(with = "timefmt::serde_rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    pub origin: String,
    pub action: String,
    pub entry_id: Option<String>,
    pub detail: serde_json::Value,
    pub hash: String,
}

const GENESIS: [u8; 32] = [0; 32];

fn row_hash(
    seq: u64,
    at: &str,
    origin: &str,
    action: &str,
    entry_id: Option<&str>,
    detail: &str,
    prev: &[u8],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"keyward-audit-v1\0");
    h.update(seq.to_be_bytes());
    for part in [at, origin, action, entry_id.unwrap_or(""), detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.update([u8::from(entry_id.is_some())]);
    h.update(prev);
    h.finalize().into()
}

/// Appends one row in the caller's transaction.
pub(crate) fn append(
    tx: &Transaction<'_>,
    at: OffsetDateTime,
    origin: Origin,
    action: Action,
    entry_id: Option<&str>,
    detail: &serde_json::Value,
) -> vault::Result<()> {
    let head: Option<(u64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .optional()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_vec()));
    let seq = prev_seq + 1;
    let at = timefmt::format(at);
    let detail = detail.to_string();
    let hash = row_hash(
        seq,
        &at,
        origin.as_str(),
        action.as_str(),
        entry_id,
        &detail,
        &prev_hash,
    );
    tx.execute(
        "INSERT INTO audit(seq, at, origin, action, entry_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            seq as i64,
            at,
            origin.as_str(),
            action.as_str(),
            entry_id,
            detail,
            prev_hash,
            hash.to_vec()
        ],
    )?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('audit_head', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [format!("{seq}:{}", hex::encode(hash))],
    )?;
    Ok(())
}

/// Records an action that changes nothing else (reveal, copy): its own
/// transaction.
pub fn record(
    vault: &mut Vault,
    at: OffsetDateTime,
    action: Action,
    entry_id: Option<&str>,
    detail: &serde_json::Value,
) -> vault::Result<()> {
    let origin = vault.origin();
    let tx = vault.write()?;
    append(&tx, at, origin, action, entry_id, detail)?;
    tx.commit()?;
    Ok(())
}

/// Every row, oldest first.
pub fn list(vault: &Vault) -> Result<Vec<Record>> {
    let mut stmt = vault.conn().prepare(
        "SELECT seq, at, origin, action, entry_id, detail, hash FROM audit ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Vec<u8>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, origin, action, entry_id, detail, hash) = row?;
        let seq = seq as u64;
        out.push(Record {
            seq,
            at: timefmt::parse_rfc3339(&at).map_err(|_| Error::Broken {
                seq,
                why: "its time is unreadable",
            })?,
            origin,
            action,
            entry_id,
            detail: serde_json::from_str(&detail).map_err(|_| Error::Broken {
                seq,
                why: "its detail is unreadable",
            })?,
            hash: hex::encode(hash),
        });
    }
    Ok(out)
}

/// Walks the whole chain. Returns the number of rows, or the first broken one.
pub fn verify(vault: &Vault) -> Result<u64> {
    verify_conn(vault.conn())
}

/// [`verify`] on a connection (a restore checks the chain before committing).
pub(crate) fn verify_conn(conn: &rusqlite::Connection) -> Result<u64> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, origin, action, entry_id, detail, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1u64;
    let mut prev = GENESIS.to_vec();
    while let Some(r) = rows.next()? {
        let seq = r.get::<_, i64>(0)? as u64;
        if seq != expected_seq {
            // A gap: the row expected here was removed.
            return Err(Error::Broken {
                seq: expected_seq,
                why: "it is missing",
            });
        }
        let prev_hash: Vec<u8> = r.get(6)?;
        let hash: Vec<u8> = r.get(7)?;
        if prev_hash != prev {
            return Err(Error::Broken {
                seq,
                why: "it does not follow the entry before it",
            });
        }
        let entry_id: Option<String> = r.get(4)?;
        let computed = row_hash(
            seq,
            &r.get::<_, String>(1)?,
            &r.get::<_, String>(2)?,
            &r.get::<_, String>(3)?,
            entry_id.as_deref(),
            &r.get::<_, String>(5)?,
            &prev_hash,
        );
        if computed.as_slice() != hash.as_slice() {
            return Err(Error::Broken {
                seq,
                why: "its content was changed",
            });
        }
        prev = hash;
        expected_seq += 1;
    }
    let count = expected_seq - 1;
    let head: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let expected_head = format!("{count}:{}", hex::encode(&prev));
    match head {
        Some(h) if h == expected_head => Ok(count),
        None if count == 0 => Ok(0),
        _ => Err(Error::Broken {
            seq: count + 1,
            why: "the newest entries were removed",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_covers_every_field_and_the_link() {
        let base = row_hash(1, "t", "cli", "a", Some("e"), "{}", &GENESIS);
        assert_ne!(
            base,
            row_hash(2, "t", "cli", "a", Some("e"), "{}", &GENESIS)
        );
        assert_ne!(
            base,
            row_hash(1, "u", "cli", "a", Some("e"), "{}", &GENESIS)
        );
        assert_ne!(
            base,
            row_hash(1, "t", "app", "a", Some("e"), "{}", &GENESIS)
        );
        assert_ne!(
            base,
            row_hash(1, "t", "cli", "b", Some("e"), "{}", &GENESIS)
        );
        assert_ne!(base, row_hash(1, "t", "cli", "a", None, "{}", &GENESIS));
        assert_ne!(base, row_hash(1, "t", "cli", "a", Some(""), "{}", &GENESIS));
        assert_ne!(
            base,
            row_hash(1, "t", "cli", "a", Some("e"), "{ }", &GENESIS)
        );
        assert_ne!(
            base,
            row_hash(1, "t", "cli", "a", Some("e"), "{}", &[1; 32])
        );
        // Length prefixes: moving a byte between fields changes the hash.
        assert_ne!(
            row_hash(1, "ab", "c", "a", None, "", &GENESIS),
            row_hash(1, "a", "bc", "a", None, "", &GENESIS)
        );
    }
}
