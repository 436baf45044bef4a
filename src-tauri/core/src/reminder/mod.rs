//! Reminders: the calendar they keep, the keys' rotation reminders
//! (here) and the access review's ([`review`]), and the schedule the locked
//! app wakes up by.
//!
//! Rotation reminders: which thresholds have passed, which were already
//! sent, what to send now and when to wake up next.
//!
//! Thresholds are calendar days in the user's time zone: "7 days before"
//! arrives on the local date a week before the due date, at the reminder
//! hour, whatever the daylight-saving changes in between; "on the day" never
//! arrives after the key is due; then one reminder per day while overdue.
//! A key's progress is its *stage*, the days left at the last threshold
//! passed (negative once overdue); each stage is sent once per due date.

pub mod review;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

pub use jiff::tz::TimeZone;
use jiff::{civil, Timestamp, ToSpan};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use crate::inventory::{self, Entry};
use crate::key::DueReason;
use crate::rotation::{Error, Result};
use crate::settings::{self, Settings};
use crate::timefmt::{self, serde_rfc3339};
use crate::vault::audit::{self, Action};
use crate::vault::{self, Vault, VaultDir};

/// The clock reminders keep: the user's time zone and reminder settings.
///
/// Time-zone conversions are the costly part of planning 10,000 keys, so
/// dates are compared as day numbers and a date's reminder instant is
/// converted once and remembered.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub tz: TimeZone,
    /// Days before the due date, largest first, ending with 0 (the day).
    pub thresholds: Vec<i64>,
    pub hour: i8,
    /// Local date → that date at the reminder hour.
    memo: RefCell<HashMap<civil::Date, Option<OffsetDateTime>>>,
}

/// A due date as the calendar sees it: the instant and its local date.
#[derive(Clone, Copy, Debug)]
pub struct DueDay {
    pub at: OffsetDateTime,
    date: civil::Date,
    day: i64,
}

/// "Now" as the calendar sees it.
#[derive(Clone, Copy, Debug)]
pub struct Today {
    pub now: OffsetDateTime,
    day: i64,
}

impl Calendar {
    pub fn new(settings: &Settings, tz: TimeZone) -> Self {
        let mut thresholds: Vec<i64> = settings
            .reminder_days
            .iter()
            .map(|&d| i64::from(d))
            .filter(|&d| d > 0)
            .collect();
        thresholds.sort_unstable_by(|a, b| b.cmp(a));
        thresholds.dedup();
        thresholds.push(0);
        Calendar {
            tz,
            thresholds,
            hour: i8::try_from(settings.reminder_hour.min(23)).unwrap_or(9),
            memo: RefCell::default(),
        }
    }

    fn local_date(&self, t: OffsetDateTime) -> Option<civil::Date> {
        Some(to_ts(t)?.to_zoned(self.tz.clone()).date())
    }

    pub fn due_day(&self, at: OffsetDateTime) -> Option<DueDay> {
        let date = self.local_date(at)?;
        Some(DueDay {
            at,
            date,
            day: day_number(date),
        })
    }

    pub fn today(&self, now: OffsetDateTime) -> Option<Today> {
        Some(Today {
            now,
            day: day_number(self.local_date(now)?),
        })
    }

    /// `date` at the reminder hour (a time skipped by a DST change moves
    /// forward to the first time that exists).
    fn at_hour(&self, date: civil::Date) -> Option<OffsetDateTime> {
        if let Some(hit) = self.memo.borrow().get(&date) {
            return *hit;
        }
        let at = date
            .at(self.hour, 0, 0, 0)
            .to_zoned(self.tz.clone())
            .ok()
            .and_then(|z| from_ts(z.timestamp()));
        self.memo.borrow_mut().insert(date, at);
        at
    }

    /// When the reminder with `left` days to go fires.
    pub fn fire(&self, due: &DueDay, left: i64) -> Option<OffsetDateTime> {
        let date = due.date.checked_add((-left).days()).ok()?;
        let at = self.at_hour(date)?;
        // "On the day" must not come after the key is already due.
        Some(if left == 0 { at.min(due.at) } else { at })
    }

    /// Calendar days from today to the due date (negative when overdue).
    pub fn left(&self, due: &DueDay, today: &Today) -> i64 {
        due.day - today.day
    }

