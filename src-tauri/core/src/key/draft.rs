//! Validation at the edge: what a user typed (CLI flags, a form, an import
//! row) arrives as text in a [`Draft`] and leaves as checked [`Fields`], or
//! as one error per bad field, each naming the field and the reason.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use ts_rs::TS;

use super::{Environment, FieldName, Fields, IpRule, Permission};
use crate::field::{truncate_for_message, FieldError};
use crate::secret::SecretValue;
use crate::timefmt;

fn err(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

/// An entry's metadata as typed. `None` leaves a field as it is (on edit) or
/// at its default (on add); `Some("")` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields)]
pub struct Draft {
    pub platform: Option<String>,
    pub account: Option<String>,
    pub label: Option<String>,
    pub environment: Option<String>,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub ip_allowlist: Option<Vec<String>>,
    pub ip_note: Option<String>,
    pub rotation_days: Option<String>,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_rotated_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_reviewed_at: Option<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    pub key_id_hint: Option<String>,
}

/// A secret field's name and value as given, before validation.
pub struct SecretInput {
    pub field: String,
    pub value: SecretValue,
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretInput")
            .field("field", &self.field)
            .field("value", &self.value)
            .finish()
    }
}

pub const LABEL_MAX: usize = 200;
pub const PLATFORM_MAX: usize = 64;
pub const SHORT_TEXT_MAX: usize = 200;
pub const LONG_TEXT_MAX: usize = 500;
pub const NOTES_MAX: usize = 10_000;
pub const TAG_MAX: usize = 64;
pub const TAGS_MAX: usize = 32;
pub const IPS_MAX: usize = 256;
pub const PERMISSIONS_MAX: usize = 64;
pub const ROTATION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// Applies a draft to `fields` and checks the whole result. On error,
/// `fields` may be partly changed: callers work on a copy.
pub fn apply(
    draft: &Draft,
    fields: &mut Fields,
    now: OffsetDateTime,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut check = |r: Result<(), FieldError>| {
        if let Err(e) = r {
            errors.push(e);
        }
    };

    if let Some(v) = &draft.platform {
        check(single_line("platform", v, 1, PLATFORM_MAX).map(|()| fields.platform = v.clone()));
    }
    if let Some(v) = &draft.label {
        check(single_line("label", v, 1, LABEL_MAX).map(|()| fields.label = v.clone()));
    }
    if let Some(v) = &draft.account {
        check(optional_line("account", v, SHORT_TEXT_MAX).map(|o| fields.account = o));
    }
    if let Some(v) = &draft.owner {
        check(optional_line("owner", v, SHORT_TEXT_MAX).map(|o| fields.owner = o));
    }
    if let Some(v) = &draft.purpose {
        check(optional_line("purpose", v, LONG_TEXT_MAX).map(|o| fields.purpose = o));
    }
    if let Some(v) = &draft.ip_note {
        check(optional_line("ip_note", v, LONG_TEXT_MAX).map(|o| fields.ip_note = o));
    }
    if let Some(v) = &draft.key_id_hint {
        check(optional_line("key_id_hint", v, 16).and_then(|o| {
            if o.as_deref()
                .is_some_and(|h| h.chars().any(char::is_whitespace))
            {
                return Err(err("key_id_hint", "must not contain spaces"));
            }
            fields.key_id_hint = o;
            Ok(())
        }));
    }
    if let Some(v) = &draft.notes {
        check(notes(v).map(|o| fields.notes = o));
    }
    if let Some(v) = &draft.environment {
        check(
            v.parse::<Environment>()
                .map(|e| fields.environment = e)
                .map_err(|r| err("environment", r)),
        );
    }
    if let Some(list) = &draft.permissions {
        check(permissions(list).map(|p| fields.permissions = p));
    }
    if let Some(list) = &draft.ip_allowlist {
        check(ip_allowlist(list).map(|l| fields.ip_allowlist = l));
    }
    if let Some(list) = &draft.tags {
        check(tags(list).map(|t| fields.tags = t));
    }
    if let Some(v) = &draft.rotation_days {
        check(rotation_days(v).map(|d| fields.rotation_days = d));
    }
    if let Some(v) = &draft.created_at {
        if v.trim().is_empty() {
            check(Err(err("created_at", "is required")));
        } else {
            check(date("created_at", v).map(|d| fields.created_at = d));
        }
    }
    let latest_past = now + Duration::days(1);
    for (name, value, slot) in [
        ("expires_at", &draft.expires_at, &mut fields.expires_at),
        (
            "last_rotated_at",
            &draft.last_rotated_at,
            &mut fields.last_rotated_at,
        ),
        (
            "last_used_at",
            &draft.last_used_at,
            &mut fields.last_used_at,
        ),
        (
            "last_reviewed_at",
            &draft.last_reviewed_at,
            &mut fields.last_reviewed_at,
        ),
    ] {
        if let Some(v) = value {
            if v.trim().is_empty() {
                *slot = None;
                continue;
            }
            match date(name, v) {
                Ok(d) if name != "expires_at" && d > latest_past => {
                    errors.push(err(name, "must not be in the future"))
                }
                Ok(d) => *slot = Some(d),
                Err(e) => errors.push(e),
            }
        }
    }

    // Whole-entry rules, checked on the result whatever the draft touched.
    if fields.platform.trim().is_empty() && !errors.iter().any(|e| e.field == "platform") {
        errors.push(err("platform", "is required"));
    }
    if fields.label.trim().is_empty() && !errors.iter().any(|e| e.field == "label") {
        errors.push(err("label", "is required"));
    }
    if let Some(exp) = fields.expires_at {
        if exp < fields.created_at && !errors.iter().any(|e| e.field == "expires_at") {
            errors.push(err(
                "expires_at",
                format!(
                    "must not be before created_at ({})",
                    timefmt::format(fields.created_at)
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Checks secret inputs: valid, distinct names and 1 byte – 16 KiB values.
pub fn secrets(inputs: Vec<SecretInput>) -> Result<Vec<(FieldName, SecretValue)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for SecretInput { field, value } in inputs {
        match field.parse::<FieldName>() {
            Err(r) => errors.push(err("secret field", r)),
            Ok(name) => {
                if !seen.insert(name.clone()) {
                    errors.push(err("secret field", format!("'{name}' is given twice")));
                } else if value.is_empty() {
                    errors.push(err("secret field", format!("'{name}' is empty")));
                } else if value.len() > SecretValue::MAX_LEN {
                    errors.push(err(
                        "secret field",
                        format!("'{name}' is longer than 16 KiB"),
                    ));
                } else {
                    out.push((name, value));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn single_line(field: &'static str, v: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let n = v.chars().count();
    if n < min || n > max || (min > 0 && v.trim().is_empty()) {
        return Err(err(field, format!("must be {min}–{max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(err(
            field,
            "must be a single line without control characters",
        ));
    }
    Ok(())
}

fn optional_line(field: &'static str, v: &str, max: usize) -> Result<Option<String>, FieldError> {
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(err(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(err(
            field,
            "must be a single line without control characters",
        ));
    }
    Ok(Some(v.to_owned()))
}

fn notes(v: &str) -> Result<Option<String>, FieldError> {
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > NOTES_MAX {
        return Err(err(
            "notes",
            format!("must be at most {NOTES_MAX} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(err("notes", "must not contain control characters"));
    }
    Ok(Some(v.to_owned()))
}

fn permissions(list: &[String]) -> Result<Vec<Permission>, FieldError> {
    if list.len() > PERMISSIONS_MAX {
        return Err(err("permissions", format!("at most {PERMISSIONS_MAX}")));
    }
    let mut out: Vec<Permission> = Vec::with_capacity(list.len());
    for s in list {
        let p = s.parse::<Permission>().map_err(|r| err("permissions", r))?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

fn ip_allowlist(list: &[String]) -> Result<Vec<IpRule>, FieldError> {
    if list.len() > IPS_MAX {
        return Err(err("ip_allowlist", format!("at most {IPS_MAX} entries")));
    }
    let mut out: Vec<IpRule> = Vec::with_capacity(list.len());
    for s in list {
        let rule = s.parse::<IpRule>().map_err(|r| err("ip_allowlist", r))?;
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    Ok(out)
}

fn tags(list: &[String]) -> Result<Vec<String>, FieldError> {
    if list.len() > TAGS_MAX {
        return Err(err("tags", format!("at most {TAGS_MAX}")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for t in list {
        let n = t.chars().count();
        if n == 0
            || n > TAG_MAX
            || t.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(err(
                "tags",
                format!(
                    "'{}' must be 1–{TAG_MAX} characters without spaces or commas",
                    truncate_for_message(t)
                ),
            ));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

fn rotation_days(v: &str) -> Result<Option<u32>, FieldError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<u32>() {
        Ok(d) if ROTATION_DAYS.contains(&d) => Ok(Some(d)),
        _ => Err(err(
            "rotation_days",
            "must be a whole number of days from 1 to 3650",
        )),
    }
}

fn date(field: &'static str, v: &str) -> Result<OffsetDateTime, FieldError> {
    let d = timefmt::parse_user(v).map_err(|r| err(field, r))?;
    if d.year() < 1970 || d.year() > 9999 {
        return Err(err(field, "must be between 1970 and 9999"));
    }
    Ok(d)
}
