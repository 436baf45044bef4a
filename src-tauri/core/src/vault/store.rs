//! The SQLCipher database: opening with a raw key, pragmas, and the schema's
//! migrations.
//!
//! The schema version lives in SQLite's `user_version`; each migration runs
//! in the same transaction as the version bump, so a crash leaves the file at
//! one version or the next, never between.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use zeroize::Zeroizing;

use super::{Error, Result};
use crate::secret::DerivedKey;

/// Every schema the vault has had, oldest first. Never edit a published
/// migration: add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE entries (
        id               TEXT PRIMARY KEY,
        platform         TEXT NOT NULL,
        account          TEXT,
        label            TEXT NOT NULL,
        environment      TEXT NOT NULL,
        owner            TEXT,
        purpose          TEXT,
        permissions      TEXT NOT NULL, -- one scope per line
        ip_allowlist     TEXT NOT NULL, -- one address or CIDR per line
        ip_note          TEXT,
        rotation_days    INTEGER,
        created_at       TEXT NOT NULL, -- RFC 3339, UTC
        expires_at       TEXT,
        last_rotated_at  TEXT,
        last_used_at     TEXT,
        last_reviewed_at TEXT,
        status           TEXT NOT NULL,
        tags             TEXT NOT NULL, -- one tag per line
        notes            TEXT,
        key_id_hint      TEXT,
        updated_at       TEXT NOT NULL,
        secret_fields    TEXT NOT NULL DEFAULT '' -- names only, one per line, in
                                                  -- position order: a copy of what
                                                  -- `secrets` holds, so listing never
                                                  -- reads that table
    ) STRICT;

    CREATE TABLE secrets (
        entry_id    TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        field       TEXT NOT NULL,
        position    INTEGER NOT NULL,
        sealed      BLOB NOT NULL,     -- age, to the vault recipient, bound to (entry_id, field)
        fingerprint BLOB NOT NULL,     -- HMAC-SHA256 under the fingerprint key
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (entry_id, field)
    ) STRICT;
    CREATE INDEX secrets_by_fingerprint ON secrets(fingerprint);

    CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        origin    TEXT NOT NULL,
        action    TEXT NOT NULL,
        entry_id  TEXT,
        detail    TEXT NOT NULL,       -- JSON object; never a secret value
        prev_hash BLOB NOT NULL,
        hash      BLOB NOT NULL
    ) STRICT;
    CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
    // 2: rotation — reminder state, guided rotations with their staged
    // secrets, and each key's rotation history.
    r#"
    CREATE TABLE reminders (
        entry_id      TEXT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
        due_at        TEXT,    -- the due date the stage belongs to
        stage         INTEGER, -- days left at the last reminder sent
        sent_at       TEXT,
        snoozed_until TEXT
    ) STRICT;

    CREATE TABLE rotations (
        entry_id        TEXT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
        started_at      TEXT NOT NULL,
        previous_status TEXT NOT NULL,
        step            TEXT NOT NULL,
        permissions     TEXT,  -- the new key's, one per line; NULL: as before
        ip_allowlist    TEXT,
        key_id_hint     TEXT,
        deployed_at     TEXT,
        confirmed_at    TEXT,
        old_revoked_at  TEXT,
        updated_at      TEXT NOT NULL
    ) STRICT;

    CREATE TABLE rotation_secrets (
        entry_id    TEXT NOT NULL REFERENCES rotations(entry_id) ON DELETE CASCADE,
        field       TEXT NOT NULL,
        position    INTEGER NOT NULL,
        sealed      BLOB NOT NULL, -- age, bound to (entry_id, 'next.' || field)
        fingerprint BLOB NOT NULL,
        PRIMARY KEY (entry_id, field)
    ) STRICT;

    CREATE TABLE rotation_history (
        seq               INTEGER PRIMARY KEY,
        entry_id          TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        started_at        TEXT NOT NULL,
        completed_at      TEXT NOT NULL,
        method            TEXT NOT NULL, -- guided | direct
        old_permissions   TEXT NOT NULL,
        old_ip_allowlist  TEXT NOT NULL,
        old_key_id_hint   TEXT,
        old_secret_fields TEXT NOT NULL, -- names only; the values are destroyed
        new_permissions   TEXT NOT NULL,
        new_ip_allowlist  TEXT NOT NULL,
        confirmed_at      TEXT,
        old_revoked_at    TEXT
    ) STRICT;
    CREATE INDEX rotation_history_by_entry ON rotation_history(entry_id, seq);
    "#,
    // 3: access reviews — each review, one row per key reviewed (with what
    // the reviewer saw when deciding), the decisions' follow-ups, and a
    // review's request to rotate a key.
    r#"
    CREATE TABLE reviews (
        id          TEXT PRIMARY KEY,
        reviewer    TEXT NOT NULL,
        scope       TEXT NOT NULL,  -- what was chosen, in words
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        audit_head  TEXT            -- "seq:hash" of the audit log at finish
    ) STRICT;

    CREATE TABLE review_items (
        review_id  TEXT NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        entry_id   TEXT NOT NULL,   -- no foreign key: a deleted key stays in past reviews
        snapshot   TEXT NOT NULL,   -- JSON: the key's metadata and findings (never a secret)
        checks     TEXT NOT NULL,   -- JSON
        decision   TEXT,            -- keep | reduce | rotate | revoke
        note       TEXT,
        decided_at TEXT,
        PRIMARY KEY (review_id, entry_id)
    ) STRICT;
    CREATE UNIQUE INDEX review_items_in_order ON review_items(review_id, position);

    CREATE TABLE review_followups (
        review_id  TEXT NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
        entry_id   TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,   -- rotate | revoke | reduce
        created_at TEXT NOT NULL,
        done_at    TEXT,
        PRIMARY KEY (review_id, entry_id)
    ) STRICT;
    CREATE INDEX review_followups_open ON review_followups(entry_id) WHERE done_at IS NULL;

    ALTER TABLE entries ADD COLUMN rotation_requested_at TEXT;
    "#,
    // 4: exposure incidents — the keys as they were when it opened, each
    // step's state, and the timeline of every change.
    r#"
    CREATE TABLE incidents (
        id           TEXT PRIMARY KEY,
        opened_at    TEXT NOT NULL,
        suspected_at TEXT,
        severity     TEXT NOT NULL,
        source       TEXT NOT NULL,  -- manual | leak_scan
        closed_at    TEXT,
        activity     TEXT,           -- yes | no | unknown
        root_cause   TEXT,
        audit_head   TEXT            -- "seq:hash" of the audit log at close
    ) STRICT;

    CREATE TABLE incident_keys (
        incident_id     TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        entry_id        TEXT NOT NULL, -- no foreign key: a deleted key stays in the record
        position        INTEGER NOT NULL,
        snapshot        TEXT NOT NULL, -- JSON: metadata and findings, never a secret
        previous_status TEXT NOT NULL,
        PRIMARY KEY (incident_id, entry_id)
    ) STRICT;
    CREATE INDEX incident_keys_by_entry ON incident_keys(entry_id);

    CREATE TABLE incident_steps (
        incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        step        TEXT NOT NULL,
        state       TEXT NOT NULL,
        note        TEXT,
        at          TEXT,
        PRIMARY KEY (incident_id, step)
    ) STRICT;

    CREATE TABLE incident_events (
        incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        at          TEXT NOT NULL,
        step        TEXT,
        what        TEXT NOT NULL,
        note        TEXT,
        PRIMARY KEY (incident_id, seq)
    ) STRICT;
    "#,
    // 5: copies of stored secrets the leak scan found in files: where, not
    // what — a finding of the key until resolved.
    r#"
    CREATE TABLE leak_copies (
        id          INTEGER PRIMARY KEY,
        entry_id    TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        line        INTEGER NOT NULL,
        col         INTEGER NOT NULL,
        field       TEXT NOT NULL,
        encoding    TEXT NOT NULL CHECK (encoding IN ('raw', 'base64', 'url', 'hex')),
        found_at    TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        resolved_at TEXT,
        resolution  TEXT CHECK (resolution IN ('gone', 'checked', 'anyway')),
        UNIQUE (entry_id, path, line, col, field, encoding)
    ) STRICT;
    CREATE INDEX leak_copies_open ON leak_copies(entry_id) WHERE resolved_at IS NULL;
    "#,
    // 6: the audit chain is keyed (an HMAC under `audit_key` in `meta`, from
    // `audit_keyed_from` on; set by the code when the vault is opened) and
    // anchored in `audit.head`. No table changes: the version itself tells
    // an older build, which would append unkeyed links, to keep out.
    r#"
    SELECT 1;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Opens (or, with `create`, creates) the database with the raw key, and
