//! A new vault identity: everything that hangs off the old one re-keyed.
//!
//! `passwd` only re-wraps `vault.key`, so an old copy of `vault.key` (a
//! home-folder backup, a snapshot) with the old passphrase, an old
//! `recovery.key` with a "removed" code, or one read of the keyring entry
//! would open the vault for ever. [`Vault::rekey`] makes a new identity
//! and moves the vault onto it: the database is exported under the new
//! SQLCipher key (`sqlcipher_export`), every secret (and every staged one
//! of a rotation) is resealed to the new recipient and fingerprinted with
//! the new key, `vault.key` is wrapped anew, `audit.head` is sealed with
//! the new anchor key, and the recovery code is replaced or removed. The
//! audit chain keeps its key (stored in the database), so heads given out
//! before stay verifiable.
//!
//! Crash safety. Everything new is written beside the old files first
//! (`vault.db.rekey`, `audit.head.rekey`, `vault.key.rekey`), each synced.
//! The commit point is one rename, `vault.db.rekey` → `vault.db`; then
//! `recovery.key` (the old identity's) is removed and the other two are
//! renamed into place. A kill at any moment leaves one of:
//! - no `vault.key.rekey`: the old vault, whole (leftovers are removed at
//!   the next unlock), or the new one, whole;
//! - `vault.key.rekey` and an old `vault.db`: before the commit point — the
//!   next unlock finds the old identity opens `vault.db` and discards the
//!   new files;
//! - `vault.key.rekey` and a new `vault.db`: after it — the next unlock
//!   finds the new identity opens `vault.db` and finishes the renames.
//!
//! Which of those it is, the files alone say — `vault.key.rekey` is written
//! after `vault.db.rekey` is complete, so with it present, `vault.db.rekey`
//! still there means "not committed" and gone means "committed" — and
//! [`VaultDir::settle_interrupted_rekey`] needs no passphrase and opens
//! nothing to decide (a busy or full disk cannot mislead it). A discard
//! removes `vault.key.rekey` first, so a discard cut short never looks
//! committed. `rekey.lock` (an advisory lock) keeps two processes from
//! rekeying, or rekeying and settling, at once.
//!
//! So the vault opens with the old identity or the new one, never neither
//! (`tests/rekey_crash.rs` kills it at random moments to prove it).

use std::fs;
use std::path::PathBuf;

use rusqlite::Connection;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{
    anchor_mac, audit, check_passphrase_strength, create_private_file, crypto, io,
    remove_sqlite_files, store, write_atomically, Action, Error, KdfParams, Reauth, RecoveryCode,
    Result, Vault, VaultDir, VaultIdentity, ANCHOR_MAGIC,
};
use crate::secret::Passphrase;

/// What a new identity left for the caller.
pub struct Rekeyed {
    /// The vault, open on its new identity.
    pub vault: Vault,
    /// The new recovery code, shown once, if one was asked for.
    pub recovery_code: Option<RecoveryCode>,
    /// The new identity as the OS keyring keeps it: for the front end to
    /// replace a remembered entry (the old one opens nothing now).
    pub keyring_text: Zeroizing<String>,
    /// What did not work after the new identity took over (the rekey
    /// itself stands).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Rekeyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rekeyed")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl VaultDir {
    fn next_db_path(&self) -> PathBuf {
        self.root.join("vault.db.rekey")
    }
    fn next_key_path(&self) -> PathBuf {
        self.root.join("vault.key.rekey")
    }
    fn next_anchor_path(&self) -> PathBuf {
        self.root.join("audit.head.rekey")
    }
    fn next_pub_path(&self) -> PathBuf {
        self.root.join("vault.pub.rekey")
    }

