//! The platforms catalogue: what each venue's API keys look like — their
//! secret fields, their permission scopes and how those map to Keyward's
//! normalised ones, whether an IP allowlist exists, and where keys are
//! managed (for the "revoke now" step). Shipped as data
//! (`data/platforms.json`); only sourced facts, empty where unknown.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One scope as the platform names it, and the normalised permissions it grants.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Scope {
    pub name: String,
    pub normalised: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Platform {
    pub id: String,
    pub name: String,
    /// The secret fields a key of this platform usually has, in order.
    pub secret_fields: Vec<String>,
    pub scopes: Vec<Scope>,
    /// Whether the platform lets a key be restricted to IP addresses.
    pub ip_allowlist: Option<bool>,
    /// Where in the platform's UI keys are managed.
    pub key_management: Option<String>,
    pub key_management_url: Option<String>,
    pub rules: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
struct Catalogue {
    platforms: Vec<Platform>,
}

const BUILT_IN: &str = include_str!("../data/platforms.json");

/// The built-in catalogue. A malformed file is a build defect caught by the
/// tests; at run time it degrades to an empty catalogue (free text still works).
pub fn catalogue() -> Vec<Platform> {
    serde_json::from_str::<Catalogue>(BUILT_IN)
        .map(|c| c.platforms)
        .unwrap_or_default()
}

/// The catalogue entry for a platform typed by id or name, case-insensitive.
pub fn find<'a>(platforms: &'a [Platform], typed: &str) -> Option<&'a Platform> {
    let t = typed.trim();
    platforms
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(t) || p.name.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{FieldName, Permission};

    #[test]
    fn the_built_in_catalogue_parses_and_is_consistent() {
        let all = serde_json::from_str::<Catalogue>(BUILT_IN)
            .unwrap()
            .platforms;
        assert!(all.len() >= 10);
        let mut ids: Vec<_> = all.iter().map(|p| p.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        for p in &all {
            assert!(!p.secret_fields.is_empty(), "{}", p.id);
            for f in &p.secret_fields {
                f.parse::<FieldName>().unwrap();
            }
            for s in &p.scopes {
                for n in &s.normalised {
                    let perm: Permission = n.parse().unwrap();
                    assert!(!matches!(perm, Permission::Raw(_)), "{}: {n}", p.id);
                }
            }
            if let Some(url) = &p.key_management_url {
                assert!(url.starts_with("https://"), "{url}");
            }
        }
    }

    #[test]
    fn platforms_are_found_by_id_or_name() {
        let all = catalogue();
        assert_eq!(find(&all, "KRAKEN").unwrap().id, "kraken");
        assert_eq!(find(&all, "Deribit").unwrap().id, "deribit");
        assert!(find(&all, "Mt. Gox").is_none());
    }
}
