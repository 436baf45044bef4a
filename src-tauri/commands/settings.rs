//! The vault's settings: auto-lock minutes, clipboard clear seconds.

use keyward_core::settings::{self, Settings};
use tauri::State;

use super::now;
use crate::error::IpcResult;
use crate::state::AppState;

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> IpcResult<Settings> {
    state.with_unlocked(|u| Ok(u.settings.clone()))
}

#[tauri::command]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> IpcResult<Settings> {
    state.with_unlocked(|u| {
        let saved = settings::save(&mut u.vault, settings, now())?;
        u.settings = saved.clone();
        Ok(saved)
    })
}
