//! The app's one leak scan at a time: it runs on its own thread while the
//! window polls its progress, and ends (dropping the decrypted needles) when
//! it is done, cancelled, or the vault locks.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use keyward_core::scan::keep::Recorded;
use keyward_core::scan::{self, Match, Progress, Report, Scanner};

pub struct Job {
    pub id: u64,
    pub paths: Vec<String>,
    /// The keys searched for (empty: all of them).
    pub keys: Vec<String>,
    /// The incident this scan is step 5 of, if any.
    pub incident: Option<String>,
    pub needles: usize,
    pub too_short: usize,
    pub progress: Arc<Progress>,
    started: Instant,
    /// How long it took, once it has ended.
    took: Mutex<Option<Duration>>,
    /// Cancelled because the vault locked (not by the user).
    pub by_lock: AtomicBool,
    /// Indexes (in the order found) of copies marked resolved.
    pub resolved: Mutex<BTreeSet<usize>>,
    /// What keeping the copies in the vault changed, or why they could not
    /// be kept (`None` until the scan ends, or if the vault was locked by
    /// then).
    pub kept: Mutex<Option<Result<Recorded, String>>>,
    /// Which window follower reports its progress: a newer one (the Scan
    /// screen opened again) retires the older, so one thread reports.
    pub follower: AtomicU64,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Job {
    pub fn running(&self) -> bool {
        guard(&self.took).is_none()
    }

    pub fn elapsed(&self) -> Duration {
        guard(&self.took).unwrap_or_else(|| self.started.elapsed())
    }

    /// The `index`th copy found (with its real path).
    pub fn hit(&self, index: usize) -> Option<Match> {
        self.progress.found_at(index)
    }
}

#[derive(Default)]
pub struct Scans {
    current: Mutex<Option<Arc<Job>>>,
    next_id: AtomicU64,
}

/// What is done with a finished scan's report before it shows as ended
/// (the app keeps its copies in the vault): `None` if the vault was locked
/// by then, otherwise what keeping them changed or why it failed.
pub type OnEnd = Box<dyn FnOnce(&Report) -> Option<Result<Recorded, String>> + Send>;

/// What a new scan searches for, and where.
pub struct Request {
    pub roots: Vec<PathBuf>,
    pub keys: Vec<String>,
    pub incident: Option<String>,
    pub max_file: u64,
    pub on_end: Option<OnEnd>,
}

impl Scans {
    pub fn current(&self) -> Option<Arc<Job>> {
        guard(&self.current).clone()
    }

    pub fn is_running(&self) -> bool {
        self.current().is_some_and(|j| j.running())
    }

    /// Starts `scanner` over the request's roots on a thread of its own,
    /// with a second one counting what there is to read (for the ETA).
    pub fn start(
        &self,
        scanner: Scanner,
        needles: usize,
        too_short: usize,
        req: Request,
    ) -> Arc<Job> {
        let job = Arc::new(Job {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            paths: req.roots.iter().map(|p| p.display().to_string()).collect(),
            keys: req.keys,
            incident: req.incident,
            needles,
            too_short,
            progress: Arc::new(Progress::default()),
            started: Instant::now(),
            took: Mutex::new(None),
            by_lock: AtomicBool::new(false),
            resolved: Mutex::new(BTreeSet::new()),
            kept: Mutex::new(None),
            follower: AtomicU64::new(0),
        });
        *guard(&self.current) = Some(job.clone());
        let worker = job.clone();
        let roots = req.roots;
        let max_file = req.max_file;
        let on_end = req.on_end;
        let spawned = std::thread::Builder::new()
            .name("leak-scan".into())
            .spawn(move || {
                // Marks the job ended however the thread ends (a panic too),
                // so a new scan is never refused as "already running".
                struct Ended(Arc<Job>);
                impl Drop for Ended {
                    fn drop(&mut self) {
                        *guard(&self.0.took) = Some(self.0.started.elapsed());
                    }
                }
                let ended = Ended(worker);
                let worker = &ended.0;
                let report = std::thread::scope(|s| {
                    s.spawn(|| scan::measure(&roots, max_file, &worker.progress));
                    let report = scanner.scan(&roots, &worker.progress);
                    // The needles are wiped here, before the result is shown.
                    drop(scanner);
                    report
                });
                if let Some(on_end) = on_end {
                    *guard(&worker.kept) = on_end(&report);
                }
            });
        if spawned.is_err() {
            job.progress.cancel.store(true, Ordering::Relaxed);
            *guard(&job.took) = Some(Duration::ZERO);
        }
        job
    }

