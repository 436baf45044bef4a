//! The command line: `keyward [--vault DIR] COMMAND`.
//!
//! A thin adapter over `keyward-core`, for scripts, cron jobs and tests. The
//! contract: passphrase from `KEYWARD_PASSPHRASE` or a prompt; secret values
//! only from standard input or a prompt, never from arguments; `--json` for
//! machine-readable output; exit 0 on success, 1 with a one-line `error: …`
//! on stderr for a refused operation, 2 for a usage error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod backup;
mod due;
mod given;
mod incident;
mod interchange;
mod keys;
mod log;
mod review;
mod scan;
mod setup;
mod unlock;

use clap::{Args, Parser, Subcommand};
use keyward_core::inventory::{self, Draft, Entry, SecretChanges, SecretInput, SecretUse, Status};
use keyward_core::reminder::{self as reminders, TimeZone};
use keyward_core::rotation;
use keyward_core::vault::{self, KdfParams};

use crate::platform::{keyring, notify};
use due::{findings, refresh_schedule};
use keys::*;
use log::*;
use setup::*;
use unlock::*;

use due::{due, remind};
use keyward_core::{audit, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::OffsetDateTime;
use zeroize::Zeroizing;

#[derive(Parser, Debug)]
#[command(
    name = "keyward",
    version,
    about = "A vault and control tower for exchange, broker and custody API keys",
    long_about = "A vault and control tower for exchange, broker and custody API keys.\n\n\
        Without a command, opens the desktop app. The passphrase comes from \
        --passphrase-fd N, --passphrase-file FILE, KEYWARD_PASSPHRASE or a \
        prompt; secret values only from standard input or a prompt, never from \
        arguments.\n\n\
        KEYWARD_PASSPHRASE is read once and removed from the environment, so \
        no program Keyward starts inherits it; but while your shell holds it, \
        other programs of yours can read it (/proc/PID/environ, shell history \
        if typed inline). Prefer --passphrase-fd from a secret store, or the \
        prompt.",
    after_help = "Exit status: 0 success, 1 refused (wrong passphrase, invalid input, not found), 2 usage error."
)]
struct Cli {
    /// Vault directory [default: the platform's data dir, e.g. ~/.local/share/keyward]
    #[arg(long, global = true, value_name = "DIR", env = "KEYWARD_VAULT")]
    vault: Option<PathBuf>,

    /// Read the vault passphrase from file descriptor N (its first line),
    /// e.g. `--passphrase-fd 3 3< <(pass show keyward)`
    #[arg(long, global = true, value_name = "N")]
    passphrase_fd: Option<u32>,

    /// Read the vault passphrase from the first line of FILE (which only
    /// its owner may read: mode 600)
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,

