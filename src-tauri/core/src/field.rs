//! What the edges hand in as text, checked once: the error that names a
//! field and its reason, and the checks shared by every domain (notes,
//! one-line names, echoing a bad value back safely).

use std::fmt;

use ts_rs::TS;

/// One bad field: `label: must be 1–200 characters`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, TS)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// A free-text note (reviews, incidents): trimmed, at most `max`
/// characters, line breaks and tabs allowed, no other control characters.
pub fn check_note(note: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let bad = |reason: String| FieldError {
        field: "note",
        reason,
    };
    if note.chars().count() > max {
        return Err(bad(format!("at most {max} characters")));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(bad("must not contain control characters".into()));
    }
    Ok(Some(note.to_owned()))
}

/// One line of text without control characters, at most `max` characters.
pub fn short_text(s: &str, max: usize) -> Result<(), String> {
    if s.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    Ok(())
}

/// Echoing a bad value back helps, but never a long one (it may be a pasted
/// secret in the wrong field).
pub fn truncate_for_message(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}
