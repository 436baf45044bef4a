//! Findings: what is risky about each key, from its metadata alone (never
//! a decrypted secret) — a "Watchtower" for API keys. Each finding names its
//! rule, how bad it is, the key, a one-line why and the fix.
//!
//! Rules are a table ([`RULES`]) of plain functions over an entry and the
//! facts around it ([`Facts`]: the due policy with its venue deadlines, the
//! groups of entries sharing a secret, follow-ups, incidents, leak copies,
//! the time), so each is tested with tables of keys that do and do not
//! trigger it. A new rule is one function and one row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use crate::copies::{self, Copy};
use crate::due::{KeyFacts, Policy};
use crate::followup::{self, FollowUp, FollowUpKind};
use crate::hold::{self, IncidentHold};
use crate::inventory::{self, Entry, Environment, Permission, SecretRef};
use crate::key::DueReason;
use crate::settings::{self, Settings};
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::Vault;

/// How bad a finding is, least first (so `max` is the worst).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    TS,
    IntoStaticStr,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

crate::field::keywords!(Severity);

/// One thing wrong with one key. (Deserialize: access reviews keep the
/// findings a reviewer saw.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Finding {
    /// Stable id, e.g. `permission.withdraw`, `venue.binance.no-ip-trading`.
    pub rule: String,
    pub severity: Severity,
    pub key_id: String,
    pub label: String,
    pub platform: String,
    /// Why, in one line.
    pub message: String,
    /// What to do about it, in one line.
    pub fix: String,
    /// When it bites, if it has a date (sorting; not part of the CLI's JSON).
    #[serde(skip)]
    #[ts(skip)]
    pub when: Option<OffsetDateTime>,
}

/// Keys unused this long are flagged.
pub const STALE_DAYS: i64 = 90;
/// Expiry this close is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// What the rules look at besides the entry itself.
pub struct Context<'a> {
    pub policy: &'a Policy,
    /// Entry id → the other entries holding one of its secret values, by field.
    pub shared: HashMap<&'a str, Vec<(&'a str, &'a Entry)>>,
    /// What is open about the keys: follow-ups, incidents, leak copies.
    pub open: &'a Open,
    pub now: OffsetDateTime,
}

/// What is still open about each key, by entry id, besides its metadata.
#[derive(Debug, Default)]
pub struct Open {
    /// What finished access reviews asked for and is not yet done.
    pub followups: HashMap<String, Vec<FollowUp>>,
    /// The open exposure incident holding the key (id, opened at).
    pub incidents: HashMap<String, IncidentHold>,
    /// Copies of its secrets the leak scan found, not resolved.
    pub copies: HashMap<String, Vec<Copy>>,
}

impl<'a> Context<'a> {
    /// Indexes the groups of entries sharing a secret (from the keyed
    /// fingerprints; nothing decrypted).
    pub fn new(
        entries: &'a [Entry],
        groups: &'a [Vec<SecretRef>],
        policy: &'a Policy,
        open: &'a Open,
        now: OffsetDateTime,
    ) -> Self {
        let by_id: HashMap<&str, &Entry> = entries.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut shared: HashMap<&str, Vec<(&str, &Entry)>> = HashMap::new();
        for group in groups {
            for a in group {
                for b in group {
                    if a.entry_id == b.entry_id {
                        continue;
                    }
                    if let Some(other) = by_id.get(b.entry_id.as_str()) {
                        shared
                            .entry(a.entry_id.as_str())
                            .or_default()
                            .push((a.field.as_str(), other));
                    }
                }
            }
        }
        Context {
            policy,
            shared,
            open,
            now,
        }
    }
}

/// Everything the rules look at, read from the vault in one place: the
/// keys, the groups sharing a secret, the due policy, open follow-ups,
/// incidents holding keys and kept leak copies. The Findings tab, one
/// key's findings and the tray all read through this.
pub struct Facts {
    pub entries: Vec<Entry>,
    pub groups: Vec<Vec<SecretRef>>,
    pub policy: Policy,
    pub open: Open,
    /// Only the first entry is judged (the others share a secret with it).
    first_only: bool,
}

