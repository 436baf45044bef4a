//! "Suspected exposure": the incident walkthrough for keys that may have
//! leaked, with its report ([`report`]).
//!
//! Eight steps in a fixed order — contain, replace, review activity, secure
//! the account, find copies, root cause, notify, close — each marked done,
//! skipped (with a reason) or not applicable, with its time and a note. A
//! step can be marked only once every step before it is; the incident
//! closes only when the first seven are. Opening makes the keys
//! `compromised`; containing them makes them `revoked`. Every change is
//! one transaction with its audit row and a timeline event, so the
//! incident can be left and resumed at any point.

pub mod report;

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::findings::{KeySnapshot, Severity};
use crate::inventory::{self, Entry, FieldError, Risk, Status};
use crate::lifecycle::{self, Cause};
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("incident: this incident is closed and can only be read or exported")]
    Closed,
    #[error("incident: {0}")]
    Order(String),
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

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid(vec![FieldError {
        field,
        reason: reason.into(),
    }])
}

/// The walkthrough's steps, in order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
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
#[ts(rename_all = "snake_case", rename = "IncidentStepId")]
pub enum StepId {
    Contain,
    Replace,
    ReviewActivity,
    SecureAccount,
    FindCopies,
    RootCause,
    Notify,
    Close,
}

crate::field::keywords!(StepId);

impl StepId {
    /// The step's name as a heading.
    pub fn title(self) -> &'static str {
        match self {
            StepId::Contain => "Contain: revoke the key on the platform",
            StepId::Replace => "Replace: a new, narrower key if still needed",
            StepId::ReviewActivity => "Review activity since the exposure",
            StepId::SecureAccount => "Secure the account",
            StepId::FindCopies => "Find copies on this machine",
            StepId::RootCause => "Root cause: where it leaked",
            StepId::Notify => "Notify",
            StepId::Close => "Close: lessons learned",
        }
    }

    fn index(self) -> usize {
        StepId::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// Where a step stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, IntoStaticStr, VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Done,
    /// Not done, with a reason.
    Skipped,
    /// Does not apply here.
    NotApplicable,
}

crate::field::keywords!(StepState);

impl StepState {
    pub fn resolved(self) -> bool {
        self != StepState::Pending
    }
}

/// Whether unauthorised activity was found on the platform.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, IntoStaticStr, VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum Activity {
    Yes,
    No,
    Unknown,
}

crate::field::keywords!(Activity);

/// Where the key leaked.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, IntoStaticStr, VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum RootCause {
    Repository,
    ChatOrEmail,
    Logs,
    Screenshot,
    SharedDocument,
    Phishing,
    Malware,
    ThirdParty,
    Unknown,
}

crate::field::keywords!(RootCause);

impl RootCause {
    pub fn describe(self) -> &'static str {
        match self {
            RootCause::Repository => "a code repository",
            RootCause::ChatOrEmail => "chat or email",
            RootCause::Logs => "logs or error traces",
            RootCause::Screenshot => "a screenshot or screen share",
            RootCause::SharedDocument => "a shared document",
            RootCause::Phishing => "phishing",
            RootCause::Malware => "malware",
            RootCause::ThirdParty => "a third-party service",
            RootCause::Unknown => "unknown",
        }
    }
}

/// One step as it stands.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(rename = "IncidentStep")]
pub struct Step {
    pub id: StepId,
    pub title: String,
    pub state: StepState,
    pub note: Option<String>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub at: Option<OffsetDateTime>,
}

/// One key of the incident: as it was when the incident opened.
#[derive(Clone, Debug, Serialize, TS)]
pub struct IncidentKey {
    pub entry_id: String,
    pub key: KeySnapshot,
    /// Still in the vault, and its status now.
    pub exists: bool,
    pub status_now: Option<String>,
    /// The platform's key-management page, from the catalogue.
    pub key_management: Option<String>,
    pub key_management_url: Option<String>,
}

/// One line of the timeline.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(rename = "IncidentEvent")]
pub struct Event {
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    /// The step it concerns; `None` for the incident itself (opened).
    pub step: Option<StepId>,
    /// `opened`, or the state the step was given.
    pub what: String,
    pub note: Option<String>,
}

