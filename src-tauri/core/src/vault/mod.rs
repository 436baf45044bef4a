//! The vault: one directory holding the encrypted database and the wrapped
//! vault identity, and the unlocked session over it.
//!
//! | file         | what |
//! |--------------|------|
//! | `vault.db`   | SQLCipher database (+ `-wal`, `-shm` while open) |
//! | `vault.key`  | the age X25519 vault identity, encrypted to the passphrase (scrypt) |
//! | `vault.pub`  | the identity's public recipient: lets a locked vault seal a record of a failed unlock |
//! | `audit.pending` | failed unlocks, each sealed to `vault.pub`, moved into the audit log at the next unlock |
//!
//! `unlock` is two steps so each can be measured and reused: [`VaultDir::unwrap_identity`]
//! (the passphrase KDF, deliberately slow) and [`Vault::open`] (everything else).

mod crypto;
pub(crate) mod store;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use crypto::{KdfParams, VaultIdentity, DEFAULT_LOG_N, MAX_LOG_N, MIN_LOG_N};
pub use store::SCHEMA_VERSION;

pub(crate) use crypto::{seal, FingerprintKey};

use crate::audit::{self, Action};
use crate::secret::{Passphrase, SecretValue};
use crate::timefmt;

/// What went wrong with the vault as a container: its files, its
/// passphrase, its cryptography or its storage. No variant carries a secret
/// or a value read from a file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The passphrase did not unwrap `vault.key`. Deliberately says nothing more.
    #[error("recovery code: wrong code for this vault")]
    WrongRecoveryCode,
    #[error("recovery code: not a recovery code (it starts AGE-SECRET-KEY-1)")]
    BadRecoveryCode,
    #[error("recovery.key is damaged")]
    RecoveryFileDamaged,
    #[error("this vault has no recovery code (create one while it is unlocked)")]
    NoRecoveryCode,
    #[error("the key remembered on this device does not open this vault")]
    RememberedKeyInvalid,
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// A new passphrase failed the strength check.
    #[error("passphrase: too weak: {reason}")]
    WeakPassphrase { reason: String },
    #[error("passphrase: the two entries do not match")]
    PassphraseMismatch,
    #[error("no vault in {path} (run `keyward init` to create one)")]
    NoVault { path: PathBuf },
    #[error("a vault already exists in {path}")]
    AlreadyExists { path: PathBuf },
    #[error("vault.db is missing from the vault directory (vault.key is there)")]
    DatabaseMissing,
    #[error("vault.key is damaged or is not a Keyward key file")]
    KeyFileDamaged,
    #[error("vault.key demands a key-derivation work factor above 2^{max}; refusing (damaged or planted file)")]
    ExcessiveWork { max: u8 },
    #[error("vault.db is damaged or was modified outside Keyward (page authentication failed)")]
    DatabaseDamaged,
    #[error("vault.db could not be opened (check the directory's permissions)")]
    DatabaseUnreadable,
    #[error("vault.db was written by a newer Keyward (schema {found}; this build knows up to {supported})")]
    NewerSchema { found: u32, supported: u32 },
    #[error("secret field '{field}' is damaged and cannot be decrypted")]
    SecretDamaged { field: String },
    #[error(
        "secret field '{field}' belongs to another entry or field: the vault was tampered with"
    )]
    SecretMisplaced { field: String },
    #[error("the vault is busy (another Keyward process is writing); try again")]
    Busy,
    #[error("the disk is full; nothing was changed")]
    DiskFull,
    #[error("the vault is read-only")]
    ReadOnly,
    #[error("kdf: work factor must be between 2^{min} and 2^{max}")]
    InvalidKdf { min: u8, max: u8 },
    #[error("crypto: {0}")]
    Crypto(&'static str),
    #[error("storage: {0}")]
    Storage(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// Who is acting on the vault, recorded in each audit row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Cli,
    App,
    Test,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Cli => "cli",
            Origin::App => "app",
            Origin::Test => "test",
        }
    }
}

/// The vault directory and the names of its files.
#[derive(Clone, Debug)]
pub struct VaultDir {
    root: PathBuf,
}

