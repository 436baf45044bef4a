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

/// Saves the settings. `current` (the vault's passphrase, checked now) is
/// needed only to change where automatic backups go or to whom.
#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: Settings,
    current: Option<String>,
) -> IpcResult<Settings> {
    let check = match current.filter(|c| !c.is_empty()) {
        Some(c) => Some(super::backup::confirm(&state, c).await?),
        None => None,
    };
    let saved = state.mutate(|u| {
        let proof = match check {
            Some(c) => Some(super::backup::reauth(&mut u.vault, c)?),
            None => None,
        };
        let saved = settings::save(&mut u.vault, settings, proof, now())?;
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
