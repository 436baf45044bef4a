//! A key's life: the one place that changes `entries.status`.
//!
//! Every status change — the user's, an incident's, a rotation's — goes
//! through [`transition`], which checks the table of transitions that make
//! sense ([`Status::can_become`]) and what holds the key (an open incident,
//! a rotation in progress), clears a staged rotation the change abandons,
//! settles the review follow-ups the change answers and writes the audit
//! row. A new status rule is written here, once.

use rusqlite::Transaction;
use time::OffsetDateTime;

use crate::field::FieldError;
use crate::followup::{self, Settled};
use crate::hold;
use crate::inventory::{self, Entry, Error, Result};
use crate::key::Status;
use crate::timefmt;
use crate::vault::audit::{self, Action};
use crate::vault::{self, Origin, Vault};

/// Who or what changes a key's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause<'a> {
    /// The user, by hand (the key's pane, `keyward status`, a review
    /// follow-up resolved).
    User,
    /// This incident: opening it makes its keys compromised, its contain
    /// step revokes them.
    Incident(&'a str),
    /// A rotation: starting it makes the key rotating, finishing it makes
    /// it active, cancelling it gives back the status it had. The
    /// rotation's own audit row records the change.
    Rotation,
}

fn refuse(reason: &str) -> Error {
    Error::Invalid(vec![FieldError {
        field: "status",
        reason: reason.into(),
    }])
}

/// Moves a key to `to` in the caller's transaction, if the transition
/// makes sense for this cause. Returns the status it had, or `None` when
/// it already had `to` (nothing is written then).
pub(crate) fn transition(
    tx: &Transaction<'_>,
    origin: Origin,
    id: &str,
    to: Status,
    cause: Cause<'_>,
    now: OffsetDateTime,
) -> Result<Option<Status>> {
    let stored: String = tx
        .query_row("SELECT status FROM entries WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::Vault(vault::ENTRY.no_match(id)),
            e => Error::from(e),
        })?;
    let from: Status = stored.parse().map_err(|_| vault::Error::Unreadable {
        table: "entry",
        id: id.to_owned(),
        what: "status",
    })?;
    if from == to {
        return Ok(None);
    }
    let allowed_for_cause = match cause {
        Cause::User => true,
        Cause::Incident(_) => matches!(to, Status::Compromised | Status::Revoked),
        Cause::Rotation => matches!(to, Status::Rotating | Status::Active | Status::Suspended),
    };
    if !from.can_become(to) || !allowed_for_cause {
        return Err(Error::Transition {
            from: from.as_str(),
            to: to.as_str(),
        });
    }
    if cause == Cause::User {
        // A workflow moves a key into and out of its own states.
        if to == Status::Rotating {
            return Err(refuse("start a rotation to make a key rotating"));
        }
        if to == Status::Compromised {
            return Err(refuse(
                "open an incident to mark a key compromised (keyward incident open)",
            ));
        }
        // Back to active only once no incident holds it (a false alarm).
        if from == Status::Compromised
            && to == Status::Active
            && hold::incident_of(tx, id)?.is_some()
        {
            return Err(refuse("an incident is open for this key: close it first"));
        }
        if from == Status::Rotating && !matches!(to, Status::Revoked | Status::Retired) {
            return Err(refuse(
                "a rotation is in progress: finish or cancel it first",
            ));
        }
    }
    if cause != Cause::Rotation {
        // Revoked, retired or exposed mid-rotation: the new key's staged
        // secrets go (the rotation clears its own).
        tx.execute("DELETE FROM rotations WHERE entry_id = ?1", [id])?;
    }
    followup::settle(tx, id, Settled::Status(to), now)?;
    tx.execute(
        "UPDATE entries SET status = ?2, updated_at = ?3 WHERE id = ?1",
        rusqlite::params![id, to.as_str(), timefmt::format(now)],
    )?;
    let detail = match cause {
        Cause::User => Some(serde_json::json!({ "from": from.as_str(), "to": to.as_str() })),
        Cause::Incident(incident) => Some(
            serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "incident": incident }),
        ),
        Cause::Rotation => None,
    };
    if let Some(detail) = detail {
        audit::append(tx, now, origin, Action::EntryStatus, Some(id), &detail)?;
    }
    Ok(Some(from))
}

/// The user moves a key to another status. Setting the status it already
/// has changes nothing and records nothing.
pub fn set_status(vault: &mut Vault, id: &str, to: Status, now: OffsetDateTime) -> Result<Entry> {
    let current = inventory::get(vault, id)?;
    if current.status == to {
        return Ok(current);
    }
    let origin = vault.origin();
    let tx = vault.write()?;
    transition(&tx, origin, &current.id, to, Cause::User, now)?;
    tx.commit()?;
    inventory::get(vault, &current.id)
}

