//! When a key must next be rotated, and why: the due-date policy (pure).
//!
//! The due date is the earliest of three clocks: the rotation period counted
//! from the last rotation (or creation), the key's own expiry, and a venue's
//! deadline where the key's metadata triggers one (only sourced rules, from
//! the platforms catalogue). The reason travels with the date, so a reminder
//! can say which clock it is.

use time::{Duration, OffsetDateTime};

use crate::key::{Due, DueReason, Entry, Fields, Permission, Risk, Status};
use crate::platforms::{self, Deadline, DeadlineFrom, Platform};
use crate::settings::Settings;

/// What the venue rules look at: borrowed from an entry or its fields, so
/// checking 10,000 keys copies nothing.
#[derive(Clone, Copy, Debug)]
pub struct KeyFacts<'a> {
    pub platform: &'a str,
    pub permissions: &'a [Permission],
    pub ip_restricted: bool,
    pub created_at: OffsetDateTime,
    pub last_rotated_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

impl<'a> KeyFacts<'a> {
    pub fn of_fields(f: &'a Fields) -> Self {
        KeyFacts {
            platform: &f.platform,
            permissions: &f.permissions,
            ip_restricted: !f.ip_allowlist.is_empty(),
            created_at: f.created_at,
            last_rotated_at: f.last_rotated_at,
            last_used_at: f.last_used_at,
        }
    }

    pub fn of_entry(e: &'a Entry) -> Self {
        KeyFacts {
            platform: &e.platform,
            permissions: &e.permissions,
            ip_restricted: e.is_ip_restricted(),
            created_at: e.created_at,
            last_rotated_at: e.last_rotated_at,
            last_used_at: e.last_used_at,
        }
    }
}

/// The rules that decide due dates: the default periods from the settings
/// and the venue deadlines from the catalogue.
#[derive(Clone, Debug)]
pub struct Policy {
    pub critical_days: u32,
    pub high_days: u32,
    pub low_days: u32,
    /// Only the platforms that have deadlines: checked for every key listed.
    venues: Vec<&'static Platform>,
    /// Whether any deadline applies to keys that do have an IP allowlist
    /// (none of today's do: most keys then skip the platform lookup).
    venue_rules_with_allowlist: bool,
}

impl Policy {
    pub fn new(settings: &Settings) -> Self {
        let venues: Vec<&'static Platform> = platforms::built_in()
            .iter()
            .filter(|p| !p.deadlines.is_empty())
            .collect();
        Policy {
            venue_rules_with_allowlist: venues
                .iter()
                .any(|p| p.deadlines.iter().any(|d| !d.without_ip_allowlist)),
            critical_days: settings.rotation_days_critical,
            high_days: settings.rotation_days_high,
            low_days: settings.rotation_days_low,
            venues,
        }
    }

    /// The default period for a key that has none: by its riskiest
    /// permission. A platform's own scope we cannot judge counts as high.
    pub fn default_days(&self, permissions: &[Permission]) -> u32 {
        let worst = permissions
            .iter()
            .map(|p| match p.risk() {
                Risk::Unknown => Risk::High,
                r => r,
            })
            .max()
            .unwrap_or(Risk::Low);
        match worst {
            Risk::Critical => self.critical_days,
            Risk::High | Risk::Unknown => self.high_days,
            Risk::Low => self.low_days,
        }
    }

