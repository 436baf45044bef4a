//! Searching and filtering the inventory in memory.
//!
//! The list is read once; every keystroke then filters the entries already
//! in memory. [`SearchIndex`] keeps one lower-cased haystack per entry so a
//! query over 10,000 keys does no allocation per entry.

use time::{Duration, OffsetDateTime};

use crate::key::{Entry, Environment, Permission, Status};

/// What the user narrowed the list to. Every part that is set must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Words that must each appear in the platform, label, account, owner,
    /// purpose, tags, notes, key-id hint or id (case-insensitive).
    pub text: String,
    pub platform: Option<String>,
    pub environment: Option<Environment>,
    pub status: Option<Status>,
    pub permission: Option<Permission>,
    /// Due for rotation (or expiring) within this many days, overdue included.
    pub due_within_days: Option<u32>,
}

/// Precomputed search text for a list of entries, in the same order.
#[derive(Debug, Default)]
pub struct SearchIndex {
    haystacks: Vec<String>,
}

impl SearchIndex {
    pub fn new(entries: &[Entry]) -> Self {
        let haystacks = entries
            .iter()
            .map(|e| {
                let mut h = String::with_capacity(128);
                for part in [
                    Some(e.platform.as_str()),
                    Some(e.label.as_str()),
                    e.account.as_deref(),
                    e.owner.as_deref(),
                    e.purpose.as_deref(),
                    e.notes.as_deref(),
                    e.key_id_hint.as_deref(),
                    e.ip_note.as_deref(),
                    Some(e.id.as_str()),
                ]
                .into_iter()
                .flatten()
                {
                    h.push_str(&part.to_lowercase());
                    h.push('\u{1f}');
                }
                for t in &e.tags {
                    h.push_str(&t.to_lowercase());
                    h.push('\u{1f}');
                }
                h
            })
            .collect();
        SearchIndex { haystacks }
    }

    /// Indices of the entries that match, in list order. `entries` must be
    /// the slice the index was built from.
    pub fn filter(&self, entries: &[Entry], filter: &Filter, now: OffsetDateTime) -> Vec<usize> {
        let words: Vec<String> = filter
            .text
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let due_before = filter
            .due_within_days
            .map(|d| now + Duration::days(i64::from(d)));
        let platform = filter.platform.as_deref().map(str::to_lowercase);
        entries
            .iter()
            .zip(&self.haystacks)
            .enumerate()
            .filter(|(_, (e, hay))| {
                words.iter().all(|w| hay.contains(w.as_str()))
                    && platform
                        .as_deref()
                        .is_none_or(|p| e.platform.to_lowercase() == p)
                    && filter.environment.is_none_or(|env| e.environment == env)
                    && filter.status.is_none_or(|s| e.status == s)
                    && filter
                        .permission
                        .as_ref()
                        .is_none_or(|p| e.permissions.contains(p))
                    && due_before.is_none_or(|limit| e.next_due_at.is_some_and(|d| d <= limit))
            })
            .map(|(i, _)| i)
            .collect()
    }
}