    pub fn cancel(&self) {
        if let Some(j) = self.current() {
            j.progress.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// The vault locked: a running scan stops, so its decrypted needles
    /// leave memory with the vault's keys. Its results (no secret in them)
    /// stay.
    pub fn cancel_for_lock(&self) {
        if let Some(j) = self.current().filter(|j| j.running()) {
            j.by_lock.store(true, Ordering::Relaxed);
            j.progress.cancel.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::scan::Needles;

    const SECRET: &[u8] = b"job-secret-Qm4vX8rT2wL6nZ1p";

    fn job_over(dir: &std::path::Path, scans: &Scans) -> Arc<Job> {
        let mut needles = Needles::default();
        needles.add("k1", "bot", "api_secret", SECRET);
        let n = needles.len();
        let scanner = Scanner::new(needles, u64::MAX).unwrap();
        scans.start(
            scanner,
            n,
            0,
            Request {
                roots: vec![dir.to_path_buf()],
                keys: Vec::new(),
                incident: None,
                max_file: u64::MAX,
                on_end: Some(Box::new(|report: &Report| {
                    Some(Ok(Recorded {
                        new: report.matches.len(),
                        ..Recorded::default()
                    }))
                })),
            },
        )
    }

    fn wait_end(job: &Job) {
        while job.running() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_scan_runs_to_the_end_with_its_total_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"x=".to_vec();
        text.extend_from_slice(SECRET);
        std::fs::write(dir.path().join("a.env"), &text).unwrap();
        std::fs::write(dir.path().join("b.txt"), b"nothing").unwrap();
        let scans = Scans::default();
        let job = job_over(dir.path(), &scans);
        wait_end(&job);
        let p = &job.progress;
        assert_eq!(p.files.load(Ordering::Relaxed), 2);
        assert!(p.measured.load(Ordering::Relaxed) || p.finished.load(Ordering::Relaxed));
        assert_eq!(job.hit(0).map(|m| m.preview), Some("x=****".to_owned()));
        assert!(job.hit(1).is_none());
        assert!(!scans.is_running());
        // The report was handed on before the job showed as ended.
        assert_eq!(
            guard(&job.kept).as_ref().map(|r| r.as_ref().map(|r| r.new)),
            Some(Ok(1))
        );
    }

    #[test]
    fn locking_stops_a_running_scan_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        // Sparse: gigabytes to read, no disk used.
        for i in 0..64 {
            let f = std::fs::File::create(dir.path().join(format!("{i}.img"))).unwrap();
            f.set_len(256 << 20).unwrap();
        }
        let scans = Scans::default();
        let job = job_over(dir.path(), &scans);
        while job.progress.bytes.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        scans.cancel_for_lock();
        wait_end(&job);
        assert!(job.by_lock.load(Ordering::Relaxed));
        assert!(job.progress.cancel.load(Ordering::Relaxed));
        assert!(job.progress.bytes.load(Ordering::Relaxed) < 64 * (256 << 20));
        // A scan already ended is left as it was.
        scans.cancel_for_lock();
        let again = job_over(dir.path(), &scans);
        assert_ne!(again.id, job.id);
        scans.cancel();
        wait_end(&again);
        assert!(!again.by_lock.load(Ordering::Relaxed));
    }
}
