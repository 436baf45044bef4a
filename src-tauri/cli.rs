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
mod given;
mod incident;
mod interchange;
mod review;
mod scan;

use clap::{Args, Parser, Subcommand};
use keyward_core::inventory::{self, Draft, Entry, SecretChanges, SecretInput, SecretUse, Status};
use keyward_core::reminder::{self as reminders, TimeZone};
use keyward_core::rotation;
use keyward_core::vault::{self, KdfParams};

use crate::platform::{keyring, notify};
use keyward_core::{audit, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Environment variable with the vault passphrase, for scripts.
const ENV_PASSPHRASE: &str = "KEYWARD_PASSPHRASE";
/// Environment variable with the new passphrase for `passwd`, for scripts.
const ENV_NEW_PASSPHRASE: &str = "KEYWARD_NEW_PASSPHRASE";
/// Lowers the scrypt work factor of `init`/`passwd` (2^N). Tests only: a
/// vault made with it falls to a cheap guessing attack.
const ENV_INSECURE_KDF: &str = "KEYWARD_INSECURE_TEST_KDF";

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

#[derive(Subcommand, Debug)]
enum RecoveryCommand {
    /// Make a new recovery code and print it once: write it down or print
    /// it, and keep it away from this computer. recovery.key is replaced;
    /// an old copy of it still opens the vault with the old code until
    /// `keyward rekey`
    Create,
    /// Delete recovery.key. A copy kept elsewhere still opens the vault
    /// with its code until `keyward rekey`
    Remove,
    /// Whether this vault has a recovery code
    Status,
}

/// The entry fields shared by `add` and `edit`. Values are checked by the
/// core, so a bad value is a validation error (exit 1) with the field named.
#[derive(Args, Debug, Default)]
struct EntryArgs {
    /// Platform, e.g. binance, kraken, or any name
    #[arg(long)]
    platform: Option<String>,
    /// A name you recognise the key by (1–200 characters)
    #[arg(long)]
    label: Option<String>,
    /// production | staging | development | test [add default: production]
    #[arg(long = "env", value_name = "ENV")]
    environment: Option<String>,
    /// Account or sub-account
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    owner: Option<String>,
    /// What uses the key (bot, integration)
    #[arg(long)]
    purpose: Option<String>,
    /// Permission: read trade margin futures transfer withdraw deposit account, or raw:<scope>. Repeat or separate with commas
    #[arg(long = "perm", value_name = "SCOPE", value_delimiter = ',')]
    permissions: Vec<String>,
    /// Allowed address or CIDR. Repeat or separate with commas
    #[arg(long = "ip", value_name = "CIDR", value_delimiter = ',')]
    ips: Vec<String>,
    /// A note about the IP allowlist
    #[arg(long)]
    ip_note: Option<String>,
    /// Rotation period in days (1–3650)
    #[arg(long = "rotate-days", value_name = "N")]
    rotation_days: Option<String>,
    /// Creation date, YYYY-MM-DD or RFC 3339 [add default: now]
    #[arg(long = "created", value_name = "DATE")]
    created_at: Option<String>,
    /// Expiry date
    #[arg(long = "expires", value_name = "DATE")]
    expires_at: Option<String>,
    /// Date of the last rotation
    #[arg(long = "last-rotated", value_name = "DATE")]
    last_rotated_at: Option<String>,
    /// Date the key was last used
    #[arg(long = "last-used", value_name = "DATE")]
    last_used_at: Option<String>,
    /// Tag. Repeat or separate with commas
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    tags: Vec<String>,
    #[arg(long = "note", value_name = "TEXT")]
    notes: Option<String>,
    /// Last characters of the public key id, to recognise the key
    #[arg(long = "key-hint", value_name = "HINT")]
    key_id_hint: Option<String>,
    /// Secret field to read from stdin (e.g. api_key, api_secret, passphrase). Repeatable
    #[arg(long = "secret", value_name = "FIELD")]
    secrets: Vec<String>,
}

impl EntryArgs {
    fn draft(&self) -> Draft {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Draft {
            platform: self.platform.clone(),
            account: self.account.clone(),
            label: self.label.clone(),
            environment: self.environment.clone(),
            owner: self.owner.clone(),
            purpose: self.purpose.clone(),
            permissions: list(&self.permissions),
            ip_allowlist: list(&self.ips),
            ip_note: self.ip_note.clone(),
            rotation_days: self.rotation_days.clone(),
            created_at: self.created_at.clone(),
            expires_at: self.expires_at.clone(),
            last_rotated_at: self.last_rotated_at.clone(),
            last_used_at: self.last_used_at.clone(),
            last_reviewed_at: None,
            tags: list(&self.tags),
            notes: self.notes.clone(),
            key_id_hint: self.key_id_hint.clone(),
        }
    }
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
        } => {
            let mut draft = fields.draft();
            if clear_perms {
                conflict(&fields.permissions, "--clear-perms", "--perm")?;
                draft.permissions = Some(Vec::new());
            }
            if clear_ips {
                conflict(&fields.ips, "--clear-ips", "--ip")?;
                draft.ip_allowlist = Some(Vec::new());
            }
            if clear_tags {
                conflict(&fields.tags, "--clear-tags", "--tag")?;
                draft.tags = Some(Vec::new());
            }
            edit(dir, &id, &draft, &fields.secrets, remove_secret)
        }
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

fn findings(dir: &VaultDir, json: bool) -> Outcome {
    let vault = unlock(dir)?;
    let all = keyward_core::findings::of_vault(&vault, now())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    if all.is_empty() {
        println!("no findings");
        return Ok(());
    }
    let counts = keyward_core::findings::counts(&all)
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{counts}")?;
    for f in &all {
        writeln!(
            out,
            "{:<8}  {}  {} · {}  {}\n          fix: {}  [{}]",
            f.severity.as_str(),
            f.key_id.get(..8).unwrap_or(&f.key_id),
            safe(&f.platform),
            safe(&f.label),
            safe(&f.message),
            safe(&f.fix),
            f.rule
        )?;
    }
    Ok(())
}

/// The user's time zone for calendar-day reminders (TZ, else /etc/localtime).
fn time_zone() -> TimeZone {
    TimeZone::system()
}

/// Keeps the locked-vault reminder schedule in step after a change. The
/// change itself is committed already, so a failure here only warns.
fn refresh_schedule(vault: &Vault) {
    if let Err(e) = reminders::write_schedule(vault, time_zone(), now()) {
        eprintln!("warning: reminder schedule not updated: {e}");
    }
}

fn due(dir: &VaultDir, within: u32, json: bool) -> Outcome {
    if within > 3650 {
        return Err(Failure("--within: must be from 0 to 3650 days".into()));
    }
    let vault = unlock(dir)?;
    let cal = reminders::calendar(&vault, time_zone())?;
    let keys = reminders::due_within(&inventory::list(&vault)?, within, &cal, now());
    if json {
        println!("{}", serde_json::to_string_pretty(&keys)?);
        return Ok(());
    }
    if keys.is_empty() {
        println!("nothing due within {within} days");
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for k in &keys {
        writeln!(
            out,
            "{}  {:<18}  {:<8}  {} · {}  ({})",
            &keyward_core::timefmt::format(k.due_at)[..10],
            reminders::when_text(k.days_left),
            k.id.get(..8).unwrap_or(&k.id),
            safe(&k.platform),
            safe(&k.label),
            safe(&k.reason.to_string())
        )?;
    }
    Ok(())
}

fn remind(dir: &VaultDir) -> Outcome {
    ensure_exists(dir)?;
    let at = now();
    let mut show = |n: &notify::Notice, _: Option<&str>| notify::show(n, None);
    let shown = if !given::has(ENV_PASSPHRASE) {
        // Locked: only times and counts are readable.
        let Some(locked) = crate::reminders::announce_locked(dir, at, &mut show)? else {
            println!("no reminder schedule yet: unlock the vault once (app or KEYWARD_PASSPHRASE)");
            return Ok(());
        };
        locked.shown.into_iter().collect()
    } else {
        let mut vault = unlock(dir)?;
        let mut snap = reminders::Snapshot::read(&vault, time_zone())?;
        crate::reminders::send_due(&mut vault, &mut snap, at, &mut show)?.0
    };
    if shown.is_empty() {
        println!("nothing to send");
    }
    for n in &shown {
        if n.summary == "Keyward" {
            println!("sent: {}", n.body);
        } else {
            println!("sent: {} — {}", n.summary, n.body);
        }
    }
    Ok(())
}

fn conflict(list: &[String], flag: &str, other: &str) -> Outcome {
    if list.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!("{flag} cannot be used with {other}")))
    }
}

