//! Timestamps as the vault stores and shows them: RFC 3339 in UTC, whole
//! seconds. Users may also type a bare `YYYY-MM-DD`, meaning midnight UTC.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// `2026-11-22T07:54:12Z`.
pub fn format(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

/// Parses what [`format`] wrote (or any RFC 3339 time), normalised to UTC.
pub fn parse_rfc3339(s: &str) -> Result<OffsetDateTime, &'static str> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|_| "expected YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T09:00:00Z")
}

/// Parses a time the vault wrote itself (`YYYY-MM-DDTHH:MM:SSZ`) without
/// the general parser: listing 10,000 keys parses 60,000 of them. Anything
/// else falls back to [`parse_rfc3339`].
pub fn parse_stored(s: &str) -> Result<OffsetDateTime, &'static str> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return parse_rfc3339(s);
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let fast = (|| {
        let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
        let date = Date::from_calendar_date(
            i32::try_from(num(0..4)?).ok()?,
            month,
            u8::try_from(num(8..10)?).ok()?,
        )
        .ok()?;
        let t = time::Time::from_hms(
            u8::try_from(num(11..13)?).ok()?,
            u8::try_from(num(14..16)?).ok()?,
            u8::try_from(num(17..19)?).ok()?,
        )
        .ok()?;
        Some(date.with_time(t).assume_utc())
    })();
    fast.map_or_else(|| parse_rfc3339(s), Ok)
}

/// Parses a user's date: `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub fn parse_user(s: &str) -> Result<OffsetDateTime, &'static str> {
    let s = s.trim();
    if s.len() == 10 {
        let fmt = format_description!("[year]-[month]-[day]");
        return Date::parse(s, &fmt)
            .map(|d| d.midnight().assume_utc())
            .map_err(|_| "expected a real date as YYYY-MM-DD");
    }
    parse_rfc3339(s)
}

/// Serde helpers so JSON carries the same RFC 3339 strings as the database.
pub mod serde_rfc3339 {
    use serde::Serializer;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*t))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        super::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use serde::Serializer;
        use time::OffsetDateTime;

        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            let text = <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(d)?;
            text.map(|t| super::super::parse_rfc3339(&t).map_err(serde::de::Error::custom))
                .transpose()
        }

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::format(*t)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_in_utc_with_whole_seconds() {
        let t = datetime!(2026-11-22 09:54:12.75 +02:00);
        assert_eq!(format(t), "2026-11-22T07:54:12Z");
    }

    #[test]
    fn bare_dates_are_midnight_utc() {
        assert_eq!(
            parse_user("2026-02-28").unwrap(),
            datetime!(2026-02-28 00:00 UTC)
        );
        assert!(parse_user("2026-02-30").is_err());
        assert!(parse_user("28/02/2026").is_err());
    }

    #[test]
    fn stored_times_parse_fast_and_exactly() {
        for t in [
            datetime!(2026-11-22 07:54:12 UTC),
            datetime!(1970-01-01 0:00 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(2028-02-29 12:00 UTC),
        ] {
            assert_eq!(parse_stored(&format(t)).unwrap(), t);
        }
        assert!(parse_stored("2026-02-30T00:00:00Z").is_err());
        assert!(parse_stored("2026-1a-01T00:00:00Z").is_err());
        assert!(parse_stored("2026-01-01T24:00:00Z").is_err());
        assert_eq!(
            parse_stored("2026-01-01T01:00:00+01:00").unwrap(),
            datetime!(2026-01-01 0:00 UTC)
        );
    }

    #[test]
    fn rfc3339_with_offsets_is_normalised() {
        assert_eq!(
            parse_user("2026-01-31T09:00:00+01:00").unwrap(),
            datetime!(2026-01-31 08:00 UTC)
        );
        assert_eq!(
            parse_rfc3339(&format(datetime!(2030-01-01 0:00 UTC))).unwrap(),
            datetime!(2030-01-01 0:00 UTC)
        );
    }
}
