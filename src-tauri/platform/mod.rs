//! The operating system's edges, each behind a small type: the clipboard,
//! desktop notifications, the wall-clock timer reminders sleep on, and
//! autostart at login.

pub mod autostart;
pub mod clipboard;
pub mod hardening;
pub mod keyring;
pub mod notify;
pub mod reveal;
pub mod timer;

/// The name of the user logged in: the default reviewer of an access review.
/// `USER` or `LOGNAME` when set, else the account's name from the system's
/// user database (as `whoami` gives it): cron, systemd and bare shells set
/// neither variable.
pub fn os_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|u| u.trim().to_owned())
        .find(|u| !u.is_empty())
        .or_else(|| {
            whoami::fallible::username()
                .ok()
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
        })
}

/// Writes a file readable by its owner only (exports, reports): see
/// [`keyward_core::fsio::write_private`] — a new file under a random name,
/// no symlink followed, renamed into place.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    keyward_core::fsio::write_private(path, bytes)
}

/// Where backups go unless the user names a folder: Documents/Keyward backups.
pub fn default_backup_folder() -> std::path::PathBuf {
    dirs::document_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("Keyward backups")
}
