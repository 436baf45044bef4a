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
pub fn os_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|u| u.trim().to_owned())
        .find(|u| !u.is_empty())
}

/// Writes a file readable by its owner only, beside its final place first
/// and renamed there, so a reader never sees half of it.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let tmp = dir.join(format!(".{}.part", name.to_string_lossy()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Where backups go unless the user names a folder: Documents/Keyward backups.
pub fn default_backup_folder() -> std::path::PathBuf {
    dirs::document_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("Keyward backups")
}
