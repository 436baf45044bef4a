//! The access review: a guided pass over the keys in which a reviewer
//! answers a few checks for each and decides keep / reduce / rotate /
//! revoke, ending in a report an auditor accepts ([`report`]).
//!
//! Every decision is saved as it is made, so a review can be paused and
//! resumed. Each item keeps a snapshot of what the reviewer saw when they
//! decided (the key's metadata and findings, never a secret), so a finished
//! review still reads the same after the key changes or is deleted. Finish
//! is one transaction: it refuses while any key is undecided, stamps
//! `last_reviewed_at`, turns decisions into follow-ups (rotate → due now;
//! revoke → a finding until the key is marked revoked; reduce → a finding
//! until its permissions or allowlist are narrowed) and records the audit
//! log's head, which ties the report to the log.

pub mod report;

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use crate::findings::{self, Finding, KeySnapshot};
use crate::followup::{self, FollowUp, FollowUpKind};
use crate::inventory::{self, Entry, Environment, FieldError, Filter, SearchIndex, Status};
use crate::settings::{self, Settings};
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("review: that key is not part of this review")]
    NotInReview,
    #[error("review: this review is finished and can only be read or exported")]
    Finished,
    #[error("review: {count} key(s) still undecided, the first is '{first}'")]
    Undecided { count: usize, first: String },
    #[error("review: review {0} is in progress; finish or cancel it first")]
    InProgress(String),
    #[error("follow-up: {0}")]
    FollowUp(String),
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

impl From<settings::Error> for Error {
    fn from(e: settings::Error) -> Self {
        match e {
            settings::Error::Vault(v) => Error::Vault(v),
            settings::Error::Invalid(f) => Error::Invalid(f),
            e @ settings::Error::NeedsPassphrase { field } => Error::Invalid(vec![FieldError {
                field,
                reason: e.to_string(),
            }]),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid(vec![FieldError {
        field,
        reason: reason.into(),
    }])
}

/// What the reviewer decided for a key.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS, IntoStaticStr, VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum Decision {
    /// Still needed as it is.
    Keep,
    /// Still needed, with fewer permissions or a tighter allowlist.
    Reduce,
    /// Still needed, with a new key.
    Rotate,
    /// No longer needed.
    Revoke,
}

crate::field::keywords!(Decision);

/// The questions asked of every key; `None` until answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Checks {
    pub still_needed: Option<bool>,
    pub owner_correct: Option<bool>,
    pub permissions_minimal: Option<bool>,
    pub allowlist_current: Option<bool>,
    pub used_recently: Option<bool>,
    pub rotation_ok: Option<bool>,
}

/// Each check's name (CLI, CSV column) and its question (UI, reports).
pub const CHECKS: [(&str, &str); 6] = [
    ("still_needed", "Still needed?"),
    ("owner_correct", "Owner correct?"),
    ("permissions_minimal", "Permissions minimal?"),
    ("allowlist_current", "IP allowlist current?"),
    ("used_recently", "Used recently?"),
    ("rotation_ok", "Expiry and rotation fine?"),
];

impl Checks {
    /// The answers in [`CHECKS`] order.
    pub fn answers(&self) -> [Option<bool>; 6] {
        [
            self.still_needed,
            self.owner_correct,
            self.permissions_minimal,
            self.allowlist_current,
            self.used_recently,
            self.rotation_ok,
        ]
    }

    /// Sets one answer by its name in [`CHECKS`].
    pub fn set(&mut self, name: &str, answer: Option<bool>) -> Result<(), String> {
        let slot = match name.trim().replace('-', "_").as_str() {
            "still_needed" => &mut self.still_needed,
            "owner_correct" => &mut self.owner_correct,
            "permissions_minimal" => &mut self.permissions_minimal,
            "allowlist_current" => &mut self.allowlist_current,
            "used_recently" => &mut self.used_recently,
            "rotation_ok" => &mut self.rotation_ok,
            _ => {
                return Err(format!(
                    "unknown check; one of {}",
                    CHECKS.map(|(n, _)| n).join(", ")
                ))
            }
        };
        *slot = answer;
        Ok(())
    }
}