/// Test builds (debug assertions) and builds with the `insecure-test-kdf`
/// feature (the benchmarks') accept `KEYWARD_INSECURE_TEST_KDF`; a release
/// build refuses it, so no script can weaken a real user's vault.key.
const TEST_KDF_ALLOWED: bool = cfg!(any(debug_assertions, feature = "insecure-test-kdf"));

/// The work factor to write `vault.key` with (and to raise it to at unlock).
fn kdf() -> Result<KdfParams, Failure> {
    kdf_from(std::env::var(ENV_INSECURE_KDF).ok(), TEST_KDF_ALLOWED)
}

/// [`kdf`] for a command that writes a new `vault.key` (or backup) with
/// it: a lowered work factor is said out loud.
fn kdf_for_new_key() -> Result<KdfParams, Failure> {
    let kdf = kdf()?;
    if kdf != KdfParams::default() {
        eprintln!(
            "warning: {ENV_INSECURE_KDF} lowers the passphrase work factor to 2^{}: for tests only",
            kdf.log_n()
        );
    }
    Ok(kdf)
}

fn kdf_from(test_value: Option<String>, allowed: bool) -> Result<KdfParams, Failure> {
    match test_value {
        None => Ok(KdfParams::default()),
        Some(_) if !allowed => Err(Failure(format!(
            "{ENV_INSECURE_KDF}: only test builds accept it; unset it"
        ))),
        Some(v) => {
            let log_n = v
                .parse::<u8>()
                .map_err(|_| Failure(format!("{ENV_INSECURE_KDF}: must be a number")))?;
            Ok(KdfParams::insecure_for_tests(log_n)?)
        }
    }
}

