//! Per-vault settings: how long an idle session stays unlocked and how long
//! a copied secret stays on the clipboard. Stored in the vault (so they are
//! encrypted and travel with it); each change is audited.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::audit::{self, Action};
use crate::inventory::FieldError;
use crate::vault::{self, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// Lock after this many minutes without user activity (1–240).
    pub auto_lock_minutes: u32,
    /// Clear a copied secret from the clipboard after this many seconds (5–600).
    pub clipboard_clear_seconds: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_lock_minutes: 5,
            clipboard_clear_seconds: 20,
        }
    }
}

pub const AUTO_LOCK_MINUTES: std::ops::RangeInclusive<u32> = 1..=240;
pub const CLIPBOARD_CLEAR_SECONDS: std::ops::RangeInclusive<u32> = 5..=600;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Vault(#[from] vault::Error),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Settings {
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if !AUTO_LOCK_MINUTES.contains(&self.auto_lock_minutes) {
            errors.push(FieldError {
                field: "auto_lock_minutes",
                reason: "must be from 1 to 240 minutes".into(),
            });
        }
        if !CLIPBOARD_CLEAR_SECONDS.contains(&self.clipboard_clear_seconds) {
            errors.push(FieldError {
                field: "clipboard_clear_seconds",
                reason: "must be from 5 to 600 seconds".into(),
            });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// The vault's settings; defaults for anything never saved or unreadable.
pub fn load(vault: &Vault) -> Result<Settings> {
    let text: Option<String> = vault
        .conn()
        .query_row("SELECT value FROM settings WHERE key = 'app'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let settings = text
        .and_then(|t| serde_json::from_str::<Settings>(&t).ok())
        .filter(|s| s.validate().is_ok())
        .unwrap_or_default();
    Ok(settings)
}

/// Validates and stores the settings, with an audit row naming what changed.
pub fn save(vault: &mut Vault, settings: Settings, now: OffsetDateTime) -> Result<Settings> {
    settings.validate()?;
    let before = load(vault)?;
    if before == settings {
        return Ok(settings);
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO settings(key, value) VALUES ('app', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [serde_json::to_string(&settings)
            .map_err(|_| vault::Error::Crypto("settings encoding"))?],
    )?;
    audit::append(
        &tx,
        now,
        origin,
        Action::SettingsChange,
        None,
        &serde_json::json!({ "from": before, "to": settings }),
    )?;
    tx.commit()?;
    Ok(settings)
}