/// One key in a review.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Item {
    #[ts(type = "number")]
    pub position: u32,
    pub entry_id: String,
    /// Live while undecided in an open review; as decided otherwise.
    pub key: KeySnapshot,
    /// The key is still in the vault.
    pub exists: bool,
    pub checks: Checks,
    pub decision: Option<Decision>,
    pub note: Option<String>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub decided_at: Option<OffsetDateTime>,
}

/// How many keys got each decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct Counts {
    pub keep: u32,
    pub reduce: u32,
    pub rotate: u32,
    pub revoke: u32,
}

impl Counts {
    fn add(&mut self, d: Decision) {
        match d {
            Decision::Keep => self.keep += 1,
            Decision::Reduce => self.reduce += 1,
            Decision::Rotate => self.rotate += 1,
            Decision::Revoke => self.revoke += 1,
        }
    }
}

/// A review's header and progress.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Review {
    pub id: String,
    pub reviewer: String,
    /// What was chosen for review, in words.
    pub scope: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub started_at: OffsetDateTime,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub finished_at: Option<OffsetDateTime>,
    /// `seq:sha256` of the audit log's newest row at finish.
    pub audit_head: Option<String>,
    #[ts(type = "number")]
    pub total: u32,
    #[ts(type = "number")]
    pub decided: u32,
    pub counts: Counts,
}

/// A review with its keys, in order.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Detail {
    pub review: Review,
    pub items: Vec<Item>,
}

/// Which keys to review: every live key, or those matching all that is set.
#[derive(Clone, Debug, Default, Deserialize, TS)]
#[serde(default)]
#[ts(rename = "ReviewScope")]
pub struct Scope {
    pub platform: Option<String>,
    pub environment: Option<String>,
    pub owner: Option<String>,
    /// Words that must each appear in the key's label, platform, account,
    /// owner, purpose, tags or notes.
    pub text: Option<String>,
}

