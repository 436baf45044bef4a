//! An incident's report, for the security team or a platform's support:
//! Markdown and a self-contained printable HTML page. Built from the
//! incident's key snapshots and steps — the vault's secrets are never read
//! here — with everything a user typed escaped for its format.

use std::fmt::Write as _;

use super::{Incident, StepState};
use crate::render::{day, escape_html as h, escape_markdown as md, when, STYLE};

/// The report formats, as the window and the CLI name them (`md`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "IncidentFormat", rename_all = "lowercase")]
pub enum Format {
    #[serde(rename = "md", alias = "markdown")]
    #[ts(rename = "md")]
    Markdown,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            _ => Err("must be one of md, html".into()),
        }
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

/// `head`: the audit log's head to print when the incident is still open.
pub fn render(i: &Incident, format: Format, head_now: Option<&str>) -> Vec<u8> {
    match format {
        Format::Markdown => markdown(i, head_now).into_bytes(),
        Format::Html => html(i, head_now).into_bytes(),
    }
}

/// `keyward-incident-2026-11-22-1a2b3c4d.md`.
pub fn file_name(i: &Incident, format: Format) -> String {
    format!(
        "keyward-incident-{}-{}.{}",
        day(i.opened_at),
        i.id.get(..8).unwrap_or(&i.id),
        format.extension()
    )
}

fn state_text(s: StepState) -> &'static str {
    match s {
        StepState::Pending => "pending",
        StepState::Done => "done",
        StepState::Skipped => "skipped",
        StepState::NotApplicable => "not applicable",
    }
}

const WARNING: &str = "This report holds key metadata and the steps taken only; no API key, \
    secret, password or seed phrase is part of it. Never add one when you forward it.";

fn facts(i: &Incident, head_now: Option<&str>) -> Vec<(&'static str, String)> {
    let head = match (&i.audit_head, head_now) {
        (Some(h), _) => format!("{h} (at close)"),
        (None, Some(h)) => format!("{h} (at export; the incident is still open)"),
        _ => "—".into(),
    };
    vec![
        ("Incident", i.id.clone()),
        ("Severity", i.severity.as_str().into()),
        ("Source", i.source.replace('_', " ")),
        (
            "Exposure suspected from",
            i.suspected_at.map_or_else(|| "not known".into(), when),
        ),
        ("Opened", when(i.opened_at)),
        (
            "Closed",
            i.closed_at.map_or_else(|| "still open".into(), when),
        ),
        (
            "Unauthorised activity found",
            i.activity.map_or("not yet reviewed", |a| a.as_str()).into(),
        ),
        (
            "Root cause",
            i.root_cause
                .map_or("not yet known", |c| c.describe())
                .into(),
        ),
        ("Audit log head", head),
    ]
}

fn key_facts(k: &super::IncidentKey) -> Vec<(&'static str, String)> {
    let s = &k.key;
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    vec![
        ("Key id (Keyward)", k.entry_id.clone()),
        ("Platform", s.platform.clone()),
        ("Account", or_dash(&s.account)),
        ("Environment", s.environment.clone()),
        ("Owner", or_dash(&s.owner)),
        ("Purpose", or_dash(&s.purpose)),
        (
            "Permissions",
            if s.permissions.is_empty() {
                "none recorded".into()
            } else {
                s.permissions.join(", ")
            },
        ),
        (
            "IP allowlist",
            if s.ip_allowlist.is_empty() {
                "any address".into()
            } else {
                s.ip_allowlist.join(", ")
            },
        ),
        ("Key-id hint", or_dash(&s.key_id_hint)),
        ("Status when opened", s.status.clone()),
        (
            "Status now",
            k.status_now
                .clone()
                .unwrap_or_else(|| "deleted from the vault".into()),
        ),
    ]
}