    /// Whether the reminder `left` days before `due` has fired by now,
    /// converting a time only when the reminder falls on today.
    fn fired(&self, due: &DueDay, left: i64, today: &Today) -> bool {
        let fire_day = due.day - left;
        match fire_day.cmp(&today.day) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => left == 0 && due.at <= today.now,
            std::cmp::Ordering::Equal => self.fire(due, left).is_some_and(|f| f <= today.now),
        }
    }

    /// The stage reached: the smallest `left` whose reminder has fired, or
    /// `None` before the first threshold.
    pub fn stage_of(&self, due: &DueDay, today: &Today) -> Option<i64> {
        let overdue_days = -self.left(due, today);
        if overdue_days >= 1 {
            for k in [overdue_days, overdue_days - 1] {
                if k >= 1 && self.fired(due, -k, today) {
                    return Some(-k);
                }
            }
        }
        self.thresholds
            .iter()
            .rev()
            .copied()
            .find(|&d| self.fired(due, d, today))
    }

    /// The first reminder after now for a stage beyond `after` (all stages
    /// when `None`).
    pub fn next_fire_of(
        &self,
        due: &DueDay,
        after: Option<i64>,
        today: &Today,
    ) -> Option<OffsetDateTime> {
        let beyond = |s: i64| after.is_none_or(|a| s < a);
        let upcoming = |left: i64| {
            (due.day - left >= today.day)
                .then(|| self.fire(due, left))
                .flatten()
                .filter(|f| *f > today.now)
        };
        for &d in &self.thresholds {
            if beyond(d) {
                if let Some(f) = upcoming(d) {
                    return Some(f);
                }
            }
        }
        let overdue_days = (-self.left(due, today)).max(1);
        (overdue_days..overdue_days + 3)
            .filter(|&k| beyond(-k))
            .find_map(|k| upcoming(-k))
    }

    /// When the key's first reminder fires.
    fn window_start(&self, due: &DueDay) -> Option<OffsetDateTime> {
        self.thresholds.first().and_then(|&d| self.fire(due, d))
    }

    // One-off forms of the above, for a single key.

    /// Calendar days from `now`'s local date to the due date's.
    pub fn days_left(&self, due: OffsetDateTime, now: OffsetDateTime) -> i64 {
        match (self.due_day(due), self.today(now)) {
            (Some(d), Some(t)) => self.left(&d, &t),
            _ => 0,
        }
    }

    /// How each due date reads at `now` — "due tomorrow", "overdue by 2
    /// days" — counted in calendar days in the user's time zone. The one
    /// source of this wording: the window shows it, it never computes it.
    pub fn due_words(
        &self,
        dues: impl IntoIterator<Item = Option<OffsetDateTime>>,
        now: OffsetDateTime,
    ) -> Vec<Option<String>> {
        let today = self.today(now);
        dues.into_iter()
            .map(|due| {
                let (due, today) = (self.due_day(due?)?, today.as_ref()?);
                Some(when_text(self.left(&due, today)))
            })
            .collect()
    }

    pub fn fire_at(&self, due: OffsetDateTime, left: i64) -> Option<OffsetDateTime> {
        self.fire(&self.due_day(due)?, left)
    }

    pub fn stage(&self, due: OffsetDateTime, now: OffsetDateTime) -> Option<i64> {
        self.stage_of(&self.due_day(due)?, &self.today(now)?)
    }

    pub fn next_fire(
        &self,
        due: OffsetDateTime,
        after: Option<i64>,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        self.next_fire_of(&self.due_day(due)?, after, &self.today(now)?)
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm):
/// comparing dates as integers needs no time-zone lookup.
fn day_number(d: civil::Date) -> i64 {
    let (m, day) = (i64::from(d.month()), i64::from(d.day()));
    let y = i64::from(d.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_ts(t: OffsetDateTime) -> Option<Timestamp> {
    Timestamp::from_second(t.unix_timestamp()).ok()
}

fn from_ts(t: Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.as_second()).ok()
}

/// What the vault remembers about a key's reminders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The due date the stage belongs to; a new due date starts afresh.
    pub due_at: Option<OffsetDateTime>,
    pub stage: Option<i64>,
    pub snoozed_until: Option<OffsetDateTime>,
}

/// One reminder to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct Reminder {
    pub entry_id: String,
    pub platform: String,
    pub label: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub due_at: OffsetDateTime,
    #[ts(type = "number")]
    pub days_left: i64,
    #[ts(type = "number")]
    pub stage: i64,
    pub reason: DueReason,
}

impl Reminder {
    /// "Rotate Kraken · grid-bot".
    pub fn title(&self) -> String {
        format!("Rotate {} · {}", self.platform, self.label)
    }

    /// "due in 3 days (default 60-day rotation period)".
    pub fn body(&self) -> String {
        format!("{} ({})", when_text(self.days_left), self.reason.short())
    }
}

/// "due in 3 days", "due tomorrow", "due today", "overdue by 2 days".
pub fn when_text(days_left: i64) -> String {
    match days_left {
        0 => "due today".into(),
        1 => "due tomorrow".into(),
        -1 => "overdue by 1 day".into(),
        d if d < 0 => format!("overdue by {} days", -d),
        d => format!("due in {d} days"),
    }
}

