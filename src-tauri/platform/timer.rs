//! Timers that keep counting while the machine sleeps.
//!
//! `tokio::time::sleep` and `Instant` count on the monotonic clock, which
//! stops while the machine is suspended: a reminder due during a night's
//! sleep would come hours late, and an unlocked vault would stay unlocked
//! after a resume however long the lid was shut. Two `timerfd`s fix both:
//! - [`Timer::wall`], on `CLOCK_REALTIME` with an absolute expiry, fires at a
//!   date — at once on resume if the date passed while asleep — and
//!   (`TFD_TIMER_CANCEL_ON_SET`) reports a clock change, after which the
//!   caller plans again;
//! - [`Timer::boot`], on `CLOCK_BOOTTIME`, measures durations that include
//!   suspend (the idle auto-lock).
//!
//! No polling: one wake-up per expiry.

use std::io;
use std::time::Duration;

use time::OffsetDateTime;

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The time was reached.
    Due,
    /// Someone set the system clock: plan again.
    ClockChanged,
}

/// Time since boot, suspend included: what idle time is measured in.
#[cfg(target_os = "linux")]
pub fn boot_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

#[cfg(not(target_os = "linux"))]
pub fn boot_now() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(target_os = "linux")]
pub struct Timer {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

#[cfg(target_os = "linux")]
impl Timer {
    /// A timer for dates on the wall clock.
    pub fn wall() -> io::Result<Self> {
        Self::new(rustix::time::TimerfdClockId::Realtime)
    }

    /// A timer for durations that count suspended time.
    pub fn boot() -> io::Result<Self> {
        Self::new(rustix::time::TimerfdClockId::Boottime)
    }

    fn new(clock: rustix::time::TimerfdClockId) -> io::Result<Self> {
        use rustix::time::{timerfd_create, TimerfdFlags};
        let fd = timerfd_create(clock, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        // SAFETY: `fd` is an `OwnedFd` moved into the `AsyncFd`: it is open,
        // owned by nothing else, and closed only when the `AsyncFd` drops, so
        // it stays the same open descriptor for the registration's lifetime.
        #[allow(unsafe_code)]
        let fd = unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(Timer { fd })
    }

    /// Waits until the wall clock reads `at` (at once if it already has).
    /// For a [`Timer::wall`].
    pub async fn sleep_until(&self, at: OffsetDateTime) -> io::Result<Woke> {
        use rustix::time::TimerfdTimerFlags;
        let nanos = at.unix_timestamp_nanos().max(1);
        self.arm(
            nanos,
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
        )?;
        self.wait().await
    }

    /// Waits for `d` of boot time. For a [`Timer::boot`].
    pub async fn sleep_for(&self, d: Duration) -> io::Result<Woke> {
        // Zero would disarm the timer: wait at least a nanosecond.
        self.arm(
            d.as_nanos().max(1) as i128,
            rustix::time::TimerfdTimerFlags::empty(),
        )?;
        self.wait().await
    }

    fn arm(&self, nanos: i128, flags: rustix::time::TimerfdTimerFlags) -> io::Result<()> {
        use rustix::time::{timerfd_settime, Itimerspec, Timespec};
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let value = Timespec {
            tv_sec: i64::try_from(nanos / 1_000_000_000).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from(nanos % 1_000_000_000).unwrap_or(0),
        };
        let spec = Itimerspec {
            it_interval: zero,
            it_value: value,
        };
        timerfd_settime(self.fd.get_ref(), flags, &spec)?;
        Ok(())
    }

    async fn wait(&self) -> io::Result<Woke> {
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
pub struct Timer;

#[cfg(not(target_os = "linux"))]
impl Timer {
    pub fn wall() -> io::Result<Self> {
        Ok(Timer)
    }
    pub fn boot() -> io::Result<Self> {
        Ok(Timer)
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
    pub async fn sleep_for(&self, d: Duration) -> io::Result<Woke> {
        tokio::time::sleep(d.min(Duration::from_secs(60))).await;
        Ok(Woke::Due)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wall_timer_fires_at_a_date() {
        let timer = Timer::wall().unwrap();
        let start = std::time::Instant::now();
        let at = OffsetDateTime::now_utc() + time::Duration::milliseconds(150);
        assert_eq!(timer.sleep_until(at).await.unwrap(), Woke::Due);
        assert!(start.elapsed() >= Duration::from_millis(140));
        // A date in the past fires at once; the timer can be reused.
        let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
        assert_eq!(timer.sleep_until(past).await.unwrap(), Woke::Due);
    }

    #[tokio::test]
    async fn a_boot_timer_waits_a_duration() {
        let timer = Timer::boot().unwrap();
        let before = boot_now();
        assert_eq!(
            timer.sleep_for(Duration::from_millis(100)).await.unwrap(),
            Woke::Due
        );
        assert!(boot_now() - before >= Duration::from_millis(95));
        assert_eq!(timer.sleep_for(Duration::ZERO).await.unwrap(), Woke::Due);
    }
}