impl Facts {
    /// The whole vault.
    pub fn load(vault: &Vault) -> inventory::Result<Facts> {
        let settings = settings::load(vault)?;
        Facts::load_with(vault, inventory::list(vault)?, &settings)
    }

    /// The whole vault, with its entries already listed and its settings
    /// already read (the tray's reminder round has both at hand).
    pub fn load_with(
        vault: &Vault,
        entries: Vec<Entry>,
        settings: &Settings,
    ) -> inventory::Result<Facts> {
        Ok(Facts {
            entries,
            groups: inventory::shared_secrets(vault)?,
            policy: Policy::new(settings),
            open: Open {
                followups: followup::open_by_key(vault)?,
                incidents: hold::incidents(vault)?,
                copies: copies::open_by_key(vault)?,
            },
            first_only: false,
        })
    }

    /// One key and the keys sharing a secret with it (a review decision
    /// needs no pass over the whole vault).
    pub fn for_key(vault: &Vault, id: &str) -> inventory::Result<Facts> {
        let entry = inventory::get(vault, id)?;
        let groups = inventory::secrets_shared_with(vault, &entry.id)?;
        let id = entry.id.clone();
        let mut entries = vec![entry];
        for g in &groups {
            for r in g {
                if !entries.iter().any(|e| e.id == r.entry_id) {
                    entries.push(inventory::get(vault, &r.entry_id)?);
                }
            }
        }
        Ok(Facts {
            entries,
            groups,
            policy: Policy::new(&settings::load(vault)?),
            open: Open {
                followups: only(followup::open_by_key(vault)?, &id),
                incidents: only(hold::incidents(vault)?, &id),
                copies: only(copies::open_by_key(vault)?, &id),
            },
            first_only: true,
        })
    }

    /// The findings at `now`, worst first.
    pub fn findings(&self, now: OffsetDateTime) -> Vec<Finding> {
        let cx = Context::new(&self.entries, &self.groups, &self.policy, &self.open, now);
        let judged = if self.first_only {
            &self.entries[..self.entries.len().min(1)]
        } else {
            &self.entries[..]
        };
        evaluate(judged, &cx)
    }
}

/// What a map by key id holds for one key.
fn only<V>(by_key: HashMap<String, V>, id: &str) -> HashMap<String, V> {
    by_key.into_iter().filter(|(k, _)| k == id).collect()
}

/// The vault's findings now.
pub fn of_vault(vault: &Vault, now: OffsetDateTime) -> inventory::Result<Vec<Finding>> {
    Ok(Facts::load(vault)?.findings(now))
}

/// One key's findings now.
pub fn of_entry(vault: &Vault, id: &str, now: OffsetDateTime) -> inventory::Result<Vec<Finding>> {
    Ok(Facts::for_key(vault, id)?.findings(now))
}

/// One rule: the id of the findings it makes (a family for `venue.*`) and
/// its check. Each check adds zero or more findings for one key; the
/// severity travels with each finding (some rules judge it from the key).
pub struct Rule {
    pub id: &'static str,
    /// Whether the rule also looks at keys that no longer work.
    pub dead_keys_too: bool,
    check: fn(&Entry, &Context<'_>, &mut Sink<'_>),
}