/// Another key on the same platform and account (step 4 lists them).
#[derive(Clone, Debug, Serialize, TS)]
pub struct RelatedKey {
    pub entry_id: String,
    pub platform: String,
    pub account: Option<String>,
    pub label: String,
    pub status: String,
}

/// An incident with everything the walkthrough and the report show.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Incident {
    pub id: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub opened_at: OffsetDateTime,
    /// When the exposure may have started (activity is reviewed from then).
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub suspected_at: Option<OffsetDateTime>,
    pub severity: Severity,
    /// How it was opened: `manual` or `leak_scan`.
    pub source: String,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub closed_at: Option<OffsetDateTime>,
    pub activity: Option<Activity>,
    pub root_cause: Option<RootCause>,
    /// `seq:sha256` of the audit log's newest row when it closed.
    pub audit_head: Option<String>,
    pub keys: Vec<IncidentKey>,
    pub steps: Vec<Step>,
    /// The first step still pending; `None` once closed.
    pub current: Option<StepId>,
    pub timeline: Vec<Event>,
    /// Other live keys on the same platform and account.
    pub related: Vec<RelatedKey>,
}

/// A row of the incident list.
#[derive(Clone, Debug, Serialize, TS)]
pub struct IncidentSummary {
    pub id: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub opened_at: OffsetDateTime,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub closed_at: Option<OffsetDateTime>,
    pub severity: Severity,
    /// "Binance · treasury", … (labels of the keys).
    pub keys: Vec<String>,
    pub key_ids: Vec<String>,
    pub current: Option<StepId>,
    #[ts(type = "number")]
    pub resolved_steps: u32,
}

const MAX_NOTE: usize = 4000;

fn check_note(note: Option<&str>) -> Result<Option<String>> {
    crate::field::check_note(note, MAX_NOTE).map_err(|f| Error::Invalid(vec![f]))
}

/// The incident's severity from its keys' riskiest permission: a key that
/// can move funds is critical; trading (or a scope Keyward cannot judge)
/// high; read-only medium.
pub fn severity_of(entries: &[Entry]) -> Severity {
    let worst = entries
        .iter()
        .flat_map(|e| e.permissions.iter().map(|p| p.risk()))
        .map(|r| match r {
            Risk::Unknown => Risk::High,
            r => r,
        })
        .max();
    match worst {
        Some(Risk::Critical) => Severity::Critical,
        Some(Risk::High | Risk::Unknown) => Severity::High,
        Some(Risk::Low) | None => Severity::Medium,
    }
}

// --- reading ----------------------------------------------------------------

pub fn resolve_id(vault: &Vault, given: &str) -> Result<String> {
    Ok(vault::resolve(vault, &vault::INCIDENT, given)?)
}

type HeaderRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn parse_severity(s: &str) -> Option<Severity> {
    [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)
}

