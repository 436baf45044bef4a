//! Session housekeeping: activity for the idle timer, and the start-up probe.

use tauri::State;

use crate::state::AppState;

/// The window saw the user act (keys, pointer): restart the idle timer.
#[tauri::command]
pub fn note_activity(state: State<'_, AppState>) {
    state.touch();
}

/// The window painted its first screen. With `KEYWARD_STARTUP_PROBE` set,
/// prints the time since the process started, for the start-up benchmark.
#[tauri::command]
pub fn report_first_paint() {
    if std::env::var_os("KEYWARD_STARTUP_PROBE").is_some() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "keyward: first paint {:.1} ms after start",
                crate::started().elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
