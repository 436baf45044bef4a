//! The key inventory: API key entries, their metadata and their sealed
//! secrets, and the operations on them.
//!
//! Every change runs in one write transaction together with its audit row,
//! so it happens completely or not at all. Listing and searching never
//! decrypt a secret; only [`take_secret`] does, one field at a time, and
//! records that it did.

mod filter;

use rusqlite::{params, OptionalExtension, Row, Transaction};
use time::OffsetDateTime;

pub use crate::field::FieldError;
pub use crate::key::{
    apply, secrets, Draft, Entry, Environment, FieldName, Fields, IpRule, Permission, Risk,
    SecretInput, Status,
};
pub use filter::{Filter, SearchIndex};

use crate::due::Policy;
use crate::secret::SecretValue;
use crate::settings;
use crate::timefmt;
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields failed validation; the message lists each as `field: reason`.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    #[error("status: a {from} key cannot become {to}")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
    #[error("secret field: '{0}' is not stored for this key")]
    NoSuchSecret(String),
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

impl From<Vec<FieldError>> for Error {
    fn from(e: Vec<FieldError>) -> Self {
        Error::Invalid(e)
    }
}

/// Why a secret is being taken out of the vault; each is audited as itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretUse {
    Reveal,
    Copy,
}

/// Changes to an entry's secrets in an edit.
#[derive(Debug, Default)]
pub struct SecretChanges {
    /// Fields to add or replace.
    pub set: Vec<SecretInput>,
    /// Fields to remove.
    pub remove: Vec<String>,
}