impl Scope {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut part = |what: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                parts.push(format!("{what} {v}"));
            }
        };
        part("platform", &self.platform);
        part("environment", &self.environment);
        part("owner", &self.owner);
        part("matching", &self.text);
        if parts.is_empty() {
            "all live keys".into()
        } else {
            format!("live keys with {}", parts.join(", "))
        }
    }

    fn validate(&self) -> Result<Option<Environment>> {
        let mut errors = Vec::new();
        for (field, v) in [
            ("platform", &self.platform),
            ("owner", &self.owner),
            ("text", &self.text),
        ] {
            if let Err(reason) = crate::field::short_text(v.as_deref().unwrap_or(""), 200) {
                errors.push(FieldError { field, reason });
            }
        }
        let env = match self.environment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match s.parse::<Environment>() {
                Ok(e) => Some(e),
                Err(reason) => {
                    errors.push(FieldError {
                        field: "environment",
                        reason,
                    });
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(env)
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

const MAX_NOTE: usize = 2000;

fn check_note(note: Option<&str>) -> Result<Option<String>> {
    crate::field::check_note(note, MAX_NOTE).map_err(|f| Error::Invalid(vec![f]))
}

// --- reading ----------------------------------------------------------------

/// Finds the full id for an id or a unique prefix of at least 4 characters.
pub fn resolve_id(vault: &Vault, given: &str) -> Result<String> {
    Ok(vault::resolve(vault, &vault::REVIEW, given)?)
}

type HeaderRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn header_from(vault: &Vault, row: HeaderRow) -> Result<Review> {
    let (id, reviewer, scope, started, finished, head) = row;
    let bad = |what| vault::Error::Unreadable {
        table: "review",
        id: id.clone(),
        what,
    };
    let started_at = timefmt::parse_stored(&started).map_err(|_| bad("start time"))?;
    let finished_at = finished
        .map(|f| timefmt::parse_stored(&f).map_err(|_| bad("finish time")))
        .transpose()?;
    let mut counts = Counts::default();
    let mut total = 0;
    let mut decided = 0;
    let mut stmt = vault
        .conn()
        .prepare_cached("SELECT decision FROM review_items WHERE review_id = ?1")?;
    let mut rows = stmt.query([&id])?;
    while let Some(r) = rows.next()? {
        total += 1;
        if let Some(d) = r.get::<_, Option<String>>(0)? {
            counts.add(d.parse().map_err(|_| bad("decision"))?);
            decided += 1;
        }
    }
    Ok(Review {
        id,
        reviewer,
        scope,
        started_at,
        finished_at,
        audit_head: head,
        total,
        decided,
        counts,
    })
}

const HEADER: &str = "SELECT id, reviewer, scope, started_at, finished_at, audit_head FROM reviews";

fn header_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HeaderRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

/// Every review, newest first.
pub fn list(vault: &Vault) -> Result<Vec<Review>> {
    let rows: Vec<HeaderRow> = vault
        .conn()
        .prepare(&format!("{HEADER} ORDER BY started_at DESC, id"))?
        .query_map([], header_row)?
        .collect::<std::result::Result<_, _>>()?;
    rows.into_iter().map(|r| header_from(vault, r)).collect()
}

/// The review in progress, if any (there is at most one).
pub fn open_review(vault: &Vault) -> Result<Option<Review>> {
    let row = vault
        .conn()
        .query_row(
            &format!("{HEADER} WHERE finished_at IS NULL LIMIT 1"),
            [],
            header_row,
        )
        .optional()?;
    row.map(|r| header_from(vault, r)).transpose()
}

fn header(vault: &Vault, id: &str) -> Result<Review> {
    let id = resolve_id(vault, id)?;
    let row = vault
        .conn()
        .query_row(&format!("{HEADER} WHERE id = ?1"), [&id], header_row)?;
    header_from(vault, row)
}

/// Findings of every key, by key id: what the reviewer is shown.
fn findings_by_key(vault: &Vault, now: OffsetDateTime) -> Result<HashMap<String, Vec<Finding>>> {
    let mut out: HashMap<String, Vec<Finding>> = HashMap::new();
    for f in findings::of_vault(vault, now)? {
        out.entry(f.key_id.clone()).or_default().push(f);
    }
    Ok(out)
}

/// position, entry id, snapshot, checks, decision, note, decided at.
type ItemRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A review with its keys. Undecided keys of an open review show what the
/// key looks like now; decided ones, what the reviewer saw.
pub fn get(vault: &Vault, id: &str, now: OffsetDateTime) -> Result<Detail> {
    let review = header(vault, id)?;
    let open = review.finished_at.is_none();
    let entries: HashMap<String, Entry> = inventory::list(vault)?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let mut live_findings = if open {
        findings_by_key(vault, now)?
    } else {
        HashMap::new()
    };
    let mut stmt = vault.conn().prepare_cached(
        "SELECT position, entry_id, snapshot, checks, decision, note, decided_at
         FROM review_items WHERE review_id = ?1 ORDER BY position",
    )?;
    let rows: Vec<ItemRow> = stmt
        .query_map([&review.id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<std::result::Result<_, _>>()?;
    let bad = |what| vault::Error::Unreadable {
        table: "review",
        id: review.id.clone(),
        what,
    };
    let mut items = Vec::with_capacity(rows.len());
    for (position, entry_id, snapshot, checks, decision, note, decided_at) in rows {
        let decision: Option<Decision> = decision
            .map(|d| d.parse().map_err(|_| bad("decision")))
            .transpose()?;
        let live = entries.get(&entry_id);
        let key = match live {
            Some(e) if open && decision.is_none() => {
                KeySnapshot::of(e, live_findings.remove(&entry_id).unwrap_or_default())
            }
            _ => serde_json::from_str(&snapshot).map_err(|_| bad("key snapshot"))?,
        };
        items.push(Item {
            position: u32::try_from(position).map_err(|_| bad("position"))?,
            exists: live.is_some(),
            entry_id,
            key,
            checks: serde_json::from_str(&checks).map_err(|_| bad("checks"))?,
            decision,
            note,
            decided_at: decided_at
                .map(|t| timefmt::parse_stored(&t).map_err(|_| bad("decision time")))
                .transpose()?,
        });
    }
    Ok(Detail { review, items })
}

// --- the review's life ------------------------------------------------------

fn require_open(vault: &Vault, id: &str) -> Result<Review> {
    let review = header(vault, id)?;
    if review.finished_at.is_some() {
        return Err(Error::Finished);
    }
    Ok(review)
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|_| Error::Vault(vault::Error::Crypto("review encoding")))
}

/// Starts a review of the live keys in `scope`, by `reviewer`. Refused while
/// another review is in progress (resume or cancel it).
pub fn start(
    vault: &mut Vault,
    reviewer: &str,
    scope: &Scope,
    now: OffsetDateTime,
) -> Result<Detail> {
    let reviewer = reviewer.trim();
    if reviewer.is_empty() {
        return Err(invalid("reviewer", "is required"));
    }
    crate::field::short_text(reviewer, 100).map_err(|r| invalid("reviewer", r))?;
    let environment = scope.validate()?;
    if let Some(open) = open_review(vault)? {
        return Err(Error::InProgress(
            open.id.get(..8).unwrap_or(&open.id).into(),
        ));
    }
    let entries = inventory::list(vault)?;
    let filter = Filter {
        text: scope.text.clone().unwrap_or_default(),
        platform: scope
            .platform
            .clone()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty()),
        environment,
        ..Filter::default()
    };
    let owner = scope
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let chosen: Vec<&Entry> = SearchIndex::new(&entries)
        .filter(&entries, &filter, now)
        .into_iter()
        .filter_map(|i| entries.get(i))
        .filter(|e| e.status.is_live())
        .filter(|e| {
            owner.is_none_or(|o| {
                e.owner
                    .as_deref()
                    .is_some_and(|eo| eo.trim().eq_ignore_ascii_case(o))
            })
        })
        .collect();
    if chosen.is_empty() {
        return Err(invalid("scope", "no live key matches"));
    }
    let mut found = findings_by_key(vault, now)?;
    let id = uuid::Uuid::new_v4().to_string();
    let scope_text = scope.describe();
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO reviews (id, reviewer, scope, started_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, reviewer, scope_text, timefmt::format(now)],
    )?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO review_items (review_id, position, entry_id, snapshot, checks)
             VALUES (?1, ?2, ?3, ?4, '{}')",
        )?;
        for (i, e) in chosen.iter().enumerate() {
            let snap = KeySnapshot::of(e, found.remove(&e.id).unwrap_or_default());
            insert.execute(params![id, i as i64, e.id, to_json(&snap)?])?;
        }
    }
    audit::append(
        &tx,
        now,
        origin,
        Action::ReviewStart,
        None,
        &serde_json::json!({ "review": id, "reviewer": reviewer, "scope": scope_text, "keys": chosen.len() }),
    )?;
    tx.commit()?;
    get(vault, &id, now)
}

