//! The copies a leak scan found, kept in the vault: a live secret lying in
//! a file stays a finding of its key after the app closes, until a later
//! scan of that place no longer finds it or the user marks it resolved.
//! Rows hold where a copy is (path, line, column, field, encoding) and
//! when it was seen — never a secret or a preview of its line. The scan
//! writes them (`scan::keep`); the findings read them here.

use std::collections::HashMap;

use serde::Serialize;
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::timefmt;
use crate::vault::{self, Vault};

/// How a secret appears in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case", rename = "ScanEncoding")]
pub enum Encoding {
    Raw,
    Base64,
    Url,
    Hex,
}

crate::field::keywords!(Encoding);

/// A copy recorded in the vault and not resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(rename = "LeakCopy")]
pub struct Copy {
    #[ts(type = "number")]
    pub id: u64,
    pub key_id: String,
    pub path: String,
    #[ts(type = "number")]
    pub line: u64,
    #[ts(type = "number")]
    pub column: u64,
    pub field: String,
    pub encoding: Encoding,
    #[serde(with = "timefmt::serde_rfc3339")]
    #[ts(type = "string")]
    pub found_at: OffsetDateTime,
}

/// Every key's unresolved copies, oldest first (for its findings).
pub fn open_by_key(vault: &Vault) -> vault::Result<HashMap<String, Vec<Copy>>> {
    let mut out: HashMap<String, Vec<Copy>> = HashMap::new();
    for c in open(vault)? {
        out.entry(c.key_id.clone()).or_default().push(c);
    }
    Ok(out)
}

/// The unresolved copies, oldest first.
pub fn open(vault: &Vault) -> vault::Result<Vec<Copy>> {
    type Row = (i64, String, String, i64, i64, String, String, String);
    let rows: Vec<Row> = vault
        .conn()
        .prepare_cached(
            "SELECT id, entry_id, path, line, col, field, encoding, found_at FROM leak_copies
             WHERE resolved_at IS NULL ORDER BY found_at, path, line, col",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, key_id, path, line, column, field, encoding, found_at) in rows {
        // A row the schema's checks let through but this build cannot read
        // is left out rather than failing every finding.
        let (Some(encoding), Ok(found_at)) = (
            encoding.parse::<Encoding>().ok(),
            timefmt::parse_stored(&found_at),
        ) else {
            continue;
        };
        out.push(Copy {
            id: id.max(0) as u64,
            key_id,
            path,
            line: line.max(0) as u64,
            column: column.max(0) as u64,
            field,
            encoding,
            found_at,
        });
    }
    Ok(out)
}
