//! What the edges hand in as text, checked once: the error that names a
//! field and its reason, and the checks shared by every domain (notes,
//! one-line names, echoing a bad value back safely).

use std::fmt;

use strum::VariantArray;
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

/// Parses one of a closed set of words (a status, a decision, an incident
/// step…), the same way at every edge: case-insensitive, `-` read as `_`,
/// and a refusal that lists the words. The names come from strum's derive
/// (`IntoStaticStr`, `VariantArray`), so they are written once.
pub fn keyword<T>(text: &str) -> Result<T, String>
where
    T: Copy + VariantArray + Into<&'static str>,
{
    // Without allocating: stored values are parsed for every key listed.
    let wanted = text.trim();
    let same = |name: &str| {
        name.len() == wanted.len()
            && name
                .bytes()
                .zip(wanted.bytes())
                .all(|(n, w)| n.eq_ignore_ascii_case(&w) || (n == b'_' && w == b'-'))
    };
    T::VARIANTS
        .iter()
        .copied()
        .find(|v| same((*v).into()))
        .ok_or_else(|| {
            let names: Vec<&'static str> = T::VARIANTS.iter().map(|v| (*v).into()).collect();
            format!("must be one of {}", names.join(", "))
        })
}

/// `as_str`, `ALL` and `FromStr` (through [`keyword`]) for enums deriving
/// strum's `IntoStaticStr` and `VariantArray`.
macro_rules! keywords {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// Every value, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$t] = <$t as strum::VariantArray>::VARIANTS;
            /// The word stored, printed and accepted for this value.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $crate::field::keyword(s)
            }
        }
    )*};
}

pub(crate) use keywords;

#[cfg(test)]
mod tests {
    use strum::{IntoStaticStr, VariantArray};

    #[derive(Clone, Copy, Debug, PartialEq, IntoStaticStr, VariantArray)]
    #[strum(serialize_all = "snake_case")]
    enum Word {
        Done,
        NotApplicable,
    }
    crate::field::keywords!(Word);

    #[test]
    fn keywords_parse_loosely_and_refuse_with_the_list() {
        assert_eq!(" Not-Applicable ".parse::<Word>(), Ok(Word::NotApplicable));
        assert_eq!(Word::NotApplicable.as_str(), "not_applicable");
        assert_eq!(Word::ALL, &[Word::Done, Word::NotApplicable]);
        assert_eq!(
            "maybe".parse::<Word>(),
            Err("must be one of done, not_applicable".into())
        );
    }
}
