//! The API key entry and its value types: environment, status (with the
//! table of transitions that make sense), permission, IP rule, secret field
//! name, and why a key is due. Pure: no storage, no clock. Each type parses its text form at the edge and
//! prints the same form back, so the CLI, the IPC and the database agree.

mod draft;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize, Serializer};

pub use draft::{apply, secrets, Draft, SecretInput};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use ts_rs::TS;

use crate::field::truncate_for_message;
use crate::timefmt::serde_rfc3339;

/// Where a key is used.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    TS,
    IntoStaticStr,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum Environment {
    #[default]
    Production,
    Staging,
    Development,
    Test,
}

crate::field::keywords!(Environment);

/// Where a key is in its life. Transitions are limited: see [`Status::can_become`].
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    TS,
    IntoStaticStr,
    VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    /// Being replaced by a guided rotation.
    Rotating,
    /// Temporarily disabled on the platform; may come back.
    Suspended,
    /// Suspected exposed: an incident is open for it (it still works on
    /// the platform until revoked).
    Compromised,
    /// Revoked on the platform: it can never work again.
    Revoked,
    /// Kept for the record only.
    Retired,
}

crate::field::keywords!(Status);

impl Status {
    /// Whether the key can still be used on its platform.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Status::Active | Status::Rotating | Status::Suspended | Status::Compromised
        )
    }

    /// The transitions that make sense. A revoked key cannot be made to work
    /// again (a new key is a new entry); a retired one is final.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (a, b) if a == b => true,
            (Active, Rotating | Suspended | Compromised | Revoked | Retired) => true,
            // Back to suspended when a rotation begun there is cancelled.
            (Rotating, Active | Suspended | Compromised | Revoked | Retired) => true,
            (Suspended, Active | Rotating | Compromised | Revoked | Retired) => true,
            // Back to active only once no incident holds it (a false alarm).
            (Compromised, Active | Revoked | Retired) => true,
            (Revoked, Retired) => true,
            _ => false,
        }
    }
}

/// How much harm a permission can do in the wrong hands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    High,
    Critical,
    /// A platform's own scope we cannot judge.
    Unknown,
}

/// A normalised scope, or a platform's own scope name kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    Read,
    Trade,
    Margin,
    Futures,
    Transfer,
    Withdraw,
    Deposit,
    Account,
    /// `raw:<scope>`: the platform's own name, e.g. `raw:enableVanillaOptions`.
    Raw(String),
}

impl Permission {
    pub const NORMALISED: [Permission; 8] = [
        Permission::Read,
        Permission::Trade,
        Permission::Margin,
        Permission::Futures,
        Permission::Transfer,
        Permission::Withdraw,
        Permission::Deposit,
        Permission::Account,
    ];

    pub fn name(&self) -> &str {
        match self {
            Permission::Read => "read",
            Permission::Trade => "trade",
            Permission::Margin => "margin",
            Permission::Futures => "futures",
            Permission::Transfer => "transfer",
            Permission::Withdraw => "withdraw",
            Permission::Deposit => "deposit",
            Permission::Account => "account",
            Permission::Raw(s) => s,
        }
    }

    pub fn risk(&self) -> Risk {
        match self {
            Permission::Read | Permission::Deposit => Risk::Low,
            Permission::Trade | Permission::Margin | Permission::Futures => Risk::High,
            Permission::Transfer | Permission::Withdraw | Permission::Account => Risk::Critical,
            Permission::Raw(_) => Risk::Unknown,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Raw(s) => write!(f, "raw:{s}"),
            p => f.write_str(p.name()),
        }
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(raw) = s.strip_prefix("raw:") {
            if raw.trim().is_empty() || raw.chars().count() > 64 {
                return Err("raw: scopes need a name of 1–64 characters".into());
            }
            if raw.chars().any(char::is_control) {
                return Err("raw: scope names must be a single line".into());
            }
            return Ok(Permission::Raw(raw.to_owned()));
        }
        Permission::NORMALISED
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown scope '{}' (use read, trade, margin, futures, transfer, withdraw, deposit, account, or raw:<platform scope>)",
                    truncate_for_message(s)
                )
            })
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One entry of an IP allowlist: a single address or a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpRule(IpNet);

