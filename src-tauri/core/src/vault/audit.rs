//! The audit log: append-only, each row chained to the one before by an
//! HMAC-SHA256 under a key derived from the vault identity.
//!
//! Every unlock, failed unlock, create, edit, status change, delete, reveal,
//! copy and export adds a row: what, when, by which front end, on which
//! entry — never a secret value. Each row's MAC covers its fields and the
//! previous row's, and the newest (the *head*, `SEQ:HASH`) is kept in
//! `meta`, so an edited, removed or reordered row is found by [`verify`],
//! which names the first broken row. Triggers refuse UPDATE and DELETE.
//!
//! What this proves, precisely: without the chain key (in the encrypted
//! database, so only someone who can unlock has it — or a backup, which
//! holds every secret anyway) no row can be changed or added unnoticed. Someone who *can* unlock can drop the triggers,
//! delete the tail and re-MAC the head; and anyone can put an older
//! `vault.db` back. Both leave a log that verifies, so the head is also
//! anchored outside the database: in `audit.head` beside it (checked at
//! every unlock), in every backup and report, and wherever the user copies
//! `keyward audit --head`. [`verify_prefix`] proves the log still holds
//! the exact prefix such an anchor names.
//!
//! Vaults older than the keyed chain keep their first rows as plain SHA-256
//! links (`audit_keyed_from` in `meta` says where the MACs begin), so heads
//! recorded before stay verifiable.
//!
//! Rows are appended inside the caller's write transaction, so an action and
//! its audit row commit together or not at all.

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::timefmt;
use crate::vault::{self, Origin, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chain does not hold at row `seq`.
    #[error("audit log: entry #{seq} is broken: {why}")]
    Broken { seq: u64, why: &'static str },
    /// The log verifies, but not with the prefix an anchor names.
    #[error("audit log: it does not hold entry #{seq} as recorded ({why}): it was rolled back or rewritten")]
    NotThePrefix { seq: u64, why: &'static str },
    #[error("head: expected SEQ:HASH (a number, a colon, 64 hex digits), as `keyward audit --head` prints it")]
    BadHead,
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
    /// The current passphrase was asked for an export or a grant, and was wrong.
    ReauthFailed,
    /// `vault.key` re-wrapped at unlock at a higher work factor.
    KdfUpgrade,
    /// The inventory's metadata exported as CSV.
    InventoryExport,
    /// A review's report exported.
    ReviewExport,
    /// An incident's report or summary exported.
    IncidentExport,
    /// `vault.db` or `audit.head` disagreed at unlock, and the user kept
    /// the vault as found.
    RollbackAccepted,
    /// The vault moved onto a new identity (`keyward rekey`).
    Rekey,
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
            Action::ReauthFailed => "vault.reauth_failed",
            Action::KdfUpgrade => "vault.kdf_upgrade",
            Action::InventoryExport => "inventory.export",
            Action::ReviewExport => "review.export",
            Action::IncidentExport => "incident.export",
            Action::RollbackAccepted => "audit.rollback_accepted",
            Action::Rekey => "vault.rekey",
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

/// One row's fields as they are linked, in a fixed, length-prefixed order.
struct RowFields<'a> {
    seq: u64,
    at: &'a str,
    origin: &'a str,
    action: &'a str,
    entry_id: Option<&'a str>,
    detail: &'a str,
    prev: &'a [u8],
}

impl RowFields<'_> {
    fn feed(&self, mut update: impl FnMut(&[u8])) {
        update(&self.seq.to_be_bytes());
        for part in [
            self.at,
            self.origin,
            self.action,
            self.entry_id.unwrap_or(""),
            self.detail,
        ] {
            update(&(part.len() as u64).to_be_bytes());
            update(part.as_bytes());
        }
        update(&[u8::from(self.entry_id.is_some())]);
        update(self.prev);
    }
}

/// The first chain: plain SHA-256 (rows before `audit_keyed_from`).
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
    RowFields {
        seq,
        at,
        origin,
        action,
        entry_id,
        detail,
        prev,
    }
    .feed(|b| h.update(b));
    h.finalize().into()
}

