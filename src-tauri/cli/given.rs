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
        (Some(fd), None) => Some(read_line(
            Path::new(&format!("/dev/fd/{fd}")),
            &format!("--passphrase-fd {fd}"),
            false,
        )?),
        (None, Some(file)) => Some(read_line(file, "--passphrase-file", true)?),
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

/// The first line of `path` (a file, or `/dev/fd/N`), without its line end.
/// A file others can read is refused, as ssh refuses such a private key.
fn read_line(path: &Path, what: &str, private: bool) -> Result<Zeroizing<String>, Failure> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| Failure(format!("{what}: cannot read {}: {e}", path.display())))?;
    if private {
        use std::os::unix::fs::PermissionsExt;
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
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_LEN as usize + 1));
    (&mut f)
        .take(MAX_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure(format!("{what}: {e}")))?;
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() as u64 > MAX_LEN - 2 {
        return Err(Failure(format!("{what}: a passphrase is one line of text")));
    }
    let text =
        std::str::from_utf8(line).map_err(|_| Failure(format!("{what}: not valid UTF-8")))?;
    if text.is_empty() {
        return Err(Failure(format!("{what}: the first line is empty")));
    }
    Ok(Zeroizing::new(text.to_owned()))
}
