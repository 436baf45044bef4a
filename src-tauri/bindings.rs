//! The TypeScript types of the IPC, generated from these Rust types into
//! `ui/src/lib/ipc/bindings/`. `tests/bindings.rs` fails when the committed
//! files differ from freshly generated ones; `KEYWARD_UPDATE_BINDINGS=1
//! cargo test --test bindings` rewrites them.

use std::path::Path;

use ts_rs::{Config, ExportError, TS};

/// Writes every IPC type (and what they refer to) into `dir`.
pub fn export_all(dir: &Path) -> Result<(), ExportError> {
    let cfg = Config::new().with_out_dir(dir);
    keyward_core::inventory::Entry::export_all(&cfg)?;
    keyward_core::inventory::Draft::export_all(&cfg)?;
    keyward_core::inventory::FieldError::export_all(&cfg)?;
    keyward_core::inventory::Environment::export_all(&cfg)?;
    keyward_core::inventory::Status::export_all(&cfg)?;
    keyward_core::inventory::Risk::export_all(&cfg)?;
    keyward_core::vault::PassphraseVerdict::export_all(&cfg)?;
    keyward_core::settings::Settings::export_all(&cfg)?;
    keyward_core::platforms::Platform::export_all(&cfg)?;
    keyward_core::rotation::Rotation::export_all(&cfg)?;
    keyward_core::rotation::HistoryItem::export_all(&cfg)?;
    keyward_core::rotation::DueReason::export_all(&cfg)?;
    keyward_core::findings::Finding::export_all(&cfg)?;
    keyward_core::review::Detail::export_all(&cfg)?;
    keyward_core::review::Scope::export_all(&cfg)?;
    keyward_core::review::Checks::export_all(&cfg)?;
    keyward_core::review::Decision::export_all(&cfg)?;
    keyward_core::followup::FollowUp::export_all(&cfg)?;
    crate::commands::review::ReviewHome::export_all(&cfg)?;
    keyward_core::incident::Incident::export_all(&cfg)?;
    keyward_core::incident::IncidentSummary::export_all(&cfg)?;
    keyward_core::incident::StepState::export_all(&cfg)?;
    keyward_core::incident::report::Format::export_all(&cfg)?;
    keyward_core::review::report::Format::export_all(&cfg)?;
    crate::commands::backup::BackupStatus::export_all(&cfg)?;
    crate::commands::backup::BackupDone::export_all(&cfg)?;
    crate::commands::backup::NewRecoveryCode::export_all(&cfg)?;
    crate::commands::audit::AuditStatus::export_all(&cfg)?;
    crate::commands::backup::Rekeyed::export_all(&cfg)?;
    keyward_core::scan::Match::export_all(&cfg)?;
    keyward_core::scan::Skipped::export_all(&cfg)?;
    keyward_core::copies::Copy::export_all(&cfg)?;
    crate::commands::scan::ScanStatus::export_all(&cfg)?;
    crate::commands::scan::ScanLocation::export_all(&cfg)?;
    crate::error::IpcError::export_all(&cfg)?;
    crate::state::LockReason::export_all(&cfg)?;
    crate::commands::vault::VaultStatus::export_all(&cfg)?;
    crate::commands::inventory::EntryList::export_all(&cfg)?;
    crate::commands::inventory::FilterInput::export_all(&cfg)?;
    crate::commands::inventory::SecretFieldInput::export_all(&cfg)?;
    crate::commands::secrets::CopyReceipt::export_all(&cfg)?;
    crate::commands::platforms::PermissionInfo::export_all(&cfg)?;
    crate::commands::secrets::RevealedSecret::export_all(&cfg)?;
    Ok(())
}
