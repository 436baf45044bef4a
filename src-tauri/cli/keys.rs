//! The keys: add, edit, list, show, delete, reveal.

use super::*;

/// The entry fields shared by `add` and `edit`. Values are checked by the
/// core, so a bad value is a validation error (exit 1) with the field named.
#[derive(Args, Debug, Default)]
pub(super) struct EntryArgs {
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

pub(super) fn add(dir: &VaultDir, args: &EntryArgs) -> Outcome {
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

pub(super) fn edit(
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
pub(super) fn read_secrets(fields: &[String]) -> Result<Vec<SecretInput>, Failure> {
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

pub(super) fn strip_line_end(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    strip_cr(b)
}

pub(super) fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

pub(super) fn list(dir: &VaultDir, json: bool) -> Outcome {
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

pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}

pub(super) fn show(dir: &VaultDir, id: &str, json: bool) -> Outcome {
    let vault = unlock(dir)?;
    let e = inventory::get(&vault, id)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print_entry(&e);
    }
    Ok(())
}

pub(super) fn print_entry(e: &Entry) {
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

pub(super) fn delete(dir: &VaultDir, id: &str, yes: bool) -> Outcome {
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

pub(super) fn reveal(dir: &VaultDir, id: &str, field: &str) -> Outcome {
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
pub(super) fn write_unbuffered(out: &std::io::Stdout, bytes: &[u8]) -> std::io::Result<()> {
    let mut lock = out.lock();
    lock.write_all(bytes)?;
    lock.flush()
}

#[cfg(unix)]
pub(super) fn write_unbuffered(out: &std::io::Stdout, mut bytes: &[u8]) -> std::io::Result<()> {
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

/// What `edit --clear-…` empties.
pub(super) struct Clear {
    pub perms: bool,
    pub ips: bool,
    pub tags: bool,
}

/// `keyward edit`: the flags as a draft, the clears checked against them.
pub(super) fn edit_command(
    dir: &VaultDir,
    id: &str,
    fields: &EntryArgs,
    clear: Clear,
    remove_secret: Vec<String>,
) -> Outcome {
    let mut draft = fields.draft();
    if clear.perms {
        conflict(&fields.permissions, "--clear-perms", "--perm")?;
        draft.permissions = Some(Vec::new());
    }
    if clear.ips {
        conflict(&fields.ips, "--clear-ips", "--ip")?;
        draft.ip_allowlist = Some(Vec::new());
    }
    if clear.tags {
        conflict(&fields.tags, "--clear-tags", "--tag")?;
        draft.tags = Some(Vec::new());
    }
    edit(dir, id, &draft, &fields.secrets, remove_secret)
}