    /// Settles a rekey a crash interrupted (see the module docs): finishes
    /// it if its database was renamed into place, else discards its files.
    /// Decided from which files exist alone. Nothing to do (the usual case)
    /// costs three `stat`s; every way in (passphrase, keyring, recovery
    /// code) passes here.
    pub(crate) fn settle_interrupted_rekey(&self) -> Result<()> {
        self.remove_stale_temp_files(false);
        let pending = self.next_key_path().exists()
            || self.next_db_path().exists()
            || self.next_anchor_path().exists()
            || self.next_pub_path().exists();
        if !pending {
            return Ok(());
        }
        // A rekey running now in another process holds the lock.
        let _lock = self.rekey_lock()?;
        // Under the lock no rekey writes: its temporary files are debris.
        self.remove_stale_temp_files(true);
        if !self.next_key_path().exists() || self.next_db_path().exists() {
            // Not complete, or complete but not renamed: never committed.
            self.discard_rekey()
        } else {
            self.finish_rekey()
        }
    }

    /// The advisory lock two rekeys (or a rekey and a settle) share.
    fn rekey_lock(&self) -> Result<fs::File> {
        let f = crate::fsio::open_append_private(&self.root.join("rekey.lock"))
            .map_err(io("rekey.lock"))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(fs::TryLockError::WouldBlock) => Err(Error::InUse),
            Err(fs::TryLockError::Error(e)) => Err(io("rekey.lock")(e)),
        }
    }

    /// After the commit point: the old recovery file goes (it opens only
    /// the old identity), then the new anchor and key move into place.
    /// Each step may already be done (by a crash, or another process).
    fn finish_rekey(&self) -> Result<()> {
        match fs::remove_file(self.recovery_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("recovery.key")(e)),
        }
        if self.next_anchor_path().exists() {
            fs::rename(self.next_anchor_path(), self.anchor_path()).map_err(io("audit.head"))?;
        }
        // The new public half first: a remembered (old) identity is then
        // told apart before anything tries to open vault.db with it.
        if self.next_pub_path().exists() {
            fs::rename(self.next_pub_path(), self.pub_path()).map_err(io("vault.pub"))?;
        }
        if self.next_key_path().exists() {
            fs::rename(self.next_key_path(), self.key_path()).map_err(io("vault.key"))?;
        }
        sync_dir(self);
        Ok(())
    }

    /// Temporary files of writes a crash cut short (`.NAME.RANDOM.tmp`, as
    /// [`crate::fsio::write_private`] names them) older than ten minutes —
    /// a younger one may be another process's write in flight: never read,
    /// removed.
    fn remove_stale_temp_files(&self, rekey_debris: bool) {
        let Ok(entries) = fs::read_dir(self.path()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = name.starts_with('.')
                && name.ends_with(".tmp")
                && [
                    "vault.key",
                    "vault.pub",
                    "recovery.key",
                    "audit.head",
                    "reminders.json",
                ]
                .iter()
                .any(|f| name[1..].starts_with(&format!("{f}.")));
            let of_rekey = rekey_debris && name.contains(".rekey.");
            let old = of_rekey
                || e.metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 600);
            if ours && old && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// Before the commit point: the new files go, `vault.key.rekey` first
    /// (a discard cut short must never look committed).
    /// Fails — and leaves `vault.db.rekey` — unless `vault.key.rekey` is
    /// gone: removing the database first would make the files read as
    /// committed.
    pub(crate) fn discard_rekey(&self) -> Result<()> {
        match fs::remove_file(self.next_key_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("vault.key.rekey")(e)),
        }
        sync_dir(self);
        let _ = fs::remove_file(self.next_anchor_path());
        let _ = fs::remove_file(self.next_pub_path());
        remove_sqlite_files(&self.next_db_path());
        Ok(())
    }
}

fn sync_dir(dir: &VaultDir) {
    if let Ok(d) = fs::File::open(dir.path()) {
        let _ = d.sync_all();
    }
}

