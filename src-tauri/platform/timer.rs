//! A timer on the wall clock, for reminders that must fire at a date.
//!
//! `tokio::time::sleep` counts on the monotonic clock, which stops while the
//! machine is suspended: a reminder due during a night's sleep would come
//! hours late. A `timerfd` on `CLOCK_REALTIME` with an absolute expiry fires
//! at the date itself, at once on resume if the date passed while asleep,
//! and (`TFD_TIMER_CANCEL_ON_SET`) reports a clock change, after which the
//! caller plans again. No polling: one wake-up per reminder.

use std::io;

use time::OffsetDateTime;

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The date was reached.
    Due,
    /// Someone set the system clock: plan again.
    ClockChanged,
}

#[cfg(target_os = "linux")]
pub struct WallTimer {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

#[cfg(target_os = "linux")]
impl WallTimer {
    pub fn new() -> io::Result<Self> {
        use rustix::time::{timerfd_create, TimerfdClockId, TimerfdFlags};
        let fd = timerfd_create(
            TimerfdClockId::Realtime,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // SAFETY: `fd` is an `OwnedFd` moved into the `AsyncFd`: it is open,
        // owned by nothing else, and closed only when the `AsyncFd` drops, so
        // it stays the same open descriptor for the registration's lifetime.
        #[allow(unsafe_code)]
        let fd = unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(WallTimer { fd })
    }

    /// Waits until the wall clock reads `at` (at once if it already has).
    pub async fn sleep_until(&self, at: OffsetDateTime) -> io::Result<Woke> {
        use rustix::time::{timerfd_settime, Itimerspec, TimerfdTimerFlags, Timespec};
        let nanos = at.unix_timestamp_nanos().max(1);
        let value = Timespec {
            tv_sec: i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from(nanos % 1_000_000_000).unwrap_or(0),
        };
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        timerfd_settime(
            self.fd.get_ref(),
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
            &spec,
        )?;
        loop {
            let mut guard = self.fd.readable().await?;
            let mut buf = [0u8; 8];
            match rustix::io::read(self.fd.get_ref(), &mut buf) {
                Ok(_) => return Ok(Woke::Due),
                Err(rustix::io::Errno::CANCELED) => return Ok(Woke::ClockChanged),
                Err(rustix::io::Errno::AGAIN) => guard.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Elsewhere: the monotonic clock, re-planned at least hourly so a
/// suspend delays a reminder by an hour at most.
#[cfg(not(target_os = "linux"))]
pub struct WallTimer;

#[cfg(not(target_os = "linux"))]
impl WallTimer {
    pub fn new() -> io::Result<Self> {
        Ok(WallTimer)
    }
    pub async fn sleep_until(&self, at: OffsetDateTime) -> io::Result<Woke> {
        let left = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
        let capped = left.min(time::Duration::hours(1));
        tokio::time::sleep(capped.unsigned_abs()).await;
        Ok(if capped < left {
            Woke::ClockChanged
        } else {
            Woke::Due
        })
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_at_a_wall_clock_date() {
        let timer = WallTimer::new().unwrap();
        let start = std::time::Instant::now();
        let at = OffsetDateTime::now_utc() + time::Duration::milliseconds(150);
        assert_eq!(timer.sleep_until(at).await.unwrap(), Woke::Due);
        assert!(start.elapsed() >= std::time::Duration::from_millis(140));
        // A date in the past fires at once; the timer can be reused.
        let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
        assert_eq!(timer.sleep_until(past).await.unwrap(), Woke::Due);
    }
}
