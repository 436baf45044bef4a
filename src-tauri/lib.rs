//! The Keyward desktop app and command line: thin adapters over
//! `keyward-core`. This file only wires things together.

pub mod cli;

use std::path::PathBuf;

/// Opens the window on the vault in `vault_dir`.
///
/// The window is a placeholder until the desktop app lands; the vault is
/// fully usable through the CLI meanwhile.
pub fn run_app(vault_dir: PathBuf) -> Result<(), tauri::Error> {
    let _ = vault_dir;
    tauri::Builder::default().run(tauri::generate_context!())
}
