//! The Keyward desktop app and command line: thin adapters over
//! `keyward-core`. This file only wires things together.

pub mod bindings;
pub mod cli;
mod commands;
pub mod error;
mod platform;
mod reminders;
mod scanjob;
pub mod state;
mod tray;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use keyward_core::VaultDir;
use tauri::{Emitter, Manager, RunEvent, Runtime};

use crate::state::{AppState, LockReason};

/// Sent to the window when the session locks (payload: [`LockReason`]).
pub const EVENT_LOCKED: &str = "vault-locked";

static STARTED: OnceLock<Instant> = OnceLock::new();

/// No core dumps, not dumpable: see [`platform::hardening`].
pub fn harden_process() -> std::io::Result<()> {
    platform::hardening::harden()
}

/// When this process started its `main`, for the start-up probe.
pub fn started() -> Instant {
    *STARTED.get_or_init(Instant::now)
}

/// A table and a few forms need no GPU. WebKitGTK's accelerated compositing
/// costs ~100 MB and, without a GPU (Xvfb, VMs, remote desktops), renders
/// through software GL at hundreds of ms a frame. Set
/// `WEBKIT_DISABLE_COMPOSITING_MODE=0` to turn it back on.
fn software_rendering() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Before any thread exists and before WebKit starts.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

/// With `KEYWARD_STARTUP_PROBE` set, notes how long after `main` a start-up
/// step finished (stderr; for the start-up benchmark only).
pub fn startup_probe(step: &str) {
    if std::env::var_os("KEYWARD_STARTUP_PROBE").is_some() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "keyward: {step} {:.1} ms after start",
                started().elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}

/// Creates the main window from its configuration, with the vault's status
/// handed to the page before it loads: the first screen (create or unlock)
/// paints without waiting for an IPC round trip.
fn open_window(app: &mut tauri::App, hidden: bool) -> Result<(), Box<dyn std::error::Error>> {
    let config = app
        .config()
        .app
        .windows
        .first()
        .cloned()
        .ok_or("tauri.conf.json declares no window")?;
    let status = commands::vault::status_of(&app.state::<AppState>());
    let script = format!(
        "window.__KEYWARD_BOOT__ = Object.freeze({});",
        serde_json::to_string(&status)?
    );
    tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
        .initialization_script(script)
        .visible(!hidden)
        .build()?;
    Ok(())
}

/// Locks the session after the idle time in its settings. Sleeps until the
/// deadline on boot time (a suspend counts as idle: an unlocked vault does
/// not survive a long lid-close), wakes early when the session changes, and
/// when locked sleeps until the next unlock. No polling.
fn idle_lock(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        let timer = match platform::timer::Timer::boot() {
            Ok(t) => t,
            Err(e) => {
                startup_probe(&format!("no boot-time timer: {e}"));
                return;
            }
        };
        let changed = app.state::<AppState>().session_changed.clone();
        loop {
            let state = app.state::<AppState>();
            match state.idle_remaining(platform::timer::boot_now()) {
                None => changed.notified().await,
                Some(left) if left.is_zero() => {
                    if state.lock_if_idle(platform::timer::boot_now()) {
                        let _ = app.emit(EVENT_LOCKED, LockReason::Idle);
                    }
                }
                Some(left) => {
                    tokio::select! {
                        r = timer.sleep_for(left) => {
                            if r.is_err() {
                                // A broken timer must not become a busy loop.
                                tokio::time::sleep(Duration::from_secs(2)).await;
                            }
                        }
                        () = changed.notified() => {}
                    }
                }
            }
        }
    });
}

/// Brings the main window back: shown, unminimised, focused.
pub(crate) fn show_window(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Every command the window may call, for any runtime: the app runs it on
/// the real one, `tests/ipc_smoke.rs` on Tauri's mock runtime. The same
/// list is in `build.rs`, the capability and `ui/src/lib/ipc`
/// (`tests/ipc_commands.rs` checks they agree).
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
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
        commands::rotation::get_rotation,
        commands::rotation::rotation_history,
        commands::rotation::start_rotation,
        commands::rotation::describe_new_key,
        commands::rotation::stage_new_secrets,
        commands::rotation::advance_rotation,
        commands::rotation::complete_rotation,
        commands::rotation::cancel_rotation,
        commands::rotation::snooze_reminders,
        commands::findings::list_findings,
        commands::review::review_home,
        commands::review::start_review,
        commands::review::get_review,
        commands::review::save_review_checks,
        commands::review::decide_review,
        commands::review::finish_review,
        commands::review::cancel_review,
        commands::review::resolve_followup,
        commands::review::export_review,
        commands::incident::list_incidents,
        commands::incident::get_incident,
        commands::incident::open_incident,
        commands::incident::mark_incident_step,
        commands::incident::export_incident,
        commands::incident::copy_incident_summary,
        commands::backup::backup_status,
        commands::backup::create_backup,
        commands::backup::verify_backup,
        commands::backup::restore_backup,
        commands::backup::create_recovery_code,
        commands::backup::remove_recovery_code,
        commands::backup::remember_device,
        commands::backup::forget_device,
        commands::backup::unlock_with_keyring,
        commands::backup::rekey_vault,
        commands::audit::audit_status,
        commands::audit::verify_audit_head,
        commands::scan::scan_locations,
        commands::scan::start_scan,
        commands::scan::scan_status,
        commands::scan::watch_scan,
        commands::scan::cancel_scan,
        commands::scan::reveal_scan_match,
        commands::scan::resolve_scan_match,
        commands::scan::leak_copies,
        commands::scan::resolve_leak_copy,
    ]
}

/// Opens the app on the vault in `vault_dir`; with `hidden`, only in the
/// tray (autostart at login).
pub fn run_app(vault_dir: PathBuf, hidden: bool) -> Result<(), tauri::Error> {
    let _ = started();
    software_rendering();
    let app = tauri::Builder::default()
        // First, so a second launch only focuses the window that is already open.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_window(app);
        }))
        .manage(AppState::new(VaultDir::new(vault_dir)))
        .manage(reminders::Stats::default())
        .setup(move |app| {
            open_window(app, hidden)?;
            // No tray on this desktop is no reason not to start.
            if let Err(e) = tray::create(app) {
                startup_probe(&format!("no tray icon: {e}"));
            }
            reminders::spawn(app.handle().clone());
            idle_lock(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                // Reminders keep running in the tray when the user wants that.
                if window.state::<AppState>().close_to_tray() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(handler())
        .build(tauri::generate_context!())?;
    startup_probe("window built");
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Drop every key and take a copied secret off the clipboard.
            app.state::<AppState>().lock();
        }
    });
    Ok(())
}
