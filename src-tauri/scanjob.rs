//! The app's one leak scan at a time: it runs on its own thread while the
//! window polls its progress, and ends (dropping the decrypted needles) when
//! it is done, cancelled, or the vault locks.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use keyward_core::scan::{self, Match, Progress, Scanner};

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

    /// The `index`th copy found.
    pub fn hit(&self, index: usize) -> Option<Match> {
        self.progress.found_since(index).into_iter().next()
    }
}

#[derive(Default)]
pub struct Scans {
    current: Mutex<Option<Arc<Job>>>,
    next_id: AtomicU64,
}

/// What a new scan searches for, and where.
pub struct Request {
    pub roots: Vec<PathBuf>,
    pub keys: Vec<String>,
    pub incident: Option<String>,
    pub max_file: u64,
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
        });
        *guard(&self.current) = Some(job.clone());
        let worker = job.clone();
        let roots = req.roots;
        let max_file = req.max_file;
        let spawned = std::thread::Builder::new()
            .name("leak-scan".into())
            .spawn(move || {
                std::thread::scope(|s| {
                    s.spawn(|| scan::measure(&roots, max_file, &worker.progress));
                    scanner.scan(&roots, &worker.progress);
                    // The needles are wiped here, before the result is shown.
                    drop(scanner);
                });
                *guard(&worker.took) = Some(worker.started.elapsed());
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