/// What to do now and when to look again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Reminders to send now, most urgent first.
    pub due_now: Vec<Reminder>,
    /// The next time anything can become due; `None` when nothing ever will.
    pub next_wake: Option<OffsetDateTime>,
}

/// Decides what to send at `now`, from the sent state in the database
/// alone: what the locked app announced from `reminders.json` (a file
/// anyone can write) is never taken as proof that a reminder was sent.
pub fn plan(
    entries: &[Entry],
    states: &HashMap<String, State>,
    cal: &Calendar,
    now: OffsetDateTime,
) -> Plan {
    let mut out = Plan::default();
    let wake = |t: OffsetDateTime, out: &mut Plan| {
        if out.next_wake.is_none_or(|w| t < w) {
            out.next_wake = Some(t);
        }
    };
    let Some(today) = cal.today(now) else {
        return out;
    };
    for e in entries {
        let Some(due) = e.next_due_at.and_then(|d| cal.due_day(d)) else {
            continue;
        };
        let due_at = due.at;
        let state = states.get(&e.id).cloned().unwrap_or_default();
        let sent = if state.due_at == Some(due_at) {
            state.stage
        } else {
            None
        };
        let snoozed = state.snoozed_until.filter(|u| *u > now);
        let current = cal.stage_of(&due, &today);
        let pending = current.filter(|c| sent.is_none_or(|s| *c < s));
        let mut after = sent;
        if let Some(stage) = pending {
            let reminder = Reminder {
                entry_id: e.id.clone(),
                platform: e.platform.clone(),
                label: e.label.clone(),
                due_at,
                days_left: cal.left(&due, &today),
                stage,
                reason: e.due_reason.clone().unwrap_or(DueReason::Expiry),
            };
            if let Some(until) = snoozed {
                wake(until, &mut out);
                continue;
            }
            out.due_now.push(reminder);
            after = Some(stage);
        }
        if let Some(next) = cal.next_fire_of(&due, after, &today) {
            wake(snoozed.map_or(next, |u| next.max(u)), &mut out);
        }
    }
    out.due_now
        .sort_by(|a, b| a.due_at.cmp(&b.due_at).then(a.label.cmp(&b.label)));
    out
}

/// The keys due within `days` (and every overdue one), soonest first.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DueKey {
    pub id: String,
    pub platform: String,
    pub label: String,
    pub reason: String,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub due_at: OffsetDateTime,
    #[ts(type = "number")]
    pub days_left: i64,
}

pub fn due_within(
    entries: &[Entry],
    days: u32,
    cal: &Calendar,
    now: OffsetDateTime,
) -> Vec<DueKey> {
    let Some(today) = cal.today(now) else {
        return Vec::new();
    };
    let mut out: Vec<DueKey> = entries
        .iter()
        .filter_map(|e| {
            let due_at = e.next_due_at?;
            let days_left = cal.left(&cal.due_day(due_at)?, &today);
            (days_left <= i64::from(days)).then(|| DueKey {
                id: e.id.clone(),
                platform: e.platform.clone(),
                label: e.label.clone(),
                reason: e
                    .due_reason
                    .as_ref()
                    .map(DueReason::short)
                    .unwrap_or_default(),
                due_at,
                days_left,
            })
        })
        .collect();
    out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then(a.label.cmp(&b.label)));
    out
}

// --- stored state -----------------------------------------------------------

/// Every key's reminder state.
pub fn load_states(vault: &Vault) -> Result<HashMap<String, State>> {
    let mut stmt = vault
        .conn()
        .prepare("SELECT entry_id, due_at, stage, snoozed_until FROM reminders")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, due, stage, snoozed) = row?;
        // A damaged time reads as "nothing sent": a reminder too many, never one lost.
        let parse = |s: Option<String>| s.and_then(|s| timefmt::parse_stored(&s).ok());
        out.insert(
            id,
            State {
                due_at: parse(due),
                stage,
                snoozed_until: parse(snoozed),
            },
        );
    }
    Ok(out)
}

/// The calendar for this vault's settings in time zone `tz`.
pub fn calendar(vault: &Vault, tz: TimeZone) -> Result<Calendar> {
    Ok(Calendar::new(&settings::load(vault)?, tz))
}

/// What one reminder round reads from the vault, read once: planning and
/// rewriting the schedule share it (listing 10,000 keys is most of a round).
pub struct Snapshot {
    pub cal: Calendar,
    pub entries: Vec<Entry>,
    pub states: HashMap<String, State>,
    /// The access review's reminder clock (it shares the schedule).
    pub review: Option<review::Clock>,
}

