//! Suspected exposure: open an incident, walk its steps, export the report
//! (to Downloads, like the review's), copy the summary for support.

use keyward_core::incident::{
    self, report, Activity, Incident, IncidentSummary, Opening, RootCause, StepId, StepInput,
    StepState,
};
use keyward_core::inventory::FieldError;
use keyward_core::timefmt;
use tauri::State;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

fn field(field: &'static str, reason: String) -> IpcError {
    IpcError::invalid(vec![FieldError { field, reason }])
}

#[tauri::command]
pub fn list_incidents(state: State<'_, AppState>) -> IpcResult<Vec<IncidentSummary>> {
    state.with_unlocked(|u| Ok(incident::list(&u.vault)?))
}

#[tauri::command]
pub fn get_incident(state: State<'_, AppState>, id: String) -> IpcResult<Incident> {
    state.with_unlocked(|u| Ok(incident::get(&u.vault, &id)?))
}

/// Opens an incident; `suspected_at` is `YYYY-MM-DD` or RFC 3339; `source`
/// is `manual` (the default) or `leak_scan` (opened from a scan's hit).
#[tauri::command]
pub fn open_incident(
    state: State<'_, AppState>,
    keys: Vec<String>,
    suspected_at: Option<String>,
    note: Option<String>,
    source: Option<String>,
) -> IpcResult<Incident> {
    let suspected_at = suspected_at
        .filter(|s| !s.trim().is_empty())
        .map(|s| timefmt::parse_user(&s).map_err(|r| field("suspected_at", r.into())))
        .transpose()?;
    let opening = Opening {
        suspected_at,
        source,
        note,
    };
    state.mutate(|u| Ok(incident::open(&mut u.vault, &keys, &opening, now())?))
}

/// Marks a step `done`, `skipped` or `not_applicable`.
#[tauri::command]
pub fn mark_incident_step(
    state: State<'_, AppState>,
    id: String,
    step: StepId,
    status: StepState,
    note: Option<String>,
    activity: Option<Activity>,
    root_cause: Option<RootCause>,
) -> IpcResult<Incident> {
    let input = StepInput {
        activity,
        root_cause,
    };
    state.mutate(|u| {
        Ok(incident::mark(
            &mut u.vault,
            &id,
            step,
            status,
            note.as_deref(),
            &input,
            now(),
        )?)
    })
}

/// Writes the report (`md` or `html`) to the Downloads folder; returns its path.
#[tauri::command]
pub fn export_incident(
    state: State<'_, AppState>,
    id: String,
    format: report::Format,
) -> IpcResult<String> {
    let (name, bytes) =
        state.with_unlocked(|u| Ok(incident::export(&mut u.vault, &id, format, now())?))?;
    super::review::save_to_downloads(&name, &bytes)
}

/// Copies the incident's summary (no secrets) to the clipboard, in Rust.
#[tauri::command]
pub fn copy_incident_summary(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    let text = state.with_unlocked(|u| Ok(incident::export_summary(&mut u.vault, &id, now())?))?;
    state
        .clipboard
        .copy_plain(&text)
        .map_err(|e| IpcError::new(ErrorCode::Clipboard, e.to_string()))
}
