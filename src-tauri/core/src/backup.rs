//! Encrypted backups that open without Keyward.
//!
//! A backup is one [age](https://age-encryption.org) file — to a backup
//! passphrase (scrypt) or to age recipients — whose plaintext is a JSON
//! document (`docs/backup-format.md`): every table of the vault row by row,
//! and every secret field decrypted, so `age -d` alone gets a user's keys
//! back. Restoring builds a new vault (new identity, new passphrase): the
//! rows go in as they were at the backup's schema version, the secrets are
//! sealed and fingerprinted again under the new keys, the audit log is kept
//! row for row (its chain does not depend on the keys) and one row records
//! the restore. Verifying restores into a throwaway vault and checks it.
//!
//! The plaintext lives only in zeroizing buffers; a failure leaves no vault.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::iter;
use std::path::Path;

use rusqlite::types::{Value, ValueRef};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::inventory;
use crate::secret::{Passphrase, SecretValue};
use crate::timefmt;
use crate::vault::audit::{self, Action};
use crate::vault::{self, KdfParams, Origin, Vault, VaultDir, SCHEMA_VERSION};

pub const FORMAT: &str = "keyward-backup";
/// Who made a backup, for its file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Made {
    /// By hand (Backup & recovery → Back up now).
    ByHand,
    /// By the automatic schedule (kept in rotation).
    Automatic,
}

/// A backup's file name: `keyward-backup-2026-11-22-08-00-00.age` (by hand)
/// or `keyward-auto-…` (automatic, the ones pruned). Colons are left out,
/// so the name is valid on every file system a backup may be copied to.
pub fn file_name(made: Made, now: OffsetDateTime) -> String {
    let stamp = timefmt::format(now).replace([':', 'T'], "-");
    let kind = match made {
        Made::ByHand => "backup",
        Made::Automatic => "auto",
    };
    format!("keyward-{kind}-{}.age", stamp.trim_end_matches('Z'))
}

/// 2: the audit chain is keyed (`audit_key` in `meta`) and the document
/// carries `audit_head`. A build that knows only 1 cannot verify the chain:
/// it says the backup is newer rather than calling it damaged.
pub const VERSION: u32 = 2;
/// A backup's scrypt work factor may demand at most this (2^20: 1 GiB).
const MAX_LOG_N: u8 = 20;
/// Backups larger than this are refused before decrypting (a planted file).
pub const MAX_BACKUP_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("backup: wrong passphrase or identity")]
    WrongKey,
    #[error("backup: the file is damaged or truncated")]
    Damaged,
    #[error("backup: this is not a Keyward backup ({0})")]
    NotABackup(String),
    #[error("backup: it was written by a newer Keyward ({0}); update Keyward to restore it")]
    Newer(String),
    #[error("backup: it is encrypted to {0}; give {1}")]
    WrongMethod(&'static str, &'static str),
    #[error("backup: demands a key-derivation work factor above 2^{MAX_LOG_N}; refusing")]
    ExcessiveWork,
    /// Never echoes what was given: it may be a secret key pasted by mistake.
    #[error("recipient {position}: {why}")]
    BadRecipient { position: usize, why: &'static str },
    #[error("identity: not an age identity file (AGE-SECRET-KEY-1…)")]
    BadIdentity,
    #[error("backup: {0}")]
    Invalid(String),
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

/// How a backup is encrypted. age allows a passphrase or recipients, never
/// both in one file.
pub enum Protection {
    Passphrase(Passphrase, KdfParams),
    Recipients(Vec<age::x25519::Recipient>),
}

impl Protection {
    /// Parses `age1…` public keys.
    pub fn recipients(given: &[String]) -> Result<Self> {
        let parsed = given
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.trim()
                    .parse::<age::x25519::Recipient>()
                    .map_err(|_| Error::BadRecipient {
                        position: i + 1,
                        why: crate::secret::age_recipient_problem(r),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        if parsed.is_empty() {
            return Err(Error::Invalid("name at least one recipient".into()));
        }
        Ok(Protection::Recipients(parsed))
    }
}

/// What opens a backup.
pub enum Key {
    Passphrase(Passphrase),
    /// An age identity (`AGE-SECRET-KEY-1…`), e.g. from `age-keygen`.
    Identity(age::x25519::Identity),
}

impl Key {
    /// Reads an age identity file (comments and blank lines allowed).
    pub fn identity_file(text: &str) -> Result<Self> {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .and_then(|l| l.parse::<age::x25519::Identity>().ok())
            .map(Key::Identity)
            .ok_or(Error::BadIdentity)
    }
}

/// What a backup holds, in counts (no names, no secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Summary {
    #[serde(with = "timefmt::serde_rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[ts(type = "number")]
    pub schema_version: u32,
    #[ts(type = "number")]
    pub entries: u32,
    #[ts(type = "number")]
    pub secrets: u32,
    #[ts(type = "number")]
    pub reviews: u32,
    #[ts(type = "number")]
    pub incidents: u32,
    #[ts(type = "number")]
    pub audit_rows: u32,
    /// The audit log's head in the backup (`SEQ:HASH`): an anchor outside
    /// the vault. `keyward audit --verify --expect` it later to prove the
    /// vault's log still holds everything up to it.
    pub audit_head: Option<String>,
}

/// Tables in the order rows go back in (parents before children). Every
/// table of the schema must be here: a test checks it.
const TABLES: &[&str] = &[
    "meta",
    "settings",
    "entries",
    "reminders",
    "rotations",
    "rotation_history",
    "reviews",
    "review_items",
    "review_followups",
    "incidents",
    "incident_keys",
    "incident_steps",
    "incident_events",
    "leak_copies",
    "audit",
];
/// Sealed tables: their values travel decrypted in `secrets` / `staged_secrets`.
const SEALED: &[&str] = &["secrets", "rotation_secrets"];

// --- writing ------------------------------------------------------------------

/// One decrypted secret field, on its way out.
#[derive(Serialize)]
struct SecretOut<'a> {
    entry_id: &'a str,
    field: &'a str,
    position: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_hex: Option<String>,
}

fn json_value(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => serde_json::json!({ "hex": hex::encode(b) }),
    }
}

