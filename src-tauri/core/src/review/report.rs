//! A review's report, for an auditor: Markdown, CSV (one row per key) and a
//! self-contained printable HTML page.
//!
//! Everything comes from the review's snapshots (metadata and findings;
//! the vault's secrets are never read here), and every value a user typed
//! is escaped for its format: Markdown punctuation, HTML entities, and CSV
//! cells that a spreadsheet would run as a formula.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::{Checks, Counts, Decision, Detail, Item, CHECKS};
use crate::findings::Finding;
use crate::render::{day, escape_html, escape_markdown, neutralise, opt_day, when, STYLE};

use escape_html as h;
use escape_markdown as md;

/// The report formats, as the window and the CLI name them (`md`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "ReviewFormat", rename_all = "lowercase")]
pub enum Format {
    #[serde(rename = "md", alias = "markdown")]
    #[ts(rename = "md")]
    Markdown,
    Csv,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            _ => Err("must be one of md, csv, html".into()),
        }
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }
}

/// The report in `format`.
pub fn render(detail: &Detail, format: Format) -> Vec<u8> {
    match format {
        Format::Markdown => markdown(detail).into_bytes(),
        Format::Csv => csv(detail),
        Format::Html => html(detail).into_bytes(),
    }
}

/// A suggested file name: `keyward-review-2026-11-22-1a2b3c4d.md`.
pub fn file_name(detail: &Detail, format: Format) -> String {
    let r = &detail.review;
    format!(
        "keyward-review-{}-{}.{}",
        day(r.finished_at.unwrap_or(r.started_at)),
        r.id.get(..8).unwrap_or(&r.id),
        format.extension()
    )
}

fn answer(a: Option<bool>) -> &'static str {
    match a {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not answered",
    }
}

fn decision_text(d: Option<Decision>) -> &'static str {
    match d {
        Some(Decision::Keep) => "keep",
        Some(Decision::Reduce) => "reduce permissions",
        Some(Decision::Rotate) => "rotate",
        Some(Decision::Revoke) => "revoke",
        None => "undecided",
    }
}

fn counts_text(c: &Counts) -> String {
    format!(
        "keep {} · reduce {} · rotate {} · revoke {}",
        c.keep, c.reduce, c.rotate, c.revoke
    )
}

fn list_or_none(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.into()
    } else {
        items.join(", ")
    }
}

const NO_SECRETS: &str = "This report holds key metadata, findings and decisions only; \
     no secret value is part of it.";

/// The facts shown for each key, as (label, value) pairs.
fn facts(item: &Item) -> Vec<(&'static str, String)> {
    let k = &item.key;
    let due = match (&k.next_due_at, &k.due_reason) {
        (Some(at), Some(why)) => format!("{} ({why})", day(*at)),
        (Some(at), None) => day(*at),
        _ => "—".into(),
    };
    vec![
        ("Key id", item.entry_id.clone()),
        ("Platform", k.platform.clone()),
        ("Account", k.account.clone().unwrap_or_else(|| "—".into())),
        ("Environment", k.environment.clone()),
        ("Owner", k.owner.clone().unwrap_or_else(|| "—".into())),
        ("Purpose", k.purpose.clone().unwrap_or_else(|| "—".into())),
        ("Permissions", list_or_none(&k.permissions, "none recorded")),
        ("IP allowlist", list_or_none(&k.ip_allowlist, "any address")),
        ("Status", k.status.clone()),
        (
            "Key-id hint",
            k.key_id_hint.clone().unwrap_or_else(|| "—".into()),
        ),
        ("Created", day(k.created_at)),
        ("Last used", opt_day(k.last_used_at)),
        ("Last rotated", opt_day(k.last_rotated_at)),
        ("Previously reviewed", opt_day(k.last_reviewed_at)),
        ("Next rotation due", due),
        ("Expires", opt_day(k.expires_at)),
    ]
}

fn status_line(detail: &Detail) -> String {
    match detail.review.finished_at {
        Some(t) => when(t),
        None => "in progress — this report is not final".into(),
    }
}

// --- Markdown ---------------------------------------------------------------