    /// The key's next due date, or `None` for a key that no longer works
    /// (revoked, retired).
    pub fn due(&self, f: &Fields, status: Status) -> Option<Due> {
        if !status.is_live() {
            return None;
        }
        let since_rotation = f.last_rotated_at.unwrap_or(f.created_at).max(f.created_at);
        let (days, default) = match f.rotation_days {
            Some(d) => (d, false),
            None => (self.default_days(&f.permissions), true),
        };
        let mut best = since_rotation
            .checked_add(Duration::days(i64::from(days)))
            .map(|at| Due {
                at,
                reason: DueReason::Period { days, default },
            });
        let mut consider = |candidate: Due| {
            if best.as_ref().is_none_or(|b| candidate.at < b.at) {
                best = Some(candidate);
            }
        };
        // A review's request stands until the key is next rotated.
        if let Some(at) = f.rotation_requested_at.filter(|at| *at > since_rotation) {
            consider(Due {
                at,
                reason: DueReason::Requested,
            });
        }
        if let Some(at) = f.expires_at {
            consider(Due {
                at,
                reason: DueReason::Expiry,
            });
        }
        for (d, at) in self.venue_deadlines(&KeyFacts::of_fields(f)) {
            consider(Due {
                at,
                reason: DueReason::Venue {
                    rule: d.id.clone(),
                    text: d.text.clone(),
                },
            });
        }
        best
    }