impl VaultDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("vault.db")
    }
    pub fn key_path(&self) -> PathBuf {
        self.root.join("vault.key")
    }
    pub(crate) fn pub_path(&self) -> PathBuf {
        self.root.join("vault.pub")
    }
    fn pending_path(&self) -> PathBuf {
        self.root.join("audit.pending")
    }
    /// Checks that an identity (e.g. remembered in the OS keyring) belongs
    /// to this vault, by its public half in `vault.pub`, before opening.
    pub fn check_identity(&self, identity: &VaultIdentity) -> Result<()> {
        let stored = fs::read_to_string(self.pub_path()).map_err(io("vault.pub"))?;
        if stored.trim() == identity.recipient().to_string() {
            Ok(())
        } else {
            Err(Error::RememberedKeyInvalid)
        }
    }

    /// The identity encrypted to the recovery code, if one was made.
    pub fn recovery_path(&self) -> PathBuf {
        self.root.join("recovery.key")
    }

    pub fn has_recovery_code(&self) -> bool {
        self.recovery_path().exists()
    }

    /// Opens the vault identity with a recovery code (spaces, line breaks
    /// and case do not matter).
    pub fn recover_identity(&self, code: &RecoveryCode) -> Result<VaultIdentity> {
        let bytes = match fs::read(self.recovery_path()) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(if self.exists() {
                    Error::NoRecoveryCode
                } else {
                    Error::NoVault {
                        path: self.root.clone(),
                    }
                })
            }
            Err(e) => return Err(io("recovery.key")(e)),
        };
        crypto::unwrap_recovery(&bytes, &code.identity()?)
    }

    /// Reminder times and counts for when the vault is locked: no names.
    pub fn schedule_path(&self) -> PathBuf {
        self.root.join("reminders.json")
    }

    /// A vault exists once its key file does (it is written last at init).
    pub fn exists(&self) -> bool {
        self.key_path().exists()
    }

    /// The slow step of unlocking: the passphrase KDF and `vault.key`.
    pub fn unwrap_identity(&self, passphrase: &Passphrase) -> Result<VaultIdentity> {
        let bytes = match fs::read(self.key_path()) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoVault {
                    path: self.root.clone(),
                })
            }
            Err(e) => return Err(io("vault.key")(e)),
        };
        VaultIdentity::unwrap(&bytes, passphrase)
    }

    /// Notes a failed unlock for the audit log, sealed so that only the vault
    /// can read it. Best effort: a locked vault cannot do more.
    fn record_failed_unlock(&self, now: OffsetDateTime, origin: Origin) {
        let Ok(text) = fs::read_to_string(self.pub_path()) else {
            return;
        };
        let Ok(recipient) = text.trim().parse::<age::x25519::Recipient>() else {
            return;
        };
        let record = serde_json::json!({ "at": timefmt::format(now), "origin": origin });
        let Ok(sealed) = crypto::encrypt_to(&recipient, record.to_string().as_bytes()) else {
            return;
        };
        let line = format!("{}\n", hex::encode(sealed));
        let _ = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.pending_path())
            .and_then(|mut f| {
                restrict_file(&self.pending_path());
                f.write_all(line.as_bytes())?;
                f.sync_all()
            });
    }
}

/// Rejects weak passphrases with the estimator's own reason.
pub fn check_passphrase_strength(passphrase: &Passphrase) -> Result<()> {
    // EXPOSE: the estimator needs the text; it keeps nothing.
    let text = passphrase.expose();
    if text.chars().count() < 10 {
        return Err(Error::WeakPassphrase {
            reason: "use at least 10 characters (a few unrelated words work well)".into(),
        });
    }
    let estimate = zxcvbn::zxcvbn(text, &["keyward", "vault", "passphrase", "password"]);
    if (estimate.score() as u8) < 3 {
        let mut reason = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it would be guessed too quickly".into());
        if let Some(s) = estimate.feedback().and_then(|f| f.suggestions().first()) {
            reason = format!("{reason}; {s}");
        }
        return Err(Error::WeakPassphrase { reason });
    }
    Ok(())
}