/// Every rule, in the order they are reported on ties.
pub const RULES: &[Rule] = &[
    Rule {
        id: "incident.open",
        dead_keys_too: true,
        check: incident_open,
    },
    Rule {
        id: "permission.moves-funds",
        dead_keys_too: false,
        check: moves_funds,
    },
    Rule {
        id: "permission.trade-no-ip",
        dead_keys_too: false,
        check: trade_no_ip,
    },
    Rule {
        id: "venue.*",
        dead_keys_too: false,
        check: venue_deadlines,
    },
    Rule {
        id: "rotation.overdue",
        dead_keys_too: false,
        check: rotation_overdue,
    },
    Rule {
        id: "rotation.expir*",
        dead_keys_too: false,
        check: expiry,
    },
    Rule {
        id: "rotation.no-period",
        dead_keys_too: false,
        check: no_period,
    },
    Rule {
        id: "usage.*",
        dead_keys_too: false,
        check: usage,
    },
    Rule {
        id: "secret.reused",
        dead_keys_too: false,
        check: reused,
    },
    Rule {
        id: "leak.copy",
        dead_keys_too: false,
        check: leak_copy,
    },
    Rule {
        id: "review.*",
        dead_keys_too: false,
        check: review_followups,
    },
    Rule {
        id: "hygiene.no-owner",
        dead_keys_too: false,
        check: no_owner,
    },
    Rule {
        id: "hygiene.no-purpose",
        dead_keys_too: false,
        check: no_purpose,
    },
    Rule {
        id: "hygiene.prod-looks-test",
        dead_keys_too: false,
        check: prod_looks_test,
    },
];

/// Where a rule's findings for one key go.
pub(crate) struct Sink<'a> {
    entry: &'a Entry,
    out: &'a mut Vec<Finding>,
}

impl Sink<'_> {
    fn add(
        &mut self,
        rule: &str,
        severity: Severity,
        message: String,
        fix: &str,
        when: Option<OffsetDateTime>,
    ) {
        self.out.push(Finding {
            rule: rule.to_owned(),
            severity,
            key_id: self.entry.id.clone(),
            label: self.entry.label.clone(),
            platform: self.entry.platform.clone(),
            message,
            fix: fix.to_owned(),
            when,
        });
    }
}

/// Every finding for these keys, worst first, then soonest, then by label.
pub fn evaluate(entries: &[Entry], cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in entries {
        let live = e.status.is_live();
        let mut sink = Sink {
            entry: e,
            out: &mut out,
        };
        for rule in RULES.iter().filter(|r| live || r.dead_keys_too) {
            (rule.check)(e, cx, &mut sink);
        }
    }
    // Keys computed once per finding, not once per comparison.
    out.sort_by_cached_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            f.when.is_none(),
            f.when,
            f.label.to_lowercase(),
            f.rule.clone(),
        )
    });
    out
}

/// A key in an open exposure incident: the worst there is, until it closes
/// (revoked by the incident's contain step, it still counts).
fn incident_open(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    let Some((id, opened)) = cx.open.incidents.get(&e.id) else {
        return;
    };
    out.add(
        "incident.open",
        Severity::Critical,
        format!(
            "suspected exposure: incident {} open since {}",
            id.get(..8).unwrap_or(id),
            &timefmt::format(*opened)[..10]
        ),
        "work through the incident's steps: contain, replace, review, secure, find copies, root cause, notify",
        Some(*opened),
    );
}

/// The scopes that can move money off the account, by name.
fn moving_scopes(e: &Entry) -> Vec<&'static str> {
    [
        Permission::Withdraw,
        Permission::Transfer,
        Permission::Account,
    ]
    .iter()
    .filter(|p| e.permissions.contains(p))
    .map(|p| match p {
        Permission::Withdraw => "withdraw",
        Permission::Transfer => "transfer",
        _ => "account",
    })
    .collect()
}

fn moves_funds(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    let moving = moving_scopes(e);
    if moving.is_empty() {
        return;
    }
    let what = moving.join(", ");
    if e.is_ip_restricted() {
        out.add(
            "permission.moves-funds",
            Severity::High,
            format!(
                "can {what}; limited to {} allowed address(es)",
                e.ip_allowlist.len()
            ),
            "keep funds-moving scopes only on keys that need them, with the tightest allowlist",
            None,
        );
    } else {
        out.add(
            "permission.moves-funds",
            Severity::Critical,
            format!("can {what} from any IP address"),
            "add an IP allowlist, or remove the scope if the integration does not move funds",
            None,
        );
    }
}

