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
    /// Rules that make a key stop working after a while: they set due dates.
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
}

/// A venue rule that ends a key's working life, from a cited source.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Deadline {
    /// Stable id, `<platform>.<rule>`, e.g. `binance.no-ip-trading`.
    pub id: String,
    /// The rule applies when the key has any of these normalised
    /// permissions; empty means every key.
    pub permissions_any: Vec<String>,
    /// The rule applies only to keys without an IP allowlist.
    pub without_ip_allowlist: bool,
    pub days: u32,
    /// What the days count from.
    pub from: DeadlineFrom,
    /// One line, for a reminder: what happens when the deadline passes.
    pub text: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineFrom {
    /// The key's creation (or its last rotation, which makes a new key).
    Created,
    /// The key's last use (or creation, if never used).
    LastUsed,
}

#[derive(Deserialize)]
struct Catalogue {
    platforms: Vec<Platform>,
}

const BUILT_IN: &str = include_str!("../data/platforms.json");

/// The built-in catalogue. A malformed file is a build defect caught by the
/// tests; at run time it degrades to an empty catalogue (free text still works).
pub fn catalogue() -> Vec<Platform> {
    built_in().to_vec()
}

/// The built-in catalogue, parsed once per process.
pub fn built_in() -> &'static [Platform] {
    static PARSED: std::sync::OnceLock<Vec<Platform>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str::<Catalogue>(BUILT_IN)
            .map(|c| c.platforms)
            .unwrap_or_default()
    })
}

/// The catalogue entry for a platform typed by id or name, case-insensitive.
pub fn find<'a>(platforms: &'a [Platform], typed: &str) -> Option<&'a Platform> {
    find_in(platforms.iter(), typed)
}

/// [`find`] over any list of platforms.
pub fn find_in<'a>(
    mut platforms: impl Iterator<Item = &'a Platform>,
    typed: &str,
) -> Option<&'a Platform> {
    let t = typed.trim();
    platforms.find(|p| p.id.eq_ignore_ascii_case(t) || p.name.eq_ignore_ascii_case(t))
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
            for d in &p.deadlines {
                assert!(d.id.starts_with(&format!("{}.", p.id)), "{}", d.id);
                assert!(d.source.starts_with("https://"), "{}", d.id);
                assert!(
                    p.sources.contains(&d.source),
                    "{}: cite it in sources",
                    d.id
                );
                assert!(d.days > 0, "{}", d.id);
                for n in &d.permissions_any {
                    let perm: Permission = n.parse().unwrap();
                    assert!(!matches!(perm, Permission::Raw(_)), "{}: {n}", d.id);
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
