//! The access review: its overview, each key's checks and decision,
//! finishing, follow-ups, and report export (into the Downloads folder:
//! the report holds no secret, and a WebDriver-driven test can find it).

use std::path::PathBuf;

use keyward_core::followup::FollowUp;

use keyward_core::review::{self, report, Checks, Decision, Detail, Item, Overview, Review, Scope};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

/// Everything the review screen shows before a review is opened.
#[derive(Debug, Serialize, TS)]
pub struct ReviewHome {
    pub overview: Overview,
    /// Past and open reviews, newest first.
    pub reviews: Vec<Review>,
    /// The logged-in user, offered as the reviewer.
    pub default_reviewer: Option<String>,
    /// What finished reviews asked for and is not yet done.
    pub followups: Vec<FollowUp>,
    /// When the next review is due, in words ("due in 12 days"), counted in
    /// calendar days in the user's time zone.
    pub next_due_words: Option<String>,
}

#[tauri::command]
pub fn review_home(state: State<'_, AppState>) -> IpcResult<ReviewHome> {
    state.with_unlocked(|u| {
        let overview = review::overview(&u.vault)?;
        let cal = keyward_core::reminder::Calendar::new(
            &u.settings,
            keyward_core::reminder::TimeZone::system(),
        );
        let next_due_words = cal.due_words([overview.next_due_at], now()).pop().flatten();
        Ok(ReviewHome {
            next_due_words,
            overview,
            reviews: review::list(&u.vault)?,
            default_reviewer: crate::platform::os_user(),
            followups: keyward_core::followup::list(&u.vault, false)?,
        })
    })
}

#[tauri::command]
pub fn start_review(
    state: State<'_, AppState>,
    reviewer: String,
    scope: Scope,
) -> IpcResult<Detail> {
    state.mutate(|u| Ok(review::start(&mut u.vault, &reviewer, &scope, now())?))
}

#[tauri::command]
pub fn get_review(state: State<'_, AppState>, id: String) -> IpcResult<Detail> {
    state.with_unlocked(|u| Ok(review::get(&u.vault, &id, now())?))
}

#[tauri::command]
pub fn save_review_checks(
    state: State<'_, AppState>,
    id: String,
    key: String,
    checks: Checks,
) -> IpcResult<()> {
    state.with_unlocked(|u| Ok(review::save_checks(&mut u.vault, &id, &key, &checks)?))
}

#[tauri::command]
pub fn decide_review(
    state: State<'_, AppState>,
    id: String,
    key: String,
    decision: Decision,
    note: Option<String>,
    checks: Option<Checks>,
) -> IpcResult<Item> {
    state.mutate(|u| {
        Ok(review::decide(
            &mut u.vault,
            &id,
            &key,
            decision,
            note.as_deref(),
            checks.as_ref(),
            now(),
        )?)
    })
}

#[tauri::command]
pub fn finish_review(state: State<'_, AppState>, id: String) -> IpcResult<Detail> {
    state.mutate(|u| Ok(review::finish(&mut u.vault, &id, now())?))
}

#[tauri::command]
pub fn cancel_review(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    state.mutate(|u| Ok(review::cancel(&mut u.vault, &id, now())?))
}

/// Settles a key's open follow-up (revoke: marks it revoked).
#[tauri::command]
pub fn resolve_followup(state: State<'_, AppState>, key: String) -> IpcResult<FollowUp> {
    state.mutate(|u| Ok(review::resolve(&mut u.vault, &key, now())?))
}

/// Where exported reports go: the user's Downloads folder.
fn export_dir() -> Option<PathBuf> {
    dirs::download_dir().or_else(|| dirs::home_dir().map(|h| h.join("Downloads")))
}

/// Writes the review's report (`md`, `csv` or `html`) to the Downloads
/// folder and returns its path.
#[tauri::command]
pub fn export_review(
    state: State<'_, AppState>,
    id: String,
    format: report::Format,
) -> IpcResult<String> {
    let (name, bytes) =
        state.with_unlocked(|u| Ok(review::export(&mut u.vault, &id, format, now())?))?;
    save_to_downloads(&name, &bytes)
}

/// Saves a report (never a secret) in the Downloads folder, owner-only.
pub(crate) fn save_to_downloads(name: &str, bytes: &[u8]) -> IpcResult<String> {
    let dir = export_dir()
        .ok_or_else(|| IpcError::new(ErrorCode::Internal, "no Downloads or home folder"))?;
    let path = dir.join(name);
    std::fs::create_dir_all(&dir)
        .and_then(|()| crate::platform::write_private(&path, bytes))
        .map_err(|e| {
            IpcError::new(
                ErrorCode::Internal,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
    Ok(path.display().to_string())
}
