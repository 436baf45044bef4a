//! Keeping what a leak scan found: recording a scan's copies (new, seen
//! again, gone) and resolving one by hand. What is kept is read through
//! [`crate::copies`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

use super::{Match, Report};
use crate::copies::{Copy, Encoding};
use crate::timefmt;
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

/// What recording a scan changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "LeakCopiesRecorded")]
pub struct Recorded {
    /// Copies not known before (or found again after being resolved).
    pub new: usize,
    /// Copies known and still there.
    pub still: usize,
    /// Open copies in the places searched that this scan did not find.
    pub gone: usize,
}

/// What a scan covered, to tell a copy that is gone from one not looked for.
pub struct Searched<'a> {
    /// The places searched (folders and files, as the scan was given them).
    pub roots: &'a [PathBuf],
    /// The keys searched for, by full id; `None`: every key.
    pub keys: Option<&'a [String]>,
    /// When the scan started: a copy resolved since (while it ran) stays
    /// resolved when the scan reports it.
    pub started: OffsetDateTime,
}

/// A path as the scan names a copy's file (links resolved), or as given if
/// it cannot be resolved (gone).
fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Records a scan's copies in one transaction with an audit row: new ones
/// open, known ones seen again (one resolved before the scan opens again,
/// unless it was accepted "anyway": a file meant to hold the key), and —
/// for a scan that ran to its end — open copies of the keys searched for,
/// in the places searched, that it did not find (nor skip their file or a
/// folder above it) resolved as gone. Copies of keys no longer in the vault
/// are left out.
pub fn record(
    vault: &mut Vault,
    now: OffsetDateTime,
    searched: &Searched<'_>,
    report: &Report,
) -> vault::Result<Recorded> {
    let origin = vault.origin();
    let at = timefmt::format(now);
    let tx = vault.write()?;
    let mut done = Recorded::default();
    let mut seen: HashSet<i64> = HashSet::new();
    for m in &report.matches {
        let exists: bool = tx
            .query_row("SELECT 1 FROM entries WHERE id = ?1", [&m.key_id], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        if !exists {
            continue;
        }
        let known: Option<(i64, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT id, resolved_at, resolution FROM leak_copies WHERE entry_id = ?1
                 AND path = ?2 AND line = ?3 AND col = ?4 AND field = ?5 AND encoding = ?6",
                params![
                    m.key_id,
                    m.path,
                    m.line as i64,
                    m.column as i64,
                    m.field,
                    m.encoding.as_str()
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match known {
            Some((id, resolved, how)) => {
                let stays_resolved = resolved.as_deref().is_some_and(|at| {
                    how.as_deref() == Some("anyway")
                        || timefmt::parse_stored(at).is_ok_and(|at| at >= searched.started)
                });
                if stays_resolved {
                    tx.execute(
                        "UPDATE leak_copies SET seen_at = ?2 WHERE id = ?1",
                        params![id, at],
                    )?;
                } else if resolved.is_some() {
                    done.new += 1;
                    tx.execute(
                        "UPDATE leak_copies SET resolved_at = NULL, resolution = NULL,
                         found_at = ?2, seen_at = ?2 WHERE id = ?1",
                        params![id, at],
                    )?;
                } else {
                    done.still += 1;
                    tx.execute(
                        "UPDATE leak_copies SET seen_at = ?2 WHERE id = ?1",
                        params![id, at],
                    )?;
                }
                seen.insert(id);
            }
            None => {
                done.new += 1;
                tx.execute(
                    "INSERT INTO leak_copies(entry_id, path, line, col, field, encoding, found_at, seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    params![
                        m.key_id,
                        m.path,
                        m.line as i64,
                        m.column as i64,
                        m.field,
                        m.encoding.as_str(),
                        at
                    ],
                )?;
                seen.insert(tx.last_insert_rowid());
            }
        }
    }
    // A walk error without a path leaves no way to tell what was not read.
    let blind = report.skipped.iter().any(|s| s.path.is_empty());
    if !report.cancelled && !blind {
        let roots: Vec<PathBuf> = searched.roots.iter().map(|r| real(r)).collect();
        let skipped: Vec<PathBuf> = report
            .skipped
            .iter()
            .map(|s| real(Path::new(&s.path)))
            .collect();
        let open: Vec<(i64, String, String)> = tx
            .prepare("SELECT id, entry_id, path FROM leak_copies WHERE resolved_at IS NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, key, path) in open {
            let looked_for = searched.keys.is_none_or(|keys| keys.contains(&key));
            let file = Path::new(&path);
            let in_place = roots.iter().any(|r| file.starts_with(r));
            // A file skipped, or in a folder that could not be read.
            let skipped = skipped.iter().any(|s| file.starts_with(s));
            if looked_for && in_place && !skipped && !seen.contains(&id) {
                done.gone += 1;
                tx.execute(
                    "UPDATE leak_copies SET resolved_at = ?2, resolution = 'gone' WHERE id = ?1",
                    params![id, at],
                )?;
            }
        }
    }
    if done != Recorded::default() {
        audit::append(
            &tx,
            now,
            origin,
            Action::SecretScanCopies,
            None,
            &serde_json::json!({ "new": done.new, "still": done.still, "gone": done.gone }),
        )?;
    }
    tx.commit()?;
    Ok(done)
}

/// Marks a copy found by a scan resolved by the user: `checked` when the
/// file was searched again and the copy was gone, otherwise resolved
/// anyway; one `secret.scan_resolved` row says which. Returns whether a
/// kept copy matched.
pub fn resolve(
    vault: &mut Vault,
    now: OffsetDateTime,
    m: &Match,
    checked: bool,
) -> vault::Result<bool> {
    let place = Place {
        key_id: &m.key_id,
        path: &m.path,
        line: m.line,
        column: m.column,
        field: &m.field,
        encoding: m.encoding,
    };
    settle(vault, now, &place, checked)
}

/// The same for a kept copy (from an earlier scan).
pub fn resolve_kept(
    vault: &mut Vault,
    now: OffsetDateTime,
    c: &Copy,
    checked: bool,
) -> vault::Result<bool> {
    let place = Place {
        key_id: &c.key_id,
        path: &c.path,
        line: c.line,
        column: c.column,
        field: &c.field,
        encoding: c.encoding,
    };
    settle(vault, now, &place, checked)
}

/// What names a copy.
struct Place<'a> {
    key_id: &'a str,
    path: &'a str,
    line: u64,
    column: u64,
    field: &'a str,
    encoding: Encoding,
}

fn settle(
    vault: &mut Vault,
    now: OffsetDateTime,
    m: &Place<'_>,
    checked: bool,
) -> vault::Result<bool> {
    let origin = vault.origin();
    let tx = vault.write()?;
    let exists = tx
        .query_row(
            "SELECT 1 FROM entries WHERE id = ?1",
            [m.key_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    // Not kept yet (resolved while its scan still ran): kept as resolved,
    // so the scan's end does not open it.
    let changed = if !exists {
        0
    } else {
        tx.execute(
            "INSERT INTO leak_copies(entry_id, path, line, col, field, encoding, found_at,
                 seen_at, resolved_at, resolution)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7, ?8)
             ON CONFLICT(entry_id, path, line, col, field, encoding) DO UPDATE
             SET resolved_at = excluded.resolved_at, resolution = excluded.resolution
             WHERE leak_copies.resolved_at IS NULL",
            params![
                m.key_id,
                m.path,
                m.line as i64,
                m.column as i64,
                m.field,
                m.encoding.as_str(),
                timefmt::format(now),
                if checked { "checked" } else { "anyway" }
            ],
        )?
    };
    if exists && changed == 0 {
        // Already resolved (twice clicked, or settled meanwhile).
        return Ok(false);
    }
    audit::append(
        &tx,
        now,
        origin,
        Action::SecretScanResolved,
        Some(m.key_id),
        &serde_json::json!({
            "path": m.path, "line": m.line, "field": m.field,
            "encoding": m.encoding, "checked_gone": checked,
        }),
    )?;
    tx.commit()?;
    Ok(changed > 0)
}
