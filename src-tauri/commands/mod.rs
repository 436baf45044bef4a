//! The only place with `#[tauri::command]`: thin delegates to keyward-core,
//! one file per domain. Each command is declared in build.rs and granted in
//! capabilities/main.json. Secrets never travel from Rust to the window
//! except through `reveal_secret`.

pub mod audit;
pub mod backup;
pub mod findings;
pub mod incident;
pub mod inventory;
pub mod platforms;
pub mod review;
pub mod rotation;
pub mod scan;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod vault;

use crate::error::{ErrorCode, IpcError};

/// Runs blocking work (the passphrase KDF, disk) off the async runtime's
/// threads, so the window keeps painting.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, IpcError> + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| IpcError::new(ErrorCode::Internal, "the operation was interrupted"))?
}

pub(crate) fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