/// Trading from anywhere.
fn trade_no_ip(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    let trading: Vec<&str> = [Permission::Trade, Permission::Margin, Permission::Futures]
        .iter()
        .filter(|p| e.permissions.contains(p))
        .map(Permission::name)
        .collect();
    if !trading.is_empty() && !e.is_ip_restricted() {
        out.add(
            "permission.trade-no-ip",
            Severity::High,
            format!("can {} from any IP address", trading.join(", ")),
            "restrict the key to the trading server's addresses",
            None,
        );
    }
}

/// Sourced venue rules (the platforms catalogue's deadlines).
fn venue_deadlines(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    for (d, at) in cx.policy.venue_deadlines(&KeyFacts::of_entry(e)) {
        let when = if at <= cx.now {
            format!("since {}", &timefmt::format(at)[..10])
        } else {
            format!("on {}", &timefmt::format(at)[..10])
        };
        out.add(
            &format!("venue.{}", d.id),
            Severity::High,
            format!("{} — {when}", d.text),
            "add an IP allowlist on the platform, or rotate before the date",
            Some(at),
        );
    }
}

fn rotation_overdue(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    // An expired key is reported as expired, not also as overdue.
    if e.due_reason == Some(DueReason::Expiry) {
        return;
    }
    if let Some(due) = e.next_due_at.filter(|d| *d <= cx.now) {
        let days = (cx.now - due).whole_days();
        out.add(
            "rotation.overdue",
            Severity::High,
            if days == 0 {
                "rotation is due today".into()
            } else {
                format!("rotation overdue by {days} day(s)")
            },
            "rotate it: new key first, then revoke the old one",
            Some(due),
        );
    }
}

/// Expired, or expiring within [`EXPIRY_WARNING_DAYS`].
fn expiry(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    let Some(exp) = e.expires_at else {
        return;
    };
    if exp <= cx.now {
        out.add(
            "rotation.expired",
            Severity::High,
            format!("expired on {}", &timefmt::format(exp)[..10]),
            "replace it, or mark it retired if nothing uses it",
            Some(exp),
        );
    } else if exp - cx.now <= Duration::days(EXPIRY_WARNING_DAYS) {
        out.add(
            "rotation.expiring",
            Severity::Medium,
            format!("expires on {}", &timefmt::format(exp)[..10]),
            "create its replacement before it stops working",
            Some(exp),
        );
    }
}

fn no_period(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    if e.rotation_days.is_none() {
        out.add(
            "rotation.no-period",
            Severity::Low,
            "no rotation period of its own (the default for its permissions applies)".into(),
            "set a rotation period that matches your policy",
            None,
        );
    }
}

/// Unused for [`STALE_DAYS`], or never marked used.
fn usage(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    match e.last_used_at {
        Some(used) if cx.now - used >= Duration::days(STALE_DAYS) => out.add(
            "usage.stale",
            Severity::Medium,
            format!("not used for {} days", (cx.now - used).whole_days()),
            "revoke it if nothing needs it any more",
            None,
        ),
        Some(_) => {}
        None => out.add(
            "usage.never",
            Severity::Low,
            "never marked as used".into(),
            "record when it was last used, or revoke it if unused",
            None,
        ),
    }
}

/// The same secret in several entries: critical across environments.
fn reused(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    let Some(others) = cx.shared.get(e.id.as_str()) else {
        return;
    };
    let cross_env = others.iter().any(|(_, o)| o.environment != e.environment);
    let mut names: Vec<String> = others
        .iter()
        .map(|(field, o)| format!("{field} with '{}' ({})", o.label, o.environment.as_str()))
        .collect();
    // The same words however the groups were read.
    names.sort_unstable();
    out.add(
        "secret.reused",
        if cross_env {
            Severity::Critical
        } else {
            Severity::High
        },
        format!("shares {}", names.join("; ")),
        "give each integration its own key; rotate the shared one",
        None,
    );
}