fn item_entry_id(vault: &Vault, review: &str, key: &str) -> Result<String> {
    // The key may have been deleted since: match the review's own ids first.
    let given = key.trim().to_ascii_lowercase();
    if given.len() >= 4 && given.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        let ids: Vec<String> = vault
            .conn()
            .prepare_cached(
                "SELECT entry_id FROM review_items
                 WHERE review_id = ?1 AND entry_id >= ?2 AND entry_id < ?3 LIMIT 2",
            )?
            .query_map(params![review, given, format!("{given}g")], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        match ids.as_slice() {
            [one] => return Ok(one.clone()),
            [] => {}
            _ => return Err(Error::Vault(vault::ENTRY.ambiguous(&given))),
        }
    }
    // Not in the review: say whether the key exists at all.
    inventory::resolve_id(vault, key)?;
    Err(Error::NotInReview)
}

/// Saves a key's check answers without deciding (a paused review keeps them).
pub fn save_checks(vault: &mut Vault, review: &str, key: &str, checks: &Checks) -> Result<()> {
    let review = require_open(vault, review)?;
    let entry_id = item_entry_id(vault, &review.id, key)?;
    let tx = vault.write()?;
    tx.execute(
        "UPDATE review_items SET checks = ?3 WHERE review_id = ?1 AND entry_id = ?2",
        params![review.id, entry_id, to_json(checks)?],
    )?;
    tx.commit()?;
    Ok(())
}

