//! The app's state: one vault directory and one session over it, locked or
//! unlocked. Locking drops the `Vault` — closing the database and wiping
//! every key — and clears the clipboard if it still holds a copied secret.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use keyward_core::inventory::{Entry, SearchIndex};
use keyward_core::settings::Settings;
use keyward_core::{Vault, VaultDir};

use crate::error::{IpcError, IpcResult};
use crate::platform::clipboard::SecretClipboard;
use crate::platform::timer::boot_now;

/// The entries last sent to the window, with their search index. Filters
/// answer with positions in this list, tagged by `version`.
pub struct Listing {
    pub version: u64,
    pub entries: Vec<Entry>,
    pub index: SearchIndex,
}

pub struct Unlocked {
    pub vault: Vault,
    pub settings: Settings,
    pub listing: Option<Listing>,
}

pub enum Session {
    Locked,
    Unlocked(Box<Unlocked>),
}

/// Why the session was locked, for the window to say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum LockReason {
    User,
    Idle,
}

pub struct AppState {
    pub dir: VaultDir,
    session: Mutex<Session>,
    /// Boot time (suspend included) of the user's last action.
    last_activity: Mutex<Duration>,
    listing_version: Mutex<u64>,
    pub clipboard: SecretClipboard,
    /// Wakes the reminder scheduler to plan again (keys, settings or the
    /// session changed). A wake-up requested while it is busy is kept.
    pub replan: Arc<tokio::sync::Notify>,
    /// Wakes the idle auto-lock: the session or its settings changed.
    pub session_changed: Arc<tokio::sync::Notify>,
    /// The last known "close to tray" setting (the settings live in the
    /// vault, unreadable while locked).
    close_to_tray: std::sync::atomic::AtomicBool,
    /// The leak scan running or last run.
    pub scans: crate::scanjob::Scans,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub fn new(dir: VaultDir) -> Self {
        AppState {
            dir,
            session: Mutex::new(Session::Locked),
            last_activity: Mutex::new(boot_now()),
            listing_version: Mutex::new(0),
            clipboard: SecretClipboard::default(),
            replan: Arc::new(tokio::sync::Notify::new()),
            session_changed: Arc::new(tokio::sync::Notify::new()),
            close_to_tray: std::sync::atomic::AtomicBool::new(true),
            scans: crate::scanjob::Scans::default(),
        }
    }

    pub fn close_to_tray(&self) -> bool {
        self.close_to_tray
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies the settings that act outside the vault: close to tray, and
    /// autostart at login.
    pub fn apply_desktop_settings(&self, settings: &Settings) -> std::io::Result<()> {
        self.close_to_tray
            .store(settings.close_to_tray, std::sync::atomic::Ordering::Relaxed);
        let (Some(config), Ok(exe)) = (dirs::config_dir(), std::env::current_exe()) else {
            return Ok(());
        };
        crate::platform::autostart::apply(&config, settings.autostart, &exe, self.dir.path())
    }

    /// Keys, settings or the session changed: reminders plan again.
    pub fn changed(&self) {
        self.replan.notify_one();
        self.session_changed.notify_one();
    }

    /// Runs `f` on the unlocked session without counting as user activity
    /// (background work must not keep a session from auto-locking).
    /// `None` when locked.
    pub fn with_vault_quiet<T>(&self, f: impl FnOnce(&mut Unlocked) -> T) -> Option<T> {
        match &mut *lock(&self.session) {
            Session::Unlocked(u) => Some(f(u)),
            Session::Locked => None,
        }
    }

    pub fn is_unlocked(&self) -> bool {
        matches!(*lock(&self.session), Session::Unlocked(_))
    }

    /// For commands that touch no vault but must not run for whoever sits
    /// at a locked window (reading a backup file, restoring one).
    pub fn require_unlocked(&self) -> IpcResult<()> {
        if self.is_unlocked() {
            Ok(())
        } else {
            Err(IpcError::locked())
        }
    }

    /// The user did something: the idle timer starts again.
    pub fn touch(&self) {
        *lock(&self.last_activity) = boot_now();
    }

    /// Runs `f` on the unlocked session (and counts as activity).
    pub fn with_unlocked<T>(&self, f: impl FnOnce(&mut Unlocked) -> IpcResult<T>) -> IpcResult<T> {
        self.touch();
        let mut session = lock(&self.session);
        match &mut *session {
            Session::Unlocked(u) => f(u),
            Session::Locked => Err(IpcError::locked()),
        }
    }

    /// Like [`Self::with_unlocked`] for a change: on success, reminders
    /// plan again.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut Unlocked) -> IpcResult<T>) -> IpcResult<T> {
        let out = self.with_unlocked(f);
        if out.is_ok() {
            self.changed();
        }
        out
    }