impl Snapshot {
    pub fn read(vault: &Vault, tz: TimeZone) -> Result<Snapshot> {
        Ok(Snapshot {
            cal: calendar(vault, tz)?,
            entries: inventory::list(vault)?,
            states: load_states(vault)?,
            review: review::clock(vault).map_err(|e| match e {
                crate::review::Error::Vault(v) => Error::Vault(v),
                crate::review::Error::Inventory(i) => Error::Inventory(i),
                other => Error::Vault(vault::Error::Storage(other.to_string())),
            })?,
        })
    }

    /// The locked schedule for this snapshot: keys and the review.
    pub fn schedule(&self, now: OffsetDateTime) -> Schedule {
        Schedule::build(&self.entries, &self.states, &self.cal, now).with_review(
            &self.cal,
            self.review.as_ref(),
            now,
        )
    }

    /// What to send at `now`.
    pub fn plan(&self, now: OffsetDateTime) -> Plan {
        plan(&self.entries, &self.states, &self.cal, now)
    }

    /// Records `sent` as sent (one transaction) and rewrites the locked
    /// schedule to match.
    pub fn record(
        &mut self,
        vault: &mut Vault,
        sent: &[Reminder],
        now: OffsetDateTime,
    ) -> Result<()> {
        mark_sent(vault, sent, now)?;
        for r in sent {
            let state = self.states.entry(r.entry_id.clone()).or_default();
            state.due_at = Some(r.due_at);
            state.stage = Some(r.stage);
        }
        self.schedule(now).write(vault.dir())
    }
}

/// What to send now, from the vault.
pub fn pending(vault: &Vault, tz: TimeZone, now: OffsetDateTime) -> Result<Plan> {
    Ok(Snapshot::read(vault, tz)?.plan(now))
}

