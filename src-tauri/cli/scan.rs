//! `keyward scan PATH...`: find copies of stored secrets in files.
//! Exit status: 0 nothing found, 1 a stored secret found, 2 an error — so it
//! works as a git pre-commit hook.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Args;
use keyward_core::audit::{self, Action};
use keyward_core::scan::{Needles, Progress, Report, Scanner, Skipped};
use keyward_core::{settings, VaultDir};
use zeroize::Zeroizing;

use super::{now, unlock, Failure};

#[derive(Args, Debug)]
pub(super) struct ScanArgs {
    /// Files or folders to search (hidden and git-ignored files included)
    #[arg(required_unless_present_any = ["suggested", "staged"], value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Search what the next commit will hold: every file staged in the git
    /// repository here, as it is in the index, not in the working tree (the
    /// pre-commit hook's mode). Paths are shown from the repository's top.
    #[arg(long, conflicts_with_all = ["paths", "suggested"])]
    staged: bool,
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
    // Asked of git before the vault is unlocked: outside a repository, or
    // with only deletions staged, there is no passphrase to ask for.
    let staged = if args.staged {
        let entries = staged_files()?;
        if entries.is_empty() {
            eprintln!("nothing staged to search");
            return Ok(Report::default());
        }
        Some(entries)
    } else {
        None
    };
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
        &serde_json::json!({
            "paths": staged.as_ref().map_or(paths.len(), Vec::len),
            "staged": args.staged,
            "needles": count,
            "key": args.key,
        }),
    )?;
    // The vault is not needed while the files are read.
    vault.lock()?;
    let scanner = Scanner::new(needles, max_file_mb.saturating_mul(1 << 20))?;
    let started = Instant::now();
    let report = match &staged {
        Some(entries) => scan_staged(&scanner, entries)?,
        None => scanner.scan(&paths, &Progress::default()),
    };
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

/// A file staged for the next commit: its path from the repository's top
/// and the id of its content in git's object store.
struct Staged {
    path: String,
    id: String,
}

/// Runs git (in the hook's environment: `GIT_DIR` and `GIT_INDEX_FILE` are
/// honoured, so `git commit -a` and `git commit FILE` are seen as git sees
/// them) and returns what it printed.
fn git(args: &[&str]) -> Result<Vec<u8>, Failure> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure(format!("staged: could not run git: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let first = said.lines().next().unwrap_or("").trim();
        return Err(Failure(format!("staged: git {}: {first}", args[0])));
    }
    Ok(out.stdout)
}

/// The regular files added or changed in the index against HEAD (all of
/// them before the first commit). Symbolic links and submodules hold no
/// file content of this repository and are left out.
fn staged_files() -> Result<Vec<Staged>, Failure> {
    let raw = git(&[
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--diff-filter=AMT",
    ])?;
    // `:old-mode new-mode old-id new-id status NUL path NUL`, repeated.
    let mut fields = raw.split(|&b| b == 0);
    let mut staged = Vec::new();
    while let Some(header) = fields.next() {
        if header.is_empty() {
            continue;
        }
        let header = String::from_utf8_lossy(header);
        let path = fields
            .next()
            .ok_or_else(|| Failure("staged: git diff ended in the middle of an entry".into()))?;
        let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [_, mode, _, id, _] = parts[..] else {
            return Err(Failure(format!("staged: git diff printed '{header}'")));
        };
        if mode.starts_with("100") {
            staged.push(Staged {
                path: String::from_utf8_lossy(path).into_owned(),
                id: id.to_owned(),
            });
        }
    }
    Ok(staged)
}

/// Reads every staged file's content through one `git cat-file --batch`
/// and searches it in memory. Each content is held in a buffer wiped when
/// done (it may hold a secret); reads are unbuffered so no other buffer
/// keeps a piece of it.
fn scan_staged(scanner: &Scanner, entries: &[Staged]) -> Result<Report, Failure> {
    let cannot = |e: std::io::Error| Failure(format!("staged: reading from git: {e}"));
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Failure(format!("staged: could not run git: {e}")))?;
    let (Some(mut to_git), Some(mut from_git)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(Failure("staged: git cat-file has no pipes".into()));
    };
    // Written from a thread: git answers while it reads, and with many
    // files both pipes would fill.
    let ids: String = entries.iter().map(|e| format!("{}\n", e.id)).collect();
    let writer = std::thread::spawn(move || to_git.write_all(ids.as_bytes()));
    let mut report = Report::default();
    let mut scratch = Zeroizing::new(vec![0u8; 64 << 10]);
    for entry in entries {
        // `<id> blob <size>\n`
        let mut header = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            from_git.read_exact(&mut byte).map_err(cannot)?;
            if byte[0] == b'\n' || header.len() > 200 {
                break;
            }
            header.push(byte[0]);
        }
        let header = String::from_utf8_lossy(&header);
        let size = match header.split(' ').collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            Failure(format!(
                "staged: git cat-file said '{header}' for {}",
                entry.path
            ))
        })?;
        report.files += 1;
        if size > scanner.max_file() {
            let mut left = size;
            while left > 0 {
                let n = left.min(scratch.len() as u64) as usize;
                from_git.read_exact(&mut scratch[..n]).map_err(cannot)?;
                left -= n as u64;
            }
            report.skipped.push(Skipped {
                path: entry.path.clone(),
                reason: format!("larger than the {} MiB limit", scanner.max_file() >> 20),
            });
        } else {
            let len =
                usize::try_from(size).map_err(|_| Failure("staged: a file too large".into()))?;
            let mut content = Zeroizing::new(vec![0u8; len]);
            from_git.read_exact(&mut content).map_err(cannot)?;
            report.bytes += size;
            match scanner.scan_bytes(&entry.path, &content) {
                Ok((found, note)) => {
                    report.matches.extend(found);
                    if let Some(reason) = note {
                        report.skipped.push(Skipped {
                            path: entry.path.clone(),
                            reason,
                        });
                    }
                }
                Err(reason) => report.skipped.push(Skipped {
                    path: entry.path.clone(),
                    reason,
                }),
            }
        }
        from_git.read_exact(&mut byte).map_err(cannot)?;
    }
    drop(from_git);
    let written = writer
        .join()
        .map_err(|_| Failure("staged: writing to git failed".into()))?;
    written.map_err(|e| Failure(format!("staged: writing to git: {e}")))?;
    let status = child.wait().map_err(cannot)?;
    if !status.success() {
        return Err(Failure(format!("staged: git cat-file ended with {status}")));
    }
    Ok(report)
}
