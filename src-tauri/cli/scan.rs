//! `keyward scan PATH...`: find copies of stored secrets in files.
//! Exit status: 0 nothing found, 1 a stored secret found, 2 an error — so it
//! works as a git pre-commit hook.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use keyward_core::audit::{self, Action};
use keyward_core::scan::{Needles, Progress, Report, Scanner};
use keyward_core::{settings, VaultDir};

use super::{now, unlock, Failure};

#[derive(Args, Debug)]
pub(super) struct ScanArgs {
    /// Files or folders to search (hidden and git-ignored files included)
    #[arg(required_unless_present = "suggested", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also search the usual places under your home folder that exist:
    /// shell and REPL histories, ~/.config, ~/.local/share, Downloads,
    /// Desktop, Documents, project folders
    #[arg(long)]
    suggested: bool,
    /// Only this key's secrets (repeatable)
    #[arg(long, value_name = "ID")]
    key: Vec<String>,
    /// Skip (and report) files larger than this many MiB [default: the
    /// `scan_max_file_mb` setting, 256]
    #[arg(long, value_name = "MIB")]
    max_file_mb: Option<u64>,
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: ScanArgs, dir: &VaultDir) -> ExitCode {
    match scan(&args, dir) {
        Ok(report) if report.matches.is_empty() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(f) => {
            let line = f.0.replace(['\n', '\r'], " ");
            eprintln!("error: {line}");
            ExitCode::from(2)
        }
    }
}

fn scan(args: &ScanArgs, dir: &VaultDir) -> Result<Report, Failure> {
    let mut paths = args.paths.clone();
    for p in &paths {
        if !p.exists() {
            return Err(Failure(format!("path: {} does not exist", p.display())));
        }
    }
    if args.suggested {
        let home =
            dirs::home_dir().ok_or_else(|| Failure("suggested: there is no home folder".into()))?;
        paths.extend(
            keyward_core::scan::suggested_places(&home)
                .into_iter()
                .map(|(p, _)| p),
        );
        if paths.is_empty() {
            return Err(Failure(format!(
                "suggested: none of the usual places exists under {}",
                home.display()
            )));
        }
    }
    let mut vault = unlock(dir)?;
    let needles = Needles::from_vault(&vault, &args.key)?;
    let max_file_mb = match args.max_file_mb {
        Some(m) => m,
        None => u64::from(settings::load(&vault)?.scan_max_file_mb),
    };
    let count = needles.len();
    let too_short = needles.too_short.len();
    audit::record(
        &mut vault,
        now(),
        Action::SecretScan,
        None,
        &serde_json::json!({ "paths": paths.len(), "needles": count, "key": args.key }),
    )?;
    // The vault is not needed while the files are read.
    vault.lock()?;
    let scanner = Scanner::new(needles, max_file_mb.saturating_mul(1 << 20))?;
    let started = Instant::now();
    let report = scanner.scan(&paths, &Progress::default());
    drop(scanner);
    let ms = started.elapsed().as_millis() as u64;
    let mut out = std::io::stdout().lock();
    if args.json {
        let matches: Vec<serde_json::Value> = report
            .matches
            .iter()
            .map(|m| {
                serde_json::json!({
                    "path": m.path, "line": m.line, "column": m.column, "key_id": m.key_id,
                    "label": m.label, "field": m.field, "encoding": m.encoding,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "matches": matches,
                "summary": {
                    "files": report.files, "bytes": report.bytes,
                    "skipped": report.skipped.len(), "duration_ms": ms,
                },
            }))?
        )?;
    } else {
        for m in &report.matches {
            writeln!(
                out,
                "{}:{}:{}: {} · {} ({}{}): {}",
                printable(&m.path),
                m.line,
                m.column,
                &m.key_id[..8.min(m.key_id.len())],
                m.label,
                m.field,
                match m.encoding {
                    keyward_core::scan::Encoding::Raw => String::new(),
                    e => format!(
                        ", {}",
                        serde_json::to_value(e)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                },
                m.preview
            )?;
        }
        for s in &report.skipped {
            eprintln!("skipped {}: {}", printable(&s.path), printable(&s.reason));
        }
        eprintln!(
            "{} file(s), {:.1} MiB in {:.1} s; {} searched for ({} too short to search); {}",
            report.files,
            report.bytes as f64 / (1024.0 * 1024.0),
            ms as f64 / 1000.0,
            count,
            too_short,
            if report.matches.is_empty() {
                "no stored secret found".to_owned()
            } else {
                format!("{} copy(ies) of stored secrets found", report.matches.len())
            }
        );
    }
    Ok(report)
}

/// A file name may hold terminal control sequences: shown as `?`.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
