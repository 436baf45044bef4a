//! The platforms catalogue and the normalised permissions, for the form's
//! pickers and the risk colours of permission chips.

use keyward_core::inventory::{Permission, Risk};
use keyward_core::platforms::{self, Platform};
use serde::Serialize;
use ts_rs::TS;

#[tauri::command]
pub fn list_platforms() -> Vec<Platform> {
    platforms::catalogue()
}

/// A normalised permission and how much harm it can do.
#[derive(Debug, Serialize, TS)]
pub struct PermissionInfo {
    pub name: String,
    pub risk: Risk,
}

/// The normalised permissions in order, each with its risk: the window
/// colours chips from this rather than keeping its own copy of the rule.
#[tauri::command]
pub fn list_permissions() -> Vec<PermissionInfo> {
    Permission::NORMALISED
        .iter()
        .map(|p| PermissionInfo {
            name: p.name().to_owned(),
            risk: p.risk(),
        })
        .collect()
}