/// Records the decision for one key (a later decision replaces an earlier
/// one while the review is open), with what the reviewer saw.
pub fn decide(
    vault: &mut Vault,
    review: &str,
    key: &str,
    decision: Decision,
    note: Option<&str>,
    checks: Option<&Checks>,
    now: OffsetDateTime,
) -> Result<Item> {
    let review = require_open(vault, review)?;
    let entry_id = item_entry_id(vault, &review.id, key)?;
    let note = check_note(note)?;
    let live = match inventory::get(vault, &entry_id) {
        Ok(e) => {
            let found = findings::of_entry(vault, &e.id, now)?;
            Some(KeySnapshot::of(&e, found))
        }
        Err(inventory::Error::Vault(vault::Error::NoMatch { .. })) => None,
        Err(e) => return Err(e.into()),
    };
    let snapshot = live.as_ref().map(to_json).transpose()?;
    let origin = vault.origin();
    let tx = vault.write()?;
    let previous: Option<String> = tx.query_row(
        "SELECT decision FROM review_items WHERE review_id = ?1 AND entry_id = ?2",
        params![review.id, entry_id],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE review_items SET decision = ?3, note = ?4, decided_at = ?5,
            snapshot = coalesce(?6, snapshot), checks = coalesce(?7, checks)
         WHERE review_id = ?1 AND entry_id = ?2",
        params![
            review.id,
            entry_id,
            decision.as_str(),
            note,
            timefmt::format(now),
            snapshot,
            checks.map(to_json).transpose()?,
        ],
    )?;
    let (position, stored_snapshot, answered): (i64, String, String) = tx.query_row(
        "SELECT position, snapshot, checks FROM review_items WHERE review_id = ?1 AND entry_id = ?2",
        params![review.id, entry_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let bad = |what| vault::Error::Unreadable {
        table: "review",
        id: review.id.clone(),
        what,
    };
    let stored_checks: Checks = serde_json::from_str(&answered).map_err(|_| bad("checks"))?;
    audit::append(
        &tx,
        now,
        origin,
        Action::ReviewDecide,
        Some(&entry_id),
        &serde_json::json!({
            "review": review.id,
            "decision": decision.as_str(),
            "replaces": previous,
            "note": note.is_some(),
            "checks": stored_checks,
        }),
    )?;
    tx.commit()?;
    let key = match live {
        Some(k) => k,
        None => serde_json::from_str(&stored_snapshot).map_err(|_| bad("key snapshot"))?,
    };
    Ok(Item {
        position: u32::try_from(position).map_err(|_| bad("position"))?,
        exists: snapshot.is_some(),
        entry_id,
        key,
        checks: stored_checks,
        decision: Some(decision),
        note,
        decided_at: Some(now),
    })
}

/// Finishes a review in which every key is decided: stamps each key
/// reviewed, turns decisions into follow-ups and records the audit head.
pub fn finish(vault: &mut Vault, review: &str, now: OffsetDateTime) -> Result<Detail> {
    let review = require_open(vault, review)?;
    let detail = get(vault, &review.id, now)?;
    let undecided: Vec<&Item> = detail
        .items
        .iter()
        .filter(|i| i.decision.is_none())
        .collect();
    if let Some(first) = undecided.first() {
        return Err(Error::Undecided {
            count: undecided.len(),
            first: first.key.label.clone(),
        });
    }
    let live: HashMap<String, Status> = inventory::list(vault)?
        .into_iter()
        .map(|e| (e.id, e.status))
        .collect();
    let origin = vault.origin();
    let at = timefmt::format(now);
    let tx = vault.write()?;
    let mut followups = Counts::default();
    for item in &detail.items {
        let Some(status) = live.get(&item.entry_id) else {
            continue; // deleted since it was decided
        };
        tx.execute(
            "UPDATE entries SET last_reviewed_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![item.entry_id, at],
        )?;
        let (decision, kind) = match item.decision {
            Some(d @ Decision::Rotate) => (d, FollowUpKind::Rotate),
            Some(d @ Decision::Revoke) => (d, FollowUpKind::Revoke),
            Some(d @ Decision::Reduce) => (d, FollowUpKind::Reduce),
            Some(Decision::Keep) | None => continue,
        };
        if !status.is_live() {
            continue; // revoked or retired meanwhile: nothing left to do
        }
        if kind == FollowUpKind::Rotate {
            tx.execute(
                "UPDATE entries SET rotation_requested_at = ?2 WHERE id = ?1",
                params![item.entry_id, at],
            )?;
        }
        followup::open(&tx, &review.id, &item.entry_id, kind, &at)?;
        followups.add(decision);
    }
    audit::append(
        &tx,
        now,
        origin,
        Action::ReviewFinish,
        None,
        &serde_json::json!({
            "review": review.id,
            "keys": detail.items.len(),
            "decisions": detail.review.counts,
            "followups": followups,
        }),
    )?;
    // The head now includes the finish row itself.
    let head: String =
        tx.query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
            r.get(0)
        })?;
    tx.execute(
        "UPDATE reviews SET finished_at = ?2, audit_head = ?3 WHERE id = ?1",
        params![review.id, at, head],
    )?;
    tx.commit()?;
    get(vault, &review.id, now)
}