/// How strong a candidate passphrase is, for a strength meter: the score
/// (0–4, 3 needed) and the estimator's advice.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PassphraseVerdict {
    pub score: u8,
    pub acceptable: bool,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

pub fn rate_passphrase(passphrase: &Passphrase) -> PassphraseVerdict {
    // EXPOSE: the estimator needs the text; it keeps nothing.
    let estimate = zxcvbn::zxcvbn(passphrase.expose(), &["keyward", "vault"]);
    let acceptable = check_passphrase_strength(passphrase).is_ok();
    PassphraseVerdict {
        score: estimate.score() as u8,
        acceptable,
        warning: estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string())),
        suggestions: estimate
            .feedback()
            .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// A recovery code: an age identity (`AGE-SECRET-KEY-1…`) the user writes
/// down once. It also opens `recovery.key` with the standard age tool.
pub struct RecoveryCode(Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// As typed: whitespace and case are forgiven.
    pub fn parse(typed: &str) -> Result<Self> {
        let mut s = Zeroizing::new(String::with_capacity(typed.len()));
        s.extend(
            typed
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_uppercase()),
        );
        if !s.starts_with("AGE-SECRET-KEY-1") {
            return Err(Error::BadRecoveryCode);
        }
        let code = RecoveryCode(s);
        code.identity()?;
        Ok(code)
    }

    fn identity(&self) -> Result<age::x25519::Identity> {
        self.0
            .parse::<age::x25519::Identity>()
            .map_err(|_| Error::BadRecoveryCode)
    }

    /// The code in one piece (for `age -i`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code in groups of six after its prefix, for writing down.
    pub fn grouped(&self) -> String {
        let rest = self.0.strip_prefix("AGE-SECRET-KEY-1").unwrap_or(&self.0);
        let groups: Vec<String> = rest
            .as_bytes()
            .chunks(6)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        format!("AGE-SECRET-KEY-1 {}", groups.join(" "))
    }
}

/// Seals secret values for a vault being created (before it can be opened).
pub(crate) struct Sealer {
    recipient: age::x25519::Recipient,
    fingerprint_key: crypto::FingerprintKey,
}

impl Sealer {
    pub(crate) fn seal(&self, entry_id: &str, field: &str, value: &SecretValue) -> Result<Vec<u8>> {
        seal(&self.recipient, entry_id, field, value)
    }
    pub(crate) fn fingerprint(&self, value: &SecretValue) -> Result<[u8; 32]> {
        self.fingerprint_key.fingerprint(value)
    }
}