/// A copy of a secret lying in a file (found by the leak scan): as bad as
/// what the key can do.
fn leak_copy(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    let Some(copies) = cx.open.copies.get(&e.id) else {
        return;
    };
    let Some(first) = copies.first() else {
        return;
    };
    let more = match copies.len() - 1 {
        0 => String::new(),
        1 => " and 1 more copy".to_owned(),
        n => format!(" and {n} more copies"),
    };
    out.add(
        "leak.copy",
        if moving_scopes(e).is_empty() {
            Severity::High
        } else {
            Severity::Critical
        },
        format!(
            "its {} is in {} (line {}){more}",
            first.field, first.path, first.line
        ),
        "remove the copy and rotate the key, then scan that place again (or mark it resolved in the leak scan's results)",
        Some(first.found_at),
    );
}

/// What a finished access review asked for and is not yet done ("rotate"
/// shows as due for rotation, reason: requested by the review).
fn review_followups(e: &Entry, cx: &Context<'_>, out: &mut Sink<'_>) {
    for f in cx.open.followups.get(&e.id).into_iter().flatten() {
        let day = &timefmt::format(f.created_at)[..10];
        match f.kind {
            FollowUpKind::Revoke => out.add(
                "review.revoke",
                Severity::High,
                format!("the access review of {day} decided to revoke it"),
                "revoke it on the platform, then mark it revoked here",
                Some(f.created_at),
            ),
            FollowUpKind::Reduce => out.add(
                "review.reduce",
                Severity::Medium,
                format!("the access review of {day} decided to reduce its permissions"),
                "narrow its permissions or allowlist on the platform, then edit the key here",
                Some(f.created_at),
            ),
            FollowUpKind::Rotate => {}
        }
    }
}

fn no_owner(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    if e.owner.is_none() {
        out.add(
            "hygiene.no-owner",
            Severity::Low,
            "no owner".into(),
            "name the person or team answerable for it",
            None,
        );
    }
}

fn no_purpose(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    if e.purpose.is_none() {
        out.add(
            "hygiene.no-purpose",
            Severity::Low,
            "no purpose".into(),
            "say what uses it, so a review can tell whether it is still needed",
            None,
        );
    }
}

fn prod_looks_test(e: &Entry, _: &Context<'_>, out: &mut Sink<'_>) {
    if e.environment == Environment::Production && looks_like_test(e) {
        out.add(
            "hygiene.prod-looks-test",
            Severity::Medium,
            "a production key whose purpose or tags say test or development".into(),
            "move test work to a test key; keep production keys for production",
            None,
        );
    }
}

/// Whether the purpose or a tag names test or development work (whole
/// words: "latest" or "contest" do not count).
fn looks_like_test(e: &Entry) -> bool {
    const WORDS: [&str; 7] = [
        "test",
        "testing",
        "dev",
        "development",
        "sandbox",
        "staging",
        "demo",
    ];
    let texts = e.purpose.iter().chain(e.tags.iter());
    texts.into_iter().any(|t| {
        t.split(|c: char| !c.is_alphanumeric())
            .any(|w| WORDS.iter().any(|x| w.eq_ignore_ascii_case(x)))
    })
}

/// Counts by severity, worst first: for the dashboard and the tray.
pub fn counts(findings: &[Finding]) -> [(Severity, usize); 4] {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    [
        (Severity::Critical, n(Severity::Critical)),
        (Severity::High, n(Severity::High)),
        (Severity::Medium, n(Severity::Medium)),
        (Severity::Low, n(Severity::Low)),
    ]
}

