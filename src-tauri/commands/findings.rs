//! Findings: what is risky about each key, computed from metadata.

use keyward_core::findings::{self, Finding};
use tauri::State;

use super::now;
use crate::error::IpcResult;
use crate::state::AppState;

/// Every finding, worst first, then soonest.
#[tauri::command]
pub fn list_findings(state: State<'_, AppState>) -> IpcResult<Vec<Finding>> {
    state.with_unlocked(|u| Ok(findings::of_vault(&u.vault, now())?))
}
