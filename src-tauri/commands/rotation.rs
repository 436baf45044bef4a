//! Guided rotation, reminders' snooze, and each key's rotation history.
//! Staged secrets of the new key come in like `add_entry`'s and never go
//! back out except through copy/reveal with `new_key`.

use keyward_core::inventory::{Entry, SecretInput};
use keyward_core::reminder as reminders;
use keyward_core::rotation::{self, HistoryItem, Rotation, Step};
use keyward_core::timefmt;
use tauri::State;

use super::inventory::{into_inputs, SecretFieldInput};
use super::now;
use crate::error::IpcResult;
use crate::state::AppState;

#[tauri::command]
pub fn get_rotation(state: State<'_, AppState>, id: String) -> IpcResult<Option<Rotation>> {
    state.with_unlocked(|u| Ok(rotation::get(&u.vault, &id)?))
}

#[tauri::command]
pub fn rotation_history(state: State<'_, AppState>, id: String) -> IpcResult<Vec<HistoryItem>> {
    state.with_unlocked(|u| Ok(rotation::history(&u.vault, &id)?))
}

/// Starts a rotation, or resumes the one in progress.
#[tauri::command]
pub fn start_rotation(state: State<'_, AppState>, id: String) -> IpcResult<Rotation> {
    state.mutate(|u| Ok(rotation::start(&mut u.vault, &id, now())?))
}

#[tauri::command]
pub fn describe_new_key(
    state: State<'_, AppState>,
    id: String,
    permissions: Option<Vec<String>>,
    ip_allowlist: Option<Vec<String>>,
    key_id_hint: Option<String>,
) -> IpcResult<Rotation> {
    state.mutate(|u| {
        Ok(rotation::set_new_key(
            &mut u.vault,
            &id,
            permissions,
            ip_allowlist,
            key_id_hint,
            now(),
        )?)
    })
}

#[tauri::command]
pub fn stage_new_secrets(
    state: State<'_, AppState>,
    id: String,
    secrets: Vec<SecretFieldInput>,
) -> IpcResult<Rotation> {
    let inputs: Vec<SecretInput> = into_inputs(secrets);
    state.mutate(|u| Ok(rotation::stage_secrets(&mut u.vault, &id, inputs, now())?))
}

/// Marks `deploy`, `confirm` or `revoke` done, in that order.
#[tauri::command]
pub fn advance_rotation(state: State<'_, AppState>, id: String, step: Step) -> IpcResult<Rotation> {
    state.mutate(|u| Ok(rotation::advance(&mut u.vault, &id, step, now())?))
}

#[tauri::command]
pub fn complete_rotation(state: State<'_, AppState>, id: String) -> IpcResult<Entry> {
    state.mutate(|u| Ok(rotation::complete(&mut u.vault, &id, now())?))
}

#[tauri::command]
pub fn cancel_rotation(state: State<'_, AppState>, id: String) -> IpcResult<Entry> {
    state.mutate(|u| Ok(rotation::cancel(&mut u.vault, &id, now())?))
}

/// Silences a key's reminders for `days` (the UI offers 1 and 7); returns
/// until when.
#[tauri::command]
pub fn snooze_reminders(state: State<'_, AppState>, id: String, days: u32) -> IpcResult<String> {
    state.mutate(|u| {
        let until = reminders::snooze(&mut u.vault, &id, days, now())?;
        Ok(timefmt::format(until))
    })
}