/// proves the key right with a first real read.
pub(crate) fn open(path: &Path, key: &DerivedKey, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(Error::DatabaseMissing);
    }
    let conn = Connection::open_with_flags(path, flags).map_err(map_open)?;
    // HMAC failures would otherwise be logged to stderr by SQLCipher itself.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")
        .map_err(map_open)?;
    let pragma = Zeroizing::new(format!(
        "PRAGMA key = \"x'{}'\";",
        // EXPOSE: SQLCipher takes its raw key as hex in a pragma.
        Zeroizing::new(hex::encode(key.expose())).as_str()
    ));
    conn.execute_batch(&pragma).map_err(map_open)?;
    // A wrong key or a damaged first page only shows at the first real read.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(map_open)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -65536;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(map_open)?;
    Ok(conn)
}

/// Brings the schema up to `SCHEMA_VERSION`, one migration per transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Like `migrate`, but stops at `target` (tests build old schemas with it).
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    let current: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(Error::from)?;
    if current > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for version in current..target.min(SCHEMA_VERSION) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let sql = MIGRATIONS.get(version as usize).ok_or(Error::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        })?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
        tx.commit()?;
    }
    Ok(target.min(SCHEMA_VERSION).max(current))
}

fn map_open(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        // The passphrase already proved right: a key SQLCipher rejects means
        // the file's first page (salt, header, HMAC) was changed.
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => Error::DatabaseDamaged,
        _ => Error::from(e),
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                Error::DatabaseDamaged
            }
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::Busy,
            Some(ErrorCode::DiskFull) => Error::DiskFull,
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => Error::ReadOnly,
            Some(ErrorCode::CannotOpen) => Error::DatabaseUnreadable,
            // Messages from SQLite name tables and constraints, never values:
            // values are always bound parameters.
            _ => Error::Storage(e.to_string()),
        }
    }
}