/// The keyed chain: HMAC-SHA256 under the chain key.
fn row_mac(key: &[u8; 32], row: &RowFields<'_>) -> [u8; 32] {
    // HMAC takes keys of any length: never fails.
    let mut m = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    m.update(b"keyward-audit-v2\0");
    row.feed(|b| m.update(b));
    m.finalize().into_bytes().into()
}

/// The chain key and the first row it covers, from `meta`.
pub(crate) struct ChainKey {
    key: Zeroizing<[u8; 32]>,
    from: u64,
}

impl ChainKey {
    fn link(&self, row: &RowFields<'_>) -> [u8; 32] {
        if row.seq >= self.from {
            row_mac(&self.key, row)
        } else {
            row.sha()
        }
    }
}

impl RowFields<'_> {
    /// The first chain's link: plain SHA-256.
    fn sha(&self) -> [u8; 32] {
        row_hash(
            self.seq,
            self.at,
            self.origin,
            self.action,
            self.entry_id,
            self.detail,
            self.prev,
        )
    }
}

fn link(key: Option<&ChainKey>, row: &RowFields<'_>) -> [u8; 32] {
    key.map_or_else(|| row.sha(), |k| k.link(row))
}

fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// The chain key, if the chain is keyed (every vault opened by this version).
pub(crate) fn chain_key(conn: &Connection) -> vault::Result<Option<ChainKey>> {
    let Some(hex_key) = meta(conn, "audit_key")? else {
        return Ok(None);
    };
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_key.trim(), key.as_mut())
        .map_err(|_| vault::Error::Storage("audit_key in meta is unreadable".into()))?;
    let from = meta(conn, "audit_keyed_from")?
        .and_then(|f| f.parse::<u64>().ok())
        .ok_or_else(|| vault::Error::Storage("audit_keyed_from in meta is unreadable".into()))?;
    Ok(Some(ChainKey { key, from }))
}

/// Keys the chain from the next row on, with `key` (derived from the vault
/// identity), unless it is keyed already. Rows before stay SHA-256 links.
pub(crate) fn start_keyed_chain(conn: &Connection, key: &[u8; 32]) -> vault::Result<bool> {
    if meta(conn, "audit_key")?.is_some() {
        return Ok(false);
    }
    let last: u64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| {
        r.get::<_, i64>(0)
    })? as u64;
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('audit_key', ?1), ('audit_keyed_from', ?2)",
        rusqlite::params![
            Zeroizing::new(hex::encode(key)).as_str(),
            (last + 1).to_string()
        ],
    )?;
    Ok(true)
}

/// A point of the log: entry `seq` and its hash. Printed and parsed as
/// `SEQ:HASH` — what reports, backups and `keyward audit --head` carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: [u8; 32],
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, hex::encode(self.hash))
    }
}

impl std::str::FromStr for Head {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (seq, hash) = s.trim().split_once(':').ok_or(Error::BadHead)?;
        let seq = seq.parse::<u64>().map_err(|_| Error::BadHead)?;
        let mut h = [0u8; 32];
        if seq == 0 || hash.len() != 64 || hex::decode_to_slice(hash, &mut h).is_err() {
            return Err(Error::BadHead);
        }
        Ok(Head { seq, hash: h })
    }
}

/// The head now: the newest entry and its hash.
pub fn head(vault: &Vault) -> Result<Option<Head>> {
    head_conn(vault.conn())
}

pub(crate) fn head_conn(conn: &Connection) -> Result<Option<Head>> {
    meta(conn, "audit_head")?
        .map(|h| {
            h.parse::<Head>().map_err(|_| Error::Broken {
                seq: 0,
                why: "the recorded head is unreadable",
            })
        })
        .transpose()
}

