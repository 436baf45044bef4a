//! The vault's settings: session, clipboard, rotation defaults, reminders,
//! tray and autostart.

use keyward_core::settings::{self, Settings};
use tauri::State;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> IpcResult<Settings> {
    state.with_unlocked(|u| Ok(u.settings.clone()))
}

#[tauri::command]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> IpcResult<Settings> {
    let saved = state.mutate(|u| {
        let saved = settings::save(&mut u.vault, settings, now())?;
        u.settings = saved.clone();
        Ok(saved)
    })?;
    state.apply_desktop_settings(&saved).map_err(|e| {
        IpcError::new(
            ErrorCode::Internal,
            format!("autostart: settings saved, but the login entry could not be written: {e}"),
        )
    })?;
    Ok(saved)
}