    /// Open the app in the tray only, window hidden (used at login)
    #[arg(long)]
    tray: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new vault (asks for the passphrase twice)
    Init {
        /// Also make a recovery code and print it once
        #[arg(long)]
        recovery_code: bool,
    },
    /// Add a key; prints its id. Secret values are read from stdin, one line
    /// per --secret in order (a single --secret takes all of stdin, so a PEM
    /// key can be piped in), or prompted without echo on a terminal
    Add(EntryArgs),
    /// List every key
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one key's details (never its secret values)
    Show {
        /// Id or unique id prefix (at least 4 characters)
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a key: given flags replace the field; an empty value clears it
    Edit {
        id: String,
        #[command(flatten)]
        fields: EntryArgs,
        /// Remove every permission
        #[arg(long)]
        clear_perms: bool,
        /// Remove every IP allowlist entry (the key becomes unrestricted)
        #[arg(long)]
        clear_ips: bool,
        /// Remove every tag
        #[arg(long)]
        clear_tags: bool,
        /// Remove a stored secret field
        #[arg(long, value_name = "FIELD")]
        remove_secret: Vec<String>,
    },
    /// Change a key's status
    SetStatus {
        id: String,
        #[arg(value_parser = ["active", "suspended", "revoked", "retired"])]
        status: String,
    },
    /// Delete a key and its secrets (asks first on a terminal)
    Delete {
        id: String,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
    /// Print one secret value to stdout, for piping into a tool (audited)
    Reveal { id: String, field: String },
    /// Show the audit log, its head, or verify it
    Audit {
        #[arg(long)]
        json: bool,
        /// Verify the chain; exit 1 naming the first broken entry
        #[arg(long)]
        verify: bool,
        /// With --verify: also prove the log still holds this head (SEQ:HASH,
        /// from a report, a backup or an earlier --head kept elsewhere): a
        /// log rolled back or rewritten since then fails
        #[arg(long, value_name = "SEQ:HASH", requires = "verify")]
        expect: Option<String>,
        /// Print the log's head (SEQ:HASH); keep it away from this computer
        /// to prove later that nothing before it was changed or removed
        #[arg(long, conflicts_with_all = ["verify", "json"])]
        head: bool,
        /// Open a vault whose vault.db is older than audit.head recorded
        /// (you put an older copy back yourself): the log records it and
        /// audit.head moves to the log as it is
        #[arg(long, conflicts_with_all = ["verify", "head", "json"])]
        accept_rollback: bool,
    },
    /// Change the vault passphrase (new one from KEYWARD_NEW_PASSPHRASE or a prompt)
    Passwd,
    /// Full integrity check: every page's HMAC, SQLite's structure, the audit chain
    Check,
    /// Keys due for rotation within DAYS (and every overdue one), soonest first
    Due {
        /// How far ahead to look, in days (0–3650)
        #[arg(long, value_name = "DAYS", default_value_t = 14)]
        within: u32,
        #[arg(long)]
        json: bool,
    },
    /// Send the rotation reminders that are due and not yet sent, then exit
    /// (for cron or a systemd timer). Names the keys when KEYWARD_PASSPHRASE
    /// unlocks the vault; otherwise a count only, from the nameless schedule
    Remind {
        /// Send once and exit (the only mode; the app itself keeps reminding)
        #[arg(long, required = true)]
        once: bool,
    },
    /// What is risky about each key (from metadata; nothing decrypted),
    /// worst first
    Findings {
        #[arg(long)]
        json: bool,
    },
    /// Silence a key's reminders for N days (1–90)
    Snooze {
        id: String,
        #[arg(long, value_name = "N")]
        days: u32,
    },
    /// Find copies of stored secrets in files and folders (exit 0: none,
    /// 1: found, 2: error) — usable as a git pre-commit hook
    Scan(scan::ScanArgs),
    /// Export the inventory's metadata (never a secret) as CSV. Columns: id,
    /// platform, account, label, environment, owner, purpose, permissions,
    /// ip_allowlist, ip_note, rotation_days, created_at, expires_at,
    /// last_rotated_at, last_used_at, last_reviewed_at, next_due_at,
    /// due_reason, status, tags, notes, key_id_hint, secret_fields (lists
    /// `;`-separated; cells starting = + - @ tab CR get a leading ')
    Export {
        #[arg(long, value_parser = ["csv"])]
        format: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Import keys from Keyward's CSV, a KeePassXC CSV export or a
    /// Bitwarden unencrypted JSON export; all accepted rows in one transaction
    Import {
        file: PathBuf,
        #[arg(long, value_parser = ["csv", "keepassxc-csv", "bitwarden-json"])]
        format: String,
        /// Show what would be imported and every rejected row; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows even if some are rejected
        #[arg(long)]
        skip_invalid: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write an encrypted backup (an age file that `age -d` opens), or
    /// `backup verify FILE`
    Backup(backup::BackupArgs),
    /// Restore a backup into a new vault (--vault DIR); asks for its passphrase
    Restore {
        file: PathBuf,
        /// The age identity file, for a backup made to recipients
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// The recovery code that opens the vault if the passphrase is forgotten
    Recovery {
        #[command(subcommand)]
        command: RecoveryCommand,
    },
    /// Remember this vault on this device (OS keyring): later commands and
    /// the app unlock without the passphrase while KEYWARD_PASSPHRASE is unset
    Remember,
    /// Forget this vault on this device (remove it from the OS keyring)
    Forget,
    /// Forgot the passphrase: set a new one with the recovery code (read
    /// from standard input or a prompt, never from arguments)
    Recover,
    /// A suspected exposure: open an incident and work through its steps
    Incident {
        #[command(subcommand)]
        command: incident::IncidentCommand,
    },
    /// The access review: start, decide each key, finish, report
    Review {
        #[command(subcommand)]
        command: review::ReviewCommand,
    },
    /// Move the vault onto a new identity: the database re-encrypted,
    /// every secret resealed, vault.key rewrapped, the recovery code and
    /// the keyring entry replaced (or removed). Afterwards no old copy of
    /// vault.key, recovery.key or the keyring entry opens the vault. The
    /// passphrase stays unless KEYWARD_NEW_PASSPHRASE is set or a new one
    /// is typed at the prompt
    Rekey {
        /// Do not make a new recovery code (the old one stops working
        /// either way)
        #[arg(long)]
        no_recovery_code: bool,
    },
    /// Replace a key's secret fields in one go (the new key is already
    /// deployed and the old one revoked); values from stdin like `add`
    Rotate {
        id: String,
        /// Secret field of the new key to read from stdin. Repeatable
        #[arg(long = "secret", value_name = "FIELD", required = true)]
        secrets: Vec<String>,
    },
}

/// A refused operation: printed as one `error: …` line, exit status 1.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

type Outcome = Result<(), Failure>;

/// Parses the command line and runs it. Without a subcommand, opens the app.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0; usage errors exit 2 (clap's convention).
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Before anything runs (and while there is one thread): no child
    // process may inherit a passphrase from our environment.
    if let Err(f) = given::capture(cli.passphrase_fd, cli.passphrase_file.as_deref()) {
        return fail(f);
    }
    let dir = match vault_dir(cli.vault.clone()) {
        Ok(d) => d,
        Err(f) => return fail(f),
    };
    let Some(command) = cli.command else {
        return match crate::run_app(dir.path().to_path_buf(), cli.tray) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(Failure(format!("could not start the app: {e}"))),
        };
    };
    if cli.tray {
        return fail(Failure("--tray only applies when opening the app".into()));
    }
    if let Command::Scan(args) = command {
        return scan::run(args, &dir);
    }
    match run(command, &dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => fail(f),
    }
}

/// Stored text as a terminal may show it: control characters (an escape
/// sequence in a label planted by a crafted backup, a carriage return, a
/// file name with ESC in it) are written out as `\u{1b}`, not obeyed.
/// Line breaks and tabs stay when `keep_lines`.
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    safe_with(text, false)
}

pub(crate) fn safe_with(text: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let kept = |c: char| keep_lines && matches!(c, '\n' | '\t');
    if !text.chars().any(|c| c.is_control() && !kept(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !kept(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn fail(f: Failure) -> ExitCode {
    // One line, whatever the message holds, and nothing a terminal obeys
    // (a message may quote a file's content or name).
    let line = f.0.replace(['\n', '\r'], " ");
    eprintln!("error: {}", safe(&line));
    ExitCode::from(1)
}

fn vault_dir(given: Option<PathBuf>) -> Result<VaultDir, Failure> {
    match given {
        Some(p) if p.as_os_str().is_empty() => Err(Failure("--vault: must not be empty".into())),
        Some(p) => Ok(VaultDir::new(p)),
        None => dirs::data_dir()
            .map(|d| VaultDir::new(d.join("keyward")))
            .ok_or_else(|| {
                Failure("no data directory on this system; use --vault DIR or KEYWARD_VAULT".into())
            }),
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn run(command: Command, dir: &VaultDir) -> Outcome {
    match command {
        Command::Init { recovery_code } => {
            init(dir)?;
            if recovery_code {
                recovery(RecoveryCommand::Create, dir)?;
            }
            Ok(())
        }
        Command::Add(args) => add(dir, &args),
        Command::List { json } => list(dir, json),
        Command::Show { id, json } => show(dir, &id, json),
        Command::Edit {
            id,
            fields,
            clear_perms,
            clear_ips,
            clear_tags,
            remove_secret,
        } => edit_command(
            dir,
            &id,
            &fields,
            Clear {
                perms: clear_perms,
                ips: clear_ips,
                tags: clear_tags,
            },
            remove_secret,
        ),
        Command::SetStatus { id, status } => {
            let status: Status = status
                .parse()
                .map_err(|r| Failure(format!("status: {r}")))?;
            let mut vault = unlock(dir)?;
            let e = keyward_core::lifecycle::set_status(&mut vault, &id, status, now())?;
            refresh_schedule(&vault);
            println!("{} is {}", e.short_id(), e.status.as_str());
            Ok(())
        }
        Command::Delete { id, yes } => delete(dir, &id, yes),
        Command::Reveal { id, field } => reveal(dir, &id, &field),
        Command::Audit {
            json,
            verify,
            expect,
            head,
            accept_rollback,
        } => {
            if accept_rollback {
                accept_rollback_of(dir)
            } else if head {
                audit_head(dir)
            } else {
                audit_log(dir, json, verify, expect.as_deref())
            }
        }
        Command::Passwd => passwd(dir),
        Command::Check => check(dir),
        Command::Due { within, json } => due(dir, within, json),
        Command::Remind { once: _ } => remind(dir),
        Command::Findings { json } => findings(dir, json),
        Command::Snooze { id, days } => {
            let mut vault = unlock(dir)?;
            let until = reminders::snooze(&mut vault, &id, days, now())?;
            refresh_schedule(&vault);
            println!(
                "reminders for {} snoozed until {}",
                inventory::get(&vault, &id)?.short_id(),
                keyward_core::timefmt::format(until)
            );
            Ok(())
        }
        Command::Review { command } => review::run(command, dir),
        Command::Incident { command } => incident::run(command, dir),
        Command::Backup(args) => backup::run(args, dir),
        Command::Scan(_) => unreachable_scan(),
        Command::Export { format, out } => interchange::export(dir, &format, out),
        Command::Import {
            file,
            format,
            dry_run,
            skip_invalid,
            json,
        } => interchange::import(dir, &file, &format, dry_run, skip_invalid, json),
        Command::Recovery { command } => recovery(command, dir),
        Command::Recover => recover(dir),
        Command::Remember => {
            ensure_exists(dir)?;
            let (mut vault, proof) = unlock_confirmed(dir)?;
            let identity = vault.remember(proof, now())?;
            keyring::remember(dir, &identity)?;
            println!("remembered on this device: unlocking no longer asks for the passphrase here (`keyward forget` undoes it)");
            Ok(())
        }
        Command::Forget => {
            ensure_exists(dir)?;
            if keyring::forget(dir)? {
                println!("forgotten on this device: the passphrase is needed again");
            } else {
                println!("this vault was not remembered on this device");
            }
            Ok(())
        }
        Command::Restore { file, identity } => backup::restore(&file, identity.as_deref(), dir),
        Command::Rekey { no_recovery_code } => rekey(dir, !no_recovery_code),
        Command::Rotate { id, secrets } => {
            let values = read_secrets(&secrets)?;
            let mut vault = unlock(dir)?;
            let e = rotation::rotate_now(&mut vault, &id, values, now())?;
            refresh_schedule(&vault);
            println!(
                "{} rotated; next due {}",
                e.short_id(),
                e.next_due_at
                    .map(keyward_core::timefmt::format)
                    .unwrap_or_else(|| "-".into())
            );
            Ok(())
        }
    }
}

fn conflict(list: &[String], flag: &str, other: &str) -> Outcome {
    if list.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!("{flag} cannot be used with {other}")))
    }
}

/// `scan` has its own exit statuses and is dispatched before `run`.
fn unreachable_scan() -> Outcome {
    Err(Failure("scan: internal dispatch error".into()))
}