/// Whether a key in this status can be rotated, and if not, why.
pub fn can_rotate(status: Status) -> std::result::Result<(), String> {
    if !status.is_live() {
        return Err(format!(
            "a {} key cannot be rotated; add the new key as a new entry",
            status.as_str()
        ));
    }
    if status == Status::Compromised {
        return Err("an exposed key is revoked first (the incident's contain step); add its replacement as a new key".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{fake_key, Created};
    use crate::vault::{KdfParams, VaultDir};
    use crate::Passphrase;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);

    fn vault_with_key() -> (tempfile::TempDir, Vault, String) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = VaultDir::new(tmp.path().join("v"));
        let pass = Passphrase::new("orbit lantern cobalt meadow 42".into());
        let kdf = KdfParams::insecure_for_tests(10).unwrap();
        let mut vault = Vault::init(&dir, &pass, kdf, NOW, Origin::Test).unwrap();
        let (draft, secrets) = fake_key(1, Created::Now);
        let id = inventory::add(&mut vault, &draft, secrets, NOW).unwrap().id;
        (tmp, vault, id)
    }

    fn try_move(
        vault: &mut Vault,
        id: &str,
        to: Status,
        cause: Cause<'_>,
    ) -> Result<Option<Status>> {
        let origin = vault.origin();
        let tx = vault.write().unwrap();
        let r = transition(&tx, origin, id, to, cause, NOW);
        if r.is_ok() {
            tx.commit().unwrap();
        }
        r
    }

    #[test]
    fn a_workflow_moves_a_key_only_into_its_own_states() {
        let (_tmp, mut vault, id) = vault_with_key();
        for (to, cause) in [
            (Status::Active, Cause::Incident("i")),
            (Status::Retired, Cause::Incident("i")),
            (Status::Revoked, Cause::Rotation),
            (Status::Compromised, Cause::Rotation),
        ] {
            let from = if to == Status::Active {
                Status::Suspended
            } else {
                Status::Active
            };
            if from != inventory::get(&vault, &id).unwrap().status {
                set_status(&mut vault, &id, from, NOW).unwrap();
            }
            let e = try_move(&mut vault, &id, to, cause).unwrap_err();
            assert!(
                matches!(e, Error::Transition { .. }),
                "{to:?} by {cause:?}: {e}"
            );
            assert_eq!(inventory::get(&vault, &id).unwrap().status, from);
        }
    }

    #[test]
    fn an_incident_cannot_revive_or_revoke_a_retired_key() {
        let (_tmp, mut vault, id) = vault_with_key();
        set_status(&mut vault, &id, Status::Retired, NOW).unwrap();
        let e = try_move(&mut vault, &id, Status::Revoked, Cause::Incident("i")).unwrap_err();
        assert_eq!(e.to_string(), "status: a retired key cannot become revoked");
        assert_eq!(inventory::get(&vault, &id).unwrap().status, Status::Retired);
    }

    #[test]
    fn the_user_cannot_enter_a_workflows_states() {
        let (_tmp, mut vault, id) = vault_with_key();
        let e = set_status(&mut vault, &id, Status::Rotating, NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "status: start a rotation to make a key rotating"
        );
        let e = set_status(&mut vault, &id, Status::Compromised, NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "status: open an incident to mark a key compromised (keyward incident open)"
        );
    }

    #[test]
    fn only_live_keys_that_are_not_exposed_can_rotate() {
        assert!(can_rotate(Status::Active).is_ok());
        assert!(can_rotate(Status::Suspended).is_ok());
        assert!(can_rotate(Status::Rotating).is_ok());
        assert!(can_rotate(Status::Compromised)
            .unwrap_err()
            .contains("revoked first"));
        assert_eq!(
            can_rotate(Status::Revoked).unwrap_err(),
            "a revoked key cannot be rotated; add the new key as a new entry"
        );
        assert!(can_rotate(Status::Retired).is_err());
    }

    #[test]
    fn a_rotation_cancelled_gives_back_a_suspended_key() {
        let (_tmp, mut vault, id) = vault_with_key();
        set_status(&mut vault, &id, Status::Suspended, NOW).unwrap();
        try_move(&mut vault, &id, Status::Rotating, Cause::Rotation).unwrap();
        assert_eq!(
            try_move(&mut vault, &id, Status::Suspended, Cause::Rotation).unwrap(),
            Some(Status::Rotating)
        );
        // The user may not: a rotation in progress holds the key.
        try_move(&mut vault, &id, Status::Rotating, Cause::Rotation).unwrap();
        let e = set_status(&mut vault, &id, Status::Suspended, NOW).unwrap_err();
        assert_eq!(
            e.to_string(),
            "status: a rotation is in progress: finish or cancel it first"
        );
    }
}