impl Vault {
    /// Moves the vault onto a new identity (see the module docs). `current`
    /// is the passphrase `proof` was made with; `new_passphrase`, if given,
    /// wraps the new `vault.key` instead. `new_recovery_code`: replace the
    /// recovery code (returned once) — otherwise there is none afterwards,
    /// since the old one opens only the old identity. Refused while another
    /// process has the vault open (its session would keep the old one).
    pub fn rekey(
        self,
        _proof: Reauth,
        current: &Passphrase,
        new_passphrase: Option<&Passphrase>,
        kdf: KdfParams,
        new_recovery_code: bool,
        now: OffsetDateTime,
    ) -> Result<Rekeyed> {
        if let Some(p) = new_passphrase {
            check_passphrase_strength(p)?;
        }
        let dir = self.dir.clone();
        let origin = self.origin;
        let _rekeying = dir.rekey_lock()?;
        self.write_anchor()?;
        let had_recovery = dir.has_recovery_code();
        lock_out_others(&self.conn)?;
        self.retired.set(true);

        let result = (|| {
            let new = VaultIdentity::generate();
            export(&self.conn, &dir, &new)?;
            reseal(
                &self,
                &dir,
                &new,
                had_recovery,
                new_recovery_code,
                new_passphrase.is_some(),
                now,
            )?;
            let wrapped = new.wrap(new_passphrase.unwrap_or(current), kdf)?;
            write_atomically(
                &dir.next_pub_path(),
                format!("{}\n", new.recipient()).as_bytes(),
            )?;
            // Last: its presence says every new file is complete.
            write_atomically(&dir.next_key_path(), &wrapped)?;
            Ok::<_, Error>(new)
        })();
        let new = match result {
            Ok(new) => new,
            Err(e) => {
                // Nothing was committed; what cannot be discarded now is
                // discarded at the next unlock.
                let _ = dir.discard_rekey();
                let _ = self.conn.execute_batch("PRAGMA locking_mode = NORMAL;");
                self.retired.set(false);
                return Err(e);
            }
        };
        // The commit point, still holding the old database's lock. A rename
        // reported failed is judged by the files, as at unlock (on some file
        // systems a retried rename reports an error after it happened).
        if let Err(e) = fs::rename(dir.next_db_path(), dir.db_path()) {
            if dir.next_db_path().exists() {
                let _ = dir.discard_rekey();
                let _ = self.conn.execute_batch("PRAGMA locking_mode = NORMAL;");
                self.retired.set(false);
                return Err(io("vault.db")(e));
            }
        }
        sync_dir(&dir);
        drop(self);
        // Committed: from here on the new identity is the vault's, whatever
        // fails; what does is said, never reported as a failed rekey.
        let unfinished = |e: Error| Error::RekeyUnfinished { why: e.to_string() };
        dir.finish_rekey().map_err(unfinished)?;
        let keyring_text = new.to_keyring_text();
        let mut vault = Vault::open(&dir, new, now, origin).map_err(unfinished)?;
        let mut warnings = Vec::new();
        let recovery_code = if new_recovery_code {
            match vault.make_recovery_code(now) {
                Ok(code) => Some(code),
                Err(e) => {
                    // A recovery.key whose code nobody saw opens nothing useful.
                    let _ = fs::remove_file(dir.recovery_path());
                    warnings.push(format!("no new recovery code could be made ({e})"));
                    None
                }
            }
        } else {
            None
        };
        Ok(Rekeyed {
            vault,
            recovery_code,
            keyring_text,
            warnings,
        })
    }
}

/// Makes sure no other process has the vault open, then keeps it so: out
/// of WAL mode (which SQLite allows only to the one connection left), and
/// an exclusive lock held until this connection closes.
fn lock_out_others(conn: &Connection) -> Result<()> {
    let busy = || Error::InUse;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(|_| busy())?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(busy());
    }
    conn.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE;
         BEGIN EXCLUSIVE;
         UPDATE meta SET value = value WHERE key = 'audit_head';
         COMMIT;",
    )
    .map_err(|_| busy())
}