/// Adds an entry. Platform and label are required; everything else has a
/// default (production, active, created now).
pub fn add(
    vault: &mut Vault,
    draft: &Draft,
    secret_inputs: Vec<SecretInput>,
    now: OffsetDateTime,
) -> Result<Entry> {
    let mut fields = Fields::blank(now);
    let mut errors = apply(draft, &mut fields, now).err().unwrap_or_default();
    let secrets = match secrets(secret_inputs) {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let origin = vault.origin();
    let sealed = seal_all(vault, &id, &secrets)?;
    let tx = vault.write()?;
    insert_entry(&tx, &id, &fields, Status::Active, now)?;
    for (position, (name, blob, fp)) in sealed.iter().enumerate() {
        upsert_secret(&tx, &id, name, position as i64, blob, fp, now)?;
    }
    sync_secret_names(&tx, &id)?;
    audit::append(
        &tx,
        now,
        origin,
        Action::EntryCreate,
        Some(&id),
        &serde_json::json!({
            "platform": fields.platform,
            "label": fields.label,
            "secret_fields": secrets.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        }),
    )?;
    tx.commit()?;
    get(vault, &id)
}

/// Adds many entries in one transaction (an import): all or none. Each is
/// validated as [`add`] does; the first invalid one is named by position.
pub fn add_many(
    vault: &mut Vault,
    items: Vec<(Draft, Vec<SecretInput>, Status)>,
    now: OffsetDateTime,
) -> Result<Vec<String>> {
    let mut ready = Vec::with_capacity(items.len());
    for (n, (draft, inputs, status)) in items.into_iter().enumerate() {
        let mut fields = Fields::blank(now);
        let mut errors = apply(&draft, &mut fields, now).err().unwrap_or_default();
        let values = match secrets(inputs) {
            Ok(s) => s,
            Err(mut e) => {
                errors.append(&mut e);
                Vec::new()
            }
        };
        if !errors.is_empty() {
            let mut first = errors.remove(0);
            first.reason = format!("{} (item {})", first.reason, n + 1);
            return Err(Error::Invalid(vec![first]));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = seal_all(vault, &id, &values)?;
        let names: Vec<String> = values.iter().map(|(n, _)| n.as_str().to_owned()).collect();
        drop(values);
        ready.push((id, fields, status, sealed, names));
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    for (id, fields, status, sealed, names) in &ready {
        insert_entry(&tx, id, fields, *status, now)?;
        for (position, (name, blob, fp)) in sealed.iter().enumerate() {
            upsert_secret(&tx, id, name, position as i64, blob, fp, now)?;
        }
        sync_secret_names(&tx, id)?;
        audit::append(
            &tx,
            now,
            origin,
            Action::EntryCreate,
            Some(id),
            &serde_json::json!({
                "platform": fields.platform,
                "label": fields.label,
                "secret_fields": names,
                "imported": true,
            }),
        )?;
    }
    tx.commit()?;
    Ok(ready.into_iter().map(|(id, ..)| id).collect())
}

/// Edits an entry's metadata and secrets. Only what the draft and the
/// changes name is touched; the audit row lists the changed field names.
pub fn edit(
    vault: &mut Vault,
    id: &str,
    draft: &Draft,
    changes: SecretChanges,
    now: OffsetDateTime,
) -> Result<Entry> {
    let current = get(vault, id)?;
    let id = current.id.clone();
    let mut fields = current.fields.clone();
    let mut errors = apply(draft, &mut fields, now).err().unwrap_or_default();
    let to_set = match secrets(changes.set) {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            Vec::new()
        }
    };
    let mut to_remove = Vec::new();
    for name in &changes.remove {
        match name.parse::<FieldName>() {
            Ok(n) if current.secret_fields.contains(&n) => to_remove.push(n),
            Ok(n) => errors.push(FieldError {
                field: "secret field",
                reason: format!("'{n}' is not stored for this key"),
            }),
            Err(r) => errors.push(FieldError {
                field: "secret field",
                reason: r,
            }),
        }
    }
    if to_set.iter().any(|(n, _)| to_remove.contains(n)) {
        errors.push(FieldError {
            field: "secret field",
            reason: "cannot set and remove the same field".into(),
        });
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let changed = changed_fields(&current.fields, &fields);
    let sealed = seal_all(vault, &id, &to_set)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    update_entry(&tx, &id, &fields, now)?;
    let mut next_position: i64 = tx.query_row(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM secrets WHERE entry_id = ?1",
        [&id],
        |r| r.get(0),
    )?;
    for (name, blob, fp) in &sealed {
        let existing: Option<i64> = tx
            .query_row(
                "SELECT position FROM secrets WHERE entry_id = ?1 AND field = ?2",
                params![id, name.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let position = existing.unwrap_or_else(|| {
            next_position += 1;
            next_position - 1
        });
        upsert_secret(&tx, &id, name, position, blob, fp, now)?;
    }
    for name in &to_remove {
        tx.execute(
            "DELETE FROM secrets WHERE entry_id = ?1 AND field = ?2",
            params![id, name.as_str()],
        )?;
    }
    sync_secret_names(&tx, &id)?;
    if changed.contains(&"permissions") || changed.contains(&"ip_allowlist") {
        crate::followup::settle(&tx, &id, crate::followup::Settled::Narrowed, now)?;
    }
    audit::append(
        &tx,
        now,
        origin,
        Action::EntryEdit,
        Some(&id),
        &serde_json::json!({
            "fields": changed,
            "secrets_set": to_set.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            "secrets_removed": to_remove.iter().map(FieldName::as_str).collect::<Vec<_>>(),
        }),
    )?;
    tx.commit()?;
    get(vault, &id)
}

/// Deletes an entry and its sealed secrets (overwritten on disk: the
/// database runs with `secure_delete`).
pub fn delete(vault: &mut Vault, id: &str, now: OffsetDateTime) -> Result<()> {
    let current = get(vault, id)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute("DELETE FROM entries WHERE id = ?1", [&current.id])?;
    audit::append(
        &tx,
        now,
        origin,
        Action::EntryDelete,
        Some(&current.id),
        &serde_json::json!({ "platform": current.platform, "label": current.label }),
    )?;
    tx.commit()?;
    Ok(())
}

/// Decrypts one secret field, checks it belongs to this entry and field,
/// and records the use in the audit log (the row commits before the value
/// is handed out).
pub fn take_secret(
    vault: &mut Vault,
    id: &str,
    field: &str,
    purpose: SecretUse,
    now: OffsetDateTime,
) -> Result<SecretValue> {
    let entry_id = resolve_id(vault, id)?;
    let name = field.parse::<FieldName>().map_err(|r| {
        Error::Invalid(vec![FieldError {
            field: "secret field",
            reason: r,
        }])
    })?;
    let sealed: Option<Vec<u8>> = vault
        .conn()
        .query_row(
            "SELECT sealed FROM secrets WHERE entry_id = ?1 AND field = ?2",
            params![entry_id, name.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let sealed = sealed.ok_or_else(|| Error::NoSuchSecret(name.to_string()))?;
    unseal_audited(
        vault,
        &entry_id,
        &sealed,
        name.as_str(),
        &name,
        purpose,
        None,
        now,
    )
}

/// Decrypts one secret field without an audit row of its own: for a leak
/// scan, which records one row for all the values it searches for.
pub(crate) fn take_secret_quietly(
    vault: &Vault,
    entry_id: &str,
    field: &str,
) -> Result<SecretValue> {
    let sealed: Option<Vec<u8>> = vault
        .conn()
        .query_row(
            "SELECT sealed FROM secrets WHERE entry_id = ?1 AND field = ?2",
            params![entry_id, field],
            |r| r.get(0),
        )
        .optional()?;
    let sealed = sealed.ok_or_else(|| Error::NoSuchSecret(field.to_owned()))?;
    Ok(vault.open_sealed(&sealed, entry_id, field)?)
}

/// Opens a sealed value (bound to `binding`) and records its use; the
/// audit row commits before the value is handed out. `key` tells a
/// rotation's new key apart in the audit row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn unseal_audited(
    vault: &mut Vault,
    entry_id: &str,
    sealed: &[u8],
    binding: &str,
    field: &FieldName,
    purpose: SecretUse,
    key: Option<&str>,
    now: OffsetDateTime,
) -> Result<SecretValue> {
    let value = vault.open_sealed(sealed, entry_id, binding)?;
    let action = match purpose {
        SecretUse::Reveal => Action::SecretReveal,
        SecretUse::Copy => Action::SecretCopy,
    };
    let detail = match key {
        Some(k) => serde_json::json!({ "field": field.as_str(), "key": k }),
        None => serde_json::json!({ "field": field.as_str() }),
    };
    audit::record(vault, now, action, Some(entry_id), &detail)?;
    Ok(value)
}

/// One stored secret field, named without its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretRef {
    pub entry_id: String,
    pub field: String,
}

/// Groups of entries that hold the same secret value (by keyed
/// fingerprint; nothing is decrypted).
pub fn shared_secrets(vault: &Vault) -> Result<Vec<Vec<SecretRef>>> {
    let mut stmt = vault.conn().prepare(
        "SELECT fingerprint, entry_id, field FROM secrets
         WHERE fingerprint IN (SELECT fingerprint FROM secrets GROUP BY fingerprint HAVING count(*) > 1)
         ORDER BY fingerprint, entry_id, field",
    )?;
    let mut groups: Vec<(Vec<u8>, Vec<SecretRef>)> = Vec::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (fp, entry_id, field) = row?;
        let member = SecretRef { entry_id, field };
        match groups.last_mut() {
            Some((last, members)) if *last == fp => members.push(member),
            _ => groups.push((fp, vec![member])),
        }
    }
    Ok(groups.into_iter().map(|(_, m)| m).collect())
}

/// The groups of entries holding one of this entry's secret values (by
/// keyed fingerprint, through its index), each with the entry itself.
pub fn secrets_shared_with(vault: &Vault, id: &str) -> Result<Vec<Vec<SecretRef>>> {
    let mut stmt = vault.conn().prepare_cached(
        "SELECT mine.field, other.entry_id, other.field
         FROM secrets AS mine JOIN secrets AS other ON other.fingerprint = mine.fingerprint
         WHERE mine.entry_id = ?1 AND other.entry_id != ?1
         ORDER BY mine.field, other.entry_id, other.field",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut groups: Vec<(String, Vec<SecretRef>)> = Vec::new();
    for row in rows {
        let (mine, entry_id, field) = row?;
        let other = SecretRef { entry_id, field };
        match groups.last_mut() {
            Some((f, members)) if *f == mine => members.push(other),
            _ => groups.push((
                mine.clone(),
                vec![
                    SecretRef {
                        entry_id: id.to_owned(),
                        field: mine,
                    },
                    other,
                ],
            )),
        }
    }
    Ok(groups.into_iter().map(|(_, m)| m).collect())
}

/// Finds the full id for an id or a unique prefix of at least 4 characters.
pub fn resolve_id(vault: &Vault, given: &str) -> Result<String> {
    Ok(vault::resolve(vault, &vault::ENTRY, given)?)
}

/// One entry by id or unique id prefix.
pub fn get(vault: &Vault, id: &str) -> Result<Entry> {
    let id = resolve_id(vault, id)?;
    let policy = policy(vault)?;
    let mut stmt = vault
        .conn()
        .prepare_cached(&format!("SELECT {COLUMNS} FROM entries WHERE id = ?1"))?;
    let mut rows = stmt.query([&id])?;
    match rows.next()? {
        Some(row) => entry_from_row(row, &policy),
        None => Err(vault::ENTRY.no_match(&id).into()),
    }
}

/// Every entry, by platform then label (case-insensitive).
pub fn list(vault: &Vault) -> Result<Vec<Entry>> {
    // A table scan in storage order, sorted here: cheaper than walking an
    // index and fetching each row.
    let mut stmt = vault
        .conn()
        .prepare_cached(&format!("SELECT {COLUMNS} FROM entries"))?;
    let policy = policy(vault)?;
    let mut out = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        out.push(entry_from_row(row, &policy)?);
    }
    out.sort_by_cached_key(list_order_key);
    Ok(out)
}

/// The due-date rules for this vault's settings.
fn policy(vault: &Vault) -> Result<Policy> {
    let settings = settings::load(vault)?;
    Ok(Policy::new(&settings))
}

/// Refreshes an entry's copy of its secret field names (kept on the row so
/// listing never reads the secrets table) from the secrets table itself, in
/// the caller's transaction.
pub(crate) fn sync_secret_names(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE entries SET secret_fields = coalesce(
            (SELECT group_concat(field, char(10) ORDER BY position)
             FROM secrets WHERE entry_id = ?1), '')
         WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Platform, then label, case-insensitive, then id: one string, so sorting
/// 10,000 entries compares flat bytes.
fn list_order_key(e: &Entry) -> String {
    let mut key = String::with_capacity(e.platform.len() + e.label.len() + e.id.len() + 2);
    key.extend(e.platform.chars().flat_map(char::to_lowercase));
    key.push('\0');
    key.extend(e.label.chars().flat_map(char::to_lowercase));
    key.push('\0');
    key.push_str(&e.id);
    key
}

/// A field name with its sealed value and its fingerprint, ready to store.
pub(crate) type SealedField = (FieldName, Vec<u8>, [u8; 32]);

pub(crate) fn seal_all(
    vault: &Vault,
    id: &str,
    secrets: &[(FieldName, SecretValue)],
) -> Result<Vec<SealedField>> {
    secrets
        .iter()
        .map(|(name, value)| {
            let blob = vault::seal(vault.recipient(), id, name.as_str(), value)?;
            let fp = vault.fingerprint(value)?;
            Ok((name.clone(), blob, fp))
        })
        .collect()
}

const COLUMNS: &str = "id, platform, account, label, environment, owner, purpose, permissions, \
    ip_allowlist, ip_note, rotation_days, created_at, expires_at, last_rotated_at, last_used_at, \
    last_reviewed_at, status, tags, notes, key_id_hint, updated_at, secret_fields, \
    rotation_requested_at";

/// Parses one `entries` row (columns as in [`COLUMNS`]), reading text
/// columns in place so only the strings kept are allocated.
fn entry_from_row(r: &Row<'_>, policy: &Policy) -> Result<Entry> {
    let id: String = r.get(0)?;
    let bad = |field: &'static str| {
        Error::Vault(vault::Error::Unreadable {
            table: "entry",
            id: id.clone(),
            what: field,
        })
    };
    let text = |i: usize, field: &'static str| -> Result<&str> {
        r.get_ref(i)?.as_str().map_err(|_| bad(field))
    };
    let opt_text = |i: usize, field: &'static str| -> Result<Option<&str>> {
        r.get_ref(i)?.as_str_or_null().map_err(|_| bad(field))
    };
    let time = |i: usize, field: &'static str| -> Result<OffsetDateTime> {
        timefmt::parse_stored(text(i, field)?).map_err(|_| bad(field))
    };
    let opt_time = |i: usize, field: &'static str| -> Result<Option<OffsetDateTime>> {
        opt_text(i, field)?
            .map(|s| timefmt::parse_stored(s).map_err(|_| bad(field)))
            .transpose()
    };
    let list = |i: usize, field: &'static str| -> Result<Vec<String>> {
        Ok(split_list(text(i, field)?).map(str::to_owned).collect())
    };
    fn parsed_list<T: std::str::FromStr>(stored: &str) -> Option<Vec<T>> {
        split_list(stored).map(|s| s.parse().ok()).collect()
    }
    let fields = Fields {
        platform: text(1, "platform")?.to_owned(),
        account: opt_text(2, "account")?.map(str::to_owned),
        label: text(3, "label")?.to_owned(),
        environment: text(4, "environment")?
            .parse()
            .map_err(|_| bad("environment"))?,
        owner: opt_text(5, "owner")?.map(str::to_owned),
        purpose: opt_text(6, "purpose")?.map(str::to_owned),
        permissions: parsed_list(text(7, "permissions")?).ok_or_else(|| bad("permissions"))?,
        ip_allowlist: parsed_list(text(8, "ip_allowlist")?).ok_or_else(|| bad("ip_allowlist"))?,
        ip_note: opt_text(9, "ip_note")?.map(str::to_owned),
        rotation_days: r
            .get::<_, Option<i64>>(10)?
            .map(u32::try_from)
            .transpose()
            .map_err(|_| bad("rotation_days"))?,
        created_at: time(11, "created_at")?,
        expires_at: opt_time(12, "expires_at")?,
        last_rotated_at: opt_time(13, "last_rotated_at")?,
        last_used_at: opt_time(14, "last_used_at")?,
        last_reviewed_at: opt_time(15, "last_reviewed_at")?,
        tags: list(17, "tags")?,
        notes: opt_text(18, "notes")?.map(str::to_owned),
        key_id_hint: opt_text(19, "key_id_hint")?.map(str::to_owned),
        rotation_requested_at: opt_time(22, "rotation_requested_at")?,
    };
    let secret_fields =
        parsed_list(text(21, "secret fields")?).ok_or_else(|| bad("secret fields"))?;
    let status = text(16, "status")?.parse().map_err(|_| bad("status"))?;
    let updated_at = time(20, "updated_at")?;
    let due = policy.due(&fields, status);
    Ok(Entry::from_parts(
        id,
        fields,
        status,
        secret_fields,
        updated_at,
        due,
    ))
}