pub fn markdown(detail: &Detail) -> String {
    let r = &detail.review;
    let mut out = String::new();
    let _ = writeln!(out, "# Access review: {}\n", md(&r.scope));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in [
        ("Review", r.id.clone()),
        ("Reviewer", md(&r.reviewer)),
        ("Started", when(r.started_at)),
        ("Finished", status_line(detail)),
        ("Keys", format!("{} ({} decided)", r.total, r.decided)),
        ("Decisions", counts_text(&r.counts)),
        (
            "Audit log head at finish",
            r.audit_head
                .as_deref()
                .map_or_else(|| "—".into(), |h| format!("`{h}`")),
        ),
    ] {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    let _ = writeln!(out, "\n{NO_SECRETS}\n");
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "| # | Platform | Key | Environment | Permissions | Findings | Decision |\n|---|---|---|---|---|---|---|"
    );
    for item in &detail.items {
        let k = &item.key;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            item.position + 1,
            md(&k.platform),
            md(&k.label),
            md(&k.environment),
            md(&list_or_none(&k.permissions, "—")),
            k.findings.len(),
            decision_text(item.decision)
        );
    }
    let _ = writeln!(out, "\n## Keys");
    for item in &detail.items {
        let k = &item.key;
        let _ = writeln!(
            out,
            "\n### {}. {} · {}\n",
            item.position + 1,
            md(&k.platform),
            md(&k.label)
        );
        for (name, value) in facts(item) {
            let _ = writeln!(out, "- {name}: {}", md(&value));
        }
        if !item.exists {
            let _ = writeln!(out, "- (deleted from the vault since)");
        }
        let _ = writeln!(out, "\nFindings when decided:\n");
        if k.findings.is_empty() {
            let _ = writeln!(out, "- none");
        }
        for f in &k.findings {
            let _ = writeln!(
                out,
                "- **{}** `{}` — {}. Fix: {}",
                f.severity.as_str(),
                f.rule,
                md(&f.message),
                md(&f.fix)
            );
        }
        let _ = writeln!(out, "\nChecks:\n");
        for ((_, question), a) in CHECKS.iter().zip(item.checks.answers()) {
            let _ = writeln!(out, "- {question} {}", answer(a));
        }
        let _ = writeln!(
            out,
            "\nDecision: **{}**{}",
            decision_text(item.decision),
            item.decided_at
                .map(|t| format!(" ({})", when(t)))
                .unwrap_or_default()
        );
        if let Some(note) = &item.note {
            let _ = writeln!(out);
            for line in note.lines() {
                let _ = writeln!(out, "> {}", md(line));
            }
        }
    }
    out
}

// --- CSV --------------------------------------------------------------------

fn findings_cell(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} {}: {}", f.severity.as_str(), f.rule, f.message))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn check_cells(c: &Checks) -> Vec<String> {
    c.answers()
        .iter()
        .map(|a| match a {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => String::new(),
        })
        .collect()
}

/// The CSV's columns, in order.
pub fn csv_columns() -> Vec<&'static str> {
    let mut cols = vec![
        "review_id",
        "reviewer",
        "review_started_at",
        "review_finished_at",
        "audit_head",
        "position",
        "key_id",
        "platform",
        "account",
        "label",
        "environment",
        "owner",
        "purpose",
        "permissions",
        "ip_allowlist",
        "status",
        "created_at",
        "last_used_at",
        "last_rotated_at",
        "next_due_at",
        "due_reason",
        "expires_at",
        "findings",
    ];
    cols.extend(CHECKS.iter().map(|(name, _)| *name));
    cols.extend(["decision", "note", "decided_at"]);
    cols
}

pub fn csv(detail: &Detail) -> Vec<u8> {
    let r = &detail.review;
    let t = |t: Option<OffsetDateTime>| t.map(crate::timefmt::format).unwrap_or_default();
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(csv_columns());
    for item in &detail.items {
        let k = &item.key;
        let mut row: Vec<String> = vec![
            r.id.clone(),
            r.reviewer.clone(),
            t(Some(r.started_at)),
            t(r.finished_at),
            r.audit_head.clone().unwrap_or_default(),
            (item.position + 1).to_string(),
            item.entry_id.clone(),
            k.platform.clone(),
            k.account.clone().unwrap_or_default(),
            k.label.clone(),
            k.environment.clone(),
            k.owner.clone().unwrap_or_default(),
            k.purpose.clone().unwrap_or_default(),
            k.permissions.join(";"),
            k.ip_allowlist.join(";"),
            k.status.clone(),
            t(Some(k.created_at)),
            t(k.last_used_at),
            t(k.last_rotated_at),
            t(k.next_due_at),
            k.due_reason.clone().unwrap_or_default(),
            t(k.expires_at),
            findings_cell(&k.findings),
        ];
        row.extend(check_cells(&item.checks));
        row.push(item.decision.map(Decision::as_str).unwrap_or("").into());
        row.push(item.note.clone().unwrap_or_default());
        row.push(t(item.decided_at));
        let _ = w.write_record(row.iter().map(|c| neutralise(c)));
    }
    w.into_inner().unwrap_or_default()
}