/// `vault.db.rekey`: the whole database under the new identity's key.
fn export(conn: &Connection, dir: &VaultDir, new: &VaultIdentity) -> Result<()> {
    let path = dir.next_db_path();
    remove_sqlite_files(&path);
    create_private_file(&path)?;
    let path_text = path
        .to_str()
        .ok_or_else(|| Error::Storage("the vault directory's path is not UTF-8".into()))?;
    let key = new.database_key()?;
    let key_text = Zeroizing::new(format!(
        "x'{}'",
        // EXPOSE: SQLCipher takes the attached database's raw key as hex.
        Zeroizing::new(hex::encode(key.expose())).as_str()
    ));
    conn.execute(
        "ATTACH DATABASE ?1 AS rekeyed KEY ?2",
        rusqlite::params![path_text, key_text.as_str()],
    )?;
    let exported = (|| {
        conn.query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))?;
        let version: u32 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA rekeyed.user_version = {version};"))?;
        Ok::<_, rusqlite::Error>(())
    })();
    let detached = conn.execute_batch("DETACH DATABASE rekeyed");
    exported?;
    detached?;
    Ok(())
}

/// In `vault.db.rekey`: every secret resealed and fingerprinted under the
/// new identity, the recovery recipient dropped, the rekey audited — one
/// transaction; then its head sealed into `audit.head.rekey`.
fn reseal(
    old: &Vault,
    dir: &VaultDir,
    new: &VaultIdentity,
    had_recovery: bool,
    new_recovery_code: bool,
    new_passphrase: bool,
    now: OffsetDateTime,
) -> Result<()> {
    let key = new.database_key()?;
    let mut conn = store::open(&dir.next_db_path(), &key, false)?;
    drop(key);
    let recipient = new.recipient();
    let fingerprint_key = new.fingerprint_key()?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut count = 0u64;
    for (table, binding) in [("secrets", ""), ("rotation_secrets", "next.")] {
        let rows: Vec<(String, String, Vec<u8>)> = tx
            .prepare(&format!("SELECT entry_id, field, sealed FROM {table}"))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        for (entry_id, field, sealed) in rows {
            let bound = format!("{binding}{field}");
            let value = old.identity.open(&sealed, &entry_id, &bound)?;
            let resealed = crypto::seal(&recipient, &entry_id, &bound, &value)?;
            let fp = fingerprint_key.fingerprint(&value)?;
            tx.execute(
                &format!(
                    "UPDATE {table} SET sealed = ?3, fingerprint = ?4 WHERE entry_id = ?1 AND field = ?2"
                ),
                rusqlite::params![entry_id, field, resealed, fp.to_vec()],
            )?;
            count += 1;
        }
    }
    tx.execute("DELETE FROM meta WHERE key = 'recovery_recipient'", [])?;
    audit::append(
        &tx,
        now,
        old.origin,
        Action::Rekey,
        None,
        &serde_json::json!({
            "secrets_resealed": count,
            "recovery_code": match (had_recovery, new_recovery_code) {
                (_, true) => "replaced",
                (true, false) => "removed",
                (false, false) => "none",
            },
            "passphrase_changed": new_passphrase,
        }),
    )?;
    tx.commit()?;
    let head = audit::head_conn(&conn)
        .map_err(|e| Error::Storage(e.to_string()))?
        .ok_or_else(|| Error::Storage("the audit log is empty".into()))?;
    // Everything into the main file before it is renamed: the resealed rows
    // are in the WAL until checkpointed, and SQLite ignores a failed
    // checkpoint at close. Leaving WAL mode is refused unless it worked.
    let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(Error::Storage(
            "the new database could not be written out in full".into(),
        ));
    }
    conn.close().map_err(|(_, e)| Error::from(e))?;
    let mut wal = dir.next_db_path().into_os_string();
    wal.push("-wal");
    if std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0) {
        return Err(Error::Storage(
            "the new database could not be written out in full".into(),
        ));
    }
    let body = format!("{ANCHOR_MAGIC}\n{head}\n");
    let mac = anchor_mac(&new.anchor_key()?, &body);
    write_atomically(
        &dir.next_anchor_path(),
        format!("{body}{}\n", hex::encode(mac)).as_bytes(),
    )
}
