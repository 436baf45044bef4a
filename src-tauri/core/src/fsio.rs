//! Files read and written as untrusted: the vault's own files beside the
//! database, backups, imports and reports.
//!
//! Anyone who can write to the vault directory (or to a folder a backup is
//! read from) can put a symlink, a FIFO, `/dev/zero` or a file of many GiB
//! where a small file is expected. So a whole-file read opens without
//! blocking, checks on the open handle that it is a regular file no larger
//! than the caller's cap, and never reads past the cap. A write creates a
//! new file under an unpredictable name (`create_new`, `O_NOFOLLOW`, mode
//! 0600 from the first byte), syncs it and renames it into place, so a
//! planted symlink is never followed and no reader sees half a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Reads a whole regular file of at most `max` bytes into wiped memory.
///
/// Refuses (with `InvalidInput`) anything that is not a regular file —
/// FIFOs, devices, directories — without waiting on it, and (with
/// `InvalidData`) a file larger than `max`, before reading a byte of it.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut f = open_regular(path, false)?;
    read_capped(&mut f, max)
}

/// [`read_regular`] for a file inside the vault directory: a symlink there
/// is refused too (nothing Keyward writes is a link).
pub fn read_own(path: &Path, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut f = open_regular(path, true)?;
    read_capped(&mut f, max)
}

/// The same as text: invalid UTF-8 is `InvalidData`.
pub fn read_own_text(path: &Path, max: u64) -> io::Result<Zeroizing<String>> {
    let bytes = read_own(path, max)?;
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_owned())),
        Err(_) => Err(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")),
    }
}

fn open_regular(path: &Path, no_follow: bool) -> io::Result<File> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            // ELOOP is how O_NOFOLLOW refuses a symlink.
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::new(io::ErrorKind::InvalidInput, "a symbolic link, not a file")
            } else {
                e
            }
        })?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

fn read_capped(f: &mut File, max: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let len = f.metadata()?.len();
    if len > max {
        return Err(too_large(max));
    }
    // Allocated once at its final size: a growing Vec would leave unwiped
    // copies behind. The file may still grow while we read: `take` caps it.
    let mut buf = Zeroizing::new(Vec::with_capacity(len as usize + 1));
    f.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(buf)
}

fn too_large(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {} — not a file Keyward wrote", human(max)),
    )
}

/// `4 MiB`, `64 KiB`: sizes in messages.
fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Writes `bytes` to `path` so that readers see the old or the new content,
/// never a mix, and nobody but the owner ever could read it. The file is
/// made under a random name beside `path` with `create_new` and
/// `O_NOFOLLOW` (a planted file or symlink of that name is an error, not a
/// target) and mode 0600, synced, then renamed over `path` (a symlink at
/// `path` is replaced, not followed), and the rename itself is synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (mut f, tmp) = create_temp_beside(path)?;
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_parent(path);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A new, empty file of mode 0600 under an unpredictable name in `path`'s
/// folder (`.NAME.RANDOM.tmp`).
fn create_temp_beside(path: &Path) -> io::Result<(File, PathBuf)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?
        .to_string_lossy()
        .into_owned();
    for _ in 0..16 {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).map_err(|_| io::Error::other("no randomness"))?;
        let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(random)));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(f) => {
                // Made 0600 (the umask can only narrow it); said outright
                // too where the file system keeps modes. FAT and exFAT
                // (a USB stick for backups) refuse: not an error there.
                let _ = f.set_permissions(fs::Permissions::from_mode(0o600));
                return Ok((f, tmp));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not find a free temporary name",
    ))
}

/// Opens a file to append to, creating it with mode 0600; a symlink or a
/// non-regular file at `path` is refused.
pub fn open_append_private(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

/// Makes `dir` (and its parents) if missing, and leaves `dir` itself
/// readable by its owner only (0700) — also when it existed already. The
/// mode is set on the directory as opened (a link to a directory is
/// followed: the vault folder may be one).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let d = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    d.set_permissions(fs::Permissions::from_mode(0o700))
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_a_device_is_refused_without_waiting() {
        assert_eq!(
            read_regular(Path::new("/dev/zero"), 1024)
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // No writer: a blocking open would wait here for ever.
        let err = read_own(&fifo, 1024).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        // Sparse: 8 GiB claimed, nothing stored.
        File::create(&big).unwrap().set_len(8 << 30).unwrap();
        let err = read_regular(&big, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("1 MiB"), "{err}");
        fs::write(&big, b"small").unwrap();
        assert_eq!(&read_regular(&big, 5).unwrap()[..], b"small");
        assert!(read_regular(&big, 4).is_err());
    }

    #[test]
    fn a_symlink_is_replaced_never_followed_and_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, b"keep me").unwrap();
        let target = dir.path().join("vault.key");
        std::os::unix::fs::symlink(&outside, &target).unwrap();
        // A link planted at the old, predictable temporary name too.
        std::os::unix::fs::symlink(&outside, dir.path().join("vault.key.tmp")).unwrap();
        assert!(read_own(&target, 100).is_err(), "own files: no links");
        write_private(&target, b"new").unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"keep me");
        let meta = fs::symlink_metadata(&target).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name().to_string_lossy().ends_with(".tmp")
                    && e.file_name() != "vault.key.tmp"
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn an_existing_directory_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join("vault");
        fs::create_dir(&v).unwrap();
        fs::set_permissions(&v, fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&v).unwrap();
        assert_eq!(
            fs::metadata(&v).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let nested = dir.path().join("a/b/c");
        private_dir(&nested).unwrap();
        assert_eq!(
            fs::metadata(&nested).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