// --- HTML -------------------------------------------------------------------

pub fn html(detail: &Detail) -> String {
    let r = &detail.review;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Access review {} — Keyward</title><style>{STYLE}</style></head><body>\n",
        h(&day(r.finished_at.unwrap_or(r.started_at)))
    );
    let _ = writeln!(out, "<h1>Access review: {}</h1>", h(&r.scope));
    let _ = writeln!(out, "<table class=\"meta\">");
    for (k, v) in [
        ("Review", h(&r.id)),
        ("Reviewer", h(&r.reviewer)),
        ("Started", h(&when(r.started_at))),
        ("Finished", h(&status_line(detail))),
        ("Keys", format!("{} ({} decided)", r.total, r.decided)),
        ("Decisions", h(&counts_text(&r.counts))),
        (
            "Audit log head at finish",
            format!(
                "<span class=\"hash\">{}</span>",
                h(r.audit_head.as_deref().unwrap_or("—"))
            ),
        ),
    ] {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    let _ = writeln!(out, "</table>\n<p class=\"notice\">{}</p>", h(NO_SECRETS));
    let _ = writeln!(
        out,
        "<h2>Summary</h2>\n<table><thead><tr><th>#</th><th>Platform</th><th>Key</th>\
         <th>Environment</th><th>Permissions</th><th>Findings</th><th>Decision</th></tr></thead><tbody>"
    );
    for item in &detail.items {
        let k = &item.key;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"decision\">{}</td></tr>",
            item.position + 1,
            h(&k.platform),
            h(&k.label),
            h(&k.environment),
            h(&list_or_none(&k.permissions, "—")),
            k.findings.len(),
            decision_text(item.decision)
        );
    }
    let _ = writeln!(out, "</tbody></table>\n<h2>Keys</h2>");
    for item in &detail.items {
        let k = &item.key;
        let _ = writeln!(
            out,
            "<section class=\"key\"><h3>{}. {} · {}</h3><dl class=\"facts\">",
            item.position + 1,
            h(&k.platform),
            h(&k.label)
        );
        for (name, value) in facts(item) {
            let _ = writeln!(out, "<dt>{name}</dt><dd>{}</dd>", h(&value));
        }
        if !item.exists {
            let _ = writeln!(out, "<dt>Vault</dt><dd>deleted since</dd>");
        }
        let _ = writeln!(out, "</dl><strong>Findings when decided</strong><ul>");
        if k.findings.is_empty() {
            let _ = writeln!(out, "<li>none</li>");
        }
        for f in &k.findings {
            let _ = writeln!(
                out,
                "<li><span class=\"sev {0}\">{0}</span> {1}. <em>Fix:</em> {2} <small>({3})</small></li>",
                f.severity.as_str(),
                h(&f.message),
                h(&f.fix),
                h(&f.rule)
            );
        }
        let _ = writeln!(out, "</ul><strong>Checks</strong><ul>");
        for ((_, question), a) in CHECKS.iter().zip(item.checks.answers()) {
            let _ = writeln!(out, "<li>{question} {}</li>", answer(a));
        }
        let _ = writeln!(
            out,
            "</ul><p>Decision: <span class=\"decision\">{}</span>{}</p>",
            decision_text(item.decision),
            item.decided_at
                .map(|t| format!(" ({})", h(&when(t))))
                .unwrap_or_default()
        );
        if let Some(note) = &item.note {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", h(note));
        }
        let _ = writeln!(out, "</section>");
    }
    let _ = writeln!(out, "</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("grid bot"), "grid bot");
    }

    #[test]
    fn markdown_and_html_escape_what_users_typed() {
        assert_eq!(
            md("[x](http://e) *b* | c\nd"),
            "\\[x\\]\\(http://e\\) \\*b\\* \\| c d"
        );
        assert_eq!(h("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }
}