/// Lists (permissions, IP rules, tags) are stored one item per line:
/// validation guarantees no item holds a control character, and splitting
/// is several times cheaper than JSON when listing 10,000 keys.
pub(crate) fn join_list<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn split_list(stored: &str) -> impl Iterator<Item = &str> {
    stored.split('\n').filter(|s| !s.is_empty())
}

fn opt_time(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(timefmt::format)
}

fn insert_entry(
    tx: &Transaction<'_>,
    id: &str,
    f: &Fields,
    status: Status,
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO entries ({COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, '', ?22)"
        ),
        params![
            id,
            f.platform,
            f.account,
            f.label,
            f.environment.as_str(),
            f.owner,
            f.purpose,
            join_list(&f.permissions),
            join_list(&f.ip_allowlist),
            f.ip_note,
            f.rotation_days,
            timefmt::format(f.created_at),
            opt_time(f.expires_at),
            opt_time(f.last_rotated_at),
            opt_time(f.last_used_at),
            opt_time(f.last_reviewed_at),
            status.as_str(),
            join_list(&f.tags),
            f.notes,
            f.key_id_hint,
            timefmt::format(now),
            opt_time(f.rotation_requested_at),
        ],
    )?;
    Ok(())
}

fn update_entry(
    tx: &Transaction<'_>,
    id: &str,
    f: &Fields,
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE entries SET platform = ?2, account = ?3, label = ?4, environment = ?5, owner = ?6,
            purpose = ?7, permissions = ?8, ip_allowlist = ?9, ip_note = ?10, rotation_days = ?11,
            created_at = ?12, expires_at = ?13, last_rotated_at = ?14, last_used_at = ?15,
            last_reviewed_at = ?16, tags = ?17, notes = ?18, key_id_hint = ?19, updated_at = ?20
         WHERE id = ?1",
        params![
            id,
            f.platform,
            f.account,
            f.label,
            f.environment.as_str(),
            f.owner,
            f.purpose,
            join_list(&f.permissions),
            join_list(&f.ip_allowlist),
            f.ip_note,
            f.rotation_days,
            timefmt::format(f.created_at),
            opt_time(f.expires_at),
            opt_time(f.last_rotated_at),
            opt_time(f.last_used_at),
            opt_time(f.last_reviewed_at),
            join_list(&f.tags),
            f.notes,
            f.key_id_hint,
            timefmt::format(now),
        ],
    )?;
    Ok(())
}

pub(crate) fn upsert_secret(
    tx: &Transaction<'_>,
    id: &str,
    name: &FieldName,
    position: i64,
    sealed: &[u8],
    fingerprint: &[u8; 32],
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO secrets (entry_id, field, position, sealed, fingerprint, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(entry_id, field) DO UPDATE SET
            sealed = excluded.sealed, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
        params![
            id,
            name.as_str(),
            position,
            sealed,
            fingerprint.as_slice(),
            timefmt::format(now)
        ],
    )?;
    Ok(())
}

/// The names of the metadata fields that differ, for the audit row.
fn changed_fields(a: &Fields, b: &Fields) -> Vec<&'static str> {
    let mut out = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => {$( if a.$f != b.$f { out.push(stringify!($f)); } )*};
    }
    cmp!(
        platform,
        account,
        label,
        environment,
        owner,
        purpose,
        permissions,
        ip_allowlist,
        ip_note,
        rotation_days,
        created_at,
        expires_at,
        last_rotated_at,
        last_used_at,
        last_reviewed_at,
        tags,
        notes,
        key_id_hint
    );
    out
}
