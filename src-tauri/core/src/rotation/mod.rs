//! Rotation: the guided "new key first, old key last" rotation (due dates
//! are `due`'s, reminders `reminder`'s).
//!
//! A guided rotation keeps both keys usable while the new one is deployed:
//! the new secret fields are sealed beside the old ones (bound to
//! `next.<field>` so they can never be mistaken for the current ones), the
//! old key may be revoked only after the new one is confirmed working, and
//! completion swaps them in one transaction — the old values are deleted
//! (overwritten on disk: `secure_delete`), their metadata kept in the key's
//! rotation history. Every step is audited.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use ts_rs::TS;

pub use crate::due::Policy;
pub use crate::key::{Due, DueReason};

use crate::inventory::{
    self, join_list, seal_all, secrets, split_list, sync_secret_names, upsert_secret, Entry,
    FieldError, FieldName, IpRule, Permission, SecretInput, SecretUse, Status,
};
use crate::lifecycle::{self, Cause};
use crate::secret::SecretValue;
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Fields(Vec<FieldError>),
    #[error("rotation: {0}")]
    Step(String),
    #[error("rotation: no rotation is in progress for this key")]
    NotStarted,
    #[error(transparent)]
    Inventory(#[from] inventory::Error),
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

impl From<crate::settings::Error> for Error {
    fn from(e: crate::settings::Error) -> Self {
        match e {
            crate::settings::Error::Vault(v) => Error::Vault(v),
            crate::settings::Error::Invalid(f) => Error::Fields(f),
            e @ crate::settings::Error::NeedsPassphrase { field } => {
                Error::Fields(vec![crate::inventory::FieldError {
                    field,
                    reason: e.to_string(),
                }])
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The wizard's steps, in order. A rotation sits at the step still to do.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    TS,
    IntoStaticStr,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Create the new key on the platform, narrowing the old one's template.
    Create,
    /// Enter the new key's secret fields.
    Secrets,
    /// Put the new key into the integration.
    Deploy,
    /// Confirm the integration works with the new key.
    Confirm,
    /// Revoke the old key on the platform.
    Revoke,
    /// Everything done: complete to swap the keys.
    Done,
}

crate::field::keywords!(Step);

impl Step {
    fn next(self) -> Step {
        match self {
            Step::Create => Step::Secrets,
            Step::Secrets => Step::Deploy,
            Step::Deploy => Step::Confirm,
            Step::Confirm => Step::Revoke,
            Step::Revoke | Step::Done => Step::Done,
        }
    }
}

/// A rotation in progress.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Rotation {
    pub entry_id: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
    pub step: Step,
    /// The new key's permissions and allowlist, when narrowed at step 1.
    #[ts(type = "Array<string> | null")]
    pub permissions: Option<Vec<Permission>>,
    #[ts(type = "Array<string> | null")]
    pub ip_allowlist: Option<Vec<IpRule>>,
    pub key_id_hint: Option<String>,
    /// Names of the new key's secret fields (never values).
    #[ts(type = "Array<string>")]
    pub new_secret_fields: Vec<FieldName>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub deployed_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub old_revoked_at: Option<OffsetDateTime>,
    #[serde(skip)]
    previous_status: Status,
}

/// One completed rotation, as the key's history keeps it.
#[derive(Clone, Debug, Serialize, TS)]
pub struct HistoryItem {
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub completed_at: OffsetDateTime,
    /// `guided` (the wizard) or `direct` (`keyward rotate`).
    pub method: String,
    pub old_permissions: Vec<String>,
    pub old_ip_allowlist: Vec<String>,
    pub old_key_id_hint: Option<String>,
    pub old_secret_fields: Vec<String>,
    pub new_permissions: Vec<String>,
    pub new_ip_allowlist: Vec<String>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub old_revoked_at: Option<OffsetDateTime>,
}

fn step_error(msg: impl Into<String>) -> Error {
    Error::Step(msg.into())
}

/// The rotation in progress for a key, if any.
pub fn get(vault: &Vault, id: &str) -> Result<Option<Rotation>> {
    let id = inventory::resolve_id(vault, id)?;
    let row = vault
        .conn()
        .query_row(
            "SELECT started_at, step, permissions, ip_allowlist, key_id_hint, deployed_at,
                    confirmed_at, old_revoked_at, previous_status
             FROM rotations WHERE entry_id = ?1",
            [&id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                ))
            },
        )
        .optional()?;
    let Some((started, step, perms, ips, hint, deployed, confirmed, revoked, previous)) = row
    else {
        return Ok(None);
    };
    let bad = |field: &'static str| {
        Error::Vault(vault::Error::Unreadable {
            table: "entry",
            id: id.clone(),
            what: field,
        })
    };
    let time = |s: &str| timefmt::parse_stored(s).map_err(|_| bad("rotation time"));
    let opt_time = |s: Option<String>| s.map(|s| time(&s)).transpose();
    fn parsed<T: std::str::FromStr>(s: Option<String>) -> Option<Option<Vec<T>>> {
        match s {
            None => Some(None),
            Some(s) => split_list(&s)
                .map(|x| x.parse().ok())
                .collect::<Option<Vec<T>>>()
                .map(Some),
        }
    }
    let new_secret_fields = {
        let mut stmt = vault.conn().prepare_cached(
            "SELECT field FROM rotation_secrets WHERE entry_id = ?1 ORDER BY position",
        )?;
        let names: Vec<String> = stmt
            .query_map([&id], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        names
            .iter()
            .map(|n| {
                n.parse::<FieldName>()
                    .map_err(|_| bad("rotation secret field"))
            })
            .collect::<Result<Vec<_>>>()?
    };
    Ok(Some(Rotation {
        entry_id: id.clone(),
        started_at: time(&started)?,
        step: step
            .parse::<Step>()
            .ok()
            .ok_or_else(|| bad("rotation step"))?,
        permissions: parsed(perms).ok_or_else(|| bad("rotation permissions"))?,
        ip_allowlist: parsed(ips).ok_or_else(|| bad("rotation ip_allowlist"))?,
        key_id_hint: hint,
        new_secret_fields,
        deployed_at: opt_time(deployed)?,
        confirmed_at: opt_time(confirmed)?,
        old_revoked_at: opt_time(revoked)?,
        previous_status: previous.parse().map_err(|_| bad("rotation status"))?,
    }))
}

fn require(vault: &Vault, id: &str) -> Result<Rotation> {
    get(vault, id)?.ok_or(Error::NotStarted)
}

fn audit_step(
    tx: &Transaction<'_>,
    vault_origin: vault::Origin,
    now: OffsetDateTime,
    action: Action,
    id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    audit::append(tx, now, vault_origin, action, Some(id), &detail)?;
    Ok(())
}

/// Starts a guided rotation, or returns the one already in progress (the
/// wizard can be left and resumed). The key becomes `rotating`.
pub fn start(vault: &mut Vault, id: &str, now: OffsetDateTime) -> Result<Rotation> {
    let entry = inventory::get(vault, id)?;
    if let Some(r) = get(vault, &entry.id)? {
        return Ok(r);
    }
    lifecycle::can_rotate(entry.status).map_err(step_error)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO rotations (entry_id, started_at, previous_status, step, updated_at)
         VALUES (?1, ?2, ?3, 'create', ?2)",
        params![entry.id, timefmt::format(now), entry.status.as_str()],
    )?;
    lifecycle::transition(
        &tx,
        origin,
        &entry.id,
        Status::Rotating,
        Cause::Rotation,
        now,
    )?;
    audit_step(
        &tx,
        origin,
        now,
        Action::RotationStart,
        &entry.id,
        serde_json::json!({ "from_status": entry.status.as_str() }),
    )?;
    tx.commit()?;
    require(vault, &entry.id)
}