impl IpRule {
    pub fn net(&self) -> IpNet {
        self.0
    }
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0.contains(&addr)
    }
}

impl FromStr for IpRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Ok(addr) = t.parse::<IpAddr>() {
            return Ok(IpRule(IpNet::from(addr)));
        }
        let net = t.parse::<IpNet>().map_err(|_| {
            format!(
                "'{}' is not an IPv4/IPv6 address or CIDR",
                truncate_for_message(s)
            )
        })?;
        if net.trunc() != net {
            return Err(format!(
                "'{t}' has host bits set (did you mean {}?)",
                net.trunc()
            ));
        }
        Ok(IpRule(net))
    }
}

impl fmt::Display for IpRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for IpRule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The name of a secret field: `[a-z0-9_]{1,32}`, e.g. `api_key`, `api_secret`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldName(String);

impl FieldName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for FieldName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(FieldName(s.to_owned()))
        } else {
            // Never echoed: a value typed where a name belongs
            // (`--secret api_secret=…`) must not reach a terminal or a log.
            Err("names must be 1–32 characters of a-z, 0-9 and _ (values are read from stdin, never from arguments)".into())
        }
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FieldName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Why a key is due when it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DueReason {
    /// The rotation period ran out. `default` when the key has no period of
    /// its own and the default for its riskiest permission applied.
    Period { days: u32, default: bool },
    /// The key's own expiry date.
    Expiry,
    /// A venue's rule, e.g. Binance turning trading off on keys without an
    /// IP allowlist after 30 days.
    Venue { rule: String, text: String },
    /// An access review decided to rotate the key.
    Requested,
}

impl DueReason {
    /// A few words for a notification or a table cell.
    pub fn short(&self) -> String {
        match self {
            DueReason::Period {
                days,
                default: false,
            } => format!("{days}-day rotation period"),
            DueReason::Period {
                days,
                default: true,
            } => {
                format!("default {days}-day rotation period")
            }
            DueReason::Expiry => "key expires".into(),
            DueReason::Venue { text, .. } => text.clone(),
            DueReason::Requested => "rotation requested by the access review".into(),
        }
    }
}

/// A due date with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub at: OffsetDateTime,
    pub reason: DueReason,
}

/// An entry's metadata: everything but its id, status and secrets. An
/// [`Entry`] is these fields and what the vault knows about them (written
/// once: the entry embeds them).
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
pub struct Fields {
    pub platform: String,
    pub account: Option<String>,
    pub label: String,
    pub environment: Environment,
    pub owner: Option<String>,
    pub purpose: Option<String>,
    /// `read`, `trade`, … or `raw:<platform scope>`.
    #[ts(type = "Array<string>")]
    pub permissions: Vec<Permission>,
    #[ts(type = "Array<string>")]
    pub ip_allowlist: Vec<IpRule>,
    pub ip_note: Option<String>,
    pub rotation_days: Option<u32>,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_rotated_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub last_reviewed_at: Option<OffsetDateTime>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub key_id_hint: Option<String>,
    /// Set by an access review that decided "rotate": the key is due from
    /// then until its next rotation (cleared by rotating). Not editable;
    /// drafts leave it alone.
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub rotation_requested_at: Option<OffsetDateTime>,
}

impl Fields {
    /// A blank entry created `now`; platform and label must still be set.
    pub fn blank(now: OffsetDateTime) -> Self {
        Fields {
            platform: String::new(),
            account: None,
            label: String::new(),
            environment: Environment::default(),
            owner: None,
            purpose: None,
            permissions: Vec::new(),
            ip_allowlist: Vec::new(),
            ip_note: None,
            rotation_days: None,
            created_at: now,
            expires_at: None,
            last_rotated_at: None,
            last_used_at: None,
            last_reviewed_at: None,
            tags: Vec::new(),
            notes: None,
            key_id_hint: None,
            rotation_requested_at: None,
        }
    }
}

