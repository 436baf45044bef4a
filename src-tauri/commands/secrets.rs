//! Copy and reveal: the two ways a secret leaves the vault in the app, each
//! audited. Copy never sends the value to the window.

use std::time::Duration;

use keyward_core::inventory::{self, SecretUse};
use keyward_core::rotation;
use keyward_core::{SecretValue, Vault};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

#[derive(Debug, Serialize, TS)]
pub struct CopyReceipt {
    /// The clipboard is cleared after this many seconds if it still holds the secret.
    pub clears_in_seconds: u32,
}

/// The current key's field, or during a rotation (`new_key`) the new one's.
fn take(
    vault: &mut Vault,
    id: &str,
    field: &str,
    purpose: SecretUse,
    new_key: bool,
) -> IpcResult<SecretValue> {
    if new_key {
        Ok(rotation::take_new_secret(vault, id, field, purpose, now())?)
    } else {
        Ok(inventory::take_secret(vault, id, field, purpose, now())?)
    }
}

#[tauri::command]
pub fn copy_secret(
    state: State<'_, AppState>,
    id: String,
    field: String,
    new_key: Option<bool>,
) -> IpcResult<CopyReceipt> {
    let (value, seconds) = state.with_unlocked(|u| {
        let value = take(
            &mut u.vault,
            &id,
            &field,
            SecretUse::Copy,
            new_key.unwrap_or(false),
        )?;
        Ok((value, u.settings.clipboard_clear_seconds))
    })?;
    state
        .clipboard
        .copy(&value, Duration::from_secs(u64::from(seconds)))
        .map_err(|e| IpcError::new(ErrorCode::Clipboard, e.to_string()))?;
    Ok(CopyReceipt {
        clears_in_seconds: seconds,
    })
}

/// The value, for the window to show for a short while. The one command
/// that sends a secret to the window.
#[derive(Serialize, TS)]
pub struct RevealedSecret {
    pub value: String,
    /// The window hides it again after this many seconds.
    pub hide_after_seconds: u32,
}

impl std::fmt::Debug for RevealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RevealedSecret([redacted])")
    }
}

/// Wiped once serialised for the window (Tauri's JSON text of it, and the
/// page's copy, are out of our hands; the page drops it after 30 s).
impl Drop for RevealedSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.value);
    }
}

pub const REVEAL_SECONDS: u32 = 30;

#[tauri::command]
pub fn reveal_secret(
    state: State<'_, AppState>,
    id: String,
    field: String,
    new_key: Option<bool>,
) -> IpcResult<RevealedSecret> {
    state.with_unlocked(|u| {
        let value = take(
            &mut u.vault,
            &id,
            &field,
            SecretUse::Reveal,
            new_key.unwrap_or(false),
        )?;
        // EXPOSE: reveal exists to show the value to the user.
        let text = std::str::from_utf8(value.expose()).map_err(|_| {
            IpcError::new(
                ErrorCode::Invalid,
                "this secret is not text and cannot be shown",
            )
        })?;
        Ok(RevealedSecret {
            value: text.to_owned(),
            hide_after_seconds: REVEAL_SECONDS,
        })
    })
}
