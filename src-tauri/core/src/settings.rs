//! Per-vault settings: auto-lock, clipboard clearing, rotation defaults,
//! reminders, tray and autostart. Stored in the vault (so they are
//! encrypted and travel with it); each change is audited. Settings saved by
//! an older version load with defaults for what it did not know.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::field::FieldError;
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// Lock after this many minutes without user activity (1–240).
    pub auto_lock_minutes: u32,
    /// Clear a copied secret from the clipboard after this many seconds (5–600).
    pub clipboard_clear_seconds: u32,
    /// Rotation period for keys with no period of their own, by their
    /// riskiest permission (1–3650 days): withdraw/transfer/account…
    pub rotation_days_critical: u32,
    /// …trade/margin/futures (and platform scopes Keyward cannot judge)…
    pub rotation_days_high: u32,
    /// …read-only.
    pub rotation_days_low: u32,
    /// Remind this many days before a key is due (1–365, up to 8 values);
    /// a reminder on the day and daily while overdue always follow.
    pub reminder_days: Vec<u32>,
    /// Local hour (0–23) at which the day's reminders arrive.
    pub reminder_hour: u32,
    /// Closing the window keeps Keyward in the tray, reminders running.
    pub close_to_tray: bool,
    /// Start Keyward (in the tray) at login.
    pub autostart: bool,
    /// An access review is due this many days after the last one finished
    /// (7–366; quarterly by default).
    pub review_cadence_days: u32,
    /// Automatic backups: `off`, `daily` or `weekly`.
    pub backup_schedule: String,
    /// How many automatic backups to keep (1–100); older ones are deleted.
    pub backup_keep: u32,
    /// Where automatic backups go (an absolute path); `None`: the default
    /// folder (Documents/Keyward backups).
    pub backup_folder: Option<String>,
    /// age public keys automatic backups are encrypted to, besides the
    /// recovery code's (there is no passphrase to ask for at 3 a.m.).
    pub backup_recipients: Vec<String>,
    /// The leak scan skips (and lists) files larger than this many MiB
    /// (1–65,536): disk images and videos rarely hold a pasted key, and
    /// reading them would take most of the scan.
    pub scan_max_file_mb: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_lock_minutes: 5,
            clipboard_clear_seconds: 20,
            rotation_days_critical: 30,
            rotation_days_high: 60,
            rotation_days_low: 90,
            reminder_days: vec![14, 7, 1],
            reminder_hour: 9,
            close_to_tray: true,
            autostart: false,
            review_cadence_days: 90,
            backup_schedule: "off".into(),
            backup_keep: 7,
            backup_folder: None,
            backup_recipients: Vec::new(),
            scan_max_file_mb: 256,
        }
    }
}

pub const AUTO_LOCK_MINUTES: std::ops::RangeInclusive<u32> = 1..=240;
pub const CLIPBOARD_CLEAR_SECONDS: std::ops::RangeInclusive<u32> = 5..=600;
pub const ROTATION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;
pub const REMINDER_DAYS: std::ops::RangeInclusive<u32> = 1..=365;
pub const MAX_REMINDERS: usize = 8;
pub const REVIEW_CADENCE_DAYS: std::ops::RangeInclusive<u32> = 7..=366;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Where automatic backups go, or to whom, changes only with the
    /// current passphrase: every later backup holds every secret.
    #[error("{field}: confirm the change with your current passphrase")]
    NeedsPassphrase { field: &'static str },
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
        for (field, days) in [
            ("rotation_days_critical", self.rotation_days_critical),
            ("rotation_days_high", self.rotation_days_high),
            ("rotation_days_low", self.rotation_days_low),
        ] {
            if !ROTATION_DAYS.contains(&days) {
                errors.push(FieldError {
                    field,
                    reason: "must be from 1 to 3650 days".into(),
                });
            }
        }
        let mut sorted = self.reminder_days.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if self.reminder_days.len() > MAX_REMINDERS {
            errors.push(FieldError {
                field: "reminder_days",
                reason: format!("at most {MAX_REMINDERS} reminders"),
            });
        } else if self
            .reminder_days
            .iter()
            .any(|d| !REMINDER_DAYS.contains(d))
        {
            errors.push(FieldError {
                field: "reminder_days",
                reason: "each must be from 1 to 365 days before".into(),
            });
        } else if sorted.len() != self.reminder_days.len() {
            errors.push(FieldError {
                field: "reminder_days",
                reason: "each value only once".into(),
            });
        }
        if self.reminder_hour > 23 {
            errors.push(FieldError {
                field: "reminder_hour",
                reason: "must be an hour from 0 to 23".into(),
            });
        }
        if !REVIEW_CADENCE_DAYS.contains(&self.review_cadence_days) {
            errors.push(FieldError {
                field: "review_cadence_days",
                reason: "must be from 7 to 366 days".into(),
            });
        }
        if !matches!(self.backup_schedule.as_str(), "off" | "daily" | "weekly") {
            errors.push(FieldError {
                field: "backup_schedule",
                reason: "must be off, daily or weekly".into(),
            });
        }
        if !(1..=65_536).contains(&self.scan_max_file_mb) {
            errors.push(FieldError {
                field: "scan_max_file_mb",
                reason: "must be from 1 to 65536 MiB".into(),
            });
        }
        if !(1..=100).contains(&self.backup_keep) {
            errors.push(FieldError {
                field: "backup_keep",
                reason: "must keep from 1 to 100 backups".into(),
            });
        }
        if let Some(f) = &self.backup_folder {
            if !std::path::Path::new(f).is_absolute() || f.chars().any(char::is_control) {
                errors.push(FieldError {
                    field: "backup_folder",
                    reason: "must be a full path (starting with /)".into(),
                });
            }
        }
        if let Some((i, r)) = self
            .backup_recipients
            .iter()
            .enumerate()
            .find(|(_, r)| r.trim().parse::<age::x25519::Recipient>().is_err())
        {
            errors.push(FieldError {
                field: "backup_recipients",
                reason: format!(
                    "recipient {}: {}",
                    i + 1,
                    crate::secret::age_recipient_problem(r)
                ),
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
/// Only the storage can fail here.
pub fn load(vault: &Vault) -> vault::Result<Settings> {
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
/// Changing the backup folder or recipients needs `proof` (the current
/// passphrase, given for this change).
pub fn save(
    vault: &mut Vault,
    mut settings: Settings,
    proof: Option<vault::Reauth>,
    now: OffsetDateTime,
) -> Result<Settings> {
    settings.validate()?;
    // Stored largest first: the order reminders fire in.
    settings.reminder_days.sort_unstable_by(|a, b| b.cmp(a));
    let before = load(vault)?;
    if before == settings {
        return Ok(settings);
    }
    if proof.is_none() {
        if before.backup_recipients != settings.backup_recipients {
            return Err(Error::NeedsPassphrase {
                field: "backup_recipients",
            });
        }
        if before.backup_folder != settings.backup_folder {
            return Err(Error::NeedsPassphrase {
                field: "backup_folder",
            });
        }
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
