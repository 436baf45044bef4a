//! The reminder scheduler: one task that sends what is due, then sleeps on
//! the wall clock until the next threshold — no polling. It plans again
//! when keys, settings or the session change, when the system clock is
//! set, and (the timer being on the wall clock) fires on resume for what
//! came due during sleep.
//!
//! Unlocked, it reads the vault and names keys; locked, it reads only the
//! nameless schedule beside the vault and says how many keys are due.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use keyward_core::backup;
use keyward_core::findings;
use keyward_core::reminder::{self as reminders, Reminder, Schedule, Snapshot, TimeZone};
use keyward_core::review;
use keyward_core::{Vault, VaultDir};
use tauri::{AppHandle, Emitter, Manager};
use time::OffsetDateTime;

use crate::platform::notify::{self, Notice};
use crate::platform::timer::{Timer, Woke};
use crate::state::AppState;

/// Sent to the window when the user clicks "Open" on a reminder (payload:
/// the key's id).
pub const EVENT_OPEN_ENTRY: &str = "open-entry";

/// At most this many notifications per round name a key; the rest are
/// summed up in one.
const MAX_DETAILED: usize = 5;

/// What the scheduler has done, for the tray and the benchmark.
#[derive(Default)]
pub struct Stats {
    /// Times the task woke up and planned.
    pub wakes: AtomicU64,
    /// Keys due now or within the first reminder threshold.
    pub due: AtomicU32,
    /// Critical findings, as of the last round while unlocked.
    pub critical: AtomicU32,
}

/// Starts the scheduler on the app's async runtime.
pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let timer = match Timer::wall() {
            Ok(t) => t,
            Err(e) => {
                trace(&format!("no wall-clock timer, reminders off: {e}"));
                return;
            }
        };
        let replan = app.state::<AppState>().replan.clone();
        loop {
            let next = round(&app);
            let stats = app.state::<Stats>();
            stats.wakes.fetch_add(1, Ordering::Relaxed);
            crate::tray::show_due(
                &app,
                stats.due.load(Ordering::Relaxed),
                stats.critical.load(Ordering::Relaxed),
            );
            trace(&format!(
                "planned; next wake-up {}",
                next.map(keyward_core::timefmt::format)
                    .unwrap_or_else(|| "never".into())
            ));
            match next {
                Some(at) => {
                    tokio::select! {
                        () = replan.notified() => trace("woke: something changed"),
                        woke = timer.sleep_until(at) => match woke {
                            Ok(Woke::Due) => trace("woke: a reminder is due"),
                            Ok(Woke::ClockChanged) => trace("woke: the clock was set"),
                            Err(e) => {
                                trace(&format!("timer failed: {e}"));
                                replan.notified().await;
                            }
                        },
                    }
                }
                None => {
                    replan.notified().await;
                    trace("woke: something changed");
                }
            }
        }
    });
}

/// With `KEYWARD_TRACE_SCHEDULER` set, each wake-up is noted: on stderr
/// for `1`, else appended to the file it names (the wake-up benchmark counts
/// them). Never a key's name or id.
fn trace(what: &str) {
    let Some(target) = std::env::var_os("KEYWARD_TRACE_SCHEDULER") else {
        return;
    };
    let line = format!("keyward scheduler: {what}\n");
    if target == "1" {
        #[allow(clippy::print_stderr)]
        {
            eprint!("{line}");
        }
    } else if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target)
    {
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}

/// Shows one notice; the entry id (for "Open") when it names a key.
pub(crate) type Show<'a> = dyn FnMut(&Notice, Option<&str>) -> Result<(), notify::Error> + 'a;

/// Sends the reminders due at `now` (at most [`MAX_DETAILED`] naming a key,
/// the rest summed up), records them as sent and rewrites the locked
/// schedule. Returns the notices shown and the next wake-up. Stops at the
/// first notice that cannot be shown, keeping what was shown before.
pub(crate) fn send_due(
    vault: &mut Vault,
    snap: &mut Snapshot,
    now: OffsetDateTime,
    show: &mut Show<'_>,
) -> Result<(Vec<Notice>, Option<OffsetDateTime>), Failure> {
    let plan = snap.plan(now);
    let mut shown = Vec::new();
    let mut sent: Vec<Reminder> = Vec::new();
    let mut result = Ok(());
    for r in plan.due_now.iter().take(MAX_DETAILED) {
        let notice = Notice {
            summary: r.title(),
            body: r.body(),
            urgent: r.days_left <= 0,
            open_action: true,
        };
        if let Err(e) = show(&notice, Some(&r.entry_id)) {
            result = Err(e);
            break;
        }
        shown.push(notice);
        sent.push(r.clone());
    }
    let rest = plan.due_now.len().saturating_sub(MAX_DETAILED);
    if rest > 0 && result.is_ok() {
        let notice = generic(format!(
            "{rest} more API keys are due for rotation — open Keyward to see them"
        ));
        match show(&notice, None) {
            Ok(()) => {
                shown.push(notice);
                sent.extend(plan.due_now.iter().skip(MAX_DETAILED).cloned());
            }
            Err(e) => result = Err(e),
        }
    }
    // The access review's own reminder: a week before, on the day, weekly after.
    let (review_due, review_wake) = match &snap.review {
        Some(clock) => clock.reminder(&snap.cal, now),
        None => (None, None),
    };
    if let Some(r) = review_due.filter(|_| result.is_ok()) {
        let notice = Notice {
            summary: r.title(),
            body: r.body(),
            // Never above an overdue key's reminder: a late review is a
            // task, not an exposure.
            urgent: false,
            open_action: true,
        };
        match show(&notice, None) {
            Ok(()) => {
                keyward_core::reminder::review::mark_reminded(vault, &r)?;
                snap.review = keyward_core::reminder::review::clock(vault)?;
                shown.push(notice);
            }
            Err(e) => result = Err(e),
        }
    }
    snap.record(vault, &sent, now)?;
    result?;
    let next = match (plan.next_wake, review_wake) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((shown, next))
}