fn tables_in(conn: &rusqlite::Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?)
}

/// The backup document (plaintext JSON), read in one transaction.
pub fn document(vault: &Vault, now: OffsetDateTime) -> Result<Zeroizing<Vec<u8>>> {
    let conn = vault.conn();
    conn.execute_batch("BEGIN DEFERRED")?;
    let out = (|| {
        let present = tables_in(conn)?;
        if let Some(t) = present
            .iter()
            .find(|t| !TABLES.contains(&t.as_str()) && !SEALED.contains(&t.as_str()))
        {
            return Err(Error::Invalid(format!(
                "table {t} has no place in a backup"
            )));
        }
        let mut tables = serde_json::Map::new();
        for t in TABLES.iter().filter(|t| present.iter().any(|p| p == *t)) {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {t}"))?;
            let cols: Vec<String> = stmt.column_names().map(str::to_owned).collect();
            let mut rows = stmt.query([])?;
            let mut list = Vec::new();
            while let Some(r) = rows.next()? {
                let mut obj = serde_json::Map::new();
                for (i, c) in cols.iter().enumerate() {
                    obj.insert(c.clone(), json_value(r.get_ref(i)?));
                }
                list.push(serde_json::Value::Object(obj));
            }
            tables.insert((*t).to_owned(), list.into());
        }
        let schema: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let audit_head = audit::head_conn(conn)
            .map_err(|e| Error::Invalid(e.to_string()))?
            .map(|h| h.to_string());
        let head = serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "created_at": timefmt::format(now),
            "schema_version": schema,
            "audit_head": audit_head,
        });
        let head = head.to_string();
        let tables = serde_json::Value::Object(tables).to_string();
        let sealed_bytes: i64 = conn.query_row(
            "SELECT coalesce(sum(length(sealed)), 0) FROM secrets",
            [],
            |r| r.get(0),
        )?;
        // Sized up front: a growing buffer would leave copies of secrets behind.
        let mut doc = Zeroizing::new(Vec::with_capacity(
            head.len() + tables.len() + usize::try_from(sealed_bytes).unwrap_or(0) * 2 + 4096,
        ));
        doc.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
        doc.extend_from_slice(b",\"tables\":");
        doc.extend_from_slice(tables.as_bytes());
        for (name, table, binding) in [
            ("secrets", "secrets", ""),
            ("staged_secrets", "rotation_secrets", "next."),
        ] {
            doc.extend_from_slice(format!(",\"{name}\":[").as_bytes());
            let mut stmt = conn.prepare(&format!(
                "SELECT entry_id, field, position, sealed FROM {table} ORDER BY entry_id, position"
            ))?;
            let mut rows = stmt.query([])?;
            let mut first = true;
            while let Some(r) = rows.next()? {
                let entry_id: String = r.get(0)?;
                let field: String = r.get(1)?;
                let sealed: Vec<u8> = r.get(3)?;
                let value = vault.open_sealed(&sealed, &entry_id, &format!("{binding}{field}"))?;
                // EXPOSE: a backup carries the secrets, encrypted as a whole.
                let text = std::str::from_utf8(value.expose()).ok();
                let out = SecretOut {
                    entry_id: &entry_id,
                    field: &field,
                    position: r.get(2)?,
                    value: text,
                    value_hex: text.is_none().then(|| hex::encode(value.expose())),
                };
                if !first {
                    doc.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut *doc, &out)
                    .map_err(|_| Error::Invalid("could not encode a secret".into()))?;
            }
            doc.push(b']');
        }
        doc.push(b'}');
        Ok(doc)
    })();
    let _ = conn.execute_batch("COMMIT");
    out
}

