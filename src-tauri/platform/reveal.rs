//! "Reveal in file manager": the file shown selected in its folder.
//!
//! The freedesktop `org.freedesktop.FileManager1.ShowItems` call (Files,
//! Dolphin, Nemo, Caja, Thunar) selects the file; without one, its folder
//! opens with `xdg-open`. Only a folder is ever handed to `xdg-open`, never
//! the file itself: opening a found `.desktop` file or script would run it.

use std::path::Path;
use std::process::{Command, Stdio};

pub fn reveal(file: &Path) -> Result<(), String> {
    if show_items(file).is_ok() {
        return Ok(());
    }
    let folder = file
        .parent()
        .filter(|p| p.is_dir())
        .ok_or_else(|| format!("the folder of {} is gone", file.display()))?;
    let mut child = Command::new("xdg-open")
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("no file manager could be opened (xdg-open: {e})"))?;
    // Reaped in the background: file managers often stay in the foreground.
    std::thread::spawn(move || child.wait());
    Ok(())
}

fn show_items(file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let uri = url::Url::from_file_path(file).map_err(|()| "not an absolute path")?;
    let bus = zbus::blocking::Connection::session()?;
    bus.call_method(
        Some("org.freedesktop.FileManager1"),
        "/org/freedesktop/FileManager1",
        Some("org.freedesktop.FileManager1"),
        "ShowItems",
        &(vec![uri.as_str()], ""),
    )?;
    Ok(())
}
