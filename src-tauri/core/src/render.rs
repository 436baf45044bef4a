//! Writing reports and exports safely: escaping for Markdown, HTML and CSV
//! (a value a user typed must never become formatting, markup or a
//! spreadsheet formula), the reports' shared style sheet and their dates.
//! Shared by the review's and the incident's reports and the CSV export.

use time::macros::format_description;
use time::OffsetDateTime;

/// A moment as reports print it: `2026-11-22 14:05 UTC`.
pub fn when(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default()
}

/// A day as reports and file names print it: `2026-11-22`.
pub fn day(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A day, or a dash for none.
pub fn opt_day(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "—".into(), day)
}

/// Escapes what Markdown would read as formatting, links or HTML, and folds
/// line breaks (one value, one line).
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '(' | ')'
            | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR
/// as a formula: such cells get a leading apostrophe.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Escapes HTML's special characters and drops control characters.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// The printable reports' style sheet.
pub const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #e5e8eb; }
th { font-weight: 600; color: #424a53; }
.meta th { width: 14rem; }
.key { border: 1px solid #d0d7de; border-radius: 6px; padding: .9rem 1rem; margin: 1rem 0; break-inside: avoid; }
.facts { display: grid; grid-template-columns: 11rem 1fr; gap: .15rem .75rem; margin: 0 0 .5rem; }
.facts dt { color: #57606a; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.sev { display: inline-block; min-width: 4.5rem; font-weight: 600; text-transform: uppercase; font-size: .75rem; }
.critical { color: #a40e26; } .high { color: #bc4c00; } .medium { color: #7d4e00; } .low { color: #57606a; }
.decision { font-weight: 700; }
.note { white-space: pre-wrap; border-left: 3px solid #d0d7de; padding-left: .75rem; color: #424a53; }
.hash { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.notice { color: #57606a; font-size: .9rem; }
@media print { body { margin: 0; max-width: none; font-size: 11pt; } .key { border-color: #999; } }
"#;
