//! One leak scan from start to end, the same for the window and the
//! command line: [`Session::begin`] prepares the needles and records the
//! audit row, the edge runs the [`Scanner`] (on a thread with progress, or
//! in line), and [`Keeping::record`] keeps the copies found in the vault.
//! A kept copy is marked resolved through [`resolve_kept`], which searches
//! its file again first unless the user says "anyway" ([`Recheck`]).

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::keep::{self, Recorded, Searched};
use super::{Error, Needles, Report, Result, Scanner};
use crate::copies::{self, Copy};
use crate::inventory;
use crate::settings;
use crate::vault::audit::{self, Action};
use crate::vault::Vault;

/// What a scan is asked to do.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// The places searched, as full paths (none for a staged commit).
    pub roots: &'a [PathBuf],
    /// The keys searched for, as given (ids or prefixes); empty: every key.
    pub keys: &'a [String],
    /// The incident whose step 5 this scan is.
    pub incident: Option<&'a str>,
    /// The number of files staged for a commit, for a pre-commit scan
    /// (whose copies are not kept: the files are not on disk as staged).
    pub staged: Option<usize>,
    /// The size limit; `None`: the `scan_max_file_mb` setting.
    pub max_file_mb: Option<u64>,
}

/// A scan begun: the scanner to run (it holds the decrypted needles until
/// dropped) and what is needed to keep its copies afterwards.
pub struct Session {
    pub scanner: Scanner,
    pub keeping: Keeping,
    /// Values searched for (each secret field in each encoding).
    pub needles: usize,
    /// Secret fields too short to search for.
    pub too_short: usize,
}

/// What a finished scan's copies are kept against: the places searched
/// whole settle the copies no longer found there.
#[derive(Clone, Debug)]
pub struct Keeping {
    roots: Vec<PathBuf>,
    /// The keys searched for, by full id (empty: every key).
    only: Vec<String>,
    started: OffsetDateTime,
    staged: bool,
}

impl Session {
    /// Decrypts the needles and records the scan in the audit log (one row
    /// for all the values searched for).
    pub fn begin(vault: &mut Vault, req: &Request<'_>, now: OffsetDateTime) -> Result<Session> {
        let needles = Needles::from_vault(vault, req.keys)?;
        let only = needles.only.clone();
        let (count, too_short) = (needles.len(), needles.too_short.len());
        let max_file_mb = match req.max_file_mb {
            Some(m) => m,
            None => u64::from(
                settings::load(vault)
                    .map_err(inventory::Error::from)?
                    .scan_max_file_mb,
            ),
        };
        let scanner = Scanner::new(needles, max_file_mb.saturating_mul(1 << 20))?;
        audit::record(
            vault,
            now,
            Action::SecretScan,
            None,
            &serde_json::json!({
                "paths": req.staged.unwrap_or(req.roots.len()),
                "staged": req.staged.is_some(),
                "needles": count,
                "keys": req.keys,
                "incident": req.incident,
            }),
        )
        .map_err(inventory::Error::from)?;
        Ok(Session {
            scanner,
            keeping: Keeping {
                roots: req.roots.to_vec(),
                only,
                started: now,
                staged: req.staged.is_some(),
            },
            needles: count,
            too_short,
        })
    }
}

impl Keeping {
    /// Keeps a finished scan's copies in the vault as findings of their
    /// keys; a copy no longer in a place searched whole is settled as gone.
    /// A staged commit's copies are not kept.
    pub fn record(
        &self,
        vault: &mut Vault,
        report: &Report,
        now: OffsetDateTime,
    ) -> crate::vault::Result<Recorded> {
        if self.staged {
            return Ok(Recorded::default());
        }
        let searched = Searched {
            roots: &self.roots,
            keys: (!self.only.is_empty()).then_some(self.only.as_slice()),
            started: self.started,
        };
        keep::record(vault, now, &searched, report)
    }
}

/// Searching one file again for one key's secrets, to tell whether a copy
/// is gone. Prepared with the vault open, run without it (a big file takes
/// a while).
pub struct Recheck {
    scanner: Scanner,
}

impl Recheck {
    pub fn prepare(vault: &Vault, key_id: &str) -> Result<Recheck> {
        let needles = Needles::of_key(vault, key_id)?;
        let max_file_mb = settings::load(vault)
            .map_err(inventory::Error::from)?
            .scan_max_file_mb;
        Ok(Recheck {
            scanner: Scanner::new(needles, u64::from(max_file_mb) << 20)?,
        })
    }

    /// `Ok` if the copy of `field` is no longer in `file` (or the file is
    /// gone); otherwise why not. `shown`: the file as the user knows it.
    pub fn copy_gone(self, file: &Path, field: &str, shown: &str) -> Result<()> {
        let checked = self.scanner.scan_path(file);
        drop(self.scanner);
        match checked {
            Ok(found) => match found.iter().find(|f| f.field == field) {
                Some(still) => Err(Error::StillThere {
                    shown: shown.to_owned(),
                    line: still.line,
                }),
                None => Ok(()),
            },
            // The file itself is gone (its real path, not a lossy name): so
            // is the copy.
            Err(_)
                if std::fs::symlink_metadata(file)
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
            {
                Ok(())
            }
            Err(reason) => Err(Error::Unchecked {
                shown: shown.to_owned(),
                reason,
            }),
        }
    }
}

/// The kept copy with this id, if it is still open.
pub fn kept(vault: &Vault, id: u64) -> Result<Copy> {
    copies::open(vault)
        .map_err(inventory::Error::from)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(Error::NoSuchCopy(id))
}

/// Whether a kept copy's file can be searched again: a name kept with a
/// replaced byte (not valid UTF-8) cannot be opened again to check.
pub fn checkable(copy: &Copy) -> Result<()> {
    if copy.path.contains('\u{FFFD}') {
        return Err(Error::NameUnreadable(copy.path.clone()));
    }
    Ok(())
}

/// Marks a kept copy (from an earlier scan) resolved: its file is searched
/// again first unless `anyway`.
pub fn resolve_kept(vault: &mut Vault, id: u64, anyway: bool, now: OffsetDateTime) -> Result<Copy> {
    let copy = kept(vault, id)?;
    if !anyway {
        checkable(&copy)?;
        Recheck::prepare(vault, &copy.key_id)?.copy_gone(
            Path::new(&copy.path),
            &copy.field,
            &copy.path,
        )?;
    }
    keep::resolve_kept(vault, now, &copy, !anyway).map_err(inventory::Error::from)?;
    Ok(copy)
}