/// One incident, whole.
pub fn get(vault: &Vault, id: &str) -> Result<Incident> {
    let id = resolve_id(vault, id)?;
    let row: HeaderRow = vault.conn().query_row(
        "SELECT id, opened_at, suspected_at, severity, source, closed_at, activity, root_cause,
                audit_head
         FROM incidents WHERE id = ?1",
        [&id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        },
    )?;
    let (_, opened, suspected, severity, source, closed, activity, cause, head) = row;
    let bad = |what| vault::Error::Unreadable {
        table: "incident",
        id: id.clone(),
        what,
    };
    let time = |s: &str| timefmt::parse_stored(s).map_err(|_| bad("time"));
    let opt_time = |s: Option<String>| s.map(|s| time(&s)).transpose();

    let live: HashMap<String, Entry> = inventory::list(vault)?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let catalogue = crate::platforms::built_in();
    let mut keys = Vec::new();
    {
        let mut stmt = vault.conn().prepare_cached(
            "SELECT entry_id, snapshot FROM incident_keys WHERE incident_id = ?1 ORDER BY position",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (entry_id, snapshot) in rows {
            let key: KeySnapshot =
                serde_json::from_str(&snapshot).map_err(|_| bad("key snapshot"))?;
            let platform = crate::platforms::find_in(catalogue.iter(), &key.platform);
            let now_entry = live.get(&entry_id);
            keys.push(IncidentKey {
                exists: now_entry.is_some(),
                status_now: now_entry.map(|e| e.status.as_str().to_owned()),
                key_management: platform.and_then(|p| p.key_management.clone()),
                key_management_url: platform.and_then(|p| p.key_management_url.clone()),
                entry_id,
                key,
            });
        }
    }
    let mut steps = Vec::new();
    {
        let mut stmt = vault.conn().prepare_cached(
            "SELECT step, state, note, at FROM incident_steps WHERE incident_id = ?1",
        )?;
        let rows: Vec<(String, String, Option<String>, Option<String>)> = stmt
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        let mut by_step = HashMap::new();
        for (step, state, note, at) in rows {
            let step: StepId = step.parse().map_err(|_| bad("step"))?;
            by_step.insert(
                step,
                (
                    state
                        .parse::<StepState>()
                        .ok()
                        .ok_or_else(|| bad("step state"))?,
                    note,
                    opt_time(at)?,
                ),
            );
        }
        for &s in StepId::ALL {
            let (state, note, at) = by_step
                .remove(&s)
                .unwrap_or((StepState::Pending, None, None));
            steps.push(Step {
                id: s,
                title: s.title().into(),
                state,
                note,
                at,
            });
        }
    }
    let mut timeline = Vec::new();
    {
        let mut stmt = vault.conn().prepare_cached(
            "SELECT at, step, what, note FROM incident_events WHERE incident_id = ?1 ORDER BY seq",
        )?;
        let rows: Vec<(String, Option<String>, String, Option<String>)> = stmt
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (at, step, what, note) in rows {
            timeline.push(Event {
                at: time(&at)?,
                step: step
                    .map(|s| s.parse().map_err(|_| bad("timeline step")))
                    .transpose()?,
                what,
                note,
            });
        }
    }
    let opened_at = time(&opened)?;
    let in_incident: Vec<&str> = keys.iter().map(|k| k.entry_id.as_str()).collect();
    // Keys added since (the replacement) were never exposed with it.
    let mut related: Vec<RelatedKey> = live
        .values()
        .filter(|e| e.status.is_live() && !in_incident.contains(&e.id.as_str()))
        .filter(|e| e.created_at <= opened_at)
        .filter(|e| {
            keys.iter().any(|k| {
                k.key.platform.eq_ignore_ascii_case(&e.platform)
                    && k.key.account.as_deref().map(str::to_lowercase)
                        == e.account.as_deref().map(str::to_lowercase)
            })
        })
        .map(|e| RelatedKey {
            entry_id: e.id.clone(),
            platform: e.platform.clone(),
            account: e.account.clone(),
            label: e.label.clone(),
            status: e.status.as_str().into(),
        })
        .collect();
    related.sort_by(|a, b| (&a.platform, &a.label).cmp(&(&b.platform, &b.label)));
    let closed_at = opt_time(closed)?;
    let current = if closed_at.is_some() {
        None
    } else {
        steps.iter().find(|s| !s.state.resolved()).map(|s| s.id)
    };
    Ok(Incident {
        opened_at,
        suspected_at: opt_time(suspected)?,
        severity: parse_severity(&severity).ok_or_else(|| bad("severity"))?,
        source,
        closed_at,
        activity: activity
            .map(|a| a.parse().map_err(|_| bad("activity")))
            .transpose()?,
        root_cause: cause
            .map(|c| c.parse().map_err(|_| bad("root cause")))
            .transpose()?,
        audit_head: head,
        keys,
        steps,
        current,
        timeline,
        related,
        id,
    })
}

/// Every incident, open ones first, newest first.
pub fn list(vault: &Vault) -> Result<Vec<IncidentSummary>> {
    let ids: Vec<String> = vault
        .conn()
        .prepare("SELECT id FROM incidents ORDER BY closed_at IS NOT NULL, opened_at DESC, id")?
        .query_map([], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    ids.iter()
        .map(|id| {
            let i = get(vault, id)?;
            Ok(IncidentSummary {
                keys: i
                    .keys
                    .iter()
                    .map(|k| format!("{} · {}", k.key.platform, k.key.label))
                    .collect(),
                key_ids: i.keys.iter().map(|k| k.entry_id.clone()).collect(),
                resolved_steps: u32::try_from(
                    i.steps.iter().filter(|s| s.state.resolved()).count(),
                )
                .unwrap_or(0),
                id: i.id,
                opened_at: i.opened_at,
                closed_at: i.closed_at,
                severity: i.severity,
                current: i.current,
            })
        })
        .collect()
}

// --- changing ---------------------------------------------------------------

fn event(
    tx: &Transaction<'_>,
    id: &str,
    at: OffsetDateTime,
    step: Option<StepId>,
    what: &str,
    note: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO incident_events (incident_id, seq, at, step, what, note)
         VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM incident_events WHERE incident_id = ?1),
                 ?2, ?3, ?4, ?5)",
        params![
            id,
            timefmt::format(at),
            step.map(StepId::as_str),
            what,
            note
        ],
    )?;
    Ok(())
}