/// An unlocked vault: an open database and the keys to its secrets.
/// Dropping it closes the database and wipes every key.
pub struct Vault {
    dir: VaultDir,
    conn: Connection,
    identity: VaultIdentity,
    recipient: age::x25519::Recipient,
    fingerprint_key: FingerprintKey,
    origin: Origin,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir.root)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault in `dir` (which may exist, but must not hold a vault).
    pub fn init(
        dir: &VaultDir,
        passphrase: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        Vault::create(
            dir,
            passphrase,
            kdf,
            now,
            origin,
            SCHEMA_VERSION,
            |tx, _| {
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES ('created_at', ?1)",
                    [timefmt::format(now)],
                )?;
                audit::append(
                    tx,
                    now,
                    origin,
                    Action::VaultInit,
                    None,
                    &serde_json::json!({ "schema": SCHEMA_VERSION, "kdf_log_n": kdf.log_n() }),
                )?;
                Ok(())
            },
        )
    }

    /// Creates a vault whose database `fill` writes, in one transaction, at
    /// schema version `schema` (then migrated to this build's): a backup
    /// restores through it. Nothing is left behind if anything fails.
    pub(crate) fn create<E: From<Error>>(
        dir: &VaultDir,
        passphrase: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
        schema: u32,
        fill: impl FnOnce(&rusqlite::Transaction<'_>, &Sealer) -> std::result::Result<(), E>,
    ) -> std::result::Result<Vault, E> {
        check_passphrase_strength(passphrase)?;
        let made_dir = !dir.path().exists();
        if made_dir {
            fs::create_dir_all(dir.path()).map_err(io("vault directory"))?;
            // Only a directory we made is ours to lock down.
            restrict_dir(dir.path());
        }
        if dir.key_path().exists() || dir.db_path().exists() {
            return Err(Error::AlreadyExists {
                path: dir.root.clone(),
            }
            .into());
        }
        let identity = VaultIdentity::generate();
        let wrapped = identity.wrap(passphrase, kdf)?;

        // The database first, under a temporary name; vault.key last, so a
        // crash part-way leaves no half-made vault that looks complete.
        let tmp_db = dir.root.join("vault.db.init");
        remove_sqlite_files(&tmp_db);
        let built = (|| -> std::result::Result<(), E> {
            let key = identity.database_key()?;
            let mut conn = store::open(&tmp_db, &key, true)?;
            restrict_file(&tmp_db);
            store::migrate_to(&mut conn, schema)?;
            let sealer = Sealer {
                recipient: identity.recipient(),
                fingerprint_key: identity.fingerprint_key()?,
            };
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(Error::from)?;
            fill(&tx, &sealer)?;
            tx.commit().map_err(Error::from)?;
            store::migrate(&mut conn)?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(Error::from)?;
            conn.close().map_err(|(_, e)| Error::from(e))?;
            Ok(())
        })();
        if let Err(e) = built {
            remove_sqlite_files(&tmp_db);
            if made_dir {
                let _ = fs::remove_dir(dir.path());
            }
            return Err(e);
        }
        remove_sqlite_sidecars(&tmp_db);
        fs::rename(&tmp_db, dir.db_path()).map_err(io("vault.db"))?;
        write_atomically(
            &dir.pub_path(),
            format!("{}\n", identity.recipient()).as_bytes(),
        )?;
        write_atomically(&dir.key_path(), &wrapped)?;
        Ok(Vault::open(dir, identity, now, origin)?)
    }

    /// Unlocks with a passphrase: [`VaultDir::unwrap_identity`] then [`Vault::open`].
    /// A wrong passphrase is noted for the audit log before it is reported.
    pub fn unlock(
        dir: &VaultDir,
        passphrase: &Passphrase,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        match dir.unwrap_identity(passphrase) {
            Ok(identity) => Vault::open(dir, identity, now, origin),
            Err(Error::WrongPassphrase) => {
                dir.record_failed_unlock(now, origin);
                Err(Error::WrongPassphrase)
            }
            Err(e) => Err(e),
        }
    }

    /// The fast step of unlocking: opens the database with keys derived from
    /// the identity, migrates it, and records the unlock.
    pub fn open(
        dir: &VaultDir,
        identity: VaultIdentity,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        let key = identity.database_key()?;
        let mut conn = store::open(&dir.db_path(), &key, false)?;
        drop(key);
        store::migrate(&mut conn)?;
        let recipient = identity.recipient();
        let fingerprint_key = identity.fingerprint_key()?;
        let mut vault = Vault {
            dir: dir.clone(),
            conn,
            identity,
            recipient,
            fingerprint_key,
            origin,
        };
        vault.repair_pub_file();
        vault.ingest_failed_unlocks_and_record_unlock(now)?;
        Ok(vault)
    }

    fn repair_pub_file(&self) {
        let expected = format!("{}\n", self.recipient);
        if fs::read_to_string(self.dir.pub_path()).ok().as_deref() != Some(expected.as_str()) {
            let _ = write_atomically(&self.dir.pub_path(), expected.as_bytes());
        }
    }

    fn ingest_failed_unlocks_and_record_unlock(&mut self, now: OffsetDateTime) -> Result<()> {
        let pending = self.dir.pending_path();
        // Each record is ~600 bytes; a file far larger was not written by us.
        let oversized = fs::metadata(&pending).is_ok_and(|m| m.len() > 4 * 1024 * 1024);
        let text = if oversized {
            String::from("oversized\n")
        } else {
            fs::read_to_string(&pending).unwrap_or_default()
        };
        let mut failures = Vec::new();
        let mut unreadable = 0u32;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let record = hex::decode(line.trim())
                .ok()
                .and_then(|bytes| crypto::decrypt_record(&self.identity, &bytes))
                .and_then(|plain| serde_json::from_slice::<serde_json::Value>(&plain).ok());
            match record {
                Some(v) => failures.push(v),
                None => unreadable += 1,
            }
        }
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for f in &failures {
            let at = f
                .get("at")
                .and_then(|a| a.as_str())
                .and_then(|a| timefmt::parse_rfc3339(a).ok())
                .unwrap_or(now);
            let by = f
                .get("origin")
                .and_then(|o| o.as_str())
                .unwrap_or("unknown");
            audit::append(
                &tx,
                at,
                origin,
                Action::UnlockFailed,
                None,
                &serde_json::json!({ "attempted_via": by }),
            )?;
        }
        if unreadable > 0 {
            audit::append(
                &tx,
                now,
                origin,
                Action::UnlockFailed,
                None,
                &serde_json::json!({ "unreadable_records": unreadable }),
            )?;
        }
        audit::append(
            &tx,
            now,
            origin,
            Action::Unlock,
            None,
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        if !text.is_empty() {
            let _ = fs::remove_file(&pending);
        }
        Ok(())
    }

    /// Re-wraps `vault.key` under a new passphrase. The database and every
    /// sealed secret stay as they are: they depend on the identity only.
    pub fn change_passphrase(
        &mut self,
        current: &Passphrase,
        new: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
    ) -> Result<()> {
        // Proves the caller knows the current passphrase, not just the session.
        let check = self.dir.unwrap_identity(current)?;
        if check.recipient().to_string() != self.recipient.to_string() {
            return Err(Error::KeyFileDamaged);
        }
        check_passphrase_strength(new)?;
        let wrapped = self.identity.wrap(new, kdf)?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            now,
            origin,
            Action::PassphraseChange,
            None,
            &serde_json::json!({ "kdf_log_n": kdf.log_n() }),
        )?;
        // The key file is replaced before the audit row commits: if the
        // rename fails nothing is recorded; if the commit fails the new
        // passphrase already works and the row is simply missing.
        write_atomically(&self.dir.key_path(), &wrapped)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes a new recovery code (replacing any earlier one, which stops
    /// working): `recovery.key` holds the identity encrypted to it. The code
    /// is returned once, to be written down; Keyward keeps only its public half.
    pub fn create_recovery_code(&mut self, now: OffsetDateTime) -> Result<RecoveryCode> {
        let code = age::x25519::Identity::generate();
        let wrapped = crypto::wrap_for_recovery(&self.identity, &code.to_public())?;
        write_atomically(&self.dir.recovery_path(), &wrapped)?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('recovery_recipient', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [code.to_public().to_string()],
        )?;
        audit::append(
            &tx,
            now,
            origin,
            Action::RecoveryCreate,
            None,
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        // EXPOSE: the code is shown to the user once.
        Ok(RecoveryCode(Zeroizing::new(
            code.to_string().expose_secret().to_owned(),
        )))
    }

    /// The identity, to remember in the OS keyring; the choice is audited.
    pub fn remember(&mut self, now: OffsetDateTime) -> Result<Zeroizing<String>> {
        audit::record(self, now, Action::Remember, None, &serde_json::json!({}))?;
        Ok(self.identity.to_keyring_text())
    }

    /// Deletes `recovery.key`: the written-down code no longer opens anything.
    pub fn remove_recovery_code(&mut self, now: OffsetDateTime) -> Result<bool> {
        let path = self.dir.recovery_path();
        if !path.exists() {
            return Ok(false);
        }
        fs::remove_file(&path).map_err(io("recovery.key"))?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM meta WHERE key = 'recovery_recipient'", [])?;
        audit::append(
            &tx,
            now,
            origin,
            Action::RecoveryRemove,
            None,
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Sets a new passphrase on a vault opened with its recovery code (no
    /// current passphrase to prove: the code proved the user).
    pub fn reset_passphrase(
        &mut self,
        new: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
    ) -> Result<()> {
        check_passphrase_strength(new)?;
        let wrapped = self.identity.wrap(new, kdf)?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            now,
            origin,
            Action::Recover,
            None,
            &serde_json::json!({ "kdf_log_n": kdf.log_n() }),
        )?;
        write_atomically(&self.dir.key_path(), &wrapped)?;
        tx.commit()?;
        Ok(())
    }

    pub fn dir(&self) -> &VaultDir {
        &self.dir
    }
    pub fn origin(&self) -> Origin {
        self.origin
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The open database itself, bypassing validation and the audit log.
    /// For tests that play an attacker editing the file, and for repair
    /// tools; the app and the CLI never call it.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
    }

    /// Locks the vault: closes the database (checkpointing the WAL into
    /// `vault.db`) and wipes every key from memory.
    pub fn lock(self) -> Result<()> {
        let Vault { conn, .. } = self;
        conn.close().map_err(|(_, e)| Error::from(e))
    }

    /// Starts a write transaction that takes the database lock at once, so
    /// the audit chain's head cannot move under us.
    pub(crate) fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    pub(crate) fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }
    pub(crate) fn fingerprint(&self, value: &SecretValue) -> Result<[u8; 32]> {
        self.fingerprint_key.fingerprint(value)
    }
    pub(crate) fn open_sealed(
        &self,
        sealed: &[u8],
        entry_id: &str,
        field: &str,
    ) -> Result<SecretValue> {
        self.identity.open(sealed, entry_id, field)
    }

    /// Full check: every page's HMAC (SQLCipher), SQLite's structure, and
    /// the audit chain. Slow on a big vault; for `keyward check`, not unlock.
    pub fn check(&self) -> Result<CheckReport> {
        let mut cipher_problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                cipher_problems.push(row.get::<_, String>(0)?);
            }
        }
        let mut sqlite_problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let line: String = row.get(0)?;
                if line != "ok" {
                    sqlite_problems.push(line);
                }
            }
        }
        {
            // Each entry's copy of its secret field names matches the secrets table.
            let mut stmt = self.conn.prepare(
                "SELECT id FROM entries WHERE secret_fields != coalesce(
                    (SELECT group_concat(field, char(10) ORDER BY position)
                     FROM secrets WHERE entry_id = entries.id), '')",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                sqlite_problems.push(format!(
                    "entry {id}: its list of secret fields is out of step"
                ));
            }
        }
        let audit = match audit::verify(self) {
            Ok(n) => Ok(n),
            Err(audit::Error::Broken { seq, why }) => Err(format!("entry #{seq}: {why}")),
            Err(audit::Error::Vault(e)) => return Err(e),
        };
        Ok(CheckReport {
            cipher_problems,
            sqlite_problems,
            audit,
        })
    }
}

/// The result of [`Vault::check`].
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// Pages whose HMAC failed (SQLCipher's own wording, page numbers only).
    pub cipher_problems: Vec<String>,
    /// SQLite's structural problems; empty when it said "ok".
    pub sqlite_problems: Vec<String>,
    /// Number of audit rows verified, or where the chain breaks.
    pub audit: std::result::Result<u64, String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.cipher_problems.is_empty() && self.sqlite_problems.is_empty() && self.audit.is_ok()
    }
}

/// Writes a file so that readers see the old or the new content, never a mix.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        restrict_file(&tmp);
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            // Persist the rename itself.
            if let Ok(d) = fs::File::open(parent) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io(name))
}

fn remove_sqlite_sidecars(db: &Path) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

fn remove_sqlite_files(db: &Path) {
    let _ = fs::remove_file(db);
    remove_sqlite_sidecars(db);
}

#[cfg(unix)]
fn restrict_file(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
}
#[cfg(unix)]
fn restrict_dir(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o700));
}
#[cfg(not(unix))]
fn restrict_file(_: &Path) {}
#[cfg(not(unix))]
fn restrict_dir(_: &Path) {}
