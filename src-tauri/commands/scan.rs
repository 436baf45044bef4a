//! The leak scan from the window: start it over chosen places (for every
//! key, or an incident's keys), follow its progress and results over a
//! Tauri channel, cancel it, reveal a hit in the file manager, mark a hit
//! resolved.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use keyward_core::copies;
use keyward_core::incident;
use keyward_core::inventory::FieldError;
use keyward_core::scan::keep::{self, Recorded};
use keyward_core::scan::{self, Keeping, Match, Recheck, Session, Skipped};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{Runtime, State};
use ts_rs::TS;

use super::now;
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::scanjob::{Job, OnEnd, Request};
use crate::state::AppState;

const MAX_PATHS: usize = 64;

fn field(field: &'static str, reason: String) -> IpcError {
    IpcError::invalid(vec![FieldError { field, reason }])
}

impl From<scan::Error> for IpcError {
    fn from(e: scan::Error) -> Self {
        match e {
            scan::Error::Inventory(i) => i.into(),
            scan::Error::StillThere { .. } => IpcError::new(ErrorCode::StillThere, e.to_string()),
            scan::Error::NoSuchCopy(_) => IpcError::new(ErrorCode::NotFound, e.to_string()),
            scan::Error::NothingToFind
            | scan::Error::Unchecked { .. }
            | scan::Error::NameUnreadable(_) => IpcError::new(ErrorCode::Invalid, e.to_string()),
            scan::Error::Matcher(_) => IpcError::new(ErrorCode::Internal, e.to_string()),
        }
    }
}

/// A place worth scanning that exists on this machine.
#[derive(Debug, Serialize, TS)]
pub struct ScanLocation {
    pub path: String,
    /// The path as people write it (`~/.config`).
    pub shown: String,
    pub label: String,
}

#[tauri::command]
pub fn scan_locations() -> Vec<ScanLocation> {
    let Some(home) = dirs::home_dir() else {
        return Vec::new();
    };
    scan::suggested_places(&home)
        .into_iter()
        .map(|(p, label)| ScanLocation {
            path: p.display().to_string(),
            shown: p.strip_prefix(&home).map_or_else(
                |_| p.display().to_string(),
                |r| format!("~/{}", r.display()),
            ),
            label: label.to_owned(),
        })
        .collect()
}

/// A scan's state, with the copies and skipped files found after the ones
/// the window already has.
#[derive(Debug, Serialize, TS)]
pub struct ScanStatus {
    #[ts(type = "number")]
    pub id: u64,
    pub running: bool,
    pub cancelled: bool,
    /// Cancelled because the vault locked.
    pub by_lock: bool,
    pub paths: Vec<String>,
    /// The keys searched for (empty: every key).
    pub keys: Vec<String>,
    pub incident: Option<String>,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    /// What there is to read, once `measured`.
    #[ts(type = "number")]
    pub total_files: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    pub measured: bool,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// Values searched for (each secret field and its encodings), and
    /// secret fields too short to search for.
    pub needles: usize,
    pub too_short: usize,
    /// Copies found from index `since` on.
    pub matches: Vec<Match>,
    pub match_count: usize,
    /// Skipped files from index `skipped_since` on.
    pub skipped: Vec<Skipped>,
    pub skipped_count: usize,
    /// Indexes of copies marked resolved.
    pub resolved: Vec<usize>,
    /// What keeping the copies in the vault changed, once ended (none if
    /// the vault was locked by then).
    pub recorded: Option<Recorded>,
    /// Why the copies found could not be kept in the vault, if so.
    pub keep_error: Option<String>,
    /// The home folder, for paths to be shown as `~/…`.
    pub home: Option<String>,
}

fn status(job: &Job, since: usize, skipped_since: usize) -> ScanStatus {
    let p = &job.progress;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    // Read "running" first: counters read after it are at least as new.
    let running = job.running();
    // Each list with its length, read under one lock: the window checks
    // that what it is sent continues what it has.
    let (matches, match_count) = p.found_since(since);
    let (skipped, skipped_count) = p.skipped_since(skipped_since);
    let kept = job.kept.lock().ok().and_then(|k| k.clone());
    ScanStatus {
        id: job.id,
        running,
        cancelled: p.cancel.load(Ordering::Relaxed),
        by_lock: job.by_lock.load(Ordering::Relaxed),
        paths: job.paths.clone(),
        keys: job.keys.clone(),
        incident: job.incident.clone(),
        files: load(&p.files),
        bytes: load(&p.bytes),
        total_files: load(&p.total_files),
        total_bytes: load(&p.total_bytes),
        measured: p.measured.load(Ordering::Relaxed),
        elapsed_ms: job.elapsed().as_millis() as u64,
        needles: job.needles,
        too_short: job.too_short,
        match_count,
        matches,
        skipped_count,
        skipped,
        resolved: job
            .resolved
            .lock()
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default(),
        recorded: kept.as_ref().and_then(|k| k.as_ref().ok().copied()),
        keep_error: kept.and_then(Result::err),
        home: dirs::home_dir().map(|h| h.display().to_string()),
    }
}