/// Discards a review in progress (its decisions with it).
pub fn cancel(vault: &mut Vault, review: &str, now: OffsetDateTime) -> Result<()> {
    let review = require_open(vault, review)?;
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute("DELETE FROM reviews WHERE id = ?1", [&review.id])?;
    audit::append(
        &tx,
        now,
        origin,
        Action::ReviewCancel,
        None,
        &serde_json::json!({ "review": review.id, "decided": review.decided, "keys": review.total }),
    )?;
    tx.commit()?;
    Ok(())
}

// --- follow-ups -------------------------------------------------------------

/// Settles a key's open follow-up by hand: "revoke" marks the key revoked
/// (the user confirms it is revoked on the platform); "reduce" confirms the
/// permissions were narrowed on the platform. "Rotate" settles by rotating.
pub fn resolve(vault: &mut Vault, key: &str, now: OffsetDateTime) -> Result<FollowUp> {
    let entry = inventory::get(vault, key)?;
    let open: Vec<FollowUp> = followup::list(vault, false)?
        .into_iter()
        .filter(|f| f.entry_id == entry.id)
        .collect();
    let pick = open
        .iter()
        .find(|f| f.kind == FollowUpKind::Revoke)
        .or_else(|| open.iter().find(|f| f.kind == FollowUpKind::Reduce))
        .or_else(|| open.first())
        .cloned()
        .ok_or_else(|| Error::FollowUp("this key has no open follow-up".into()))?;
    match pick.kind {
        FollowUpKind::Revoke => {
            // Settles every follow-up of the key (see `settle`).
            crate::lifecycle::set_status(vault, &entry.id, Status::Revoked, now)?;
        }
        FollowUpKind::Reduce => {
            let origin = vault.origin();
            let tx = vault.write()?;
            tx.execute(
                "UPDATE review_followups SET done_at = ?3
                 WHERE review_id = ?1 AND entry_id = ?2 AND done_at IS NULL",
                params![pick.review_id, entry.id, timefmt::format(now)],
            )?;
            audit::append(
                &tx,
                now,
                origin,
                Action::ReviewFollowUp,
                Some(&entry.id),
                &serde_json::json!({ "review": pick.review_id, "kind": "reduce", "done": true }),
            )?;
            tx.commit()?;
        }
        FollowUpKind::Rotate => {
            return Err(Error::FollowUp(
                "rotate the key to settle this follow-up (keyward rotate, or Rotate in the app)"
                    .into(),
            ))
        }
    }
    followup::list(vault, true)?
        .into_iter()
        .find(|f| f.entry_id == entry.id && f.review_id == pick.review_id)
        .ok_or_else(|| Error::FollowUp("the follow-up vanished".into()))
}