/// An API key entry as stored, with the names (never the values) of its
/// secret fields. Serialises to the CLI's and the IPC's JSON contract: the
/// fields' keys sit beside the entry's own. Reads through to its
/// [`Fields`] (`entry.label`), as an entry is its fields and more; read
/// only, since its due date is derived from them.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Entry {
    pub id: String,
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: Fields,
    /// When the key must next be rotated (see `due::Policy`).
    #[serde(with = "serde_rfc3339::option")]
    #[ts(type = "string | null")]
    pub next_due_at: Option<OffsetDateTime>,
    /// Which clock sets `next_due_at`.
    pub due_reason: Option<DueReason>,
    pub status: Status,
    /// Names only, never values.
    #[ts(type = "Array<string>")]
    pub secret_fields: Vec<FieldName>,
    #[serde(with = "serde_rfc3339")]
    #[ts(type = "string")]
    pub updated_at: OffsetDateTime,
}

impl std::ops::Deref for Entry {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        &self.fields
    }
}

impl Entry {
    pub fn from_parts(
        id: String,
        fields: Fields,
        status: Status,
        secret_fields: Vec<FieldName>,
        updated_at: OffsetDateTime,
        due: Option<Due>,
    ) -> Self {
        let (next_due_at, due_reason) = match due {
            Some(d) => (Some(d.at), Some(d.reason)),
            None => (None, None),
        };
        Entry {
            id,
            fields,
            next_due_at,
            due_reason,
            status,
            secret_fields,
            updated_at,
        }
    }

    /// Empty allowlist: the key works from any address.
    pub fn is_ip_restricted(&self) -> bool {
        !self.ip_allowlist.is_empty()
    }

    /// The first eight characters of the id: enough to name it on a command line.
    pub fn short_id(&self) -> &str {
        self.id.get(..8).unwrap_or(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_parse_normalised_and_raw_scopes() {
        assert_eq!("read".parse::<Permission>().unwrap(), Permission::Read);
        assert_eq!(
            "Withdraw".parse::<Permission>().unwrap(),
            Permission::Withdraw
        );
        assert_eq!(
            "raw:enableVanillaOptions"
                .parse::<Permission>()
                .unwrap()
                .to_string(),
            "raw:enableVanillaOptions"
        );
        assert!("fly".parse::<Permission>().is_err());
        assert!("raw:".parse::<Permission>().is_err());
    }

    #[test]
    fn ip_rules_accept_addresses_and_networks_and_refuse_host_bits() {
        assert_eq!(
            "203.0.113.7".parse::<IpRule>().unwrap().to_string(),
            "203.0.113.7"
        );
        assert_eq!(
            "10.0.0.0/8".parse::<IpRule>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "2001:db8::/32".parse::<IpRule>().unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!("::1".parse::<IpRule>().unwrap().to_string(), "::1");
        let e = "10.0.0.1/8".parse::<IpRule>().unwrap_err();
        assert!(e.contains("10.0.0.0/8"), "{e}");
        assert!("10.0.0.0/33".parse::<IpRule>().is_err());
        assert!("example.com".parse::<IpRule>().is_err());
    }

    #[test]
    fn revoked_keys_are_never_reactivated() {
        assert!(!Status::Revoked.can_become(Status::Active));
        assert!(!Status::Revoked.can_become(Status::Suspended));
        assert!(Status::Revoked.can_become(Status::Retired));
        assert!(!Status::Retired.can_become(Status::Active));
        assert!(Status::Suspended.can_become(Status::Active));
        assert!(Status::Active.can_become(Status::Revoked));
    }

    #[test]
    fn field_names_are_restricted() {
        assert!("api_secret".parse::<FieldName>().is_ok());
        assert!("API".parse::<FieldName>().is_err());
        assert!("".parse::<FieldName>().is_err());
        assert!("a".repeat(33).parse::<FieldName>().is_err());
        assert!("a-b".parse::<FieldName>().is_err());
    }
}