/// `~/x` → the home folder's `x`; the result must be a full path that exists.
fn place(text: &str) -> Result<PathBuf, String> {
    let t = text.trim();
    if t.is_empty() || t.chars().any(char::is_control) {
        return Err("each place must be a path".into());
    }
    let path = match t
        .strip_prefix("~/")
        .or(if t == "~" { Some("") } else { None })
    {
        Some(rest) => dirs::home_dir()
            .ok_or("there is no home folder to expand ~ in")?
            .join(rest),
        None => PathBuf::from(t),
    };
    if !path.is_absolute() {
        return Err(format!("{t} is not a full path (start with / or ~/)"));
    }
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(format!("{t} does not exist"));
    }
    Ok(path)
}

/// Starts a scan of `paths` for every key's secrets, or the given keys',
/// or (with `incident`) the incident's keys — its step 5. Off the main
/// thread: decrypting a thousand keys' secrets takes a moment.
/// `progress` receives what changed every quarter second until the scan
/// ends (see [`follow`]).
#[tauri::command]
pub async fn start_scan<R: Runtime>(
    app: tauri::AppHandle<R>,
    paths: Vec<String>,
    keys: Vec<String>,
    incident: Option<String>,
    progress: Channel<ScanStatus>,
) -> IpcResult<ScanStatus> {
    let (job, first) = super::blocking(move || start(&app, &paths, keys, incident)).await?;
    follow(job, first.match_count, first.skipped_count, progress);
    Ok(first)
}

/// How often a running scan reports.
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// Sends the scan's state to the window while it runs, each message with
/// the copies and skipped files found since the one before (the window
/// appends them), and a last one once it has ended and its copies are kept.
/// One follower per scan: a newer one (the screen opened again) retires
/// this one. Nothing is sent once the vault has locked. Not user activity:
/// an open Scan screen lets the vault auto-lock.
fn follow(
    job: Arc<Job>,
    mut since: usize,
    mut skipped_since: usize,
    progress: Channel<ScanStatus>,
) {
    let mine = job.follower.fetch_add(1, Ordering::Relaxed) + 1;
    let spawned = std::thread::Builder::new()
        .name("scan-progress".into())
        .spawn(move || loop {
            std::thread::sleep(REPORT_EVERY);
            if job.follower.load(Ordering::Relaxed) != mine || job.by_lock.load(Ordering::Relaxed) {
                break;
            }
            let s = status(&job, since, skipped_since);
            // Read after the state: a scan ended by the lock sends nothing.
            if job.by_lock.load(Ordering::Relaxed) {
                break;
            }
            (since, skipped_since) = (s.match_count, s.skipped_count);
            let ended = !s.running;
            if progress.send(s).is_err() || ended {
                break;
            }
        });
    if let Err(e) = spawned {
        crate::startup_probe(&format!("no scan progress reports: {e}"));
    }
}