/// Records reminders as sent (one transaction), so no stage is sent twice.
pub fn mark_sent(vault: &mut Vault, sent: &[Reminder], now: OffsetDateTime) -> Result<()> {
    if sent.is_empty() {
        return Ok(());
    }
    let tx = vault.write()?;
    {
        let mut upsert = tx.prepare(
            "INSERT INTO reminders (entry_id, due_at, stage, sent_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(entry_id) DO UPDATE SET
                due_at = excluded.due_at, stage = excluded.stage, sent_at = excluded.sent_at",
        )?;
        let sent_at = timefmt::format(now);
        for r in sent {
            upsert.execute(params![
                r.entry_id,
                timefmt::format(r.due_at),
                r.stage,
                sent_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The snooze lengths a user may pick.
pub const SNOOZE_DAYS: std::ops::RangeInclusive<u32> = 1..=90;

/// Silences a key's reminders for `days`; when the snooze ends, the
/// reminder comes back even if its stage was already sent.
pub fn snooze(
    vault: &mut Vault,
    id: &str,
    days: u32,
    now: OffsetDateTime,
) -> Result<OffsetDateTime> {
    if !SNOOZE_DAYS.contains(&days) {
        return Err(Error::Invalid {
            field: "days",
            reason: "must be from 1 to 90".into(),
        });
    }
    let entry = inventory::get(vault, id)?;
    let until = now + Duration::days(i64::from(days));
    let origin = vault.origin();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO reminders (entry_id, stage, snoozed_until) VALUES (?1, NULL, ?2)
         ON CONFLICT(entry_id) DO UPDATE SET stage = NULL, snoozed_until = excluded.snoozed_until",
        params![entry.id, timefmt::format(until)],
    )?;
    audit::append(
        &tx,
        now,
        origin,
        Action::ReminderSnooze,
        Some(&entry.id),
        &serde_json::json!({ "days": days, "until": timefmt::format(until) }),
    )?;
    tx.commit()?;
    Ok(until)
}

// --- the schedule kept beside the vault for when it is locked ------------------

/// How far ahead the locked schedule reaches. The app rewrites it at every
/// unlock, change and lock; a vault left locked for longer than this stops
/// reminding until it is next unlocked.
pub const SCHEDULE_HORIZON_DAYS: i64 = 92;
const MAX_EVENTS: usize = 512;
const SCHEDULE_FORMAT: &str = "keyward-reminders-1";

/// Reminder times and how many keys are due at each: the only thing that
/// can be read while the vault is locked. It holds no id, label, platform or
/// due date of any single key — only times and counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub format: String,
    pub events: Vec<Event>,
    /// The latest event already announced while locked.
    #[serde(default, with = "serde_rfc3339::option")]
    pub announced_through: Option<OffsetDateTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(with = "serde_rfc3339")]
    pub at: OffsetDateTime,
    /// Keys due, due soon or overdue at that time (snoozed ones left out).
    pub keys: u32,
    /// The access review's reminder fires then too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
}

impl Schedule {
    /// The events after `now` for these keys, within the horizon.
    pub fn build(
        entries: &[Entry],
        states: &HashMap<String, State>,
        cal: &Calendar,
        now: OffsetDateTime,
    ) -> Schedule {
        let horizon = now + Duration::days(SCHEDULE_HORIZON_DAYS);
        let mut times = BTreeSet::new();
        let mut starts = Vec::new();
        let mut snoozes = Vec::new();
        let mut first_overdue: Option<OffsetDateTime> = None;
        let Some(today) = cal.today(now) else {
            return Schedule::default();
        };
        let Some(horizon_day) = cal.today(horizon) else {
            return Schedule::default();
        };
        for e in entries {
            let Some(due) = e.next_due_at.and_then(|d| cal.due_day(d)) else {
                continue;
            };
            let Some(start) = cal.window_start(&due) else {
                continue;
            };
            starts.push(start);
            for &d in &cal.thresholds {
                // Only reminders on a day from today to the horizon.
                let day = due.day - d;
                if day < today.day || day > horizon_day.day {
                    continue;
                }
                if let Some(f) = cal.fire(&due, d).filter(|f| *f > now && *f <= horizon) {
                    times.insert(f);
                }
            }
            if let Some(f) = cal.next_fire_of(&due, Some(0), &today) {
                first_overdue = Some(first_overdue.map_or(f, |o| o.min(f)));
            }
            if let Some(until) = states
                .get(&e.id)
                .and_then(|s| s.snoozed_until)
                .filter(|u| *u > now)
            {
                snoozes.push((start, until));
                if until <= horizon {
                    times.insert(until);
                }
            }
        }
        // Overdue keys remind daily at the same local hour: one event a day.
        if let Some(mut t) = first_overdue {
            while t <= horizon && times.len() < MAX_EVENTS * 2 {
                times.insert(t);
                let next = to_ts(t)
                    .map(|ts| ts.to_zoned(cal.tz.clone()))
                    .and_then(|z| z.checked_add(1.day()).ok())
                    .and_then(|z| from_ts(z.timestamp()));
                match next {
                    Some(n) if n > t => t = n,
                    _ => break,
                }
            }
        }
        starts.sort_unstable();
        let events = times
            .into_iter()
            .take(MAX_EVENTS)
            .filter_map(|at| {
                let in_window = starts.partition_point(|s| *s <= at);
                let snoozed = snoozes.iter().filter(|(s, u)| *s <= at && *u > at).count();
                let keys = u32::try_from(in_window.saturating_sub(snoozed)).ok()?;
                (keys > 0).then_some(Event {
                    at,
                    keys,
                    review: false,
                })
            })
            .collect();
        Schedule {
            format: SCHEDULE_FORMAT.into(),
            events,
            announced_through: None,
        }
    }

    /// Adds the access review's reminder times (each with the keys due as
    /// of the event before it).
    pub fn with_review(
        mut self,
        cal: &Calendar,
        review: Option<&review::Clock>,
        now: OffsetDateTime,
    ) -> Schedule {
        let Some(clock) = review else {
            return self;
        };
        let horizon = now + Duration::days(SCHEDULE_HORIZON_DAYS);
        for at in clock.fire_times(cal, now, horizon) {
            match self.events.binary_search_by(|e| e.at.cmp(&at)) {
                Ok(i) => self.events[i].review = true,
                Err(i) => {
                    let keys = i.checked_sub(1).map_or(0, |p| self.events[p].keys);
                    self.events.insert(
                        i,
                        Event {
                            at,
                            keys,
                            review: true,
                        },
                    );
                }
            }
        }
        if self.format.is_empty() {
            self.format = SCHEDULE_FORMAT.into();
        }
        self
    }

    /// The stored schedule; `None` if missing or unreadable (then the
    /// locked app simply has nothing to announce).
    pub fn read(dir: &VaultDir) -> Option<Schedule> {
        let bytes = crate::fsio::read_own(&dir.schedule_path(), 1 << 20).ok()?;
        serde_json::from_slice::<Schedule>(&bytes)
            .ok()
            .filter(|s| s.format == SCHEDULE_FORMAT)
    }

    /// How far the locked app announced, as of `now`: a time after `now`
    /// was not written by us (the file is not authenticated) and would
    /// mute every locked reminder until then, so it is ignored.
    fn announced(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.announced_through.filter(|a| *a <= now)
    }

    /// Writes the schedule atomically, keeping what was already announced.
    pub fn write(mut self, dir: &VaultDir) -> Result<()> {
        if self.announced_through.is_none() {
            self.announced_through = Schedule::read(dir).and_then(|s| s.announced_through);
        }
        let bytes = serde_json::to_vec_pretty(&self)
            .map_err(|_| vault::Error::Crypto("schedule encoding"))?;
        vault::write_atomically(&dir.schedule_path(), &bytes)?;
        Ok(())
    }

    /// The event to announce at `now`: the latest one that has passed and
    /// was not yet announced.
    pub fn to_announce(&self, now: OffsetDateTime) -> Option<Event> {
        self.events
            .iter()
            .rev()
            .find(|e| e.at <= now)
            .filter(|e| self.announced(now).is_none_or(|a| e.at > a))
            .copied()
    }

    /// The next event after `now` (and after what was announced).
    pub fn next_wake(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let floor = self.announced(now).map_or(now, |a| a.max(now));
        self.events.iter().map(|e| e.at).find(|at| *at > floor)
    }

    /// "2 API keys are due for rotation — unlock Keyward to see which".
    pub fn message(event: &Event) -> String {
        if event.review {
            return match event.keys {
                0 => "The access review is due — unlock Keyward to start it".into(),
                1 => "1 API key is due for rotation and the access review is due — unlock Keyward to see which".into(),
                n => format!(
                    "{n} API keys are due for rotation and the access review is due — unlock Keyward to see which"
                ),
            };
        }
        if event.keys == 1 {
            "1 API key is due for rotation — unlock Keyward to see which".into()
        } else {
            format!(
                "{} API keys are due for rotation — unlock Keyward to see which",
                event.keys
            )
        }
    }
}

/// Rebuilds the locked schedule from the vault (after unlock, changes, and
/// before lock).
pub fn write_schedule(vault: &Vault, tz: TimeZone, now: OffsetDateTime) -> Result<()> {
    Snapshot::read(vault, tz)?.schedule(now).write(vault.dir())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::due::Policy;
    use crate::inventory::{Fields, Status};
    use time::macros::datetime;

    fn cal(tz: &str) -> Calendar {
        Calendar::new(&Settings::default(), TimeZone::get(tz).unwrap())
    }

    fn entry(id: &str, due: OffsetDateTime) -> Entry {
        // A key whose rotation period ends exactly at `due`.
        let mut f = Fields::blank(due - Duration::days(30));
        f.platform = "Kraken".into();
        f.label = format!("bot {id}");
        f.rotation_days = Some(30);
        let policy = Policy::new(&Settings::default());
        let mut e = Entry::from_parts(
            id.into(),
            f.clone(),
            Status::Active,
            vec![],
            due,
            policy.due(&f, Status::Active),
        );
        assert_eq!(e.next_due_at, Some(due));
        e.id = id.into();
        e
    }

    #[test]
    fn due_words_count_calendar_days_in_the_users_zone() {
        // 23:30 in Tokyo is 14:30 UTC: a key due at 01:00 Tokyo time the
        // next day is due tomorrow there, although both instants fall on
        // the same UTC day (the window used to say "due today").
        let cal = Calendar::new(&Settings::default(), TimeZone::get("Asia/Tokyo").unwrap());
        let now = datetime!(2026-03-10 14:30 UTC);
        let words = cal.due_words(
            [
                Some(datetime!(2026-03-10 16:00 UTC)),
                Some(datetime!(2026-03-10 14:00 UTC)),
                Some(datetime!(2026-03-08 16:00 UTC)),
                Some(datetime!(2026-03-20 00:00 UTC)),
                None,
            ],
            now,
        );
        assert_eq!(
            words,
            [
                Some("due tomorrow".to_owned()),
                Some("due today".to_owned()),
                Some("overdue by 1 day".to_owned()),
                Some("due in 10 days".to_owned()),
                None,
            ]
        );
    }

    #[test]
    fn thresholds_fire_at_the_local_reminder_hour() {
        // Due 20 March 2026 at 15:00 in Berlin (14:00 UTC, winter time).
        let c = cal("Europe/Berlin");
        let due = datetime!(2026-03-20 14:00 UTC);
        assert_eq!(c.fire_at(due, 14), Some(datetime!(2026-03-06 8:00 UTC)));
        assert_eq!(c.fire_at(due, 7), Some(datetime!(2026-03-13 8:00 UTC)));
        assert_eq!(c.fire_at(due, 1), Some(datetime!(2026-03-19 8:00 UTC)));
        assert_eq!(c.fire_at(due, 0), Some(datetime!(2026-03-20 8:00 UTC)));
        // Overdue: daily, and after the DST change (29 March) 09:00 is 07:00 UTC.
        assert_eq!(c.fire_at(due, -1), Some(datetime!(2026-03-21 8:00 UTC)));
        assert_eq!(c.fire_at(due, -10), Some(datetime!(2026-03-30 7:00 UTC)));
    }

    #[test]
    fn a_threshold_across_a_dst_change_counts_calendar_days() {
        // Due 2 April 2026 09:00 New York time (EDT since 8 March).
        let c = cal("America/New_York");
        let due = datetime!(2026-04-02 13:00 UTC);
        // 14 days before is 19 March, also EDT: 13:00 UTC.
        assert_eq!(c.fire_at(due, 14), Some(datetime!(2026-03-19 13:00 UTC)));
        // 30 days before (a custom threshold) is 3 March, still EST: 14:00 UTC.
        assert_eq!(c.fire_at(due, 30), Some(datetime!(2026-03-03 14:00 UTC)));
        // The same instant is a different local day in Tokyo and Honolulu.
        let tokyo = cal("Asia/Tokyo");
        let honolulu = cal("Pacific/Honolulu");
        let due = datetime!(2026-06-30 20:00 UTC); // 1 July in Tokyo, 30 June in Honolulu
        let now = datetime!(2026-06-29 20:00 UTC);
        assert_eq!(tokyo.days_left(due, now), 1);
        assert_eq!(honolulu.days_left(due, now), 1);
        let now = datetime!(2026-06-30 10:00 UTC); // 30 June 19:00 Tokyo, 30 June 00:00 Honolulu
        assert_eq!(tokyo.days_left(due, now), 1);
        assert_eq!(honolulu.days_left(due, now), 0);
    }

    #[test]
    fn the_day_a_reminder_falls_in_a_dst_gap_it_still_arrives() {
        // Berlin skips 02:00–03:00 on 29 March 2026; a 02:00 reminder hour
        // lands at 03:00 local (01:00 UTC), not never.
        let s = Settings {
            reminder_hour: 2,
            ..Settings::default()
        };
        let c = Calendar::new(&s, TimeZone::get("Europe/Berlin").unwrap());
        let due = datetime!(2026-04-05 12:00 UTC);
        assert_eq!(c.fire_at(due, 7), Some(datetime!(2026-03-29 1:00 UTC)));
    }

    #[test]
    fn on_the_day_never_arrives_after_the_key_is_due() {
        let c = cal("UTC");
        let due = datetime!(2026-05-10 6:30 UTC); // before the 09:00 reminder hour
        assert_eq!(c.fire_at(due, 0), Some(due));
        assert_eq!(c.stage(due, datetime!(2026-05-10 6:29 UTC)), Some(1));
        assert_eq!(c.stage(due, due), Some(0));
    }

    #[test]
    fn leap_days_count_as_days() {
        let c = cal("UTC");
        let due = datetime!(2028-03-01 12:00 UTC);
        assert_eq!(c.fire_at(due, 1), Some(datetime!(2028-02-29 9:00 UTC)));
        assert_eq!(c.days_left(due, datetime!(2028-02-28 23:00 UTC)), 2);
        assert_eq!(c.fire_at(due, 7), Some(datetime!(2028-02-23 9:00 UTC)));
    }

    #[test]
    fn stages_progress_and_each_is_sent_once() {
        let c = cal("UTC");
        let due = datetime!(2026-07-15 12:00 UTC);
        let e = vec![entry("a1", due)];
        let mut states = HashMap::new();
        let at = |states: &HashMap<String, State>, t| plan(&e, states, &c, t);
        // Before the first threshold: nothing, wake at 14 days before.
        let p = at(&states, datetime!(2026-06-01 0:00 UTC));
        assert!(p.due_now.is_empty());
        assert_eq!(p.next_wake, Some(datetime!(2026-07-01 9:00 UTC)));
        // 14 days before: one reminder.
        let p = at(&states, datetime!(2026-07-01 9:00 UTC));
        assert_eq!(p.due_now.len(), 1);
        assert_eq!(p.due_now[0].stage, 14);
        assert_eq!(p.due_now[0].days_left, 14);
        assert_eq!(p.due_now[0].title(), "Rotate Kraken · bot a1");
        assert_eq!(p.next_wake, Some(datetime!(2026-07-08 9:00 UTC)));
        states.insert(
            "a1".into(),
            State {
                due_at: Some(due),
                stage: Some(14),
                snoozed_until: None,
            },
        );
        // Sent: later the same week, nothing again.
        let p = at(&states, datetime!(2026-07-03 9:00 UTC));
        assert!(p.due_now.is_empty());
        assert_eq!(p.next_wake, Some(datetime!(2026-07-08 9:00 UTC)));
        // The app was off for a week and a half: only the latest stage is sent.
        let p = at(&states, datetime!(2026-07-14 18:00 UTC));
        assert_eq!(p.due_now.len(), 1);
        assert_eq!(p.due_now[0].stage, 1);
        assert_eq!(p.due_now[0].body(), "due tomorrow (30-day rotation period)");
        // Overdue: daily.
        states.get_mut("a1").unwrap().stage = Some(0);
        let p = at(&states, datetime!(2026-07-17 10:00 UTC));
        assert_eq!(p.due_now[0].stage, -2);
        assert_eq!(
            p.due_now[0].body(),
            "overdue by 2 days (30-day rotation period)"
        );
        states.get_mut("a1").unwrap().stage = Some(-2);
        let p = at(&states, datetime!(2026-07-17 10:00 UTC));
        assert!(p.due_now.is_empty());
        assert_eq!(p.next_wake, Some(datetime!(2026-07-18 9:00 UTC)));
        // A new due date (the key was rotated) starts afresh.
        let e2 = vec![entry("a1", datetime!(2026-08-30 12:00 UTC))];
        let p = plan(&e2, &states, &c, datetime!(2026-08-20 10:00 UTC));
        assert_eq!(p.due_now[0].stage, 14);
    }

    #[test]
    fn a_snooze_holds_reminders_back_and_then_repeats_the_stage() {
        let c = cal("UTC");
        let due = datetime!(2026-07-15 12:00 UTC);
        let e = vec![entry("b2", due)];
        let now = datetime!(2026-07-08 10:00 UTC);
        let mut states = HashMap::new();
        states.insert(
            "b2".into(),
            State {
                due_at: None,
                stage: None,
                snoozed_until: Some(now + Duration::days(1)),
            },
        );
        let p = plan(&e, &states, &c, now);
        assert!(p.due_now.is_empty());
        assert_eq!(p.next_wake, Some(now + Duration::days(1)));
        let p = plan(&e, &states, &c, now + Duration::days(1));
        assert_eq!(p.due_now.len(), 1);
        assert_eq!(p.due_now[0].stage, 7);
    }

    #[test]
    fn a_locked_announcement_is_no_proof_that_a_reminder_was_sent() {
        // Only the sent state in the database counts: what the locked app
        // announced (from an unauthenticated file) never mutes a reminder.
        let c = cal("UTC");
        let e = vec![entry("c3", datetime!(2026-07-15 12:00 UTC))];
        let p = plan(&e, &HashMap::new(), &c, datetime!(2026-07-08 12:00 UTC));
        assert_eq!(p.due_now.len(), 1);
    }

    #[test]
    fn nothing_due_means_no_wake_up_at_all() {
        let c = cal("UTC");
        let mut e = entry("d4", datetime!(2026-07-15 12:00 UTC));
        e.next_due_at = None;
        e.due_reason = None;
        let p = plan(&[e], &HashMap::new(), &c, datetime!(2026-07-01 0:00 UTC));
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn the_locked_schedule_holds_times_and_counts_only() {
        let c = cal("Europe/Berlin");
        let now = datetime!(2026-07-01 0:00 UTC);
        let e = vec![
            entry(
                "0f7c2a51-aaaa-bbbb-cccc-000000000001",
                datetime!(2026-07-10 12:00 UTC),
            ),
            entry(
                "0f7c2a51-aaaa-bbbb-cccc-000000000002",
                datetime!(2026-07-10 12:00 UTC),
            ),
            entry(
                "0f7c2a51-aaaa-bbbb-cccc-000000000003",
                datetime!(2026-06-20 12:00 UTC),
            ),
        ];
        let s = Schedule::build(&e, &HashMap::new(), &c, now);
        // The overdue key reminds daily from the next 09:00 local; the other
        // two are inside their 14-day window already, so all three count.
        assert_eq!(s.events[0].at, datetime!(2026-07-01 7:00 UTC));
        assert_eq!(s.events[0].keys, 3);
        // Nothing before "now", one event a day up to the horizon at most.
        assert!(s.events.iter().all(|ev| ev.at > now));
        assert!(s.events.len() <= SCHEDULE_HORIZON_DAYS as usize + 3);
        let july3 = s
            .events
            .iter()
            .find(|ev| ev.at == datetime!(2026-07-03 7:00 UTC))
            .unwrap();
        assert_eq!(july3.keys, 3);
        let text = serde_json::to_string(&s).unwrap();
        for needle in ["0f7c2a51", "Kraken", "bot", "rotation"] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
        assert_eq!(
            Schedule::message(&Event {
                at: now,
                keys: 2,
                review: false
            }),
            "2 API keys are due for rotation — unlock Keyward to see which"
        );
        // Announcing: the latest passed event, once.
        let mut s = s;
        let at = datetime!(2026-07-03 8:00 UTC);
        assert_eq!(s.to_announce(at).unwrap().keys, 3);
        s.announced_through = Some(at);
        assert_eq!(s.to_announce(at), None);
        assert_eq!(s.next_wake(at), Some(datetime!(2026-07-04 7:00 UTC)));
        // A time after now was not written by the locked app: ignored, so
        // it cannot mute every later locked reminder.
        s.announced_through = Some(at + Duration::days(3650));
        assert_eq!(s.to_announce(at).unwrap().keys, 3);
    }
}