/// What opening an incident needs besides its keys.
#[derive(Clone, Debug, Default)]
pub struct Opening {
    /// When the exposure may have started.
    pub suspected_at: Option<OffsetDateTime>,
    /// `manual` (default) or `leak_scan`.
    pub source: Option<String>,
    pub note: Option<String>,
}

/// Opens an incident for `keys` (ids or unique prefixes): they become
/// `compromised` (a rotation in progress is abandoned: its new key may be
/// exposed too). A key already in an open incident is refused.
pub fn open(
    vault: &mut Vault,
    keys: &[String],
    opening: &Opening,
    now: OffsetDateTime,
) -> Result<Incident> {
    if keys.is_empty() {
        return Err(invalid("keys", "name at least one key"));
    }
    let note = check_note(opening.note.as_deref())?;
    if let Some(at) = opening.suspected_at {
        if at > now {
            return Err(invalid("suspected_at", "must not be in the future"));
        }
    }
    let source = opening.source.as_deref().unwrap_or("manual");
    if !matches!(source, "manual" | "leak_scan") {
        return Err(invalid("source", "must be manual or leak_scan"));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for k in keys {
        let e = inventory::get(vault, k)?;
        if !entries.iter().any(|x| x.id == e.id) {
            entries.push(e);
        }
    }
    let open_now = crate::hold::incidents(vault)?;
    for e in &entries {
        if let Some((other, _)) = open_now.get(&e.id) {
            return Err(Error::Order(format!(
                "'{}' is already in open incident {}",
                e.label,
                other.get(..8).unwrap_or(other)
            )));
        }
        if matches!(e.status, Status::Retired) {
            return Err(invalid(
                "keys",
                format!("'{}' is retired: nothing can use it", e.label),
            ));
        }
    }
    let findings: HashMap<String, Vec<crate::findings::Finding>> = {
        let mut m: HashMap<String, Vec<_>> = HashMap::new();
        for f in crate::findings::of_vault(vault, now)? {
            m.entry(f.key_id.clone()).or_default().push(f);
        }
        m
    };
    let severity = severity_of(&entries);
    let id = uuid::Uuid::new_v4().to_string();
    let origin = vault.origin();
    let at = timefmt::format(now);
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO incidents (id, opened_at, suspected_at, severity, source)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            id,
            at,
            opening.suspected_at.map(timefmt::format),
            severity.as_str(),
            source
        ],
    )?;
    for (position, e) in entries.iter().enumerate() {
        let snapshot = KeySnapshot::of(e, findings.get(&e.id).cloned().unwrap_or_default());
        tx.execute(
            "INSERT INTO incident_keys (incident_id, entry_id, position, snapshot, previous_status)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                e.id,
                position as i64,
                serde_json::to_string(&snapshot)
                    .map_err(|_| vault::Error::Crypto("incident encoding"))?,
                e.status.as_str()
            ],
        )?;
        // A revoked key stays revoked; a live one is now compromised (a
        // rotation in progress is abandoned with it).
        if e.status.is_live() {
            lifecycle::transition(
                &tx,
                origin,
                &e.id,
                Status::Compromised,
                Cause::Incident(&id),
                now,
            )?;
        }
    }
    event(&tx, &id, now, None, "opened", note.as_deref())?;
    audit::append(
        &tx,
        now,
        origin,
        Action::IncidentOpen,
        None,
        &serde_json::json!({
            "incident": id,
            "keys": entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            "severity": severity.as_str(),
            "source": source,
            "suspected_at": opening.suspected_at.map(timefmt::format),
        }),
    )?;
    tx.commit()?;
    get(vault, &id)
}

