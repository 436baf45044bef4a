//! Moving keys in and out without retyping them: a CSV export of the
//! inventory's metadata (never a secret) for spreadsheets, and imports from
//! that CSV, a KeePassXC CSV export and a Bitwarden (unencrypted) JSON
//! export — whose secrets go straight into sealed fields.
//!
//! Files are hostile until proven otherwise: size, row count, cell length
//! and encoding are bounded; every row is parsed and validated first, and
//! each rejected row is reported with its line and reason; the accepted
//! rows are then written in one transaction, or not at all.

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use crate::inventory::{self, Draft, Entry, FieldName, Fields, SecretInput, Status};
use crate::render::neutralise;
use crate::secret::SecretValue;
use crate::timefmt;
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 32 << 20;
/// More rows than this are refused (split the file).
pub const MAX_ROWS: usize = 20_000;
/// A longer cell rejects its row.
pub const MAX_CELL: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("file: {0}")]
    File(String),
    #[error("import: {0} row(s) rejected (see the dry run); fix them or pass --skip-invalid")]
    Rejected(usize),
    #[error(transparent)]
    Inventory(#[from] inventory::Error),
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

/// The formats an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Keyward's own CSV (metadata only).
    Csv,
    KeepassxcCsv,
    BitwardenJson,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "keepassxc-csv" => Ok(Format::KeepassxcCsv),
            "bitwarden-json" => Ok(Format::BitwardenJson),
            _ => Err("must be one of csv, keepassxc-csv, bitwarden-json".into()),
        }
    }
}

// --- export -------------------------------------------------------------------

/// The export's columns, in order. Lists inside a cell are `;`-separated.
pub const COLUMNS: [&str; 23] = [
    "id",
    "platform",
    "account",
    "label",
    "environment",
    "owner",
    "purpose",
    "permissions",
    "ip_allowlist",
    "ip_note",
    "rotation_days",
    "created_at",
    "expires_at",
    "last_rotated_at",
    "last_used_at",
    "last_reviewed_at",
    "next_due_at",
    "due_reason",
    "status",
    "tags",
    "notes",
    "key_id_hint",
    "secret_fields",
];

/// The inventory exported as CSV, recorded in the audit log
/// (`inventory.export`): the app and the CLI export through this.
pub fn export_inventory_csv(vault: &mut Vault, now: OffsetDateTime) -> Result<Vec<u8>> {
    let entries = inventory::list(vault)?;
    audit::record(
        vault,
        now,
        Action::InventoryExport,
        None,
        &serde_json::json!({ "format": "csv", "rows": entries.len() }),
    )?;
    Ok(export_csv(&entries))
}

/// The inventory as CSV: metadata only (secret field *names*, never values),
/// every cell a spreadsheet would run as a formula neutralised.
pub fn export_csv(entries: &[Entry]) -> Vec<u8> {
    let t = |t: Option<OffsetDateTime>| t.map(timefmt::format).unwrap_or_default();
    let list = |v: Vec<String>| v.join(";");
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for e in entries {
        let row = [
            e.id.clone(),
            e.platform.clone(),
            e.account.clone().unwrap_or_default(),
            e.label.clone(),
            e.environment.as_str().into(),
            e.owner.clone().unwrap_or_default(),
            e.purpose.clone().unwrap_or_default(),
            list(e.permissions.iter().map(ToString::to_string).collect()),
            list(e.ip_allowlist.iter().map(ToString::to_string).collect()),
            e.ip_note.clone().unwrap_or_default(),
            e.rotation_days.map(|d| d.to_string()).unwrap_or_default(),
            t(Some(e.created_at)),
            t(e.expires_at),
            t(e.last_rotated_at),
            t(e.last_used_at),
            t(e.last_reviewed_at),
            t(e.next_due_at),
            e.due_reason.as_ref().map(|r| r.short()).unwrap_or_default(),
            e.status.as_str().into(),
            list(e.tags.clone()),
            e.notes.clone().unwrap_or_default(),
            e.key_id_hint.clone().unwrap_or_default(),
            list(
                e.secret_fields
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect(),
            ),
        ];
        let _ = w.write_record(row.iter().map(|c| neutralise(c)));
    }
    w.into_inner().unwrap_or_default()
}

// --- import -------------------------------------------------------------------

/// One row ready to add.
pub struct Row {
    pub line: usize,
    pub draft: Draft,
    pub secrets: Vec<SecretInput>,
    pub status: Status,
}

/// A row that cannot be imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Rejected {
    #[ts(type = "number")]
    pub line: usize,
    pub reason: String,
}

