//! `keyward incident …`: the suspected-exposure walkthrough from the
//! command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Subcommand};
use keyward_core::incident::{self, report, Incident, Opening, StepId, StepInput, StepState};
use keyward_core::{timefmt, VaultDir};

use super::{now, refresh_schedule, safe, safe_with, unlock, Failure, Outcome};

#[derive(Subcommand, Debug)]
pub(super) enum IncidentCommand {
    /// Open an incident for keys that may be exposed (they become
    /// compromised); prints its id
    Open {
        /// Key ids or unique prefixes
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        /// When the exposure may have started, YYYY-MM-DD or RFC 3339
        #[arg(long, value_name = "DATE")]
        suspected_at: Option<String>,
        /// What happened, in a few words
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One incident: its keys and steps (ids: contain, replace,
    /// review_activity, secure_account, find_copies, root_cause, notify, close)
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Mark a step done, skipped (with --note saying why) or not applicable;
    /// steps go in order
    #[command(group(ArgGroup::new("state").required(true).args(["done", "skip", "na"])))]
    Step {
        id: String,
        step: String,
        #[arg(long)]
        done: bool,
        #[arg(long)]
        skip: bool,
        #[arg(long)]
        na: bool,
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// review_activity: was unauthorised activity found? yes | no | unknown
        #[arg(long, value_name = "ANSWER")]
        activity: Option<String>,
        /// root_cause: repository, chat_or_email, logs, screenshot,
        /// shared_document, phishing, malware, third_party, unknown
        #[arg(long, value_name = "WHERE")]
        cause: Option<String>,
    },
    /// Every incident, open ones first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Write the report (no secrets): Markdown or printable HTML
    Report {
        id: String,
        #[arg(long, value_parser = ["md", "html"])]
        format: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print a summary to hand to a security team or the platform's support
    /// (no secrets)
    Summary { id: String },
}

pub(super) fn run(command: IncidentCommand, dir: &VaultDir) -> Outcome {
    match command {
        IncidentCommand::Open {
            keys,
            suspected_at,
            note,
            json,
        } => {
            let suspected_at = suspected_at
                .map(|s| timefmt::parse_user(&s).map_err(|r| Failure(format!("suspected_at: {r}"))))
                .transpose()?;
            let mut vault = unlock(dir)?;
            let i = incident::open(
                &mut vault,
                &keys,
                &Opening {
                    suspected_at,
                    source: None,
                    note,
                },
                now(),
            )?;
            refresh_schedule(&vault);
            if json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                println!("{}", i.id);
                eprintln!(
                    "incident opened ({}); {} key(s) marked compromised. First: revoke them on the platform, then `keyward incident step {} contain --done`",
                    i.severity.as_str(),
                    i.keys.len(),
                    short(&i.id)
                );
            }
            Ok(())
        }
        IncidentCommand::Show { id, json } => {
            let vault = unlock(dir)?;
            let i = incident::get(&vault, &id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                show(&i)?;
            }
            Ok(())
        }
        IncidentCommand::Step {
            id,
            step,
            done,
            skip,
            na: _,
            note,
            activity,
            cause,
        } => {
            let step: StepId = step.parse().map_err(|r| Failure(format!("step: {r}")))?;
            let state = if done {
                StepState::Done
            } else if skip {
                StepState::Skipped
            } else {
                StepState::NotApplicable
            };
            let input = StepInput {
                activity: activity
                    .map(|a| a.parse().map_err(|r| Failure(format!("activity: {r}"))))
                    .transpose()?,
                root_cause: cause
                    .map(|c| c.parse().map_err(|r| Failure(format!("cause: {r}"))))
                    .transpose()?,
            };
            let mut vault = unlock(dir)?;
            let i = incident::mark(&mut vault, &id, step, state, note.as_deref(), &input, now())?;
            refresh_schedule(&vault);
            match (i.closed_at, i.current) {
                (Some(_), _) => println!("incident {} closed", short(&i.id)),
                (None, Some(next)) => println!(
                    "{}: {}; next: {} — {}",
                    step.as_str(),
                    state.as_str().replace('_', " "),
                    next.as_str(),
                    next.title()
                ),
                (None, None) => println!("{}: {}", step.as_str(), state.as_str()),
            }
            Ok(())
        }
        IncidentCommand::List { json } => {
            let vault = unlock(dir)?;
            let all = incident::list(&vault)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            if all.is_empty() {
                println!("no incidents");
            }
            let mut out = std::io::stdout().lock();
            for i in &all {
                writeln!(
                    out,
                    "{}  {}  {:<8}  {}  {}",
                    short(&i.id),
                    &timefmt::format(i.opened_at)[..10],
                    i.severity.as_str(),
                    match (i.closed_at, i.current) {
                        (Some(c), _) => format!("closed {}", &timefmt::format(c)[..10]),
                        (None, Some(s)) => format!("open, at {}", s.as_str()),
                        (None, None) => "open".into(),
                    },
                    safe(&i.keys.join(", "))
                )?;
            }
            Ok(())
        }
        IncidentCommand::Report { id, format, out } => {
            let format: report::Format = format
                .parse()
                .map_err(|r| Failure(format!("format: {r}")))?;
            let mut vault = unlock(dir)?;
            let (_, bytes) = incident::export(&mut vault, &id, format, now())?;
            match out {
                Some(path) => {
                    if path.file_name().is_none() {
                        return Err(Failure("out: must name a file".into()));
                    }
                    crate::platform::write_private(&path, &bytes).map_err(|e| {
                        Failure(format!("out: could not write {}: {e}", path.display()))
                    })?;
                    eprintln!("report written to {}", path.display());
                }
                None => std::io::stdout().lock().write_all(&bytes)?,
            }
            Ok(())
        }
        IncidentCommand::Summary { id } => {
            let mut vault = unlock(dir)?;
            print!(
                "{}",
                safe_with(&incident::export_summary(&mut vault, &id, now())?, true)
            );
            Ok(())
        }
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn show(i: &Incident) -> Outcome {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "incident {}  {}  opened {}{}{}",
        short(&i.id),
        i.severity.as_str(),
        timefmt::format(i.opened_at),
        i.suspected_at
            .map(|t| format!(", exposure suspected from {}", timefmt::format(t)))
            .unwrap_or_default(),
        i.closed_at
            .map(|t| format!(", closed {}", timefmt::format(t)))
            .unwrap_or_default()
    )?;
    for k in &i.keys {
        writeln!(
            out,
            "  key {}  {} · {}  ({})",
            short(&k.entry_id),
            safe(&k.key.platform),
            safe(&k.key.label),
            k.status_now.as_deref().unwrap_or("deleted")
        )?;
    }
    for (n, s) in i.steps.iter().enumerate() {
        writeln!(
            out,
            "{}. {:<16} {:<15} {}{}",
            n + 1,
            s.id.as_str(),
            s.state.as_str(),
            s.at.map(timefmt::format).unwrap_or_default(),
            s.note
                .as_deref()
                .map(|n| format!("  — {}", safe(&n.replace('\n', " "))))
                .unwrap_or_default()
        )?;
    }
    if !i.related.is_empty() {
        writeln!(
            out,
            "other keys on the same account (rotate them too if the account is at risk):"
        )?;
        for r in &i.related {
            writeln!(
                out,
                "  {}  {} · {}",
                short(&r.entry_id),
                safe(&r.platform),
                safe(&r.label)
            )?;
        }
    }
    Ok(())
}