/// What marking a step records besides its state and note.
#[derive(Clone, Debug, Default)]
pub struct StepInput {
    /// Review activity: whether unauthorised activity was found.
    pub activity: Option<Activity>,
    /// Root cause: where it leaked.
    pub root_cause: Option<RootCause>,
}

/// Marks a step done, skipped (a note says why) or not applicable. Steps
/// go in order: every step before must be resolved, and a resolved step
/// stays as it is. Done on "contain" revokes the keys; "close" closes the
/// incident and records the audit log's head.
pub fn mark(
    vault: &mut Vault,
    id: &str,
    step: StepId,
    state: StepState,
    note: Option<&str>,
    input: &StepInput,
    now: OffsetDateTime,
) -> Result<Incident> {
    let incident = get(vault, id)?;
    if incident.closed_at.is_some() {
        return Err(Error::Closed);
    }
    let note = check_note(note)?;
    if state == StepState::Pending {
        return Err(invalid("state", "must be done, skipped or not_applicable"));
    }
    if let Some(first) = incident.steps[..step.index()]
        .iter()
        .find(|s| !s.state.resolved())
    {
        return Err(Error::Order(format!(
            "finish '{}' first: the steps go in order",
            first.id.as_str()
        )));
    }
    let current = &incident.steps[step.index()];
    if current.state.resolved() {
        return Err(Error::Order(format!(
            "'{}' is already {}",
            step.as_str(),
            current.state.as_str()
        )));
    }
    if state == StepState::Skipped && note.is_none() {
        return Err(invalid("note", "say why the step is skipped"));
    }
    match (step, state) {
        (StepId::Close, StepState::Skipped | StepState::NotApplicable) => {
            return Err(invalid(
                "state",
                "an incident is closed by marking 'close' done",
            ));
        }
        (StepId::ReviewActivity, StepState::Done) if input.activity.is_none() => {
            return Err(invalid(
                "activity",
                "say whether unauthorised activity was found: yes, no or unknown",
            ));
        }
        (StepId::RootCause, StepState::Done) if input.root_cause.is_none() => {
            return Err(invalid("root_cause", "say where it leaked (or unknown)"));
        }
        _ => {}
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO incident_steps (incident_id, step, state, note, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(incident_id, step) DO UPDATE SET state = excluded.state, note = excluded.note, at = excluded.at",
        params![incident.id, step.as_str(), state.as_str(), note, timefmt::format(now)],
    )?;
    event(
        &tx,
        &incident.id,
        now,
        Some(step),
        state.as_str(),
        note.as_deref(),
    )?;
    let mut detail = serde_json::json!({
        "incident": incident.id,
        "step": step.as_str(),
        "state": state.as_str(),
        "note": note.is_some(),
    });
    if step == StepId::Contain && state == StepState::Done {
        for k in &incident.keys {
            if let Some(status) = k.status_now.as_deref() {
                if matches!(status, "revoked" | "retired") {
                    continue;
                }
                lifecycle::transition(
                    &tx,
                    origin,
                    &k.entry_id,
                    Status::Revoked,
                    Cause::Incident(&incident.id),
                    now,
                )?;
            }
        }
    }
    if step == StepId::ReviewActivity && state == StepState::Done {
        let a = input.activity.map(Activity::as_str);
        tx.execute(
            "UPDATE incidents SET activity = ?2 WHERE id = ?1",
            params![incident.id, a],
        )?;
        detail["activity"] = serde_json::json!(a);
    }
    if step == StepId::RootCause && state == StepState::Done {
        let c = input.root_cause.map(RootCause::as_str);
        tx.execute(
            "UPDATE incidents SET root_cause = ?2 WHERE id = ?1",
            params![incident.id, c],
        )?;
        detail["root_cause"] = serde_json::json!(c);
    }
    audit::append(&tx, now, origin, Action::IncidentStep, None, &detail)?;
    if step == StepId::Close {
        audit::append(
            &tx,
            now,
            origin,
            Action::IncidentClose,
            None,
            &serde_json::json!({ "incident": incident.id }),
        )?;
        let head: String =
            tx.query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
                r.get(0)
            })?;
        tx.execute(
            "UPDATE incidents SET closed_at = ?2, audit_head = ?3 WHERE id = ?1",
            params![incident.id, timefmt::format(now), head],
        )?;
    }
    tx.commit()?;
    get(vault, &incident.id)
}