    /// The venue rules this key's metadata triggers, with when each bites.
    pub fn venue_deadlines(&self, f: &KeyFacts<'_>) -> Vec<(&Deadline, OffsetDateTime)> {
        if f.ip_restricted && !self.venue_rules_with_allowlist {
            return Vec::new();
        }
        platforms::find_in(self.venues.iter().copied(), f.platform)
            .map(|p| {
                p.deadlines
                    .iter()
                    .filter_map(|d| venue_deadline(d, f).map(|at| (d, at)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// When a venue rule will bite this key, if its metadata triggers the rule.
fn venue_deadline(d: &Deadline, f: &KeyFacts<'_>) -> Option<OffsetDateTime> {
    if d.without_ip_allowlist && f.ip_restricted {
        return None;
    }
    let triggered = d.permissions_any.is_empty()
        || f.permissions
            .iter()
            .any(|p| d.permissions_any.iter().any(|n| n == p.name()));
    if !triggered {
        return None;
    }
    // A rotation makes a new key on the venue: its clock restarts.
    let key_made = f.last_rotated_at.unwrap_or(f.created_at).max(f.created_at);
    let start = match d.from {
        DeadlineFrom::Created => key_made,
        DeadlineFrom::LastUsed => f.last_used_at.map_or(key_made, |u| u.max(key_made)),
    };
    start.checked_add(Duration::days(i64::from(d.days)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy() -> Policy {
        Policy::new(&Settings::default())
    }

    fn key(platform: &str, perms: &[&str], created: OffsetDateTime) -> Fields {
        let mut f = Fields::blank(created);
        f.platform = platform.into();
        f.label = "k".into();
        f.permissions = perms.iter().map(|p| p.parse().unwrap()).collect();
        f
    }

    #[test]
    fn default_periods_follow_the_riskiest_permission() {
        let p = policy();
        let t = datetime!(2026-01-01 0:00 UTC);
        let cases: &[(&[&str], u32)] = &[
            (&["read"], 90),
            (&[], 90),
            (&["read", "deposit"], 90),
            (&["trade"], 60),
            (&["read", "futures"], 60),
            (&["raw:enableVanillaOptions"], 60),
            (&["trade", "withdraw"], 30),
            (&["account"], 30),
            (&["transfer"], 30),
        ];
        for (perms, days) in cases {
            let mut f = key("Some broker", perms, t);
            f.ip_allowlist = vec!["203.0.113.7".parse().unwrap()];
            let due = p.due(&f, Status::Active).unwrap();
            assert_eq!(due.at, t + Duration::days(i64::from(*days)), "{perms:?}");
            assert_eq!(
                due.reason,
                DueReason::Period {
                    days: *days,
                    default: true
                }
            );
        }
    }

    #[test]
    fn the_earliest_clock_wins_and_keeps_its_reason() {
        let p = policy();
        let t = datetime!(2026-01-01 0:00 UTC);
        let mut f = key("Kraken", &["read"], t);
        f.rotation_days = Some(90);
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            datetime!(2026-04-01 0:00 UTC)
        );
        // An expiry before the period ends.
        f.expires_at = Some(datetime!(2026-02-15 12:00 UTC));
        let due = p.due(&f, Status::Active).unwrap();
        assert_eq!(due.at, datetime!(2026-02-15 12:00 UTC));
        assert_eq!(due.reason, DueReason::Expiry);
        // A rotation restarts the period but not a fixed expiry.
        f.last_rotated_at = Some(datetime!(2026-02-01 0:00 UTC));
        assert_eq!(p.due(&f, Status::Active).unwrap().reason, DueReason::Expiry);
        f.expires_at = None;
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            datetime!(2026-05-02 0:00 UTC)
        );
        assert_eq!(p.due(&f, Status::Revoked), None);
        assert_eq!(p.due(&f, Status::Retired), None);
        assert!(p.due(&f, Status::Rotating).is_some());
    }

    #[test]
    fn binance_trading_keys_without_an_allowlist_are_due_in_30_days() {
        let p = policy();
        let t = datetime!(2026-03-10 8:30 UTC);
        let mut f = key("binance", &["read", "trade"], t);
        f.rotation_days = Some(90);
        let due = p.due(&f, Status::Active).unwrap();
        assert_eq!(due.at, t + Duration::days(30));
        assert!(
            matches!(&due.reason, DueReason::Venue { rule, .. } if rule.starts_with("binance."))
        );
        // With an allowlist the venue rule does not apply.
        f.ip_allowlist = vec!["203.0.113.0/24".parse().unwrap()];
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            t + Duration::days(90)
        );
        // Read-only keys are not affected.
        let mut r = key("Binance", &["read"], t);
        r.rotation_days = Some(365);
        assert_eq!(
            p.due(&r, Status::Active).unwrap().at,
            t + Duration::days(365)
        );
    }

    #[test]
    fn bybit_and_kucoin_rules_apply_as_sourced() {
        let p = policy();
        let t = datetime!(2026-01-01 0:00 UTC);
        // Bybit: any key without IP binding becomes invalid after 90 days.
        let mut b = key("Bybit", &["read"], t);
        b.rotation_days = Some(365);
        let due = p.due(&b, Status::Active).unwrap();
        assert_eq!(due.at, t + Duration::days(90));
        assert!(matches!(due.reason, DueReason::Venue { .. }));
        // KuCoin: trading keys without IP, inactive 30 days: counted from last use.
        let mut k = key("kucoin", &["trade"], t);
        k.rotation_days = Some(365);
        k.last_used_at = Some(datetime!(2026-02-01 0:00 UTC));
        assert_eq!(
            p.due(&k, Status::Active).unwrap().at,
            datetime!(2026-03-03 0:00 UTC)
        );
        // General-only KuCoin keys never expire.
        let mut g = key("kucoin", &["read"], t);
        g.rotation_days = Some(365);
        assert_eq!(
            p.due(&g, Status::Active).unwrap().at,
            t + Duration::days(365)
        );
    }

    #[test]
    fn a_key_created_in_the_future_counts_from_its_creation() {
        let p = policy();
        let created = datetime!(2027-06-01 0:00 UTC);
        let mut f = key("Kraken", &["trade"], created);
        // A last rotation recorded before creation is nonsense: creation wins.
        f.last_rotated_at = Some(datetime!(2026-01-01 0:00 UTC));
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            created + Duration::days(60)
        );
    }

    #[test]
    fn leap_days_are_plain_days() {
        let p = policy();
        let mut f = key("Kraken", &["read"], datetime!(2028-02-28 12:00 UTC));
        f.rotation_days = Some(1);
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            datetime!(2028-02-29 12:00 UTC)
        );
        f.rotation_days = Some(365);
        assert_eq!(
            p.due(&f, Status::Active).unwrap().at,
            datetime!(2029-02-27 12:00 UTC)
        );
    }
}
