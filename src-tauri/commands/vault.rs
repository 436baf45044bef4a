//! Creating, unlocking and locking the vault.

use keyward_core::secret::Passphrase;
use keyward_core::vault::{self, KdfParams, PassphraseVerdict};
use keyward_core::{settings, Origin, Vault};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use ts_rs::TS;

use super::{blocking, now};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::{AppState, LockReason};

#[derive(Debug, Serialize, TS)]
pub struct VaultStatus {
    /// A vault exists in the directory.
    pub exists: bool,
    pub unlocked: bool,
    /// The vault directory, to show the user where their data lives.
    pub path: String,
    /// Remembered on this device: it can unlock from the OS keyring.
    pub remembered: bool,
}

#[tauri::command]
pub fn get_vault_status(state: State<'_, AppState>) -> VaultStatus {
    status_of(&state)
}

pub(crate) fn status_of(state: &AppState) -> VaultStatus {
    VaultStatus {
        exists: state.dir.exists(),
        unlocked: state.is_unlocked(),
        path: state.dir.path().display().to_string(),
        remembered: crate::platform::keyring::is_remembered(&state.dir),
    }
}

/// The strength meter's verdict, from the same check `create_vault` applies.
#[tauri::command]
pub fn rate_passphrase(passphrase: String) -> PassphraseVerdict {
    vault::rate_passphrase(&Passphrase::new(passphrase))
}

#[tauri::command]
pub async fn create_vault(
    state: State<'_, AppState>,
    passphrase: String,
    confirm: String,
) -> IpcResult<()> {
    let passphrase = vault::confirmed(Passphrase::new(passphrase), Passphrase::new(confirm))?;
    let dir = state.dir.clone();
    let vault = blocking(move || {
        Ok(Vault::init(
            &dir,
            &passphrase,
            KdfParams::default(),
            now(),
            Origin::App,
        )?)
    })
    .await?;
    let settings = settings::load(&vault)?;
    // Autostart follows the vault's setting; failing to write it must not
    // keep the user out of their keys.
    let _ = state.apply_desktop_settings(&settings);
    state.set_unlocked(vault, settings);
    Ok(())
}

#[tauri::command]
pub async fn unlock_vault(state: State<'_, AppState>, passphrase: String) -> IpcResult<()> {
    if state.is_unlocked() {
        return Ok(());
    }
    let passphrase = Passphrase::new(passphrase);
    let dir = state.dir.clone();
    if !dir.exists() {
        return Err(IpcError::new(
            ErrorCode::NoVault,
            "there is no vault here yet",
        ));
    }
    // A vault.key wrapped below today's work factor is re-wrapped at it.
    let vault = blocking(move || {
        Ok(Vault::unlock_upgrading(
            &dir,
            &passphrase,
            keyward_core::KdfParams::default(),
            now(),
            Origin::App,
        )?)
    })
    .await?;
    let settings = settings::load(&vault)?;
    // Autostart follows the vault's setting; failing to write it must not
    // keep the user out of their keys.
    let _ = state.apply_desktop_settings(&settings);
    state.set_unlocked(vault, settings);
    Ok(())
}

#[tauri::command]
pub fn lock_vault<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) {
    if state.lock() {
        let _ = app.emit(crate::EVENT_LOCKED, LockReason::User);
    }
}
