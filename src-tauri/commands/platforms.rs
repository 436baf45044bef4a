//! The platforms catalogue, for the platform picker.

use keyward_core::platforms::{self, Platform};

#[tauri::command]
pub fn list_platforms() -> Vec<Platform> {
    platforms::catalogue()
}
