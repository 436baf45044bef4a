//! Which keys a workflow holds, read-only: an open incident holds its keys
//! (compromised until it is closed). The lifecycle asks before a status
//! change; the findings show them. (A rotation in progress holds its key
//! through the key's own status, `rotating`.)

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::timefmt;
use crate::vault::{self, Vault};

/// The open incident holding a key: its id and when it was opened.
pub type IncidentHold = (String, OffsetDateTime);

/// Open incidents by key id.
pub fn incidents(vault: &Vault) -> vault::Result<HashMap<String, IncidentHold>> {
    let rows: Vec<(String, String, String)> = vault
        .conn()
        .prepare_cached(
            "SELECT k.entry_id, i.id, i.opened_at FROM incident_keys k
             JOIN incidents i ON i.id = k.incident_id WHERE i.closed_at IS NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(entry, id, at)| Some((entry, (id, timefmt::parse_stored(&at).ok()?))))
        .collect())
}

/// The open incident holding this key, if any (in the caller's transaction).
pub(crate) fn incident_of(conn: &Connection, entry_id: &str) -> vault::Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT i.id FROM incident_keys k JOIN incidents i ON i.id = k.incident_id
             WHERE k.entry_id = ?1 AND i.closed_at IS NULL",
            [entry_id],
            |r| r.get(0),
        )
        .optional()?)
}