/// What a file would import: for the dry run, names only.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Preview {
    #[ts(type = "number")]
    pub line: usize,
    pub platform: String,
    pub label: String,
    /// Secret field names (never values).
    pub secret_fields: Vec<String>,
}

pub struct Parsed {
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
}

impl Parsed {
    pub fn preview(&self) -> Vec<Preview> {
        self.rows
            .iter()
            .map(|r| Preview {
                line: r.line,
                platform: r.draft.platform.clone().unwrap_or_default(),
                label: r.draft.label.clone().unwrap_or_default(),
                secret_fields: r.secrets.iter().map(|s| s.field.clone()).collect(),
            })
            .collect()
    }
}

fn text_of(bytes: &[u8]) -> Result<&str> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::File(format!(
            "larger than {} MiB; split it",
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Error::File(format!(
            "not UTF-8 text (line {line}); export it again as UTF-8"
        ))
    })
}

/// Undoes the export's formula guard (a leading apostrophe before = + - @).
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn split_list(s: &str) -> Option<Vec<String>> {
    let items: Vec<String> = s
        .split([';', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// Checks a row as `add` would, without writing: the first problem wins.
fn check_row(line: usize, draft: &Draft, secrets: &[SecretInput]) -> Option<Rejected> {
    let mut probe = Fields::blank(OffsetDateTime::UNIX_EPOCH);
    if let Err(errors) = inventory::apply(draft, &mut probe, OffsetDateTime::UNIX_EPOCH) {
        let reason = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Some(Rejected { line, reason });
    }
    let mut seen = Vec::new();
    for s in secrets {
        if let Err(reason) = s.field.parse::<FieldName>() {
            return Some(Rejected {
                line,
                reason: format!("secret field: {reason}"),
            });
        }
        if seen.contains(&s.field) {
            return Some(Rejected {
                line,
                reason: format!("secret field: '{}' appears twice", s.field),
            });
        }
        seen.push(s.field.clone());
    }
    None
}

fn push(parsed: &mut Parsed, line: usize, draft: Draft, secrets: Vec<SecretInput>, status: Status) {
    match check_row(line, &draft, &secrets) {
        Some(r) => parsed.rejected.push(r),
        None => parsed.rows.push(Row {
            line,
            draft,
            secrets,
            status,
        }),
    }
}

/// A CSV file's header and its records with their line numbers.
///
/// The records hold the secret cells as the csv crate stores them: one
/// `String` per record that it gives no mutable access to, so it cannot be
/// wiped here (it is freed when the parse ends; the file's own bytes are
/// in wiped memory, and every secret taken from a cell is a wiping
/// `SecretValue`).
type Records = (Vec<String>, Vec<(usize, csv::StringRecord)>);

fn records(text: &str) -> Result<Records> {
    let mut r = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| Error::File(format!("the header row does not parse: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::File(format!(
                "line {line}: does not parse as CSV ({})",
                e.kind_text()
            ))
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        rows.push((line, rec));
        if rows.len() > MAX_ROWS {
            return Err(Error::File(format!("more than {MAX_ROWS} rows; split it")));
        }
    }
    Ok((headers, rows))
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
            csv::ErrorKind::UnequalLengths { .. } => "a row has a different number of cells".into(),
            _ => "malformed".into(),
        }
    }
}

fn too_long(rec: &csv::StringRecord) -> bool {
    rec.iter().any(|c| c.len() > MAX_CELL)
}

/// Parses a file in `format`; nothing is written.
pub fn parse(bytes: &[u8], format: Format) -> Result<Parsed> {
    let text = text_of(bytes)?;
    match format {
        Format::Csv => parse_keyward_csv(text),
        Format::KeepassxcCsv => parse_keepassxc(text),
        Format::BitwardenJson => parse_bitwarden(text),
    }
}