/// The passphrase the caller gave (see [`given`]), else a prompt without echo.
fn passphrase(env: &str, prompt: &str) -> Result<Passphrase, Failure> {
    if let Some(p) = given::get(env) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        let how = if env == ENV_PASSPHRASE {
            format!("give --passphrase-fd N, --passphrase-file FILE or {env}")
        } else {
            format!("set {env}")
        };
        return Err(Failure(format!(
            "passphrase: {how}, or run in a terminal to be asked"
        )));
    }
    rpassword::prompt_password(prompt)
        .map(Passphrase::new)
        .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))
}

/// A new passphrase: from the environment, or asked twice.
fn new_passphrase(env: &str) -> Result<Passphrase, Failure> {
    if given::has(env) {
        return passphrase(env, "");
    }
    let first = passphrase(env, "New passphrase: ")?;
    let second = passphrase(env, "Repeat passphrase: ")?;
    if first.expose() != second.expose() {
        return Err(vault::Error::PassphraseMismatch.into());
    }
    Ok(first)
}

fn unlock(dir: &VaultDir) -> Result<Vault, Failure> {
    ensure_exists(dir)?;
    // A vault remembered on this device opens without the passphrase, unless
    // one is given; a keyring that cannot answer falls back to the passphrase.
    if !given::has(ENV_PASSPHRASE) {
        match keyring::open_remembered(dir, now(), Origin::Cli)? {
            keyring::Remembered::Opened(vault) => return Ok(*vault),
            keyring::Remembered::Forgotten => {}
            keyring::Remembered::Stale => eprintln!(
                "keyring: the key remembered on this device no longer opens this vault (`keyward forget`, then `keyward remember`); asking for the passphrase"
            ),
            keyring::Remembered::Unavailable(e) => eprintln!("{e}; asking for the passphrase"),
        }
    }
    let pass = passphrase(ENV_PASSPHRASE, "Passphrase: ")?;
    Ok(Vault::unlock_upgrading(
        dir,
        &pass,
        kdf()?,
        now(),
        Origin::Cli,
    )?)
}

/// For exports and lasting grants (a backup, a recovery code, remembering
/// the vault on this device): the vault opened with the passphrase — never
/// the keyring — and that passphrase proved against `vault.key` again at
/// the moment of the action.
fn unlock_confirmed(dir: &VaultDir) -> Result<(Vault, vault::Reauth), Failure> {
    ensure_exists(dir)?;
    let pass = passphrase(ENV_PASSPHRASE, "Passphrase: ")?;
    Ok(Vault::unlock_confirmed(
        dir,
        &pass,
        kdf()?,
        now(),
        Origin::Cli,
    )?)
}