/// A key as someone saw it at a moment — a review's decision, an incident's
/// opening: metadata and findings, never a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
pub struct KeySnapshot {
    pub platform: String,
    pub account: Option<String>,
    pub label: String,
    pub environment: String,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub permissions: Vec<String>,
    pub ip_allowlist: Vec<String>,
    pub status: String,
    pub key_id_hint: Option<String>,
    pub tags: Vec<String>,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(default, with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_rotated_at: Option<OffsetDateTime>,
    #[serde(default, with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_reviewed_at: Option<OffsetDateTime>,
    #[serde(default, with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub next_due_at: Option<OffsetDateTime>,
    /// Why it is due then, in words.
    pub due_reason: Option<String>,
    pub findings: Vec<Finding>,
}

impl KeySnapshot {
    pub fn of(e: &Entry, findings: Vec<Finding>) -> Self {
        KeySnapshot {
            platform: e.platform.clone(),
            account: e.account.clone(),
            label: e.label.clone(),
            environment: e.environment.as_str().into(),
            owner: e.owner.clone(),
            purpose: e.purpose.clone(),
            permissions: e.permissions.iter().map(ToString::to_string).collect(),
            ip_allowlist: e.ip_allowlist.iter().map(ToString::to_string).collect(),
            status: e.status.as_str().into(),
            key_id_hint: e.key_id_hint.clone(),
            tags: e.tags.clone(),
            created_at: e.created_at,
            expires_at: e.expires_at,
            last_used_at: e.last_used_at,
            last_rotated_at: e.last_rotated_at,
            last_reviewed_at: e.last_reviewed_at,
            next_due_at: e.next_due_at,
            due_reason: e.due_reason.as_ref().map(|r| r.short()),
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Fields, Status};
    use crate::settings::Settings;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);

    /// A tidy key: read-only, allowlisted, owned, with a purpose, a period,
    /// recently used — no findings. Tests change one thing at a time.
    fn tidy(id: &str) -> Fields {
        let mut f = Fields::blank(NOW - Duration::days(10));
        f.platform = "Kraken".into();
        f.label = format!("key {id}");
        f.permissions = vec![Permission::Read];
        f.ip_allowlist = vec!["203.0.113.7".parse().unwrap()];
        f.owner = Some("ops".into());
        f.purpose = Some("grid bot".into());
        f.rotation_days = Some(90);
        f.last_used_at = Some(NOW - Duration::days(1));
        f
    }

    fn entry(id: &str, f: Fields) -> Entry {
        let policy = Policy::new(&Settings::default());
        Entry::from_parts(
            id.into(),
            f.clone(),
            Status::Active,
            vec![],
            NOW,
            policy.due(&f, Status::Active),
        )
    }