pub fn markdown(i: &Incident, head_now: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Suspected API key exposure\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in facts(i, head_now) {
        let _ = writeln!(out, "| {k} | {} |", md(&v));
    }
    let _ = writeln!(out, "\n{WARNING}\n\n## Keys");
    for k in &i.keys {
        let _ = writeln!(
            out,
            "\n### {} · {}\n",
            md(&k.key.platform),
            md(&k.key.label)
        );
        for (name, v) in key_facts(k) {
            let _ = writeln!(out, "- {name}: {}", md(&v));
        }
    }
    let _ = writeln!(
        out,
        "\n## Steps\n\n| # | Step | Status | Time | Note |\n|---|---|---|---|---|"
    );
    for (n, s) in i.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            n + 1,
            s.title,
            state_text(s.state),
            s.at.map_or_else(|| "—".into(), when),
            s.note.as_deref().map(md).unwrap_or_default()
        );
    }
    if !i.related.is_empty() {
        let _ = writeln!(out, "\n## Other keys on the same account\n");
        for r in &i.related {
            let _ = writeln!(
                out,
                "- {} · {} ({})",
                md(&r.platform),
                md(&r.label),
                md(&r.status)
            );
        }
    }
    let _ = writeln!(out, "\n## Timeline\n");
    for e in &i.timeline {
        let what = match e.step {
            Some(s) => format!("{}: {}", s.as_str(), e.what.replace('_', " ")),
            None => e.what.clone(),
        };
        let _ = writeln!(
            out,
            "- {} — {}{}",
            when(e.at),
            what,
            e.note
                .as_deref()
                .map(|n| format!(" — {}", md(n)))
                .unwrap_or_default()
        );
    }
    out
}

pub fn html(i: &Incident, head_now: Option<&str>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Suspected API key exposure {} — Keyward</title><style>{STYLE}</style></head><body>\n",
        h(&day(i.opened_at))
    );
    let _ = writeln!(
        out,
        "<h1>Suspected API key exposure</h1><table class=\"meta\">"
    );
    for (k, v) in facts(i, head_now) {
        let class = if k == "Audit log head" {
            " class=\"hash\""
        } else {
            ""
        };
        let _ = writeln!(out, "<tr><th>{k}</th><td{class}>{}</td></tr>", h(&v));
    }
    let _ = writeln!(
        out,
        "</table><p class=\"notice\">{}</p><h2>Keys</h2>",
        h(WARNING)
    );
    for k in &i.keys {
        let _ = writeln!(
            out,
            "<section class=\"key\"><h3>{} · {}</h3><dl class=\"facts\">",
            h(&k.key.platform),
            h(&k.key.label)
        );
        for (name, v) in key_facts(k) {
            let _ = writeln!(out, "<dt>{name}</dt><dd>{}</dd>", h(&v));
        }
        let _ = writeln!(out, "</dl></section>");
    }
    let _ = writeln!(
        out,
        "<h2>Steps</h2><table><thead><tr><th>#</th><th>Step</th><th>Status</th><th>Time</th><th>Note</th></tr></thead><tbody>"
    );
    for (n, s) in i.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"decision\">{}</td><td>{}</td><td class=\"note\">{}</td></tr>",
            n + 1,
            h(&s.title),
            state_text(s.state),
            h(&s.at.map_or_else(|| "—".into(), when)),
            h(s.note.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "</tbody></table>");
    if !i.related.is_empty() {
        let _ = writeln!(out, "<h2>Other keys on the same account</h2><ul>");
        for r in &i.related {
            let _ = writeln!(
                out,
                "<li>{} · {} ({})</li>",
                h(&r.platform),
                h(&r.label),
                h(&r.status)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "<h2>Timeline</h2><ol>");
    for e in &i.timeline {
        let what = match e.step {
            Some(s) => format!("{}: {}", s.as_str(), e.what.replace('_', " ")),
            None => e.what.clone(),
        };
        let _ = writeln!(
            out,
            "<li>{} — {}{}</li>",
            h(&when(e.at)),
            h(&what),
            e.note
                .as_deref()
                .map(|n| format!(" — <span class=\"note\">{}</span>", h(n)))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "</ol></body></html>");
    out
}