fn parse_keyward_csv(text: &str) -> Result<Parsed> {
    let (headers, rows) = records(text)?;
    for (i, h) in headers.iter().enumerate() {
        if !COLUMNS.contains(&h.as_str()) {
            // A file without a header row has data there, maybe a secret:
            // only a name that looks like a column name is repeated.
            let named = h.len() <= 24
                && !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == ' ');
            return Err(Error::File(if named {
                format!("column '{h}' is not a Keyward column (see `keyward export --help`)")
            } else {
                format!(
                    "column {} of the first line is not a Keyward column name (is the first line a header? see `keyward export --help`)",
                    i + 1
                )
            }));
        }
    }
    for required in ["platform", "label"] {
        if !headers.iter().any(|h| h == required) {
            return Err(Error::File(format!("no '{required}' column")));
        }
    }
    let col: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut parsed = Parsed {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    for (line, rec) in rows {
        if too_long(&rec) {
            parsed.rejected.push(Rejected {
                line,
                reason: format!("a cell is longer than {} KiB", MAX_CELL >> 10),
            });
            continue;
        }
        let get = |name: &str| {
            col.get(name)
                .and_then(|i| rec.get(*i))
                .map(unguard)
                .unwrap_or("")
        };
        let status = match opt(get("status")) {
            None => Status::Active,
            Some(s) => match s.parse::<Status>() {
                Ok(Status::Rotating | Status::Compromised) | Err(_) => {
                    parsed.rejected.push(Rejected {
                        line,
                        reason: "status: must be active, suspended, revoked or retired".into(),
                    });
                    continue;
                }
                Ok(s) => s,
            },
        };
        let draft = Draft {
            platform: opt(get("platform")),
            account: opt(get("account")),
            label: opt(get("label")),
            environment: opt(get("environment")),
            owner: opt(get("owner")),
            purpose: opt(get("purpose")),
            permissions: split_list(get("permissions")),
            ip_allowlist: split_list(get("ip_allowlist")),
            ip_note: opt(get("ip_note")),
            rotation_days: opt(get("rotation_days")),
            created_at: opt(get("created_at")),
            expires_at: opt(get("expires_at")),
            last_rotated_at: opt(get("last_rotated_at")),
            last_used_at: opt(get("last_used_at")),
            last_reviewed_at: opt(get("last_reviewed_at")),
            tags: split_list(get("tags")),
            notes: opt(get("notes")),
            key_id_hint: opt(get("key_id_hint")),
        };
        push(&mut parsed, line, draft, Vec::new(), status);
    }
    Ok(parsed)
}

/// The platform a URL or a group names, from the catalogue; else the
/// fallback (the group, or "Imported").
fn platform_of(url: &str, fallback: &str) -> String {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    for p in crate::platforms::built_in() {
        let id = p.id.replace('-', "");
        if !host.is_empty()
            && (host.contains(&id) || host.contains(&p.name.to_ascii_lowercase().replace(' ', "")))
        {
            return p.name.clone();
        }
    }
    let f = fallback.trim();
    if let Some(p) = crate::platforms::find_in(crate::platforms::built_in().iter(), f) {
        return p.name.clone();
    }
    if f.is_empty() || f.eq_ignore_ascii_case("root") {
        "Imported".into()
    } else {
        f.chars().take(100).collect()
    }
}

fn secret(field: &str, value: &str) -> Option<SecretInput> {
    (!value.is_empty()).then(|| SecretInput {
        field: field.into(),
        value: SecretValue::from_slice(value.as_bytes()),
    })
}

