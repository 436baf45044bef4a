//! `keyward review …`: the access review from the command line.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use keyward_core::review::{self, report, Checks, Decision, Detail, Review, Scope};
use keyward_core::{timefmt, VaultDir};

use super::{now, refresh_schedule, safe, unlock, Failure, Outcome};

#[derive(Subcommand, Debug)]
pub(super) enum ReviewCommand {
    /// Start a review of every live key (or those matching the filters);
    /// prints the review id
    Start {
        /// Who reviews [default: the logged-in user]
        #[arg(long)]
        reviewer: Option<String>,
        /// Only keys on this platform
        #[arg(long)]
        platform: Option<String>,
        /// Only keys in this environment
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
        /// Only keys with this owner
        #[arg(long)]
        owner: Option<String>,
        /// Only keys whose label, purpose, tags… contain these words
        #[arg(long = "match", value_name = "TEXT")]
        text: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Decide for one key: keep, reduce (permissions), rotate or revoke
    Decide {
        /// Review id or unique prefix
        review: String,
        /// Key id or unique prefix
        key: String,
        #[arg(long, value_parser = ["keep", "reduce", "rotate", "revoke"])]
        decision: String,
        /// Why (kept in the review and its report)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// A check's answer, e.g. still_needed=yes. Repeatable. Checks:
        /// still_needed owner_correct permissions_minimal allowlist_current
        /// used_recently rotation_ok
        #[arg(long = "check", value_name = "NAME=yes|no")]
        checks: Vec<String>,
    },
    /// Finish a review in which every key is decided: applies the follow-ups
    Finish { review: String },
    /// Discard a review in progress
    Cancel { review: String },
    /// Every review, newest first
    List {
        #[arg(long)]
        json: bool,
    },
    /// One review with each key's decision
    Show {
        review: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the report (no secrets): Markdown, CSV or printable HTML
    Report {
        review: String,
        #[arg(long, value_parser = ["md", "csv", "html"])]
        format: String,
        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// What finished reviews asked for and is not yet done
    Followups {
        /// Include the settled ones
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Settle a key's follow-up: "revoke" marks the key revoked (do it on
    /// the platform first); "reduce" confirms its permissions were narrowed
    Resolve { key: String },
}

pub(super) fn run(command: ReviewCommand, dir: &VaultDir) -> Outcome {
    match command {
        ReviewCommand::Start {
            reviewer,
            platform,
            environment,
            owner,
            text,
            json,
        } => {
            let reviewer = reviewer
                .or_else(crate::platform::os_user)
                .ok_or_else(|| Failure("reviewer: give --reviewer NAME".into()))?;
            let scope = Scope {
                platform,
                environment,
                owner,
                text,
            };
            let mut vault = unlock(dir)?;
            let d = review::start(&mut vault, &reviewer, &scope, now())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d.review)?);
            } else {
                println!("{}", d.review.id);
                eprintln!(
                    "review of {} key(s) started by {}; decide each with `keyward review decide {} KEY --decision …`",
                    d.review.total,
                    d.review.reviewer,
                    short(&d.review.id)
                );
            }
            Ok(())
        }
        ReviewCommand::Decide {
            review: id,
            key,
            decision,
            note,
            checks,
        } => {
            let decision: Decision = decision
                .parse()
                .map_err(|r| Failure(format!("decision: {r}")))?;
            let checks = parse_checks(&checks)?;
            let mut vault = unlock(dir)?;
            let item = review::decide(
                &mut vault,
                &id,
                &key,
                decision,
                note.as_deref(),
                checks.as_ref(),
                now(),
            )?;
            let r = review::get(&vault, &id, now())?.review;
            println!(
                "{} · {}: {} ({} of {} decided)",
                item.key.platform,
                item.key.label,
                decision.as_str(),
                r.decided,
                r.total
            );
            Ok(())
        }
        ReviewCommand::Finish { review: id } => {
            let mut vault = unlock(dir)?;
            let d = review::finish(&mut vault, &id, now())?;
            refresh_schedule(&vault);
            let c = d.review.counts;
            println!(
                "review {} finished: {} key(s) — keep {}, reduce {}, rotate {}, revoke {}; audit head {}",
                short(&d.review.id),
                d.review.total,
                c.keep,
                c.reduce,
                c.rotate,
                c.revoke,
                d.review.audit_head.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        ReviewCommand::Cancel { review: id } => {
            let mut vault = unlock(dir)?;
            review::cancel(&mut vault, &id, now())?;
            println!("review discarded");
            Ok(())
        }
        ReviewCommand::List { json } => {
            let vault = unlock(dir)?;
            let all = review::list(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if all.is_empty() {
                println!("no reviews yet");
            } else {
                let mut out = std::io::stdout().lock();
                for r in &all {
                    writeln!(out, "{}", line(r))?;
                }
            }
            Ok(())
        }
        ReviewCommand::Show { review: id, json } => {
            let vault = unlock(dir)?;
            let d = review::get(&vault, &id, now())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                show(&d)?;
            }
            Ok(())
        }
        ReviewCommand::Report {
            review: id,
            format,
            out,
        } => {
            let format: report::Format = format
                .parse()
                .map_err(|r| Failure(format!("format: {r}")))?;
            let mut vault = unlock(dir)?;
            let (_, bytes) = review::export(&mut vault, &id, format, now())?;
            match out {
                Some(path) => {
                    write_report(&path, &bytes)?;
                    eprintln!("report written to {}", path.display());
                }
                None => std::io::stdout().lock().write_all(&bytes)?,
            }
            Ok(())
        }
        ReviewCommand::Followups { all, json } => {
            let vault = unlock(dir)?;
            let list = keyward_core::followup::list(&vault, all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(());
            }
            if list.is_empty() {
                println!("no open follow-ups");
            }
            let mut out = std::io::stdout().lock();
            for f in &list {
                let label = keyward_core::inventory::get(&vault, &f.entry_id)
                    .map(|e| format!("{} · {}", safe(&e.platform), safe(&e.label)))
                    .unwrap_or_else(|_| "(deleted)".into());
                writeln!(
                    out,
                    "{}  {:<6}  {}  from review {} on {}{}",
                    short(&f.entry_id),
                    f.kind.as_str(),
                    label,
                    short(&f.review_id),
                    &timefmt::format(f.created_at)[..10],
                    f.done_at
                        .map(|d| format!(", done {}", &timefmt::format(d)[..10]))
                        .unwrap_or_default()
                )?;
            }
            Ok(())
        }
        ReviewCommand::Resolve { key } => {
            let mut vault = unlock(dir)?;
            let f = review::resolve(&mut vault, &key, now())?;
            refresh_schedule(&vault);
            println!(
                "{} follow-up for {} done",
                f.kind.as_str(),
                short(&f.entry_id)
            );
            Ok(())
        }
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn line(r: &Review) -> String {
    let state = match r.finished_at {
        Some(t) => format!("finished {}", &timefmt::format(t)[..10]),
        None => format!("in progress, {} of {} decided", r.decided, r.total),
    };
    format!(
        "{}  {}  {}  {} key(s)  {}  ({})",
        short(&r.id),
        &timefmt::format(r.started_at)[..10],
        safe(&r.reviewer),
        r.total,
        state,
        safe(&r.scope)
    )
}

fn show(d: &Detail) -> Outcome {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", line(&d.review))?;
    for i in &d.items {
        writeln!(
            out,
            "{:>3}. {}  {} · {}  {} finding(s)  {}{}",
            i.position + 1,
            short(&i.entry_id),
            safe(&i.key.platform),
            safe(&i.key.label),
            i.key.findings.len(),
            i.decision.map_or("undecided", Decision::as_str),
            i.note
                .as_deref()
                .map(|n| format!(" — {}", safe(&n.replace('\n', " "))))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `--check NAME=yes|no`, repeatable; `None` when none given (keeps what
/// was saved).
fn parse_checks(given: &[String]) -> Result<Option<Checks>, Failure> {
    if given.is_empty() {
        return Ok(None);
    }
    let mut checks = Checks::default();
    for g in given {
        let (name, value) = g
            .split_once('=')
            .ok_or_else(|| Failure("check: write NAME=yes or NAME=no".into()))?;
        let answer = match value.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" => Some(true),
            "no" | "n" | "false" => Some(false),
            _ => return Err(Failure("check: the answer must be yes or no".into())),
        };
        checks
            .set(name, answer)
            .map_err(|r| Failure(format!("check: {r}")))?;
    }
    Ok(Some(checks))
}

fn write_report(path: &Path, bytes: &[u8]) -> Outcome {
    if path.file_name().is_none() {
        return Err(Failure("out: must name a file".into()));
    }
    crate::platform::write_private(path, bytes)
        .map_err(|e| Failure(format!("out: could not write {}: {e}", path.display())))
}
