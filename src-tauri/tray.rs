//! The tray icon: how many keys are due, and Open / Lock / Quit. It keeps
//! Keyward reachable while the window is closed and reminders run.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager};

use crate::state::{AppState, LockReason};
use crate::EVENT_LOCKED;

const TRAY_ID: &str = "main";

/// The menu's first line ("3 keys due for rotation"), kept to update it.
pub struct DueItem(MenuItem<tauri::Wry>);

pub fn create(app: &tauri::App) -> tauri::Result<()> {
    let due = MenuItem::with_id(app, "due", "No keys due for rotation", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Keyward", true, None::<&str>)?;
    let lock = MenuItem::with_id(app, "lock", "Lock", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&due, &open, &lock, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu)
        .tooltip("Keyward")
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => crate::show_window(app),
            "lock" if app.state::<AppState>().lock() => {
                let _ = app.emit(EVENT_LOCKED, LockReason::User);
            }
            "quit" => {
                app.state::<AppState>().lock();
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(DueItem(due));
    Ok(())
}

/// Shows the number of keys due (and of critical findings) beside the icon
/// and in the menu.
pub fn show_due(app: &AppHandle, count: u32, critical: u32) {
    let mut text = match count {
        0 => "No keys due for rotation".to_owned(),
        1 => "1 key due for rotation".to_owned(),
        n => format!("{n} keys due for rotation"),
    };
    match critical {
        0 => {}
        1 => text.push_str(" · 1 critical finding"),
        n => text.push_str(&format!(" · {n} critical findings")),
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let title = match (count, critical) {
            (0, 0) => None,
            (n, 0) => Some(n.to_string()),
            (n, c) => Some(format!("{n} · {c}!")),
        };
        let _ = tray.set_title(title);
        let _ = tray.set_tooltip(Some(format!("Keyward — {text}")));
    }
    if let Some(item) = app.try_state::<DueItem>() {
        let _ = item.0.set_text(text);
    }
}
