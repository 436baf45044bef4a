//! `keyward audit`: the log, its head, verification and rollback acceptance.

use super::*;

pub(super) fn audit_head(dir: &VaultDir) -> Outcome {
    let vault = unlock(dir)?;
    match audit::head(&vault)? {
        Some(h) => println!("{h}"),
        None => println!("the audit log is empty"),
    }
    Ok(())
}

pub(super) fn accept_rollback_of(dir: &VaultDir) -> Outcome {
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

pub(super) fn audit_log(dir: &VaultDir, json: bool, verify: bool, expect: Option<&str>) -> Outcome {
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
