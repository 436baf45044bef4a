//! Passphrases handed to the command line by its caller, read once at start.
//!
//! `KEYWARD_PASSPHRASE`, `KEYWARD_NEW_PASSPHRASE` and
//! `KEYWARD_BACKUP_PASSPHRASE` are taken out of the process environment
//! before anything else runs, so no child (`git` in `scan --staged`, a file
//! manager, whatever a later feature starts) inherits them. An environment
//! variable is still visible to other processes of the same user while the
//! caller's shell holds it; `--passphrase-fd N` and `--passphrase-file F`
//! hand the vault passphrase over without that.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use keyward_core::Passphrase;
use zeroize::Zeroizing;

use super::Failure;

/// The variables that may hold a passphrase.
pub(super) const PASSPHRASE_VARS: [&str; 3] = [
    super::ENV_PASSPHRASE,
    super::ENV_NEW_PASSPHRASE,
    super::backup::ENV_BACKUP_PASSPHRASE,
];

/// A passphrase is one line; longer input is not a passphrase.
const MAX_LEN: u64 = 4096;

static GIVEN: OnceLock<Vec<(&'static str, Zeroizing<String>)>> = OnceLock::new();

/// Takes the passphrase variables out of the environment, and reads the
/// vault passphrase from `fd` or `file` if given (it then wins over
/// `KEYWARD_PASSPHRASE`). Call once, first, while the process has one thread.
pub(super) fn capture(fd: Option<u32>, file: Option<&Path>) -> Result<(), Failure> {
    let mut given = Vec::new();
    for var in PASSPHRASE_VARS {
        if let Some(value) = std::env::var_os(var) {
            // Removed even when not UTF-8, so no child gets it either way.
            std::env::remove_var(var);
            let value = value
                .into_string()
                .map_err(|_| Failure(format!("{var}: not valid UTF-8")))?;
            given.push((var, Zeroizing::new(value)));
        }
    }
    let from = match (fd, file) {
        (Some(_), Some(_)) => {
            return Err(Failure(
                "--passphrase-fd and --passphrase-file: give one of them".into(),
            ))
        }
        (Some(fd), None) => Some(read_fd(fd)?),
        (None, Some(file)) => Some(read_file(file)?),
        (None, None) => None,
    };
    if let Some(p) = from {
        given.retain(|(var, _)| *var != super::ENV_PASSPHRASE);
        given.push((super::ENV_PASSPHRASE, p));
    }
    GIVEN
        .set(given)
        .map_err(|_| Failure("internal: passphrases captured twice".into()))
}

/// The passphrase the caller gave for `var`, if any.
pub(super) fn get(var: &str) -> Option<Passphrase> {
    GIVEN
        .get()?
        .iter()
        .find(|(v, _)| *v == var)
        .map(|(_, p)| Passphrase::new(p.as_str().to_owned()))
}

pub(super) fn has(var: &str) -> bool {
    GIVEN
        .get()
        .is_some_and(|g| g.iter().any(|(v, _)| *v == var))
}

/// The first line from descriptor `fd`, read up to its line end only (the
/// caller may keep the pipe open, or go on with other data), then closed:
/// no program Keyward starts inherits it.
fn read_fd(fd: u32) -> Result<Zeroizing<String>, Failure> {
    let what = format!("--passphrase-fd {fd}");
    let raw = i32::try_from(fd).map_err(|_| Failure(format!("{what}: not a descriptor")))?;
    if raw <= 2 {
        return Err(Failure(format!(
            "{what}: use a descriptor above 2 (standard input carries secret values)"
        )));
    }
    // Checked open before taking ownership: an fd that is not open is an
    // error here, not undefined behaviour below.
    std::fs::metadata(format!("/proc/self/fd/{raw}"))
        .map_err(|e| Failure(format!("{what}: cannot read it: {e}")))?;
    // SAFETY: the caller handed descriptor `fd` to this process to read
    // the passphrase from (that is what the option means), it is open
    // (checked above), and nothing else in this process uses it; owning it
    // closes it when read.
    #[allow(unsafe_code)]
    let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
    let mut f = std::fs::File::from(owned);
    first_line(&mut f, &what)
}

/// The first line of FILE, which only its owner may read (as ssh refuses a
/// private key others can read); opened without waiting on a FIFO.
fn read_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let what = "--passphrase-file";
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(path)
        .map_err(|e| Failure(format!("{what}: cannot read {}: {e}", path.display())))?;
    let meta = f.metadata().map_err(|e| Failure(format!("{what}: {e}")))?;
    if !meta.is_file() {
        return Err(Failure(format!("{what}: not a regular file")));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure(format!(
            "{what}: {} can be read by others (mode {mode:o}); chmod 600 it",
            path.display()
        )));
    }
    first_line(&mut f, what)
}

fn libc_flags() -> i32 {
    use rustix::fs::OFlags;
    (OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC).bits() as i32
}

/// Reads byte by byte up to the first line end (or the end, or the cap):
/// nothing past the passphrase is consumed.
fn first_line(f: &mut std::fs::File, what: &str) -> Result<Zeroizing<String>, Failure> {
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_LEN as usize + 1));
    let mut byte = [0u8; 1];
    loop {
        match f.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => {
                if line.len() as u64 >= MAX_LEN {
                    return Err(Failure(format!("{what}: a passphrase is one line of text")));
                }
                line.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure(format!("{what}: {e}"))),
        }
    }
    zeroize::Zeroize::zeroize(&mut byte);
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let text =
        std::str::from_utf8(&line).map_err(|_| Failure(format!("{what}: not valid UTF-8")))?;
    if text.is_empty() {
        return Err(Failure(format!("{what}: the first line is empty")));
    }
    Ok(Zeroizing::new(text.to_owned()))
}