/// An incident's report, recorded in the audit log (`incident.export`),
/// the head printed in it including that row: its suggested file name and
/// bytes. The app and the CLI export through this.
pub fn export(
    vault: &mut Vault,
    id: &str,
    format: report::Format,
    now: OffsetDateTime,
) -> Result<(String, Vec<u8>)> {
    let i = get(vault, id)?;
    audit::record(
        vault,
        now,
        Action::IncidentExport,
        None,
        &serde_json::json!({ "incident": i.id, "format": format.extension() }),
    )?;
    let head = audit_head(vault)?;
    Ok((
        report::file_name(&i, format),
        report::render(&i, format, head.as_deref()),
    ))
}

/// The incident's summary for support, recorded in the audit log
/// (`incident.export`, format `summary`).
pub fn export_summary(vault: &mut Vault, id: &str, now: OffsetDateTime) -> Result<String> {
    let i = get(vault, id)?;
    audit::record(
        vault,
        now,
        Action::IncidentExport,
        None,
        &serde_json::json!({ "incident": i.id, "format": "summary" }),
    )?;
    Ok(summary(&i))
}

/// The audit log's head now (`seq:sha256`), for a report of an open incident.
pub fn audit_head(vault: &Vault) -> Result<Option<String>> {
    Ok(vault
        .conn()
        .query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// A summary to hand to a security team or a platform's support: the keys
/// by platform, label, account and key-id hint, the times and the steps
/// taken — never a secret — with the warning to keep it that way.
pub fn summary(i: &Incident) -> String {
    let mut out = String::new();
    let day = |t: OffsetDateTime| crate::render::when(t);
    out.push_str("Suspected exposure of API key(s):\n");
    for k in &i.keys {
        let s = &k.key;
        out.push_str(&format!(
            "- {} · {}{}{} — permissions: {}; IP allowlist: {}\n",
            s.platform,
            s.label,
            s.account
                .as_deref()
                .map(|a| format!(", account {a}"))
                .unwrap_or_default(),
            s.key_id_hint
                .as_deref()
                .map(|h| format!(", key id ending {h}"))
                .unwrap_or_default(),
            if s.permissions.is_empty() {
                "none recorded".into()
            } else {
                s.permissions.join(", ")
            },
            if s.ip_allowlist.is_empty() {
                "none".into()
            } else {
                s.ip_allowlist.join(", ")
            },
        ));
    }
    if let Some(at) = i.suspected_at {
        out.push_str(&format!("Exposure suspected from: {}\n", day(at)));
    }
    out.push_str(&format!("Incident opened: {}\n", day(i.opened_at)));
    for s in &i.steps {
        if s.id == StepId::Close || !s.state.resolved() {
            continue;
        }
        out.push_str(&format!(
            "{}: {}{}\n",
            s.title,
            s.state.as_str().replace('_', " "),
            s.at.map(|t| format!(" at {}", day(t))).unwrap_or_default()
        ));
    }
    if let Some(a) = i.activity {
        out.push_str(&format!("Unauthorised activity found: {}\n", a.as_str()));
    }
    if let Some(c) = i.root_cause {
        out.push_str(&format!("Root cause: {}\n", c.describe()));
    }
    out.push_str(
        "This summary contains no API key, secret, password or seed phrase. \
         Never add one to a support request.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_causes_parse_and_refuse_the_unknown() {
        assert_eq!(
            "review-activity".parse::<StepId>(),
            Ok(StepId::ReviewActivity)
        );
        assert!("panic"
            .parse::<StepId>()
            .unwrap_err()
            .contains("contain, replace"));
        assert_eq!(
            "chat_or_email".parse::<RootCause>(),
            Ok(RootCause::ChatOrEmail)
        );
        assert!("aliens".parse::<RootCause>().is_err());
        assert_eq!("UNKNOWN".parse::<Activity>(), Ok(Activity::Unknown));
    }
}
