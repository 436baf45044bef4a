//! Tauri's build step. Capabilities live under src-tauri/capabilities; every
//! app command is listed here so that it must be granted explicitly
//! (`allow-<command>`) in a capability — otherwise every window could call it.

const COMMANDS: &[&str] = &[
    "get_vault_status",
    "rate_passphrase",
    "create_vault",
    "unlock_vault",
    "lock_vault",
    "list_entries",
    "filter_entries",
    "add_entry",
    "edit_entry",
    "set_entry_status",
    "delete_entry",
    "copy_secret",
    "reveal_secret",
    "get_settings",
    "save_settings",
    "list_platforms",
    "list_permissions",
    "note_activity",
    "report_first_paint",
    "get_rotation",
    "rotation_history",
    "start_rotation",
    "describe_new_key",
    "stage_new_secrets",
    "advance_rotation",
    "complete_rotation",
    "cancel_rotation",
    "snooze_reminders",
    "list_findings",
    "review_home",
    "start_review",
    "get_review",
    "save_review_checks",
    "decide_review",
    "finish_review",
    "cancel_review",
    "resolve_followup",
    "export_review",
    "list_incidents",
    "get_incident",
    "open_incident",
    "mark_incident_step",
    "export_incident",
    "copy_incident_summary",
    "backup_status",
    "create_backup",
    "verify_backup",
    "restore_backup",
    "create_recovery_code",
    "remove_recovery_code",
    "remember_device",
    "forget_device",
    "unlock_with_keyring",
    "rekey_vault",
    "audit_status",
    "verify_audit_head",
    "scan_locations",
    "start_scan",
    "scan_status",
    "cancel_scan",
    "reveal_scan_match",
    "resolve_scan_match",
    "leak_copies",
    "resolve_leak_copy",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