fn ensure_exists(dir: &VaultDir) -> Outcome {
    if dir.exists() {
        Ok(())
    } else {
        Err(vault::Error::NoVault {
            path: dir.path().to_path_buf(),
        }
        .into())
    }
}

fn init(dir: &VaultDir) -> Outcome {
    if dir.exists() {
        return Err(vault::Error::AlreadyExists {
            path: dir.path().to_path_buf(),
        }
        .into());
    }
    let kdf = kdf_for_new_key()?;
    let pass = new_passphrase(ENV_PASSPHRASE)?;
    let vault = Vault::init(dir, &pass, kdf, now(), Origin::Cli)?;
    vault.lock()?;
    println!("created a vault in {}", dir.path().display());
    Ok(())
}

/// `scan` has its own exit statuses and is dispatched before `run`.
fn unreachable_scan() -> Outcome {
    Err(Failure("scan: internal dispatch error".into()))
}

fn recovery(command: RecoveryCommand, dir: &VaultDir) -> Outcome {
    match command {
        RecoveryCommand::Status => {
            ensure_exists(dir)?;
            println!(
                "{}",
                if dir.has_recovery_code() {
                    "this vault has a recovery code"
                } else {
                    "no recovery code (create one with `keyward recovery create`)"
                }
            );
            Ok(())
        }
        RecoveryCommand::Remove => {
            let mut vault = unlock(dir)?;
            if vault.remove_recovery_code(now())? {
                println!("recovery code removed");
            } else {
                println!("there was no recovery code");
            }
            Ok(())
        }
        RecoveryCommand::Create => {
            let (mut vault, proof) = unlock_confirmed(dir)?;
            let code = vault.create_recovery_code(proof, now())?;
            eprintln!(
                "Your recovery code — shown once. Write it down or print it and keep it offline.\n\
                 It opens this vault if you forget the passphrase (`keyward recover`), and\n\
                 recovery.key with the age tool. Anyone holding it can open the vault."
            );
            // The code is the point of this command, like `reveal`'s value.
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", code.grouped().as_str())?;
            out.flush()?;
            Ok(())
        }
    }
}

fn recover(dir: &VaultDir) -> Outcome {
    ensure_exists(dir)?;
    if !dir.has_recovery_code() {
        return Err(vault::Error::NoRecoveryCode.into());
    }
    let typed = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password("Recovery code: ")
                .map_err(|e| Failure(format!("recovery code: could not read it: {e}")))?,
        )
    } else {
        let mut s = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut s)
            .map_err(|e| Failure(format!("recovery code: could not read it: {e}")))?;
        s
    };
    let code = vault::RecoveryCode::parse(&typed)?;
    let identity = dir.recover_identity(&code)?;
    let new = new_passphrase(ENV_NEW_PASSPHRASE)?;
    let mut vault = Vault::open(dir, identity, now(), Origin::Cli)?;
    vault.reset_passphrase(&new, kdf_for_new_key()?, now())?;
    vault.lock()?;
    println!("new passphrase set; the recovery code still works (make a new one with `keyward recovery create`)");
    eprintln!("note: {REKEY_HINT}");
    Ok(())
}

fn add(dir: &VaultDir, args: &EntryArgs) -> Outcome {
    let draft = args.draft();
    // Check the metadata before asking for secrets or the passphrase.
    let mut probe = inventory::Fields::blank(now());
    inventory::apply(&draft, &mut probe, now()).map_err(inventory::Error::Invalid)?;
    let secrets = read_secrets(&args.secrets)?;
    let mut vault = unlock(dir)?;
    let entry = inventory::add(&mut vault, &draft, secrets, now())?;
    refresh_schedule(&vault);
    println!("{}", entry.id);
    Ok(())
}

fn edit(
    dir: &VaultDir,
    id: &str,
    draft: &Draft,
    secret_fields: &[String],
    remove: Vec<String>,
) -> Outcome {
    let set = read_secrets(secret_fields)?;
    let mut vault = unlock(dir)?;
    let e = inventory::edit(&mut vault, id, draft, SecretChanges { set, remove }, now())?;
    refresh_schedule(&vault);
    println!("{}", e.id);
    Ok(())
}