// --- when the next review is due -------------------------------------------

/// When the next review is due: the cadence after the last finished one,
/// or, before the first, after the oldest live key was added. `None` with
/// no live keys.
pub fn next_due(vault: &Vault, settings: &Settings) -> Result<Option<OffsetDateTime>> {
    let last: Option<String> = vault.conn().query_row(
        "SELECT max(finished_at) FROM reviews WHERE finished_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let cadence = Duration::days(i64::from(settings.review_cadence_days));
    if let Some(last) = last.and_then(|l| timefmt::parse_stored(&l).ok()) {
        return Ok(Some(last + cadence));
    }
    let entries = inventory::list(vault)?;
    Ok(entries
        .iter()
        .filter(|e| e.status.is_live())
        .map(|e| e.created_at)
        .min()
        .map(|first| first + cadence))
}

/// The review's state for the dashboard.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Overview {
    pub open: Option<Review>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub next_due_at: Option<OffsetDateTime>,
    #[ts(type = "number")]
    pub cadence_days: u32,
    #[ts(type = "number")]
    pub open_followups: u32,
}

/// The open review, when the next is due, and how many follow-ups are open.
pub fn overview(vault: &Vault) -> Result<Overview> {
    let settings = settings::load(vault)?;
    Ok(Overview {
        open: open_review(vault)?,
        next_due_at: next_due(vault, &settings)?,
        cadence_days: settings.review_cadence_days,
        open_followups: u32::try_from(followup::list(vault, false)?.len()).unwrap_or(u32::MAX),
    })
}

/// A review's report, recorded in the audit log (`review.export`): its
/// suggested file name and bytes. The app and the CLI export through this.
pub fn export(
    vault: &mut Vault,
    id: &str,
    format: report::Format,
    now: OffsetDateTime,
) -> Result<(String, Vec<u8>)> {
    let d = get(vault, id, now)?;
    audit::record(
        vault,
        now,
        Action::ReviewExport,
        None,
        &serde_json::json!({ "review": d.review.id, "format": format.extension() }),
    )?;
    Ok((report::file_name(&d, format), report::render(&d, format)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_set_by_name() {
        let mut c = Checks::default();
        c.set("still-needed", Some(true)).unwrap();
        c.set("rotation_ok", Some(false)).unwrap();
        assert_eq!(c.still_needed, Some(true));
        assert_eq!(c.rotation_ok, Some(false));
        assert!(c
            .set("bogus", Some(true))
            .unwrap_err()
            .contains("unknown check"));
    }

    #[test]
    fn decisions_parse_and_refuse_the_unknown() {
        assert_eq!("Rotate".parse::<Decision>(), Ok(Decision::Rotate));
        assert!("delete".parse::<Decision>().is_err());
    }

    #[test]
    fn notes_are_bounded_and_without_control_characters() {
        assert_eq!(check_note(Some("  ")).unwrap(), None);
        assert_eq!(
            check_note(Some("line one\nline two")).unwrap().as_deref(),
            Some("line one\nline two")
        );
        assert!(check_note(Some("bell\u{7}")).is_err());
        assert!(check_note(Some(&"x".repeat(MAX_NOTE + 1))).is_err());
    }
}