/// Whether the log holds entry `head.seq` with `head.hash` (a quick check:
/// one row, no walk). `Err` says why not.
pub(crate) fn holds(conn: &Connection, head: &Head) -> Result<()> {
    let row: Option<Vec<u8>> = conn
        .query_row(
            "SELECT hash FROM audit WHERE seq = ?1",
            [head.seq as i64],
            |r| r.get(0),
        )
        .optional()?;
    match row {
        None => Err(Error::NotThePrefix {
            seq: head.seq,
            why: "the log is shorter",
        }),
        Some(h) if h.as_slice() == head.hash.as_slice() => Ok(()),
        Some(_) => Err(Error::NotThePrefix {
            seq: head.seq,
            why: "that entry differs",
        }),
    }
}

/// Proves the log still holds the exact prefix `expected` names (from a
/// report, a backup or `keyward audit --head` kept elsewhere): the whole
/// chain verifies, and its entry `expected.seq` has `expected.hash` — so
/// every entry up to it is as it was then. Returns the number of entries.
pub fn verify_prefix(vault: &Vault, expected: &Head) -> Result<u64> {
    let n = verify(vault)?;
    holds(vault.conn(), expected)?;
    Ok(n)
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
    let key = chain_key(tx)?;
    let hash = link(
        key.as_ref(),
        &RowFields {
            seq,
            at: &at,
            origin: origin.as_str(),
            action: action.as_str(),
            entry_id,
            detail: &detail,
            prev: &prev_hash,
        },
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

/// The keys whose values may have been typed since the last unlock with
/// the passphrase: created, edited, imported or rotated after the newest
/// `vault.unlock` row made with it. An unlocked window (or a keyring
/// unlock it can trigger) cannot move that point; only the passphrase
/// can. The leak scan shows no text around their copies.
pub fn keys_changed_since_passphrase(vault: &Vault) -> Result<std::collections::HashSet<String>> {
    let since: i64 = vault.conn().query_row(
        "SELECT coalesce(max(seq), 0) FROM audit
         WHERE action = 'vault.unlock' AND json_extract(detail, '$.with') = 'passphrase'",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = vault.conn().prepare(
        "SELECT DISTINCT entry_id FROM audit
         WHERE seq > ?1 AND entry_id IS NOT NULL
           AND action IN ('entry.create', 'entry.edit', 'rotation.step', 'rotation.complete')",
    )?;
    let rows = stmt.query_map([since], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
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
    let key = chain_key(conn)?;
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
        let computed = link(
            key.as_ref(),
            &RowFields {
                seq,
                at: &r.get::<_, String>(1)?,
                origin: &r.get::<_, String>(2)?,
                action: &r.get::<_, String>(3)?,
                entry_id: entry_id.as_deref(),
                detail: &r.get::<_, String>(5)?,
                prev: &prev_hash,
            },
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
    fn heads_print_and_parse_as_seq_colon_hash() {
        let h = Head {
            seq: 42,
            hash: [0xab; 32],
        };
        let text = h.to_string();
        assert_eq!(text, format!("42:{}", "ab".repeat(32)));
        assert_eq!(text.parse::<Head>().unwrap(), h);
        for bad in [
            "",
            "42",
            "x:ab",
            "0:00",
            "42:abc",
            &format!("42:{}", "zz".repeat(32)),
        ] {
            assert!(bad.parse::<Head>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_keyed_link_needs_the_key() {
        let row = RowFields {
            seq: 5,
            at: "t",
            origin: "cli",
            action: "a",
            entry_id: None,
            detail: "{}",
            prev: &GENESIS,
        };
        let k1 = ChainKey {
            key: Zeroizing::new([1; 32]),
            from: 1,
        };
        let k2 = ChainKey {
            key: Zeroizing::new([2; 32]),
            from: 1,
        };
        assert_ne!(k1.link(&row), k2.link(&row));
        assert_ne!(
            k1.link(&row),
            row_hash(5, "t", "cli", "a", None, "{}", &GENESIS)
        );
        // Rows before the key took over stay plain SHA-256 links.
        let later = ChainKey {
            key: Zeroizing::new([1; 32]),
            from: 6,
        };
        assert_eq!(
            later.link(&row),
            row_hash(5, "t", "cli", "a", None, "{}", &GENESIS)
        );
    }

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
