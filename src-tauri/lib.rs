//! The Keyward desktop app and command line: thin adapters over
//! `keyward-core`. This file only wires things together.

pub mod bindings;
pub mod cli;
mod commands;
pub mod error;
mod platform;
pub mod state;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use keyward_core::VaultDir;
use tauri::{Emitter, Manager, RunEvent};

use crate::state::{AppState, LockReason};

/// Sent to the window when the session locks (payload: [`LockReason`]).
pub const EVENT_LOCKED: &str = "vault-locked";

static STARTED: OnceLock<Instant> = OnceLock::new();

/// When this process started its `main`, for the start-up probe.
pub fn started() -> Instant {
    *STARTED.get_or_init(Instant::now)
}

/// Opens the window on the vault in `vault_dir`.
pub fn run_app(vault_dir: PathBuf) -> Result<(), tauri::Error> {
    let _ = started();
    let app = tauri::Builder::default()
        // First, so a second launch only focuses the window that is already open.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .manage(AppState::new(VaultDir::new(vault_dir)))
        .setup(|app| {
            let handle = app.handle().clone();
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_secs(2));
                let state = handle.state::<AppState>();
                if state.lock_if_idle(Instant::now()) {
                    let _ = handle.emit(EVENT_LOCKED, LockReason::Idle);
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::vault::get_vault_status,
            commands::vault::rate_passphrase,
            commands::vault::create_vault,
            commands::vault::unlock_vault,
            commands::vault::lock_vault,
            commands::inventory::list_entries,
            commands::inventory::filter_entries,
            commands::inventory::add_entry,
            commands::inventory::edit_entry,
            commands::inventory::set_entry_status,
            commands::inventory::delete_entry,
            commands::secrets::copy_secret,
            commands::secrets::reveal_secret,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::platforms::list_platforms,
            commands::platforms::list_permissions,
            commands::session::note_activity,
            commands::session::report_first_paint,
        ])
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Drop every key and take a copied secret off the clipboard.
            app.state::<AppState>().lock();
        }
    });
    Ok(())
}
