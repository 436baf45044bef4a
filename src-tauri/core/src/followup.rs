//! What a finished access review asked to be done to a key — rotate it,
//! revoke it, reduce its permissions — and when that was done. The review
//! writes follow-ups; what happens to a key afterwards settles them (the
//! lifecycle calls [`settle`] for status changes, the inventory for edits,
//! the rotation for a new key); the findings read the open ones.

use std::collections::HashMap;

use rusqlite::{params, Transaction};
use serde::Serialize;
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::key::Status;
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::{self, Vault};

/// Opens a follow-up for a key, in the review's finishing transaction.
pub(crate) fn open(
    tx: &Transaction<'_>,
    review_id: &str,
    entry_id: &str,
    kind: FollowUpKind,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO review_followups (review_id, entry_id, kind, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![review_id, entry_id, kind.as_str(), at],
    )?;
    Ok(())
}

/// What a finished review asked to be done to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, TS, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum FollowUpKind {
    Rotate,
    Revoke,
    Reduce,
}

crate::field::keywords!(FollowUpKind);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct FollowUp {
    pub review_id: String,
    pub entry_id: String,
    pub kind: FollowUpKind,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub done_at: Option<OffsetDateTime>,
}

/// Follow-ups, open ones only unless `all`, oldest first.
pub fn list(vault: &Vault, all: bool) -> vault::Result<Vec<FollowUp>> {
    let sql = if all {
        "SELECT review_id, entry_id, kind, created_at, done_at FROM review_followups
         ORDER BY created_at, entry_id"
    } else {
        "SELECT review_id, entry_id, kind, created_at, done_at FROM review_followups
         WHERE done_at IS NULL ORDER BY created_at, entry_id"
    };
    let rows: Vec<(String, String, String, String, Option<String>)> = vault
        .conn()
        .prepare_cached(sql)?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    rows.into_iter()
        .map(|(review_id, entry_id, kind, created, done)| {
            let bad = |what| vault::Error::Unreadable {
                table: "review",
                id: review_id.clone(),
                what,
            };
            Ok(FollowUp {
                kind: kind
                    .parse::<FollowUpKind>()
                    .ok()
                    .ok_or_else(|| bad("follow-up kind"))?,
                created_at: timefmt::parse_stored(&created).map_err(|_| bad("follow-up time"))?,
                done_at: done
                    .map(|d| timefmt::parse_stored(&d).map_err(|_| bad("follow-up time")))
                    .transpose()?,
                review_id: review_id.clone(),
                entry_id,
            })
        })
        .collect()
}

/// Open follow-ups by key, for the findings.
pub fn open_by_key(vault: &Vault) -> vault::Result<HashMap<String, Vec<FollowUp>>> {
    let list = list(vault, false)?;
    let mut out: HashMap<String, Vec<FollowUp>> = HashMap::new();
    for f in list {
        out.entry(f.entry_id.clone()).or_default().push(f);
    }
    Ok(out)
}

/// What happened to a key that may settle its follow-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Its status changed to this.
    Status(Status),
    /// Its permissions or allowlist changed.
    Narrowed,
    /// It was rotated (`narrowed`: with changed permissions or allowlist).
    Rotated { narrowed: bool },
}

/// Marks the follow-ups an event settles as done, in the caller's
/// transaction: revoked or retired settles all; an edit of permissions or
/// allowlist settles "reduce"; a rotation settles "rotate" (and "reduce" if
/// it narrowed the key).
pub(crate) fn settle(
    tx: &Transaction<'_>,
    entry_id: &str,
    what: Settled,
    now: OffsetDateTime,
) -> rusqlite::Result<()> {
    let kinds: &[&str] = match what {
        Settled::Status(Status::Revoked | Status::Retired) => &["rotate", "revoke", "reduce"],
        Settled::Status(_) => &[],
        Settled::Narrowed => &["reduce"],
        Settled::Rotated { narrowed: true } => &["rotate", "reduce"],
        Settled::Rotated { narrowed: false } => &["rotate"],
    };
    for kind in kinds {
        tx.execute(
            "UPDATE review_followups SET done_at = ?3
             WHERE entry_id = ?1 AND kind = ?2 AND done_at IS NULL",
            params![entry_id, kind, timefmt::format(now)],
        )?;
    }
    Ok(())
}