/// Encrypts a document.
pub fn encrypt(doc: &[u8], protection: &Protection) -> Result<Vec<u8>> {
    let encryptor = match protection {
        Protection::Passphrase(p, kdf) => {
            let mut r = age::scrypt::Recipient::new(p.to_secret_string());
            r.set_work_factor(kdf.log_n());
            age::Encryptor::with_recipients(iter::once(&r as _))
        }
        Protection::Recipients(list) => {
            age::Encryptor::with_recipients(list.iter().map(|r| r as &dyn age::Recipient))
        }
    }
    .map_err(|_| vault::Error::Crypto("could not set up the backup encryption"))?;
    let mut out = Vec::with_capacity(doc.len() + 1024);
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|_| vault::Error::Crypto("could not encrypt the backup"))?;
    w.write_all(doc)
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(|_| vault::Error::Crypto("could not encrypt the backup"))?;
    Ok(out)
}

/// Writes an encrypted backup of the vault to `path` (atomically, owner
/// only) and records it in the audit log.
/// Writes a backup by hand: every secret leaves the vault, so the current
/// passphrase must have been given for it ([`vault::Reauth`]).
pub fn write(
    vault: &mut Vault,
    path: &Path,
    protection: &Protection,
    _proof: vault::Reauth,
    now: OffsetDateTime,
) -> Result<Summary> {
    write_unchecked(vault, path, protection, now)
}

/// The backup itself; automatic backups (to recipients the user confirmed
/// with the passphrase when choosing them) come straight here.
fn write_unchecked(
    vault: &mut Vault,
    path: &Path,
    protection: &Protection,
    now: OffsetDateTime,
) -> Result<Summary> {
    let doc = document(vault, now)?;
    let summary = inspect(&doc)?;
    let bytes = encrypt(&doc, protection)?;
    drop(doc);
    vault::write_atomically(path, &bytes)?;
    set_last(vault, now)?;
    audit::record(
        vault,
        now,
        Action::BackupCreate,
        None,
        &serde_json::json!({
            "to": match protection { Protection::Passphrase(..) => "passphrase", Protection::Recipients(_) => "recipients" },
            "entries": summary.entries,
            "secrets": summary.secrets,
        }),
    )?;
    Ok(summary)
}

// --- reading ------------------------------------------------------------------

/// Decrypts a backup file's bytes into its document.
pub fn decrypt(bytes: &[u8], key: &Key) -> Result<Zeroizing<Vec<u8>>> {
    if bytes.len() as u64 > MAX_BACKUP_BYTES {
        return Err(Error::Invalid("larger than 1 GiB; refusing".into()));
    }
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|e| match e {
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            Error::NotABackup("not an age file".into())
        }
        _ => Error::Damaged,
    })?;
    let scrypt = decryptor.is_scrypt();
    let mut reader = match key {
        Key::Passphrase(p) => {
            if !scrypt {
                return Err(Error::WrongMethod("age recipients", "--identity FILE"));
            }
            let mut id = age::scrypt::Identity::new(p.to_secret_string());
            id.set_max_work_factor(MAX_LOG_N);
            decryptor.decrypt(iter::once(&id as &dyn age::Identity))
        }
        Key::Identity(id) => {
            if scrypt {
                return Err(Error::WrongMethod("a passphrase", "the backup passphrase"));
            }
            decryptor.decrypt(iter::once(id as &dyn age::Identity))
        }
    }
    .map_err(|e| match e {
        age::DecryptError::ExcessiveWork { .. } => Error::ExcessiveWork,
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => Error::WrongKey,
        _ => Error::Damaged,
    })?;
    let mut doc = Zeroizing::new(Vec::with_capacity(bytes.len()));
    reader.read_to_end(&mut doc).map_err(|_| Error::Damaged)?;
    Ok(doc)
}

