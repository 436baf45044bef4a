//! What is due: findings, due dates, reminders.

use super::*;

pub(super) fn findings(dir: &VaultDir, json: bool) -> Outcome {
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
pub(super) fn time_zone() -> TimeZone {
    TimeZone::system()
}

/// Keeps the locked-vault reminder schedule in step after a change. The
/// change itself is committed already, so a failure here only warns.
pub(super) fn refresh_schedule(vault: &Vault) {
    if let Err(e) = reminders::write_schedule(vault, time_zone(), now()) {
        eprintln!("warning: reminder schedule not updated: {e}");
    }
}

pub(super) fn due(dir: &VaultDir, within: u32, json: bool) -> Outcome {
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

pub(super) fn remind(dir: &VaultDir) -> Outcome {
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