/// What the locked schedule said this round.
pub(crate) struct Locked {
    pub shown: Option<Notice>,
    pub next_wake: Option<OffsetDateTime>,
    /// Keys due (or due soon) as of now, for the tray.
    pub due: u32,
}

/// Locked: announces the latest passed event of the nameless schedule, if
/// not yet announced. `None` when there is no schedule yet (the vault was
/// never unlocked by this version).
pub(crate) fn announce_locked(
    dir: &VaultDir,
    now: OffsetDateTime,
    show: &mut Show<'_>,
) -> Result<Option<Locked>, Failure> {
    let Some(mut schedule) = Schedule::read(dir) else {
        return Ok(None);
    };
    let due = schedule
        .events
        .iter()
        .rev()
        .find(|e| e.at <= now)
        .map_or(0, |e| e.keys);
    let mut shown = None;
    if let Some(event) = schedule.to_announce(now) {
        let notice = generic(Schedule::message(&event));
        show(&notice, None)?;
        schedule.announced_through = Some(now);
        shown = Some(notice);
    }
    let next_wake = schedule.next_wake(now);
    if shown.is_some() {
        schedule.write(dir)?;
    }
    Ok(Some(Locked {
        shown,
        next_wake,
        due,
    }))
}

fn generic(body: String) -> Notice {
    Notice {
        summary: "Keyward".into(),
        body,
        urgent: false,
        open_action: true,
    }
}

/// Why a round could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    #[error(transparent)]
    Notify(#[from] notify::Error),
    #[error(transparent)]
    Rotation(#[from] keyward_core::rotation::Error),
    #[error(transparent)]
    Review(#[from] review::Error),
}

/// One round in the app: send what is due, return when to look again.
fn round(app: &AppHandle) -> Option<OffsetDateTime> {
    let state = app.state::<AppState>();
    let stats = app.state::<Stats>();
    let now = OffsetDateTime::now_utc();
    let tz = TimeZone::system();
    let mut show = |notice: &Notice, entry: Option<&str>| -> Result<(), notify::Error> {
        let handle = app.clone();
        let entry = entry.map(str::to_owned);
        notify::show(
            notice,
            Some(Box::new(move |_| {
                crate::show_window(&handle);
                if let Some(id) = entry {
                    let _ = handle.emit(EVENT_OPEN_ENTRY, id);
                }
            })),
        )
    };
    let unlocked = state.with_vault_quiet(|u| {
        let mut snap = Snapshot::read(&u.vault, tz.clone())?;
        let (_, next) = send_due(&mut u.vault, &mut snap, now, &mut show)?;
        let horizon = snap.cal.thresholds.first().copied().unwrap_or(0).max(0);
        let due = reminders::due_within(
            &snap.entries,
            u32::try_from(horizon).unwrap_or(0),
            &snap.cal,
            now,
        );
        stats.due.store(
            u32::try_from(due.len()).unwrap_or(u32::MAX),
            Ordering::Relaxed,
        );
        // The tray also counts critical findings (metadata only), from the
        // keys this round already read, with everything the Findings tab
        // counts (follow-ups, incidents, leak copies). A count that cannot
        // be read is said in the trace and left as it was, never shown as
        // zero, and does not stop the round (its backup, its next wake-up).
        match findings::Facts::load_with(&u.vault, snap.entries, &u.settings) {
            Ok(facts) => {
                let critical = facts
                    .findings(now)
                    .iter()
                    .filter(|f| f.severity == findings::Severity::Critical)
                    .count();
                stats.critical.store(
                    u32::try_from(critical).unwrap_or(u32::MAX),
                    Ordering::Relaxed,
                );
            }
            Err(e) => trace(&format!("findings not counted: {e}")),
        }
        // An automatic backup, when one is due (only an unlocked vault can
        // be read); the next one is another reason to wake.
        let folder = crate::platform::default_backup_folder();
        match backup::run_if_due(&mut u.vault, &folder, now) {
            Ok(Some((path, _))) => trace(&format!("automatic backup written: {}", path.display())),
            Ok(None) => {}
            Err(e) => trace(&format!("automatic backup not written: {e}")),
        }
        let next_backup = backup::auto_status(&u.vault, now)
            .ok()
            .and_then(|s| s.next_at)
            .filter(|n| *n > now);
        let next = match (next, next_backup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok::<_, Failure>(next)
    });
    let outcome = match unlocked {
        Some(r) => r,
        None => announce_locked(&state.dir, now, &mut show).map(|locked| {
            let locked = locked.unwrap_or(Locked {
                shown: None,
                next_wake: None,
                due: 0,
            });
            stats.due.store(locked.due, Ordering::Relaxed);
            locked.next_wake
        }),
    };
    match outcome {
        Ok(next) => next,
        Err(e) => {
            // No notification service now: try again in an hour rather than
            // never (the user may log in to a desktop later).
            trace(&format!("could not send: {e}"));
            Some(now + time::Duration::hours(1))
        }
    }
}