/// A secret value as it comes in: straight into a zeroizing buffer.
struct SecretIn(SecretValue);

impl<'de> Deserialize<'de> for SecretIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SecretIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a secret value as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<SecretIn, E> {
                Ok(SecretIn(SecretValue::from_slice(v.as_bytes())))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct SecretRow {
    entry_id: String,
    field: String,
    position: i64,
    #[serde(default)]
    value: Option<SecretIn>,
    #[serde(default)]
    value_hex: Option<SecretIn>,
}

impl SecretRow {
    fn value(&self) -> Result<SecretValue> {
        match (&self.value, &self.value_hex) {
            (Some(v), None) => Ok(SecretValue::from_slice(v.0.expose())),
            (None, Some(h)) => hex::decode(h.0.expose())
                .map(SecretValue::new)
                .map_err(|_| Error::Invalid("a secret's value_hex is not hex".into())),
            _ => Err(Error::Invalid(format!(
                "secret {} of {}: give value or value_hex",
                self.field.chars().take(40).collect::<String>(),
                self.entry_id.chars().take(40).collect::<String>()
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    format: String,
    version: u32,
    created_at: String,
    schema_version: u32,
    #[serde(default)]
    audit_head: Option<String>,
    tables: BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>>,
    secrets: Vec<SecretRow>,
    #[serde(default)]
    staged_secrets: Vec<SecretRow>,
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

fn parse(doc: &[u8]) -> Result<Doc> {
    // The header first, so a newer format is named as such.
    let header: Header = serde_json::from_slice(doc)
        .map_err(|_| Error::NotABackup("its content is not a backup document".into()))?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(Error::NotABackup(
            "its content is not a backup document".into(),
        ));
    }
    match header.version {
        Some(VERSION) => {}
        Some(v) if v > VERSION => return Err(Error::Newer(format!("format version {v}"))),
        _ => return Err(Error::NotABackup("unknown format version".into())),
    }
    let d: Doc = serde_json::from_slice(doc).map_err(|e| {
        Error::Invalid(format!(
            "the document does not parse: line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    if d.format != FORMAT || !(1..=VERSION).contains(&d.version) {
        return Err(Error::NotABackup("unknown format".into()));
    }
    if d.schema_version > SCHEMA_VERSION {
        return Err(Error::Newer(format!("vault schema {}", d.schema_version)));
    }
    if d.schema_version == 0 {
        return Err(Error::Invalid("schema_version: must be 1 or more".into()));
    }
    if let Some(t) = d.tables.keys().find(|t| !TABLES.contains(&t.as_str())) {
        return Err(Error::Invalid(format!(
            "unknown table '{}'",
            t.chars().take(40).collect::<String>()
        )));
    }
    Ok(d)
}

fn count(d: &Doc, table: &str) -> u32 {
    d.tables
        .get(table)
        .map_or(0, |t| u32::try_from(t.len()).unwrap_or(u32::MAX))
}

fn summary_of(d: &Doc) -> Result<Summary> {
    Ok(Summary {
        created_at: timefmt::parse_rfc3339(&d.created_at)
            .map_err(|_| Error::Invalid("created_at: not an RFC 3339 time".into()))?,
        schema_version: d.schema_version,
        entries: count(d, "entries"),
        secrets: u32::try_from(d.secrets.len()).unwrap_or(u32::MAX),
        reviews: count(d, "reviews"),
        incidents: count(d, "incidents"),
        audit_rows: count(d, "audit"),
        audit_head: d
            .audit_head
            .as_deref()
            .map(|h| {
                h.parse::<audit::Head>()
                    .map(|h| h.to_string())
                    .map_err(|_| Error::Invalid("audit_head: not SEQ:HASH".into()))
            })
            .transpose()?,
    })
}

/// Parses a document and counts what it holds (no restore, no checks of the
/// rows themselves: [`verify`] does those).
pub fn inspect(doc: &[u8]) -> Result<Summary> {
    summary_of(&parse(doc)?)
}

fn sql_value(v: &serde_json::Value, table: &str, col: &str) -> Result<Value> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Integer(i),
            (None, Some(f)) => Value::Real(f),
            _ => {
                return Err(Error::Invalid(format!(
                    "{table}.{col}: number out of range"
                )))
            }
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Object(o) => match o.get("hex").and_then(|h| h.as_str()) {
            Some(h) if o.len() == 1 => Value::Blob(
                hex::decode(h).map_err(|_| Error::Invalid(format!("{table}.{col}: bad hex")))?,
            ),
            _ => return Err(Error::Invalid(format!("{table}.{col}: unexpected object"))),
        },
        serde_json::Value::Array(_) => {
            return Err(Error::Invalid(format!("{table}.{col}: unexpected list")))
        }
    })
}

/// The `meta` keys a backup may bring back. Anything else — notably
/// `recovery_recipient`: the restored vault has no `recovery.key`, and a
/// planted one would receive every automatic backup — stays behind.
const RESTORED_META: &[&str] = &[
    "created_at",
    "audit_head",
    "audit_key",
    "audit_keyed_from",
    "backup_last",
    "review_reminder",
];

/// Ids of the rows people and the CLI address: made by Keyward as UUIDs.
const ID_COLUMNS: &[(&str, &str)] = &[
    ("entries", "id"),
    ("reviews", "id"),
    ("review_items", "entry_id"),
    ("incidents", "id"),
    ("incident_keys", "entry_id"),
    ("leak_copies", "entry_id"),
];

/// Checks a row against the rules input obeys, before it goes in: anyone
/// can make an age file to a passphrase or to a recipient, so a backup is
/// untrusted input like an import file.
fn check_row(
    table: &str,
    n: usize,
    row: &serde_json::Map<String, serde_json::Value>,
    now: OffsetDateTime,
) -> Result<()> {
    let bad = |what: String| Error::Invalid(format!("{table} row {}: {what}", n + 1));
    for (col, v) in row {
        let Some(text) = v.as_str() else { continue };
        // A file's name may hold any byte but '/' and NUL: escaped where
        // shown, kept as found.
        let raw_path = table == "leak_copies" && col == "path";
        if !raw_path
            && text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(bad(format!("{col} holds control characters")));
        }
        if ID_COLUMNS.contains(&(table, col.as_str())) && uuid::Uuid::parse_str(text).is_err() {
            return Err(bad(format!("{col} is not a Keyward id")));
        }
    }
    if table == "entries" {
        check_entry(row, now).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// An `entries` row through the same validators as `add`.
fn check_entry(
    row: &serde_json::Map<String, serde_json::Value>,
    now: OffsetDateTime,
) -> std::result::Result<(), inventory::FieldError> {
    let text = |c: &str| row.get(c).and_then(|v| v.as_str()).map(str::to_owned);
    let opt = |c: &str| Some(text(c).unwrap_or_default());
    let lines = |c: &str| {
        text(c).map(|t| {
            t.split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    };
    let draft = inventory::Draft {
        platform: Some(text("platform").unwrap_or_default()),
        label: Some(text("label").unwrap_or_default()),
        account: opt("account"),
        environment: text("environment"),
        owner: opt("owner"),
        purpose: opt("purpose"),
        permissions: lines("permissions"),
        ip_allowlist: lines("ip_allowlist"),
        ip_note: opt("ip_note"),
        tags: lines("tags"),
        notes: opt("notes"),
        key_id_hint: opt("key_id_hint"),
        ..inventory::Draft::default()
    };
    let mut fields = inventory::Fields::blank(now);
    if let Err(mut errors) = inventory::apply(&draft, &mut fields, now) {
        return Err(errors.remove(0));
    }
    let status = text("status").unwrap_or_default();
    if status.parse::<inventory::Status>().is_err() {
        return Err(inventory::FieldError {
            field: "status",
            reason: "not a status Keyward knows".into(),
        });
    }
    for f in lines("secret_fields").unwrap_or_default() {
        if f.parse::<inventory::FieldName>().is_err() {
            return Err(inventory::FieldError {
                field: "secret_fields",
                reason: "not a secret field name".into(),
            });
        }
    }
    Ok(())
}

fn insert_rows(tx: &rusqlite::Transaction<'_>, d: &Doc, now: OffsetDateTime) -> Result<()> {
    for table in TABLES {
        let Some(rows) = d.tables.get(*table) else {
            continue;
        };
        let cols: Vec<String> = tx
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        if cols.is_empty() && !rows.is_empty() {
            return Err(Error::Invalid(format!(
                "table {table} does not exist at schema {}",
                d.schema_version
            )));
        }
        for (n, row) in rows.iter().enumerate() {
            if *table == "meta" {
                let key = row.get("key").and_then(|k| k.as_str()).unwrap_or("");
                if !RESTORED_META.contains(&key) {
                    continue;
                }
            }
            let mut names = Vec::with_capacity(row.len());
            let mut values = Vec::with_capacity(row.len());
            for (k, v) in row {
                if !cols.iter().any(|c| c == k) {
                    return Err(Error::Invalid(format!(
                        "{table}: unknown column '{}'",
                        k.chars().take(40).collect::<String>()
                    )));
                }
                names.push(k.as_str());
                values.push(sql_value(v, table, k)?);
            }
            check_row(table, n, row, now)?;
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                vec!["?"; names.len()].join(", ")
            );
            tx.execute(&sql, rusqlite::params_from_iter(values.iter()))
                .map_err(|e| Error::Invalid(format!("{table}: a row does not fit: {e}")))?;
        }
    }
    Ok(())
}

/// Restores a backup document into a new vault in `dir` with `passphrase`.
/// `dir` must not hold a vault; if anything fails, nothing is left there.
pub fn restore(
    doc: &[u8],
    dir: &VaultDir,
    passphrase: &Passphrase,
    kdf: KdfParams,
    now: OffsetDateTime,
    origin: Origin,
) -> Result<(Vault, Summary)> {
    let d = parse(doc)?;
    let summary = summary_of(&d)?;
    let mut vault = Vault::create(
        dir,
        passphrase,
        kdf,
        now,
        origin,
        d.schema_version,
        |tx, sealer| {
            insert_rows(tx, &d, now)?;
            for (rows, table, binding) in [
                (&d.secrets, "secrets", ""),
                (&d.staged_secrets, "rotation_secrets", "next."),
            ] {
                for s in rows {
                    if s.field.parse::<inventory::FieldName>().is_err() {
                        return Err(Error::Invalid(format!(
                            "{table}: a secret field has a name Keyward would not accept"
                        )));
                    }
                    let value = s.value()?;
                    let sealed =
                        sealer.seal(&s.entry_id, &format!("{binding}{}", s.field), &value)?;
                    let fp = sealer.fingerprint(&value)?;
                    let extra = if table == "secrets" {
                        ", updated_at"
                    } else {
                        ""
                    };
                    let extra_v = if table == "secrets" { ", ?6" } else { "" };
                    let sql = format!(
                    "INSERT INTO {table} (entry_id, field, position, sealed, fingerprint{extra})
                     VALUES (?1, ?2, ?3, ?4, ?5{extra_v})"
                );
                    let res = if table == "secrets" {
                        tx.execute(
                            &sql,
                            rusqlite::params![
                                s.entry_id,
                                s.field,
                                s.position,
                                sealed,
                                fp.to_vec(),
                                timefmt::format(now)
                            ],
                        )
                    } else {
                        tx.execute(
                            &sql,
                            rusqlite::params![s.entry_id, s.field, s.position, sealed, fp.to_vec()],
                        )
                    };
                    res.map_err(|e| {
                        Error::Invalid(format!("{table}: a secret does not fit its key: {e}"))
                    })?;
                }
            }
            // The audit chain as it was, or no vault at all; and the head
            // the document names is in it.
            audit::verify_conn(tx)
                .map_err(|e| Error::Invalid(format!("its audit log does not verify: {e}")))?;
            if let Some(h) = &summary.audit_head {
                let head: audit::Head = h
                    .parse()
                    .map_err(|_| Error::Invalid("audit_head: not SEQ:HASH".into()))?;
                audit::holds(tx, &head).map_err(|_| {
                    Error::Invalid("its audit log does not hold the head it names".into())
                })?;
            }
            forget_backup_destinations(tx)?;
            Ok::<(), Error>(())
        },
    )?;
    // Then one row for the restore.
    audit::record(
        &mut vault,
        now,
        Action::BackupRestore,
        None,
        &serde_json::json!({
            "backup_created_at": timefmt::format(summary.created_at),
            "entries": summary.entries,
            "secrets": summary.secrets,
            "schema_from": summary.schema_version,
        }),
    )?;
    let report = vault.check()?;
    if !report.is_ok() {
        let _ = vault.lock();
        discard(dir);
        return Err(Error::Invalid(
            "the restored vault does not pass its checks".into(),
        ));
    }
    Ok((vault, summary))
}

/// Where automatic backups went, and to whom, does not come back with a
/// restore: a crafted backup could otherwise send every later automatic
/// backup to its maker's key. The schedule stays; choose the folder and the
/// recipients again (with the passphrase).
fn forget_backup_destinations(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    use rusqlite::OptionalExtension;
    let stored: Option<String> = tx
        .query_row("SELECT value FROM settings WHERE key = 'app'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(stored) = stored else {
        return Ok(());
    };
    let cleaned = match serde_json::from_str::<serde_json::Value>(&stored) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert("backup_recipients".into(), serde_json::json!([]));
                o.insert("backup_folder".into(), serde_json::Value::Null);
            }
            Some(v.to_string())
        }
        // Unreadable settings read as the defaults anyway.
        Err(_) => None,
    };
    match cleaned {
        Some(c) => tx.execute("UPDATE settings SET value = ?1 WHERE key = 'app'", [c])?,
        None => tx.execute("DELETE FROM settings WHERE key = 'app'", [])?,
    };
    Ok(())
}

/// Removes a vault this restore made and that failed its final check.
fn discard(dir: &VaultDir) {
    for p in [
        dir.key_path(),
        dir.pub_path(),
        dir.schedule_path(),
        dir.anchor_path(),
    ] {
        let _ = std::fs::remove_file(p);
    }
    let db = dir.db_path();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_dir(dir.path());
}

/// Proves a backup restorable: restores it into a throwaway vault under
/// `scratch` (a random passphrase, removed afterwards) and checks it.
pub fn verify(doc: &[u8], scratch: &Path, now: OffsetDateTime) -> Result<Summary> {
    let dir = VaultDir::new(scratch.join("verify"));
    let mut random = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(random.as_mut()).map_err(|_| vault::Error::Crypto("no randomness"))?;
    let pass = Passphrase::new(hex::encode(&random[..]));
    let kdf = KdfParams::insecure_for_tests(vault::MIN_LOG_N)?;
    let result = restore(doc, &dir, &pass, kdf, now, Origin::Test).and_then(|(v, s)| {
        v.lock()?;
        Ok(s)
    });
    let _ = std::fs::remove_dir_all(dir.path());
    result
}

// --- automatic backups ------------------------------------------------------

/// The automatic backups' state, for the dashboard and the scheduler.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct AutoStatus {
    /// `off`, `daily` or `weekly`.
    pub schedule: String,
    /// The last backup written (automatic or by hand).
    #[serde(with = "timefmt::serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_at: Option<OffsetDateTime>,
    /// When the next automatic one is due (`None` when off).
    #[serde(with = "timefmt::serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub next_at: Option<OffsetDateTime>,
    /// The last backup is older than the schedule allows (or there is none).
    pub stale: bool,
    /// Why automatic backups cannot run, if they cannot.
    pub blocked: Option<String>,
}

fn period(schedule: &str) -> Option<time::Duration> {
    match schedule {
        "daily" => Some(time::Duration::days(1)),
        "weekly" => Some(time::Duration::days(7)),
        _ => None,
    }
}

/// When the last backup was written.
pub fn last_at(vault: &Vault) -> Result<Option<OffsetDateTime>> {
    let v: Option<String> = vault
        .conn()
        .query_row(
            "SELECT value FROM meta WHERE key = 'backup_last'",
            [],
            |r| r.get(0),
        )
        .ok();
    Ok(v.and_then(|v| timefmt::parse_stored(&v).ok()))
}

fn set_last(vault: &mut Vault, at: OffsetDateTime) -> Result<()> {
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('backup_last', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [timefmt::format(at)],
    )?;
    tx.commit()?;
    Ok(())
}

/// Who automatic backups are encrypted to: the recovery code's public key
/// and the recipients in the settings.
fn auto_recipients(vault: &Vault, settings: &crate::settings::Settings) -> Vec<String> {
    let mut out: Vec<String> = vault
        .conn()
        .query_row(
            "SELECT value FROM meta WHERE key = 'recovery_recipient'",
            [],
            |r| r.get(0),
        )
        .ok()
        .into_iter()
        .collect();
    out.extend(
        settings
            .backup_recipients
            .iter()
            .map(|r| r.trim().to_owned()),
    );
    out
}

pub fn auto_status(vault: &Vault, now: OffsetDateTime) -> Result<AutoStatus> {
    let settings = crate::settings::load(vault)?;
    // A time after now (a restored backup's, a clock set back) would keep
    // the next backup from ever being due: taken as no backup at all.
    let last = last_at(vault)?.filter(|l| *l <= now);
    let p = period(&settings.backup_schedule);
    let next_at = p.map(|p| last.map_or(now, |l| l + p));
    let blocked = (p.is_some() && auto_recipients(vault, &settings).is_empty()).then(|| {
        "automatic backups need a recovery code or an age public key to encrypt to".to_owned()
    });
    Ok(AutoStatus {
        stale: match (p, last) {
            (Some(p), Some(l)) => now - l > p + time::Duration::hours(12),
            (Some(_), None) => true,
            (None, _) => false,
        },
        schedule: settings.backup_schedule,
        last_at: last,
        next_at,
        blocked,
    })
}

/// Writes an automatic backup into `default_folder` (or the settings'
/// folder) if one is due, then keeps only the newest `backup_keep` of them.
/// `None` when none was due.
pub fn run_if_due(
    vault: &mut Vault,
    default_folder: &Path,
    now: OffsetDateTime,
) -> Result<Option<(std::path::PathBuf, Summary)>> {
    let status = auto_status(vault, now)?;
    if status.schedule == "off" || status.next_at.is_some_and(|n| n > now) {
        return Ok(None);
    }
    if let Some(why) = status.blocked {
        return Err(Error::Invalid(why));
    }
    let settings =
        crate::settings::load(vault).map_err(|_| Error::Invalid("settings unreadable".into()))?;
    let folder = settings
        .backup_folder
        .as_deref()
        .map_or_else(|| default_folder.to_path_buf(), std::path::PathBuf::from);
    std::fs::create_dir_all(&folder)
        .map_err(|e| Error::Invalid(format!("folder {}: {e}", folder.display())))?;
    let path = folder.join(file_name(Made::Automatic, now));
    let protection = Protection::recipients(&auto_recipients(vault, &settings))?;
    let summary = write_unchecked(vault, &path, &protection, now)?;
    prune(&folder, settings.backup_keep as usize);
    Ok(Some((path, summary)))
}

/// Deletes the oldest automatic backups beyond `keep` (by name: the names
/// sort by time). Hand-made backups are never touched.
fn prune(folder: &Path, keep: usize) {
    let Ok(dir) = std::fs::read_dir(folder) else {
        return;
    };
    let mut autos: Vec<std::path::PathBuf> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keyward-auto-") && n.ends_with(".age"))
        })
        .collect();
    autos.sort();
    let excess = autos.len().saturating_sub(keep);
    for p in autos.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_file_names_say_who_made_them_and_when() {
        let at = time::macros::datetime!(2026-11-22 08:05:09 UTC);
        assert_eq!(
            file_name(Made::ByHand, at),
            "keyward-backup-2026-11-22-08-05-09.age"
        );
        assert_eq!(
            file_name(Made::Automatic, at),
            "keyward-auto-2026-11-22-08-05-09.age"
        );
    }

    #[test]
    fn identity_files_allow_comments_and_refuse_garbage() {
        let id = age::x25519::Identity::generate();
        let text = format!(
            "# created: today\n# public key: {}\n{}\n",
            id.to_public(),
            secrecy::ExposeSecret::expose_secret(&id.to_string())
        );
        assert!(matches!(Key::identity_file(&text), Ok(Key::Identity(_))));
        assert!(matches!(
            Key::identity_file("hello"),
            Err(Error::BadIdentity)
        ));
    }

    #[test]
    fn recipients_must_be_age_public_keys_and_are_never_echoed() {
        let e = Protection::recipients(&["age1nope".into()]).err().unwrap();
        assert_eq!(e.to_string(), "recipient 1: not an age public key (age1…)");
        let secret = age::x25519::Identity::generate();
        let text = secrecy::ExposeSecret::expose_secret(&secret.to_string()).to_owned();
        let public = secret.to_public().to_string();
        let e = Protection::recipients(&[public, text.to_lowercase()])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("recipient 2: that is an age secret key"),
            "{e}"
        );
        assert!(!e.to_uppercase().contains(&text[16..]), "{e}");
    }
}