fn parse_keepassxc(text: &str) -> Result<Parsed> {
    let (headers, rows) = records(text)?;
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(title), Some(user), Some(pass)) = (find("Title"), find("Username"), find("Password"))
    else {
        return Err(Error::File(
            "not a KeePassXC CSV export (needs Title, Username and Password columns)".into(),
        ));
    };
    let (group, url, notes, created) = (find("Group"), find("URL"), find("Notes"), find("Created"));
    let mut parsed = Parsed {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    for (line, rec) in rows {
        if too_long(&rec) {
            parsed.rejected.push(Rejected {
                line,
                reason: format!("a cell is longer than {} KiB", MAX_CELL >> 10),
            });
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        let group_name = get(group).rsplit('/').next().unwrap_or("").to_owned();
        let secrets: Vec<SecretInput> = [
            secret("api_key", get(Some(user))),
            secret("api_secret", get(Some(pass))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if secrets.is_empty() {
            parsed.rejected.push(Rejected {
                line,
                reason: "no username or password: nothing to keep".into(),
            });
            continue;
        }
        let draft = Draft {
            platform: Some(platform_of(get(url), &group_name)),
            label: opt(get(Some(title))),
            notes: opt(get(notes)),
            created_at: opt(get(created)),
            ..Draft::default()
        };
        push(&mut parsed, line, draft, secrets, Status::Active);
    }
    Ok(parsed)
}

/// A parsed JSON document whose strings (passwords among them) are wiped
/// when it is dropped. serde_json's own scratch buffers while parsing are
/// out of our hands.
struct WipedJson(serde_json::Value);

impl Drop for WipedJson {
    fn drop(&mut self) {
        fn wipe(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::String(s) => zeroize::Zeroize::zeroize(s),
                serde_json::Value::Array(a) => a.iter_mut().for_each(wipe),
                serde_json::Value::Object(o) => {
                    o.values_mut().for_each(wipe);
                }
                _ => {}
            }
        }
        wipe(&mut self.0);
    }
}

/// How much text a JSON value holds, without writing it out again (which
/// would leave another copy of every password behind).
fn json_len(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::String(s) => s.len() + 2,
        serde_json::Value::Array(a) => a.iter().map(json_len).sum::<usize>() + 2,
        serde_json::Value::Object(o) => {
            o.iter()
                .map(|(k, v)| k.len() + 3 + json_len(v))
                .sum::<usize>()
                + 2
        }
        _ => 8,
    }
}

fn parse_bitwarden(text: &str) -> Result<Parsed> {
    let doc = WipedJson(serde_json::from_str(text).map_err(|e| {
        Error::File(format!(
            "not JSON (line {}, column {}): export from Bitwarden as JSON",
            e.line(),
            e.column()
        ))
    })?);
    let v = &doc.0;
    if v.get("encrypted").and_then(|e| e.as_bool()) == Some(true) {
        return Err(Error::File(
            "an encrypted Bitwarden export; export it as unencrypted JSON (and delete it afterwards)".into(),
        ));
    }
    let items = v
        .get("items")
        .and_then(|i| i.as_array())
        .ok_or_else(|| Error::File("not a Bitwarden export (no \"items\" list)".into()))?;
    if items.len() > MAX_ROWS {
        return Err(Error::File(format!("more than {MAX_ROWS} items; split it")));
    }
    let folders: HashMap<&str, &str> = v
        .get("folders")
        .and_then(|f| f.as_array())
        .map(|fs| {
            fs.iter()
                .filter_map(|f| Some((f.get("id")?.as_str()?, f.get("name")?.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut parsed = Parsed {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let s = |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).unwrap_or("").to_owned();
    for (n, item) in items.iter().enumerate() {
        let line = n + 1; // the item's position in the list
        if json_len(item) > MAX_CELL * 4 {
            parsed.rejected.push(Rejected {
                line,
                reason: "item is too large".into(),
            });
            continue;
        }
        let login = item.get("login");
        let uri = login
            .and_then(|l| l.get("uris"))
            .and_then(|u| u.as_array())
            .and_then(|u| u.first())
            .map(|u| s(u.get("uri")))
            .unwrap_or_default();
        let folder = item
            .get("folderId")
            .and_then(|f| f.as_str())
            .and_then(|f| folders.get(f))
            .copied()
            .unwrap_or("");
        // Copies of secret values are wiped as soon as they are sealed into
        // a `SecretValue`.
        let wiped = |v: Option<&serde_json::Value>| zeroize::Zeroizing::new(s(v));
        let mut secrets: Vec<SecretInput> = [
            secret("api_key", &wiped(login.and_then(|l| l.get("username")))),
            secret("api_secret", &wiped(login.and_then(|l| l.get("password")))),
        ]
        .into_iter()
        .flatten()
        .collect();
        for f in item
            .get("fields")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
        {
            let name = s(f.get("name"))
                .trim()
                .to_lowercase()
                .replace([' ', '-'], "_");
            if let Some(x) = secret(&name, &wiped(f.get("value"))) {
                secrets.push(x);
            }
        }
        if secrets.is_empty() {
            parsed.rejected.push(Rejected {
                line,
                reason: "no username, password or field: nothing to keep".into(),
            });
            continue;
        }
        let draft = Draft {
            platform: Some(platform_of(&uri, folder)),
            label: opt(&s(item.get("name"))),
            notes: opt(&s(item.get("notes"))),
            ..Draft::default()
        };
        push(&mut parsed, line, draft, secrets, Status::Active);
    }
    Ok(parsed)
}

/// Adds the parsed rows in one transaction. Refused while any row was
/// rejected, unless `skip_invalid`.
pub fn import(
    vault: &mut Vault,
    parsed: Parsed,
    skip_invalid: bool,
    source: &str,
    now: OffsetDateTime,
) -> Result<usize> {
    if !parsed.rejected.is_empty() && !skip_invalid {
        return Err(Error::Rejected(parsed.rejected.len()));
    }
    let count = parsed.rows.len();
    let items = parsed
        .rows
        .into_iter()
        .map(|r| (r.draft, r.secrets, r.status))
        .collect();
    inventory::add_many(vault, items, now)?;
    audit::record(
        vault,
        now,
        Action::Import,
        None,
        &serde_json::json!({ "format": source, "added": count }),
    )?;
    Ok(count)
}
