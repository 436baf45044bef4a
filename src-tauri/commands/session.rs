//! Session housekeeping: activity for the idle timer, and the start-up probe.

use tauri::State;

use crate::state::AppState;

/// The window saw the user act (keys, pointer): restart the idle timer.
#[tauri::command]
pub fn note_activity(state: State<'_, AppState>) {
    state.touch();
}

/// The window painted its first screen (start-up benchmark only).
/// `page_ms` is the page's own count from navigation start.
#[tauri::command]
pub fn report_first_paint(page_ms: f64) {
    crate::startup_probe(&format!(
        "first paint (page: {page_ms:.0} ms from navigation start),"
    ));
}