/// Follows the current scan from where the window's lists end (a Scan
/// screen opened again while a scan runs). `false` if none is running.
#[tauri::command]
pub fn watch_scan(
    state: State<'_, AppState>,
    scan: u64,
    since: usize,
    skipped_since: usize,
    progress: Channel<ScanStatus>,
) -> IpcResult<bool> {
    state.require_unlocked()?;
    match state
        .scans
        .current()
        .filter(|j| j.id == scan && j.running())
    {
        Some(job) => {
            follow(job, since, skipped_since, progress);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Keeps a finished scan's copies in the vault (findings of their keys); a
/// copy no longer in a place searched whole is settled as gone. Nothing if
/// the vault is locked by then.
fn keep_copies<R: Runtime>(app: tauri::AppHandle<R>, keeping: Keeping) -> OnEnd {
    Box::new(move |report| {
        use tauri::Manager;
        let state = app.state::<AppState>();
        state.with_vault_quiet(|u| {
            keeping
                .record(&mut u.vault, report, now())
                .map_err(|e| format!("the copies found could not be kept in the vault: {e}"))
        })
    })
}

fn start<R: Runtime>(
    app: &tauri::AppHandle<R>,
    paths: &[String],
    keys: Vec<String>,
    incident: Option<String>,
) -> IpcResult<(Arc<Job>, ScanStatus)> {
    use tauri::Manager;
    let state = &app.state::<AppState>();
    if paths.is_empty() {
        return Err(field("paths", "choose at least one folder or file".into()));
    }
    if paths.len() > MAX_PATHS {
        return Err(field("paths", format!("at most {MAX_PATHS} places")));
    }
    let roots = paths
        .iter()
        .map(|p| place(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|r| field("paths", r))?;
    let job = state.with_unlocked(|u| {
        if state.scans.is_running() {
            return Err(IpcError::new(
                ErrorCode::Busy,
                "a leak scan is already running: cancel it or wait for it to end",
            ));
        }
        let (keys, incident) = match incident {
            Some(id) => {
                let i = incident::get(&u.vault, &id)?;
                let keys: Vec<String> = i
                    .keys
                    .iter()
                    .filter(|k| k.exists)
                    .map(|k| k.entry_id.clone())
                    .collect();
                if keys.is_empty() {
                    return Err(field(
                        "incident",
                        "the incident's keys have all been deleted: nothing to search for".into(),
                    ));
                }
                (keys, Some(i.id))
            }
            None => (keys, None),
        };
        let session = Session::begin(
            &mut u.vault,
            &scan::Request {
                roots: &roots,
                keys: &keys,
                incident: incident.as_deref(),
                max_file_mb: Some(u64::from(u.settings.scan_max_file_mb)),
                ..scan::Request::default()
            },
            now(),
        )?;
        let (count, too_short) = (session.needles, session.too_short);
        let max_file = session.scanner.max_file();
        let on_end = keep_copies(app.clone(), session.keeping);
        Ok(state.scans.start(
            session.scanner,
            count,
            too_short,
            Request {
                roots,
                keys,
                incident,
                max_file,
                on_end: Some(on_end),
            },
        ))
    })?;
    let first = status(&job, 0, 0);
    Ok((job, first))
}

/// The current (or last) scan, its lists from `since` on; `None` if there
/// was none this session. Not user activity.
#[tauri::command]
pub fn scan_status(
    state: State<'_, AppState>,
    since: usize,
    skipped_since: usize,
) -> IpcResult<Option<ScanStatus>> {
    state.require_unlocked()?;
    Ok(state
        .scans
        .current()
        .map(|j| status(&j, since, skipped_since)))
}

#[tauri::command]
pub fn cancel_scan(state: State<'_, AppState>) {
    state.scans.cancel();
}

/// The `index`th copy of scan `scan` (the one the window shows: a newer
/// scan's copies are numbered afresh).
fn hit(state: &AppState, scan: u64, index: usize) -> IpcResult<(std::sync::Arc<Job>, Match)> {
    let gone = || {
        IpcError::new(
            ErrorCode::NotFound,
            "that scan result is no longer the current one",
        )
    };
    let job = state
        .scans
        .current()
        .filter(|j| j.id == scan)
        .ok_or_else(gone)?;
    let m = job
        .hit(index)
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no such copy in the scan result"))?;
    Ok((job, m))
}

/// Shows the file of the `index`th copy in the file manager (off the main
/// thread: a D-Bus call may wait).
#[tauri::command]
pub async fn reveal_scan_match(
    state: State<'_, AppState>,
    scan: u64,
    index: usize,
) -> IpcResult<()> {
    state.with_unlocked(|_| Ok(()))?;
    let (_, m) = hit(&state, scan, index)?;
    super::blocking(move || {
        crate::platform::reveal::reveal(&m.file).map_err(|r| IpcError::new(ErrorCode::NotFound, r))
    })
    .await
}

/// Searches `file` again for that key's secrets (off the main thread and
/// without holding the session): `Ok` if the copy of `field` is gone (or
/// the file is), an error naming the line if it is still there.
async fn check_gone(
    state: &AppState,
    key_id: &str,
    file: PathBuf,
    field: String,
    shown: String,
) -> IpcResult<()> {
    let recheck = state.with_unlocked(|u| Ok(Recheck::prepare(&u.vault, key_id)?))?;
    super::blocking(move || Ok(recheck.copy_gone(&file, &field, &shown)?)).await
}

/// Marks the `index`th copy resolved: the file is searched again for that
/// key's secrets first, and a copy still there is refused unless `anyway`
/// (the key was revoked, or the file is meant to hold it). The copy kept in
/// the vault is settled with it (one audit row).
#[tauri::command]
pub async fn resolve_scan_match(
    state: State<'_, AppState>,
    scan: u64,
    index: usize,
    anyway: bool,
) -> IpcResult<Vec<usize>> {
    let (job, m) = hit(&state, scan, index)?;
    if !anyway {
        check_gone(
            &state,
            &m.key_id,
            m.file.clone(),
            m.field.clone(),
            m.path.clone(),
        )
        .await?;
    }
    state.with_unlocked(|u| {
        // Checked above (unless anyway), off the main thread.
        keep::resolve(&mut u.vault, now(), &m, !anyway)?;
        let mut resolved = job
            .resolved
            .lock()
            .map_err(|_| IpcError::new(ErrorCode::Internal, "the scan result is unavailable"))?;
        resolved.insert(index);
        Ok(resolved.iter().copied().collect())
    })
}

/// Copies kept from earlier scans and not resolved (paths, never values).
#[tauri::command]
pub fn leak_copies(state: State<'_, AppState>) -> IpcResult<Vec<copies::Copy>> {
    state.with_unlocked(|u| Ok(copies::open(&u.vault)?))
}

/// Marks a kept copy resolved, checked as [`resolve_scan_match`] does.
#[tauri::command]
pub async fn resolve_leak_copy(state: State<'_, AppState>, id: u64, anyway: bool) -> IpcResult<()> {
    let copy = state.with_unlocked(|u| Ok(scan::kept(&u.vault, id)?))?;
    if !anyway {
        scan::checkable(&copy)?;
        check_gone(
            &state,
            &copy.key_id,
            PathBuf::from(&copy.path),
            copy.field.clone(),
            copy.path.clone(),
        )
        .await?;
    }
    state.with_unlocked(|u| {
        keep::resolve_kept(&mut u.vault, now(), &copy, !anyway)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use keyward_core::scan::{Needles, Scanner};
    use tauri::ipc::InvokeResponseBody;

    use super::*;
    use crate::scanjob::Scans;

    /// A channel that keeps whether each report said the scan was running.
    fn recording() -> (Channel<ScanStatus>, Arc<Mutex<Vec<bool>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let channel = Channel::new(move |body| {
            let running = match body {
                InvokeResponseBody::Json(text) => serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap()["running"]
                    .as_bool()
                    .unwrap(),
                InvokeResponseBody::Raw(_) => panic!("a report is JSON"),
            };
            into.lock().unwrap().push(running);
            Ok(())
        });
        (channel, seen)
    }

    fn count(seen: &Mutex<Vec<bool>>) -> usize {
        seen.lock().unwrap().len()
    }

    #[test]
    fn one_follower_reports_and_nothing_is_sent_after_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        // Sparse: gigabytes to read, no disk used.
        for i in 0..64 {
            let f = std::fs::File::create(dir.path().join(format!("{i}.img"))).unwrap();
            f.set_len(256 << 20).unwrap();
        }
        let mut needles = Needles::default();
        needles.add("k1", "bot", "api_secret", b"follow-secret-Qm4vX8rT2wL6nZ1p");
        let n = needles.len();
        let scans = Scans::default();
        let job = scans.start(
            Scanner::new(needles, u64::MAX).unwrap(),
            n,
            0,
            crate::scanjob::Request {
                roots: vec![dir.path().to_path_buf()],
                keys: Vec::new(),
                incident: None,
                max_file: u64::MAX,
                on_end: None,
            },
        );
        let pause = || std::thread::sleep(REPORT_EVERY * 3);
        let (first, first_seen) = recording();
        follow(job.clone(), 0, 0, first);
        pause();
        assert!(count(&first_seen) >= 1, "the follower reports");
        // The screen opened again: the newer follower takes over.
        let (second, second_seen) = recording();
        follow(job.clone(), 0, 0, second);
        pause();
        let retired = count(&first_seen);
        pause();
        assert_eq!(count(&first_seen), retired, "the older follower stopped");
        assert!(count(&second_seen) >= 2, "the newer one reports");
        assert!(job.running(), "the scan outlasts the test's pauses");
        // The vault locks: the scan stops and nothing more is sent, not
        // even the final report.
        scans.cancel_for_lock();
        while job.running() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let at_lock = count(&second_seen);
        pause();
        assert_eq!(count(&second_seen), at_lock);
        assert!(second_seen.lock().unwrap().iter().all(|running| *running));
    }
}
