//! `keyward export` and `keyward import`.

use std::io::Write;
use std::path::{Path, PathBuf};

use keyward_core::interchange::{self, Format};
use keyward_core::VaultDir;

use super::{now, refresh_schedule, unlock, Failure, Outcome};

pub(super) fn export(dir: &VaultDir, format: &str, out: Option<PathBuf>) -> Outcome {
    if format != "csv" {
        return Err(Failure("format: must be csv".into()));
    }
    let mut vault = unlock(dir)?;
    let bytes = interchange::export_inventory_csv(&mut vault, now())?;
    match out {
        Some(path) => {
            if path.file_name().is_none() {
                return Err(Failure("out: must name a file".into()));
            }
            crate::platform::write_private(&path, &bytes)
                .map_err(|e| Failure(format!("out: could not write {}: {e}", path.display())))?;
            eprintln!("exported to {}", path.display());
        }
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}

pub(super) fn import(
    dir: &VaultDir,
    file: &Path,
    format: &str,
    dry_run: bool,
    skip_invalid: bool,
    json: bool,
) -> Outcome {
    let format: Format = format
        .parse()
        .map_err(|r| Failure(format!("format: {r}")))?;
    // Size and kind checked on the open file before a byte is read: a
    // FIFO or /dev/zero given as FILE is refused, not waited on.
    let bytes = keyward_core::fsio::read_regular(file, interchange::MAX_FILE_BYTES as u64)
        .map_err(|e| Failure(format!("file: cannot read {}: {e}", file.display())))?;
    let parsed = interchange::parse(&bytes, format)?;
    drop(bytes);
    if dry_run || json {
        let preview = parsed.preview();
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "accepted": preview,
                    "rejected": parsed.rejected,
                }))?
            );
        } else {
            let mut out = std::io::stdout().lock();
            for p in &preview {
                writeln!(
                    out,
                    "line {:>5}  import  {} · {}  [{}]",
                    p.line,
                    p.platform,
                    p.label,
                    p.secret_fields.join(", ")
                )?;
            }
            for r in &parsed.rejected {
                writeln!(out, "line {:>5}  REJECT  {}", r.line, r.reason)?;
            }
            writeln!(
                out,
                "{} to import, {} rejected{}",
                preview.len(),
                parsed.rejected.len(),
                if dry_run {
                    " (dry run: nothing written)"
                } else {
                    ""
                }
            )?;
        }
        if dry_run {
            return Ok(());
        }
    }
    let mut vault = unlock(dir)?;
    let n = interchange::import(
        &mut vault,
        parsed,
        skip_invalid,
        &format!("{format:?}"),
        now(),
    )?;
    refresh_schedule(&vault);
    if !json {
        println!("imported {n} key(s)");
    }
    Ok(())
}
