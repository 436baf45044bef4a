//! The access review's reminders: a week before the next review is due,
//! on the day, then weekly until one is started — counted in calendar days
//! in the user's time zone, like the keys' reminders.

use rusqlite::OptionalExtension;
use time::OffsetDateTime;

use super::Calendar;
use crate::review::{self, Result};
use crate::settings;
use crate::timefmt;
use crate::vault::Vault;

/// A review reminder to send: a week before, on the day, then weekly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub due_at: OffsetDateTime,
    pub days_left: i64,
    stage: i64,
}

impl Reminder {
    pub fn title(&self) -> String {
        "Access review due".into()
    }
    pub fn body(&self) -> String {
        format!(
            "The access review is {} — open Keyward to start it",
            super::when_text(self.days_left)
        )
    }
}

const REMINDER_WEEK: i64 = 7;

fn stage_for(left: i64) -> Option<i64> {
    if left > REMINDER_WEEK {
        None
    } else if left > 0 {
        Some(REMINDER_WEEK)
    } else {
        Some(-((-left) / REMINDER_WEEK) * REMINDER_WEEK)
    }
}

fn next_stage(stage: Option<i64>) -> i64 {
    match stage {
        None => REMINDER_WEEK,
        Some(s) if s > 0 => 0,
        Some(s) => s - REMINDER_WEEK,
    }
}

/// When the next review is due and the last reminder stage sent for that
/// date: all the reminders need, read once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    pub due_at: OffsetDateTime,
    pub sent_stage: Option<i64>,
}

/// The review's reminder clock; `None` while a review is in progress or
/// with nothing to review.
pub fn clock(vault: &Vault) -> Result<Option<Clock>> {
    if review::open_review(vault)?.is_some() {
        return Ok(None);
    }
    let settings = settings::load(vault)?;
    let Some(due_at) = review::next_due(vault, &settings)? else {
        return Ok(None);
    };
    let stored: Option<String> = vault
        .conn()
        .query_row(
            "SELECT value FROM meta WHERE key = 'review_reminder'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let sent_stage = stored.and_then(|s| {
        let (due, stage) = s.split_once('|')?;
        (timefmt::parse_stored(due).ok()? == due_at)
            .then(|| stage.parse().ok())
            .flatten()
    });
    Ok(Some(Clock { due_at, sent_stage }))
}

impl Clock {
    /// The reminder due at `now`, if any, and when the next one fires.
    /// Only the sent state in the database counts: a nameless announcement
    /// by the locked app is no proof the reminder was seen.
    pub fn reminder(
        &self,
        cal: &Calendar,
        now: OffsetDateTime,
    ) -> (Option<Reminder>, Option<OffsetDateTime>) {
        let (Some(due), Some(today)) = (cal.due_day(self.due_at), cal.today(now)) else {
            return (None, None);
        };
        let left = cal.left(&due, &today);
        let fired = |stage: i64| cal.fire(&due, stage);
        let current = stage_for(left).filter(|c| {
            self.sent_stage.is_none_or(|s| *c < s) && fired(*c).is_some_and(|f| f <= now)
        });
        // Catch up past stages so the wake-up is in the future.
        let mut next = next_stage(current.or(self.sent_stage));
        let mut wake = fired(next);
        while wake.is_some_and(|w| w <= now) {
            next = next_stage(Some(next));
            wake = fired(next);
        }
        let reminder = current.map(|stage| Reminder {
            due_at: self.due_at,
            days_left: left,
            stage,
        });
        (reminder, wake)
    }

    /// The times reminders fire in `(after, until]`, for the locked schedule.
    pub fn fire_times(
        &self,
        cal: &Calendar,
        after: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Vec<OffsetDateTime> {
        let Some(due) = cal.due_day(self.due_at) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stage = next_stage(self.sent_stage);
        // A week before, the day, then weekly: a year of weeks at most.
        for _ in 0..60 {
            match cal.fire(&due, stage) {
                Some(t) if t > until => break,
                Some(t) if t > after => out.push(t),
                _ => {}
            }
            stage = next_stage(Some(stage));
        }
        out
    }
}

/// The review reminder due at `now` (none while a review is in progress),
/// and when to look again.
pub fn reminder(
    vault: &Vault,
    cal: &Calendar,
    now: OffsetDateTime,
) -> Result<(Option<Reminder>, Option<OffsetDateTime>)> {
    Ok(clock(vault)?.map_or((None, None), |c| c.reminder(cal, now)))
}

/// Records a review reminder as sent.
pub fn mark_reminded(vault: &mut Vault, r: &Reminder) -> Result<()> {
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO meta(key, value) VALUES ('review_reminder', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [format!("{}|{}", timefmt::format(r.due_at), r.stage)],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_stages_are_a_week_before_on_the_day_then_weekly() {
        assert_eq!(stage_for(30), None);
        assert_eq!(stage_for(7), Some(7));
        assert_eq!(stage_for(1), Some(7));
        assert_eq!(stage_for(0), Some(0));
        assert_eq!(stage_for(-6), Some(0));
        assert_eq!(stage_for(-7), Some(-7));
        assert_eq!(stage_for(-20), Some(-14));
        assert_eq!(next_stage(None), 7);
        assert_eq!(next_stage(Some(7)), 0);
        assert_eq!(next_stage(Some(0)), -7);
    }
}