/// Step 1: the new key as created on the platform — its permissions and IP
/// allowlist (the old key's are the template; `None` keeps them) and an
/// optional key-id hint.
pub fn set_new_key(
    vault: &mut Vault,
    id: &str,
    permissions: Option<Vec<String>>,
    ip_allowlist: Option<Vec<String>>,
    key_id_hint: Option<String>,
    now: OffsetDateTime,
) -> Result<Rotation> {
    let r = require(vault, id)?;
    let mut errors = Vec::new();
    let perms: Option<Vec<Permission>> = permissions.map(|ps| {
        ps.iter()
            .filter(|p| !p.trim().is_empty())
            .filter_map(|p| {
                p.parse()
                    .map_err(|reason| {
                        errors.push(FieldError {
                            field: "permissions",
                            reason,
                        })
                    })
                    .ok()
            })
            .collect()
    });
    let ips: Option<Vec<IpRule>> = ip_allowlist.map(|ips| {
        ips.iter()
            .filter(|p| !p.trim().is_empty())
            .filter_map(|p| {
                p.parse()
                    .map_err(|reason| {
                        errors.push(FieldError {
                            field: "ip_allowlist",
                            reason,
                        })
                    })
                    .ok()
            })
            .collect()
    });
    let hint = key_id_hint
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    if let Some(h) = &hint {
        if h.chars().count() > 64 || h.chars().any(char::is_control) {
            errors.push(FieldError {
                field: "key_id_hint",
                reason: "must be one line of at most 64 characters".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(Error::Fields(errors));
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    let step = if r.step == Step::Create {
        Step::Secrets
    } else {
        r.step
    };
    tx.execute(
        "UPDATE rotations SET permissions = ?2, ip_allowlist = ?3, key_id_hint = ?4, step = ?5,
            updated_at = ?6 WHERE entry_id = ?1",
        params![
            r.entry_id,
            perms.as_deref().map(join_list),
            ips.as_deref().map(join_list),
            hint,
            step.as_str(),
            timefmt::format(now)
        ],
    )?;
    audit_step(
        &tx,
        origin,
        now,
        Action::RotationStep,
        &r.entry_id,
        serde_json::json!({
            "step": "create",
            "permissions": perms.as_ref().map(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>()),
            "ip_allowlist": ips.as_ref().map(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>()),
        }),
    )?;
    tx.commit()?;
    require(vault, &r.entry_id)
}

/// Step 2: the new key's secret fields, sealed beside the old ones. Giving
/// them again (before completion) replaces the staged set.
pub fn stage_secrets(
    vault: &mut Vault,
    id: &str,
    inputs: Vec<SecretInput>,
    now: OffsetDateTime,
) -> Result<Rotation> {
    let r = require(vault, id)?;
    if r.step < Step::Secrets {
        return Err(step_error("describe the new key first (step 1)"));
    }
    let values = secrets(inputs).map_err(Error::Fields)?;
    if values.is_empty() {
        return Err(Error::Invalid {
            field: "secret field",
            reason: "the new key needs at least one secret field".into(),
        });
    }
    let staged = seal_staged(vault, &r.entry_id, &values)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "DELETE FROM rotation_secrets WHERE entry_id = ?1",
        [&r.entry_id],
    )?;
    for (position, (name, blob, fp)) in staged.iter().enumerate() {
        tx.execute(
            "INSERT INTO rotation_secrets (entry_id, field, position, sealed, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                r.entry_id,
                name.as_str(),
                position as i64,
                blob,
                fp.as_slice()
            ],
        )?;
    }
    let step = if r.step == Step::Secrets {
        Step::Deploy
    } else {
        r.step
    };
    tx.execute(
        "UPDATE rotations SET step = ?2, updated_at = ?3 WHERE entry_id = ?1",
        params![r.entry_id, step.as_str(), timefmt::format(now)],
    )?;
    audit_step(
        &tx,
        origin,
        now,
        Action::RotationStep,
        &r.entry_id,
        serde_json::json!({
            "step": "secrets",
            "fields": values.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        }),
    )?;
    tx.commit()?;
    require(vault, &r.entry_id)
}

fn next_binding(field: &FieldName) -> String {
    format!("next.{field}")
}

fn seal_staged(
    vault: &Vault,
    id: &str,
    values: &[(FieldName, SecretValue)],
) -> Result<Vec<inventory::SealedField>> {
    values
        .iter()
        .map(|(name, value)| {
            let blob = vault::seal(vault.recipient(), id, &next_binding(name), value)?;
            let fp = vault.fingerprint(value)?;
            Ok((name.clone(), blob, fp))
        })
        .collect()
}

/// Steps 3–5, in order: the new key is deployed, confirmed working, and
/// only then the old key revoked on the platform.
pub fn advance(vault: &mut Vault, id: &str, done: Step, now: OffsetDateTime) -> Result<Rotation> {
    let r = require(vault, id)?;
    let column = match done {
        Step::Deploy => "deployed_at",
        Step::Confirm => "confirmed_at",
        Step::Revoke => "old_revoked_at",
        _ => {
            return Err(step_error(format!(
                "'{}' is not marked done this way",
                done.as_str()
            )))
        }
    };
    if r.step != done {
        let why = match (done, r.step) {
            (Step::Revoke, s) if s < Step::Revoke => {
                "revoke the old key only after confirming the new key works".to_owned()
            }
            (_, s) if s < done => format!("finish the '{}' step first", s.as_str()),
            _ => format!("the '{}' step is already done", done.as_str()),
        };
        return Err(step_error(why));
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        &format!(
            "UPDATE rotations SET {column} = ?2, step = ?3, updated_at = ?2 WHERE entry_id = ?1"
        ),
        params![r.entry_id, timefmt::format(now), done.next().as_str()],
    )?;
    audit_step(
        &tx,
        origin,
        now,
        Action::RotationStep,
        &r.entry_id,
        serde_json::json!({ "step": done.as_str() }),
    )?;
    tx.commit()?;
    require(vault, &r.entry_id)
}

/// Decrypts one of the new key's staged secret fields (both keys are
/// usable during the overlap); audited like any other use.
pub fn take_new_secret(
    vault: &mut Vault,
    id: &str,
    field: &str,
    purpose: SecretUse,
    now: OffsetDateTime,
) -> Result<SecretValue> {
    let r = require(vault, id)?;
    let name = field
        .parse::<FieldName>()
        .map_err(|reason| Error::Invalid {
            field: "secret field",
            reason,
        })?;
    let sealed: Option<Vec<u8>> = vault
        .conn()
        .query_row(
            "SELECT sealed FROM rotation_secrets WHERE entry_id = ?1 AND field = ?2",
            params![r.entry_id, name.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    let sealed = sealed.ok_or_else(|| inventory::Error::NoSuchSecret(name.to_string()))?;
    Ok(inventory::unseal_audited(
        vault,
        &r.entry_id,
        &sealed,
        &next_binding(&name),
        &name,
        purpose,
        Some("new"),
        now,
    )?)
}

/// Step 6: swaps the keys. The old secret values are deleted, the new ones
/// become the key's, the old metadata goes to the history, the rotation
/// clock and reminders restart, and the key is active again.
pub fn complete(vault: &mut Vault, id: &str, now: OffsetDateTime) -> Result<Entry> {
    let r = require(vault, id)?;
    if r.step != Step::Done {
        return Err(step_error(format!(
            "finish the '{}' step first (the old key is revoked last, after the new one is confirmed)",
            r.step.as_str()
        )));
    }
    let entry = inventory::get(vault, &r.entry_id)?;
    // Unseal the staged values and seal them again bound to their final
    // place; nothing is written until all of them check out.
    let staged: Vec<(String, Vec<u8>)> = {
        let mut stmt = vault.conn().prepare(
            "SELECT field, sealed FROM rotation_secrets WHERE entry_id = ?1 ORDER BY position",
        )?;
        let rows = stmt
            .query_map([&r.entry_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows
    };
    let mut values = Vec::with_capacity(staged.len());
    for (field, sealed) in &staged {
        let name: FieldName = field.parse().map_err(|_| vault::Error::Unreadable {
            table: "entry",
            id: r.entry_id.clone(),
            what: "rotation secret field",
        })?;
        let value = vault.open_sealed(sealed, &r.entry_id, &next_binding(&name))?;
        values.push((name, value));
    }
    if values.is_empty() {
        return Err(step_error("the new key has no secret fields staged"));
    }
    let sealed = seal_all(vault, &r.entry_id, &values)?;
    drop(values);
    let new_perms = r
        .permissions
        .clone()
        .unwrap_or_else(|| entry.permissions.clone());
    let new_ips = r
        .ip_allowlist
        .clone()
        .unwrap_or_else(|| entry.ip_allowlist.clone());
    let new_hint = r.key_id_hint.clone().or_else(|| entry.key_id_hint.clone());
    swap_in(
        vault,
        &entry,
        Swap {
            sealed,
            permissions: new_perms,
            ip_allowlist: new_ips,
            key_id_hint: new_hint,
            started_at: r.started_at,
            method: "guided",
            confirmed_at: r.confirmed_at,
            old_revoked_at: r.old_revoked_at,
        },
        now,
    )?;
    Ok(inventory::get(vault, &r.entry_id)?)
}

/// Rotates in one go, for scripts: the new values replace the old ones at
/// once (the caller has already deployed the new key and revoked the old).
pub fn rotate_now(
    vault: &mut Vault,
    id: &str,
    inputs: Vec<SecretInput>,
    now: OffsetDateTime,
) -> Result<Entry> {
    let entry = inventory::get(vault, id)?;
    if get(vault, &entry.id)?.is_some() {
        return Err(step_error(
            "a guided rotation is in progress for this key; finish or cancel it",
        ));
    }
    lifecycle::can_rotate(entry.status).map_err(step_error)?;
    let values = secrets(inputs).map_err(Error::Fields)?;
    if values.is_empty() {
        return Err(Error::Invalid {
            field: "secret field",
            reason: "give the new key's fields with --secret NAME (values on stdin)".into(),
        });
    }
    let sealed = seal_all(vault, &entry.id, &values)?;
    drop(values);
    swap_in(
        vault,
        &entry,
        Swap {
            sealed,
            permissions: entry.permissions.clone(),
            ip_allowlist: entry.ip_allowlist.clone(),
            key_id_hint: entry.key_id_hint.clone(),
            started_at: now,
            method: "direct",
            confirmed_at: None,
            old_revoked_at: None,
        },
        now,
    )?;
    Ok(inventory::get(vault, &entry.id)?)
}

struct Swap {
    sealed: Vec<inventory::SealedField>,
    permissions: Vec<Permission>,
    ip_allowlist: Vec<IpRule>,
    key_id_hint: Option<String>,
    started_at: OffsetDateTime,
    method: &'static str,
    confirmed_at: Option<OffsetDateTime>,
    old_revoked_at: Option<OffsetDateTime>,
}

fn swap_in(vault: &mut Vault, old: &Entry, s: Swap, now: OffsetDateTime) -> Result<()> {
    let origin = vault.origin();
    let id = old.id.as_str();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO rotation_history (entry_id, started_at, completed_at, method,
            old_permissions, old_ip_allowlist, old_key_id_hint, old_secret_fields,
            new_permissions, new_ip_allowlist, confirmed_at, old_revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            timefmt::format(s.started_at),
            timefmt::format(now),
            s.method,
            join_list(&old.permissions),
            join_list(&old.ip_allowlist),
            old.key_id_hint,
            join_list(&old.secret_fields),
            join_list(&s.permissions),
            join_list(&s.ip_allowlist),
            s.confirmed_at.map(timefmt::format),
            s.old_revoked_at.map(timefmt::format),
        ],
    )?;
    // The old values go; secure_delete overwrites their pages.
    tx.execute("DELETE FROM secrets WHERE entry_id = ?1", [id])?;
    for (position, (name, blob, fp)) in s.sealed.iter().enumerate() {
        upsert_secret(&tx, id, name, position as i64, blob, fp, now)?;
    }
    sync_secret_names(&tx, id)?;
    tx.execute("DELETE FROM rotations WHERE entry_id = ?1", [id])?;
    tx.execute("DELETE FROM reminders WHERE entry_id = ?1", [id])?;
    lifecycle::transition(&tx, origin, id, Status::Active, Cause::Rotation, now)?;
    tx.execute(
        "UPDATE entries SET last_rotated_at = ?2, permissions = ?3,
            ip_allowlist = ?4, key_id_hint = ?5, rotation_requested_at = NULL, updated_at = ?2
         WHERE id = ?1",
        params![
            id,
            timefmt::format(now),
            join_list(&s.permissions),
            join_list(&s.ip_allowlist),
            s.key_id_hint,
        ],
    )?;
    let narrowed = s.permissions != old.permissions || s.ip_allowlist != old.ip_allowlist;
    crate::followup::settle(&tx, id, crate::followup::Settled::Rotated { narrowed }, now)?;
    audit::append(
        &tx,
        now,
        origin,
        Action::RotationComplete,
        Some(id),
        &serde_json::json!({
            "method": s.method,
            "old_secret_fields": old.secret_fields.iter().map(FieldName::as_str).collect::<Vec<_>>(),
            "new_secret_fields": s.sealed.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>(),
        }),
    )?;
    tx.commit()?;
    Ok(())
}

/// Abandons a rotation: the staged secrets are deleted and the key goes
/// back to the status it had.
pub fn cancel(vault: &mut Vault, id: &str, now: OffsetDateTime) -> Result<Entry> {
    let r = require(vault, id)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute("DELETE FROM rotations WHERE entry_id = ?1", [&r.entry_id])?;
    lifecycle::transition(
        &tx,
        origin,
        &r.entry_id,
        r.previous_status,
        Cause::Rotation,
        now,
    )?;
    audit_step(
        &tx,
        origin,
        now,
        Action::RotationCancel,
        &r.entry_id,
        serde_json::json!({ "at_step": r.step.as_str() }),
    )?;
    tx.commit()?;
    Ok(inventory::get(vault, &r.entry_id)?)
}

/// A key's completed rotations, oldest first.
pub fn history(vault: &Vault, id: &str) -> Result<Vec<HistoryItem>> {
    let id = inventory::resolve_id(vault, id)?;
    let mut stmt = vault.conn().prepare(
        "SELECT started_at, completed_at, method, old_permissions, old_ip_allowlist,
                old_key_id_hint, old_secret_fields, new_permissions, new_ip_allowlist,
                confirmed_at, old_revoked_at
         FROM rotation_history WHERE entry_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([&id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, Option<String>>(10)?,
        ))
    })?;
    let list = |s: &str| split_list(s).map(str::to_owned).collect::<Vec<_>>();
    let mut out = Vec::new();
    for row in rows {
        let (started, completed, method, op, oi, hint, of, np, ni, confirmed, revoked) = row?;
        let time = |s: &str| {
            timefmt::parse_stored(s).map_err(|_| {
                Error::Vault(vault::Error::Unreadable {
                    table: "entry",
                    id: id.clone(),
                    what: "rotation history",
                })
            })
        };
        out.push(HistoryItem {
            started_at: time(&started)?,
            completed_at: time(&completed)?,
            method,
            old_permissions: list(&op),
            old_ip_allowlist: list(&oi),
            old_key_id_hint: hint,
            old_secret_fields: list(&of),
            new_permissions: list(&np),
            new_ip_allowlist: list(&ni),
            confirmed_at: confirmed.as_deref().map(time).transpose()?,
            old_revoked_at: revoked.as_deref().map(time).transpose()?,
        });
    }
    Ok(out)
}