/// Reads one value per field: from a prompt without echo on a terminal,
/// else from stdin (one line per field; a single field takes all of stdin).
fn read_secrets(fields: &[String]) -> Result<Vec<SecretInput>, Failure> {
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    if std::io::stdin().is_terminal() {
        return fields
            .iter()
            .map(|f| {
                let value =
                    Zeroizing::new(rpassword::prompt_password(format!("{f}: ")).map_err(|e| {
                        Failure(format!("secret field: could not read '{f}': {e}"))
                    })?);
                Ok(SecretInput {
                    field: f.clone(),
                    value: SecretValue::from_slice(value.as_bytes()),
                })
            })
            .collect();
    }
    // Enough for every field at its 16 KiB limit plus line ends; more is refused.
    let limit = (fields.len() * (SecretValue::MAX_LEN + 2) + 1) as u64;
    // Allocated once at its largest: a growing Vec would leave unwiped
    // copies of the secrets behind in freed memory.
    let mut input = Zeroizing::new(Vec::with_capacity(limit as usize + 1));
    std::io::stdin()
        .lock()
        .take(limit)
        .read_to_end(&mut input)
        .map_err(|e| Failure(format!("stdin: {e}")))?;
    if input.len() as u64 >= limit {
        return Err(Failure(
            "stdin: secret values are limited to 16 KiB each".into(),
        ));
    }
    let values: Vec<&[u8]> = if fields.len() == 1 {
        vec![strip_line_end(&input)]
    } else {
        let body = strip_line_end(&input);
        let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').map(strip_cr).collect();
        if body.is_empty() || lines.len() != fields.len() {
            return Err(Failure(format!(
                "stdin: expected {} lines, one per --secret ({}), got {}",
                fields.len(),
                fields.join(", "),
                if body.is_empty() { 0 } else { lines.len() }
            )));
        }
        lines
    };
    Ok(fields
        .iter()
        .zip(values)
        .map(|(f, v)| SecretInput {
            field: f.clone(),
            value: SecretValue::from_slice(v),
        })
        .collect())
}