    pub fn set_unlocked(&self, vault: Vault, settings: Settings) {
        self.touch();
        *lock(&self.session) = Session::Unlocked(Box::new(Unlocked {
            vault,
            settings,
            listing: None,
        }));
        self.changed();
    }

    pub fn next_listing_version(&self) -> u64 {
        let mut v = lock(&self.listing_version);
        *v += 1;
        *v
    }

    /// Takes the unlocked session out (the window sees the vault locked
    /// meanwhile), for work that consumes the `Vault` (a new identity);
    /// [`Self::set_unlocked`] puts the new one back.
    pub fn take_unlocked(&self) -> Option<Box<Unlocked>> {
        match std::mem::replace(&mut *lock(&self.session), Session::Locked) {
            Session::Unlocked(u) => Some(u),
            Session::Locked => None,
        }
    }

    /// Locks now. Returns whether it was unlocked.
    pub fn lock(&self) -> bool {
        let previous = std::mem::replace(&mut *lock(&self.session), Session::Locked);
        self.clipboard.clear_if_ours();
        self.scans.cancel_for_lock();
        self.changed();
        match previous {
            Session::Unlocked(u) => {
                // Closing checkpoints the WAL; the keys are wiped on drop either way.
                let _ = u.vault.lock();
                true
            }
            Session::Locked => false,
        }
    }

    /// Locks if the session has been idle longer than its auto-lock
    /// setting; `now` is boot time, so a suspend counts as idle.
    pub fn lock_if_idle(&self, now: Duration) -> bool {
        self.idle_remaining(now) == Some(Duration::ZERO) && self.lock()
    }

    /// How long until the idle auto-lock; `None` when locked.
    pub fn idle_remaining(&self, now: Duration) -> Option<Duration> {
        let limit = match &*lock(&self.session) {
            Session::Unlocked(u) => idle_limit(&u.settings),
            Session::Locked => return None,
        };
        let idle = now.saturating_sub(*lock(&self.last_activity));
        Some(limit.saturating_sub(idle))
    }
}

pub fn idle_limit(settings: &Settings) -> Duration {
    Duration::from_secs(u64::from(settings.auto_lock_minutes) * 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::{KdfParams, Origin, Passphrase};

    fn unlocked_state() -> (tempfile::TempDir, AppState) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = VaultDir::new(tmp.path().join("v"));
        let vault = Vault::init(
            &dir,
            &Passphrase::new("orbit lantern cobalt meadow 42".into()),
            KdfParams::insecure_for_tests(10).unwrap(),
            time::OffsetDateTime::UNIX_EPOCH,
            Origin::Test,
        )
        .unwrap();
        let state = AppState::new(dir);
        state.set_unlocked(vault, Settings::default());
        (tmp, state)
    }

    #[test]
    fn backup_files_are_read_only_for_an_unlocked_session() {
        let (_tmp, state) = unlocked_state();
        assert!(state.require_unlocked().is_ok());
        state.lock();
        let e = state.require_unlocked().unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::Locked);
    }

    #[test]
    fn an_idle_session_locks_after_its_setting_and_not_before() {
        let (_tmp, state) = unlocked_state();
        let start = *lock(&state.last_activity);
        assert_eq!(
            state.idle_remaining(start + Duration::from_secs(4 * 60)),
            Some(Duration::from_secs(60))
        );
        assert!(!state.lock_if_idle(start + Duration::from_secs(4 * 60 + 59)));
        assert!(state.is_unlocked());
        assert!(state.lock_if_idle(start + Duration::from_secs(5 * 60)));
        assert!(!state.is_unlocked());
        assert_eq!(state.idle_remaining(start), None);
        assert!(matches!(
            state.with_unlocked(|_| Ok(())),
            Err(IpcError {
                code: crate::error::ErrorCode::Locked,
                ..
            })
        ));
    }

    #[test]
    fn activity_restarts_the_idle_timer() {
        let (_tmp, state) = unlocked_state();
        std::thread::sleep(Duration::from_millis(20));
        let before_touch = boot_now();
        state.touch();
        assert!(!state
            .lock_if_idle(before_touch + Duration::from_secs(5 * 60) - Duration::from_millis(10)));
        assert!(state.is_unlocked());
    }

    #[test]
    fn locking_twice_is_harmless() {
        let (_tmp, state) = unlocked_state();
        assert!(state.lock());
        assert!(!state.lock());
    }
}
