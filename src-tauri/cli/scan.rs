//! `keyward scan PATH...`: find copies of stored secrets in files.
//! Exit status: 0 nothing found, 1 a stored secret found, 2 an error — so it
//! works as a git pre-commit hook. `keyward scan kept` lists the copies kept
//! in the vault from earlier scans, `keyward scan resolve ID` marks one
//! resolved (the file is searched again first, as in the app).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Args, Subcommand};
use keyward_core::scan::{self, Progress, Report, Scanner, Session, Skipped};
use keyward_core::VaultDir;
use zeroize::Zeroizing;

use super::{now, unlock, Failure};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct ScanArgs {
    #[command(subcommand)]
    kept: Option<KeptCommand>,
    /// Files or folders to search (hidden and git-ignored files included;
    /// a folder named like a subcommand is written ./kept or ./resolve)
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

/// The copies kept from earlier scans.
#[derive(Subcommand, Debug)]
pub(super) enum KeptCommand {
    /// List the copies kept in the vault and not resolved (paths, never values)
    Kept {
        #[arg(long)]
        json: bool,
    },
    /// Mark a kept copy resolved: its file is searched again first, and a
    /// copy still there is refused unless --anyway (the key was revoked, or
    /// the file is meant to hold it)
    Resolve {
        /// The copy's number, as `keyward scan kept` shows it
        id: u64,
        #[arg(long)]
        anyway: bool,
    },
}

pub(super) fn run(args: ScanArgs, dir: &VaultDir) -> ExitCode {
    if let Some(kept) = args.kept {
        return match run_kept(kept, dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(f) => super::fail(f),
        };
    }
    match scan(&args, dir) {
        Ok(report) if !report.matches.is_empty() => ExitCode::from(1),
        // A commit is let through only if every staged file was searched.
        Ok(report) if args.staged && !report.skipped.is_empty() => {
            let first = &report.skipped[0];
            let remedy = if first.reason.starts_with("larger than") {
                "; raise the limit (Settings, or --max-file-mb)"
            } else {
                ""
            };
            eprintln!(
                "error: staged: {} file(s) could not be searched, the first {} ({}){remedy}",
                report.skipped.len(),
                printable(&first.path),
                printable(&first.reason)
            );
            ExitCode::from(2)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(f) => {
            let line = f.0.replace(['\n', '\r'], " ");
            eprintln!("error: {line}");
            ExitCode::from(2)
        }
    }
}

fn scan(args: &ScanArgs, dir: &VaultDir) -> Result<Report, Failure> {
    // Full paths: the copies found are kept in the vault, where a path
    // relative to wherever this ran would mean nothing later.
    let mut paths = args
        .paths
        .iter()
        .map(|p| std::path::absolute(p).map_err(|e| Failure(format!("path: {}: {e}", p.display()))))
        .collect::<Result<Vec<_>, _>>()?;
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
    let session = Session::begin(
        &mut vault,
        &scan::Request {
            roots: &paths,
            keys: &args.key,
            incident: None,
            staged: staged.as_ref().map(Vec::len),
            max_file_mb: args.max_file_mb,
        },
        now(),
    )?;
    let (count, too_short) = (session.needles, session.too_short);
    let (scanner, keeping) = (session.scanner, session.keeping);
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
                encoding_suffix(m.encoding),
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
    drop(out);
    // Copies in files are kept in the vault as findings of their keys (not
    // a staged file's: the commit is refused, the file is not on disk as
    // is). After the report: a failure to keep them does not hide it.
    let k = keeping
        .record(&mut vault, &report, now())
        .map_err(|e| Failure(format!("the copies found could not be kept: {e}")))?;
    if !args.json && k != scan::keep::Recorded::default() {
        eprintln!(
            "kept in the vault until resolved: {} new, {} still there, {} gone since the last scan",
            k.new, k.still, k.gone
        );
    }
    vault.lock()?;
    Ok(report)
}

fn run_kept(command: KeptCommand, dir: &VaultDir) -> Result<(), Failure> {
    let mut vault = unlock(dir)?;
    let mut out = std::io::stdout().lock();
    match command {
        KeptCommand::Kept { json } => {
            let list = keyward_core::copies::open(&vault)?;
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else if list.is_empty() {
                eprintln!("no copies kept: every copy found is resolved");
            } else {
                for c in &list {
                    writeln!(
                        out,
                        "{}\t{}:{}:{}\t{} ({}{})\tfound {}",
                        c.id,
                        printable(&c.path),
                        c.line,
                        c.column,
                        &c.key_id[..8.min(c.key_id.len())],
                        c.field,
                        encoding_suffix(c.encoding),
                        &keyward_core::timefmt::format(c.found_at)[..10],
                    )?;
                }
            }
        }
        KeptCommand::Resolve { id, anyway } => {
            let c = scan::resolve_kept(&mut vault, id, anyway, now()).map_err(|e| match e {
                // Where the numbers come from, on the command line.
                scan::Error::NoSuchCopy(id) => Failure(format!(
                    "copy: no open copy has id {id} (see keyward scan kept)"
                )),
                e => e.into(),
            })?;
            eprintln!(
                "resolved{}: {}:{} ({})",
                if anyway {
                    " anyway"
                } else {
                    ", the copy is gone"
                },
                printable(&c.path),
                c.line,
                c.field
            );
        }
    }
    drop(out);
    vault.lock()?;
    Ok(())
}

/// `, base64` after a field found encoded; nothing for the raw value.
fn encoding_suffix(e: scan::Encoding) -> String {
    match e {
        scan::Encoding::Raw => String::new(),
        e => format!(", {}", e.as_str()),
    }
}

/// A file name may hold terminal control sequences: shown escaped.
fn printable(s: &str) -> String {
    super::safe(s).into_owned()
}

/// A file staged for the next commit: its path from the repository's top
/// and the id of its content in git's object store.
struct Staged {
    path: String,
    id: String,
}

/// A git command in the hook's environment (`GIT_DIR` and `GIT_INDEX_FILE`
/// are honoured, so `git commit -a` and `git commit FILE` are seen as git
/// sees them). Replace refs are ignored: they could make git show other
/// content than the commit will record.
fn git_command(args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.arg("--no-replace-objects").args(args);
    c
}

/// Runs git and returns what it printed; a failure names git's reason.
fn git(args: &[&str]) -> Result<Vec<u8>, Failure> {
    let out = git_command(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure(format!("staged: could not run git: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = said
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let reason = lines
            .iter()
            .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
            .or(lines.last())
            .copied()
            .unwrap_or("failed");
        return Err(Failure(format!(
            "staged: git {}: {}",
            args[0],
            printable(reason)
        )));
    }
    Ok(out.stdout)
}

/// The regular files added or changed in the index against HEAD (against
/// the empty tree before the first commit). Plumbing (`diff-index`), so no
/// `diff.*` setting changes what is listed. Symbolic links and submodules
/// hold no file content of this repository and are left out.
fn staged_files() -> Result<Vec<Staged>, Failure> {
    let base = match git(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]) {
        Ok(_) => "HEAD".to_owned(),
        Err(_) => {
            let empty = git(&["hash-object", "-t", "tree", "--stdin"])?;
            String::from_utf8_lossy(&empty).trim().to_owned()
        }
    };
    let raw = git(&[
        "diff-index",
        "--cached",
        "-z",
        "--no-abbrev",
        "--diff-filter=AMT",
        &base,
    ])?;
    // `:old-mode new-mode old-id new-id status NUL path NUL`, repeated.
    let mut fields = raw.split(|&b| b == 0);
    let mut staged = Vec::new();
    while let Some(header) = fields.next() {
        if header.is_empty() {
            continue;
        }
        let header = String::from_utf8_lossy(header);
        let path = fields.next().ok_or_else(|| {
            Failure("staged: git diff-index ended in the middle of an entry".into())
        })?;
        let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [_, mode, _, id, _] = parts[..] else {
            return Err(Failure(
                "staged: git diff-index printed an unknown entry".into(),
            ));
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
    let mut child = git_command(&["cat-file", "--batch"])
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
    let mut lfs_dir = None;
    for entry in entries {
        let size = blob_header(&mut from_git).map_err(cannot)?.ok_or_else(|| {
            Failure(format!(
                "staged: git cat-file answered out of step at {}",
                printable(&entry.path)
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
            let content = read_blob(&mut from_git, size, &entry.path)?;
            report.bytes += size;
            let searched = match lfs_object(&content) {
                // The index holds Git LFS's pointer; the content it stands
                // for (and pushes) is in the LFS store.
                Some(oid) => {
                    if lfs_dir.is_none() {
                        let dir =
                            git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
                        lfs_dir = Some(
                            PathBuf::from(String::from_utf8_lossy(&dir).trim()).join("lfs/objects"),
                        );
                    }
                    let object = lfs_dir
                        .as_ref()
                        .map(|d| d.join(&oid[..2]).join(&oid[2..4]).join(&oid))
                        .unwrap_or_default();
                    if object.is_file() {
                        scanner.scan_path(&object).map(|found| (found, None))
                    } else {
                        Err("its Git LFS content is not in the local LFS store".to_owned())
                    }
                }
                None => scanner.scan_bytes(&entry.path, &content),
            };
            match searched {
                Ok((found, note)) => {
                    report.matches.extend(found.into_iter().map(|mut m| {
                        m.path.clone_from(&entry.path);
                        m.file = PathBuf::from(&entry.path);
                        m
                    }));
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
        let mut newline = [0u8; 1];
        from_git.read_exact(&mut newline).map_err(cannot)?;
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

/// Reads `<id> blob <size>\n` byte by byte (unbuffered: the content that
/// follows is read straight into wiped memory). `None` when the line is
/// not a blob's header; it is never shown, as it could be content.
fn blob_header(from_git: &mut impl Read) -> std::io::Result<Option<u64>> {
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        from_git.read_exact(&mut byte)?;
        if byte[0] == b'\n' {
            break;
        }
        if header.len() >= 200 {
            return Ok(None);
        }
        header.push(byte[0]);
    }
    let header = String::from_utf8_lossy(&header);
    Ok(match header.split(' ').collect::<Vec<_>>()[..] {
        [_, "blob", size] => size.parse::<u64>().ok(),
        _ => None,
    })
}

/// A staged file's content, in memory wiped on drop; a size this machine
/// cannot hold is an error, not an abort.
fn read_blob(
    from_git: &mut impl Read,
    size: u64,
    path: &str,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let too_big = || {
        Failure(format!(
            "staged: {} is too large to hold in memory",
            printable(path)
        ))
    };
    let len = usize::try_from(size).map_err(|_| too_big())?;
    let mut content = Zeroizing::new(Vec::new());
    content.try_reserve_exact(len).map_err(|_| too_big())?;
    content.resize(len, 0);
    from_git
        .read_exact(&mut content)
        .map_err(|e| Failure(format!("staged: reading from git: {e}")))?;
    Ok(content)
}

/// The object id a Git LFS pointer file names, if `content` is one.
fn lfs_object(content: &[u8]) -> Option<String> {
    const VERSION: &[u8] = b"version https://git-lfs.github.com/spec/v1\n";
    if content.len() > 1024 || !content.starts_with(VERSION) {
        return None;
    }
    let text = std::str::from_utf8(content).ok()?;
    let oid = text.lines().find_map(|l| l.strip_prefix("oid sha256:"))?;
    (oid.len() == 64 && oid.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| oid.to_ascii_lowercase())
}