    #[test]
    fn each_rule_makes_only_findings_of_its_own_id() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "rule ids are unique");
        // A key that breaks nearly every rule.
        let mut f = tidy("bad");
        f.platform = "Binance".into();
        f.permissions = vec![Permission::Trade, Permission::Withdraw];
        f.ip_allowlist = vec![];
        f.owner = None;
        f.purpose = Some("test".into());
        f.rotation_days = None;
        f.last_used_at = None;
        f.created_at = NOW - Duration::days(400);
        f.expires_at = Some(NOW - Duration::days(1));
        let e = entry("bad", f);
        let policy = Policy::new(&Settings::default());
        let open = Open::default();
        let cx = Context::new(std::slice::from_ref(&e), &[], &policy, &open, NOW);
        let mut fired = 0;
        for rule in RULES {
            let mut out = Vec::new();
            (rule.check)(
                &e,
                &cx,
                &mut Sink {
                    entry: &e,
                    out: &mut out,
                },
            );
            let family = rule.id.trim_end_matches('*');
            for f in &out {
                assert!(f.rule.starts_with(family), "{} made {}", rule.id, f.rule);
            }
            fired += usize::from(!out.is_empty());
        }
        assert!(fired >= 8, "only {fired} rules fired");
    }

    fn rules_of(entries: &[Entry], groups: &[Vec<SecretRef>]) -> Vec<(String, String, Severity)> {
        let policy = Policy::new(&Settings::default());
        let open = Open::default();
        let cx = Context::new(entries, groups, &policy, &open, NOW);
        evaluate(entries, &cx)
            .into_iter()
            .map(|f| (f.key_id, f.rule, f.severity))
            .collect()
    }

    fn only(f: Fields) -> Vec<(String, Severity)> {
        rules_of(&[entry("k", f)], &[])
            .into_iter()
            .map(|(_, r, s)| (r, s))
            .collect()
    }

    #[test]
    fn a_tidy_key_has_no_findings() {
        assert_eq!(only(tidy("a")), vec![]);
    }

    #[test]
    fn each_rule_triggers_on_its_keys_and_not_on_others() {
        type Change = fn(&mut Fields);
        type Case = (&'static str, Change, &'static [(&'static str, Severity)]);
        let cases: &[Case] = &[
            (
                "withdraw, allowlisted",
                |f| f.permissions.push(Permission::Withdraw),
                &[("permission.moves-funds", Severity::High)],
            ),
            (
                "transfer, anywhere",
                |f| {
                    f.permissions.push(Permission::Transfer);
                    f.ip_allowlist.clear();
                },
                &[("permission.moves-funds", Severity::Critical)],
            ),
            (
                "account, anywhere",
                |f| {
                    f.permissions = vec![Permission::Account];
                    f.ip_allowlist.clear();
                },
                &[("permission.moves-funds", Severity::Critical)],
            ),
            (
                "deposit is not moving funds out",
                |f| f.permissions.push(Permission::Deposit),
                &[],
            ),
            (
                "trade, allowlisted",
                |f| f.permissions.push(Permission::Trade),
                &[],
            ),
            (
                "futures, anywhere",
                |f| {
                    f.permissions.push(Permission::Futures);
                    f.ip_allowlist.clear();
                },
                &[("permission.trade-no-ip", Severity::High)],
            ),
            ("read, anywhere", |f| f.ip_allowlist.clear(), &[]),
            (
                "overdue",
                |f| f.created_at = NOW - Duration::days(100),
                &[("rotation.overdue", Severity::High)],
            ),
            (
                "expires in 10 days",
                |f| f.expires_at = Some(NOW + Duration::days(10)),
                &[("rotation.expiring", Severity::Medium)],
            ),
            (
                "expires in 20 days",
                |f| f.expires_at = Some(NOW + Duration::days(20)),
                &[],
            ),
            (
                "expired",
                |f| f.expires_at = Some(NOW - Duration::days(1)),
                &[("rotation.expired", Severity::High)],
            ),
            (
                "no period",
                |f| f.rotation_days = None,
                &[("rotation.no-period", Severity::Low)],
            ),
            (
                "unused 90 days",
                |f| f.last_used_at = Some(NOW - Duration::days(90)),
                &[("usage.stale", Severity::Medium)],
            ),
            (
                "unused 89 days",
                |f| f.last_used_at = Some(NOW - Duration::days(89)),
                &[],
            ),
            (
                "never used",
                |f| f.last_used_at = None,
                &[("usage.never", Severity::Low)],
            ),
            (
                "no owner",
                |f| f.owner = None,
                &[("hygiene.no-owner", Severity::Low)],
            ),
            (
                "no purpose",
                |f| f.purpose = None,
                &[("hygiene.no-purpose", Severity::Low)],
            ),
            (
                "production, tagged test",
                |f| f.tags = vec!["Test".into()],
                &[("hygiene.prod-looks-test", Severity::Medium)],
            ),
            (
                "production, purpose dev box",
                |f| f.purpose = Some("dev box".into()),
                &[("hygiene.prod-looks-test", Severity::Medium)],
            ),
            (
                "production, 'latest' is not 'test'",
                |f| f.purpose = Some("latest prices".into()),
                &[],
            ),
            (
                "staging, tagged test",
                |f| {
                    f.environment = Environment::Staging;
                    f.tags = vec!["test".into()];
                },
                &[],
            ),
            (
                "Binance trading without allowlist",
                |f| {
                    f.platform = "Binance".into();
                    f.permissions = vec![Permission::Trade];
                    f.ip_allowlist.clear();
                },
                &[
                    ("permission.trade-no-ip", Severity::High),
                    ("venue.binance.no-ip-trading", Severity::High),
                ],
            ),
            (
                "Binance trading, allowlisted",
                |f| {
                    f.platform = "binance".into();
                    f.permissions = vec![Permission::Trade];
                },
                &[],
            ),
            (
                "Bybit read-only without IP binding",
                |f| {
                    f.platform = "Bybit".into();
                    f.ip_allowlist.clear();
                },
                &[("venue.bybit.no-ip-invalid", Severity::High)],
            ),
            (
                "KuCoin trading without IP",
                |f| {
                    f.platform = "KuCoin".into();
                    f.permissions = vec![Permission::Margin];
                    f.ip_allowlist.clear();
                },
                &[
                    ("permission.trade-no-ip", Severity::High),
                    ("venue.kucoin.no-ip-inactive-trading", Severity::High),
                ],
            ),
        ];
        for (name, change, expected) in cases {
            let mut f = tidy("x");
            change(&mut f);
            let mut got = only(f);
            got.sort();
            let mut want: Vec<(String, Severity)> =
                expected.iter().map(|(r, s)| (r.to_string(), *s)).collect();
            want.sort();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn retired_and_revoked_keys_raise_nothing() {
        let policy = Policy::new(&Settings::default());
        let mut f = tidy("r");
        f.permissions = vec![Permission::Withdraw];
        f.ip_allowlist.clear();
        f.owner = None;
        let e = Entry::from_parts(
            "r".into(),
            f.clone(),
            Status::Revoked,
            vec![],
            NOW,
            policy.due(&f, Status::Revoked),
        );
        assert!(rules_of(&[e], &[]).is_empty());
    }

    #[test]
    fn reuse_is_critical_across_environments() {
        let a = entry("a", tidy("a"));
        let mut fb = tidy("b");
        fb.environment = Environment::Staging;
        let b = entry("b", fb);
        let c = entry("c", tidy("c"));
        let r = |e: &str, field: &str| SecretRef {
            entry_id: e.into(),
            field: field.into(),
        };
        // a and c share a value (same environment); a and b share another.
        let groups = vec![
            vec![r("a", "api_secret"), r("c", "api_secret")],
            vec![r("a", "api_key"), r("b", "api_key")],
        ];
        let got = rules_of(&[a, b, c], &groups);
        let sev = |id: &str| {
            got.iter()
                .find(|(k, r, _)| k == id && r == "secret.reused")
                .map(|(_, _, s)| *s)
        };
        assert_eq!(
            sev("a"),
            Some(Severity::Critical),
            "a shares with staging b"
        );
        assert_eq!(sev("b"), Some(Severity::Critical));
        assert_eq!(
            sev("c"),
            Some(Severity::High),
            "c only shares within production"
        );
    }

    #[test]
    fn worst_first_then_soonest() {
        let mut f1 = tidy("1");
        f1.created_at = NOW - Duration::days(200); // overdue long ago: high
        let mut f2 = tidy("2");
        f2.created_at = NOW - Duration::days(95); // overdue recently: high
        let mut f3 = tidy("3");
        f3.permissions = vec![Permission::Withdraw];
        f3.ip_allowlist.clear(); // critical
        let mut f4 = tidy("4");
        f4.owner = None; // low
        let got = rules_of(
            &[
                entry("4", f4),
                entry("2", f2),
                entry("1", f1),
                entry("3", f3),
            ],
            &[],
        );
        let order: Vec<&str> = got.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(order, ["3", "1", "2", "4"]);
        let policy = Policy::new(&Settings::default());
        let entries = [entry("z", tidy("z"))];
        let open = Open::default();
        let cx = Context::new(&entries, &[], &policy, &open, NOW);
        assert_eq!(counts(&evaluate(&entries, &cx))[0], (Severity::Critical, 0));
    }
}
