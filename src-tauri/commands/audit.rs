//! The audit log's state, and the check of a head kept elsewhere.

use keyward_core::audit;
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use keyward_core::inventory::FieldError;

/// The log as checked now.
#[derive(Debug, Serialize, TS)]
pub struct AuditStatus {
    /// Entries in the log; the whole chain verified.
    #[ts(type = "number")]
    pub entries: u64,
    /// The head, `SEQ:HASH`: to keep away from this computer.
    pub head: Option<String>,
}

/// Walks the whole chain and gives its head.
#[tauri::command]
pub fn audit_status(state: State<'_, AppState>) -> IpcResult<AuditStatus> {
    state.with_unlocked(|u| {
        let entries = audit::verify(&u.vault)?;
        let head = audit::head(&u.vault)?.map(|h| h.to_string());
        Ok(AuditStatus { entries, head })
    })
}

/// Proves the log still holds the head `expect` (`SEQ:HASH`, from a
/// report, a backup or an earlier copy): nothing up to it was changed,
/// removed or rolled back.
#[tauri::command]
pub fn verify_audit_head(state: State<'_, AppState>, expect: String) -> IpcResult<AuditStatus> {
    let head: audit::Head = expect.parse().map_err(|e: audit::Error| {
        IpcError::invalid(vec![FieldError {
            field: "expect",
            reason: e.to_string().trim_start_matches("head: ").to_owned(),
        }])
    })?;
    state.with_unlocked(|u| {
        let entries = audit::verify_prefix(&u.vault, &head).map_err(|e| match e {
            audit::Error::NotThePrefix { .. } => IpcError::invalid(vec![FieldError {
                field: "expect",
                reason: e.to_string().trim_start_matches("audit log: ").to_owned(),
            }]),
            other => other.into(),
        })?;
        let head = audit::head(&u.vault)?.map(|h| h.to_string());
        Ok(AuditStatus { entries, head })
    })
}