fn strip_line_end(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    strip_cr(b)
}

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn list(dir: &VaultDir, json: bool) -> Outcome {
    let vault = unlock(dir)?;
    let entries = inventory::list(&vault)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    if entries.is_empty() {
        println!(
            "no keys yet: add one with `keyward add --platform P --label L --secret api_secret`"
        );
        return Ok(());
    }
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            [
                e.short_id().to_owned(),
                clip(&safe(&e.platform), 16),
                clip(&safe(&e.label), 36),
                e.environment.as_str().to_owned(),
                e.status.as_str().to_owned(),
                clip(
                    &e.permissions
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    28,
                ),
                if e.is_ip_restricted() {
                    format!("{} ip", e.ip_allowlist.len())
                } else {
                    "any".into()
                },
                e.next_due_at
                    .map(|d| keyward_core::timefmt::format(d)[..10].to_owned())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "ID",
        "PLATFORM",
        "LABEL",
        "ENV",
        "STATUS",
        "PERMISSIONS",
        "IP",
        "NEXT DUE",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        s
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", line(&header))?;
    for r in &rows {
        writeln!(out, "{}", line(&r.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}

fn show(dir: &VaultDir, id: &str, json: bool) -> Outcome {
    let vault = unlock(dir)?;
    let e = inventory::get(&vault, id)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print_entry(&e);
    }
    Ok(())
}

fn print_entry(e: &Entry) {
    let date = |d: Option<OffsetDateTime>| {
        d.map(keyward_core::timefmt::format)
            .unwrap_or_else(|| "-".into())
    };
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    let join = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    let rows = [
        ("id", e.id.clone()),
        ("platform", e.platform.clone()),
        ("account", opt(&e.account)),
        ("label", e.label.clone()),
        ("environment", e.environment.as_str().into()),
        ("status", e.status.as_str().into()),
        ("owner", opt(&e.owner)),
        ("purpose", opt(&e.purpose)),
        (
            "permissions",
            join(e.permissions.iter().map(ToString::to_string).collect()),
        ),
        (
            "ip allowlist",
            if e.ip_allowlist.is_empty() {
                "none (usable from any address)".into()
            } else {
                join(e.ip_allowlist.iter().map(ToString::to_string).collect())
            },
        ),
        ("ip note", opt(&e.ip_note)),
        (
            "rotation",
            e.rotation_days
                .map(|d| format!("every {d} days"))
                .unwrap_or_else(|| "-".into()),
        ),
        ("next due", date(e.next_due_at)),
        ("created", date(Some(e.created_at))),
        ("expires", date(e.expires_at)),
        ("last rotated", date(e.last_rotated_at)),
        ("last used", date(e.last_used_at)),
        ("last reviewed", date(e.last_reviewed_at)),
        ("key id hint", opt(&e.key_id_hint)),
        ("tags", join(e.tags.clone())),
        (
            "secret fields",
            join(e.secret_fields.iter().map(ToString::to_string).collect()),
        ),
        ("updated", date(Some(e.updated_at))),
    ];
    for (k, v) in rows {
        println!("{k:<14} {}", safe(&v));
    }
    if let Some(n) = &e.notes {
        println!("notes:");
        for l in n.lines() {
            println!("  {}", safe_with(l, true));
        }
    }
}

fn delete(dir: &VaultDir, id: &str, yes: bool) -> Outcome {
    let mut vault = unlock(dir)?;
    let e = inventory::get(&vault, id)?;
    if !yes && std::io::stdin().is_terminal() {
        eprint!(
            "Delete {} / {} ({}) and its secrets? This cannot be undone. [y/N] ",
            safe(&e.platform),
            safe(&e.label),
            e.short_id()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(Failure("delete: not confirmed; nothing was deleted".into()));
        }
    }
    inventory::delete(&mut vault, &e.id, now())?;
    refresh_schedule(&vault);
    println!("deleted {}", e.short_id());
    Ok(())
}

fn reveal(dir: &VaultDir, id: &str, field: &str) -> Outcome {
    let mut vault = unlock(dir)?;
    let value = inventory::take_secret(&mut vault, id, field, SecretUse::Reveal, now())?;
    let stdout = std::io::stdout();
    stdout.lock().flush()?;
    // EXPOSE: `reveal` exists to hand the value to the user's pipe. Written
    // straight to the descriptor: std's stdout buffer would keep a copy.
    write_unbuffered(&stdout, value.expose())?;
    if stdout.is_terminal() {
        write_unbuffered(&stdout, b"\n")?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn write_unbuffered(out: &std::io::Stdout, bytes: &[u8]) -> std::io::Result<()> {
    let mut lock = out.lock();
    lock.write_all(bytes)?;
    lock.flush()
}

#[cfg(unix)]
fn write_unbuffered(out: &std::io::Stdout, mut bytes: &[u8]) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    while !bytes.is_empty() {
        match rustix::io::write(out.as_fd(), bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn audit_head(dir: &VaultDir) -> Outcome {
    let vault = unlock(dir)?;
    match audit::head(&vault)? {
        Some(h) => println!("{h}"),
        None => println!("the audit log is empty"),
    }
    Ok(())
}

fn accept_rollback_of(dir: &VaultDir) -> Outcome {
    ensure_exists(dir)?;
    let pass = passphrase(ENV_PASSPHRASE, "Passphrase: ")?;
    let (vault, found) = Vault::unlock_accepting_rollback(dir, &pass, now(), Origin::Cli)?;
    match found {
        Some(what) => println!("accepted and recorded in the audit log: {what}"),
        None => println!("nothing to accept: vault.db and audit.head agree"),
    }
    vault.lock()?;
    Ok(())
}

fn audit_log(dir: &VaultDir, json: bool, verify: bool, expect: Option<&str>) -> Outcome {
    let expect = expect.map(str::parse::<audit::Head>).transpose()?;
    let vault = unlock(dir)?;
    if verify {
        let n = match &expect {
            Some(h) => audit::verify_prefix(&vault, h)?,
            None => audit::verify(&vault)?,
        };
        let head = audit::head(&vault)?.map(|h| h.to_string());
        if json {
            println!(
                "{}",
                serde_json::json!({ "ok": true, "entries": n, "head": head, "holds": expect.as_ref().map(ToString::to_string) })
            );
        } else {
            println!("audit log: {n} entries, chain intact");
            if let Some(h) = &expect {
                println!("it holds entry #{} exactly as recorded in {h}", h.seq);
            }
        }
        return Ok(());
    }
    let records = audit::list(&vault)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for r in records {
        let entry = r
            .entry_id
            .as_deref()
            .map(|id| id.get(..8).unwrap_or(id))
            .unwrap_or("-");
        writeln!(
            out,
            "{:>5}  {}  {:<4} {:<24} {:<8} {}",
            r.seq,
            keyward_core::timefmt::format(r.at),
            safe(&r.origin),
            safe(&r.action),
            safe(entry),
            safe(&r.detail.to_string())
        )?;
    }
    Ok(())
}

fn passwd(dir: &VaultDir) -> Outcome {
    let kdf = kdf_for_new_key()?;
    ensure_exists(dir)?;
    let current = passphrase(ENV_PASSPHRASE, "Current passphrase: ")?;
    let mut vault = Vault::unlock(dir, &current, now(), Origin::Cli)?;
    let new = new_passphrase(ENV_NEW_PASSPHRASE)?;
    vault.change_passphrase(&current, &new, kdf, now())?;
    println!("passphrase changed");
    eprintln!("note: {REKEY_HINT}");
    Ok(())
}

/// The hint after a passphrase change or a recovery: the identity did not change.
const REKEY_HINT: &str = "the vault identity is unchanged: an old copy of vault.key still opens it with the old passphrase; run `keyward rekey` if one may exist";

fn rekey(dir: &VaultDir, recovery_code: bool) -> Outcome {
    let kdf = kdf_for_new_key()?;
    ensure_exists(dir)?;
    let current = passphrase(ENV_PASSPHRASE, "Current passphrase: ")?;
    let (vault, proof) = Vault::unlock_confirmed(dir, &current, kdf, now(), Origin::Cli)?;
    let new = if given::has(ENV_NEW_PASSPHRASE) {
        Some(passphrase(ENV_NEW_PASSPHRASE, "")?)
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New passphrase (Enter keeps the current one): ")
            .map(Passphrase::new)
            .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))?;
        if first.expose().is_empty() {
            None
        } else {
            let again = rpassword::prompt_password("Repeat it: ")
                .map(Passphrase::new)
                .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))?;
            if first.expose() != again.expose() {
                return Err(vault::Error::PassphraseMismatch.into());
            }
            Some(first)
        }
    } else {
        None
    };
    let remembered = keyring::is_remembered(dir);
    let done = vault.rekey(proof, &current, new.as_ref(), kdf, recovery_code, now())?;
    let vault = &done.vault;
    let keyring_note = if remembered {
        match keyring::remember(dir, &done.keyring_text) {
            Ok(()) => "the keyring entry on this device was replaced",
            Err(e) => {
                eprintln!("warning: {e}; the keyring entry no longer opens the vault (`keyward forget`, then `keyward remember`)");
                "the old keyring entry no longer opens the vault"
            }
        }
    } else {
        "no keyring entry to replace"
    };
    refresh_schedule(vault);
    eprintln!(
        "new vault identity: the database re-encrypted, every secret resealed, vault.key rewrapped; {keyring_note}. Old copies of vault.key, recovery.key and the keyring entry open nothing now."
    );
    for w in &done.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(code) = &done.recovery_code {
        eprintln!(
            "Your new recovery code — shown once. Write it down or print it and keep it offline.\n\
             The old one no longer opens anything."
        );
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", code.grouped().as_str())?;
        out.flush()?;
    } else {
        eprintln!("no recovery code now (make one with `keyward recovery create`)");
    }
    done.vault.lock()?;
    Ok(())
}

fn check(dir: &VaultDir) -> Outcome {
    let vault = unlock(dir)?;
    let report = vault.check()?;
    if report.is_ok() {
        let n = report.audit.as_ref().copied().unwrap_or(0);
        println!("vault ok: every page authenticated, structure intact, audit chain of {n} entries intact");
        return Ok(());
    }
    for p in &report.cipher_problems {
        println!("page authentication: {p}");
    }
    for p in &report.sqlite_problems {
        println!("structure: {p}");
    }
    if let Err(e) = &report.audit {
        println!("audit log: {e}");
    }
    Err(Failure("the vault is damaged (see above)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_refuses_the_test_kdf() {
        let e = kdf_from(Some("10".into()), false).unwrap_err();
        assert_eq!(
            e.0,
            "KEYWARD_INSECURE_TEST_KDF: only test builds accept it; unset it"
        );
        assert_eq!(kdf_from(None, false).unwrap(), KdfParams::default());
        assert_eq!(kdf_from(Some("12".into()), true).unwrap().log_n(), 12);
        // This very build is a test build; a release one is not.
        assert_eq!(
            TEST_KDF_ALLOWED,
            cfg!(debug_assertions) || cfg!(feature = "insecure-test-kdf")
        );
    }
}
