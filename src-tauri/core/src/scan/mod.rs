//! Leak scan: find copies of the vault's own secrets in files on this
//! machine — exactly, byte for byte, with no guessing by pattern.
//!
//! The needles are the stored secret values (and, for values long enough to
//! make it unambiguous, their base64, URL-encoded and hex forms), held in
//! zeroizing buffers for the scan only. Files are walked in parallel with
//! the `ignore` crate (its ignore rules switched off: `.env` files hide in
//! git-ignored places) and searched by sampling 8-byte pieces ([`Sampled`]:
//! as fast with 1,000 secrets as with 10), in chunks that overlap by the
//! longest needle so a match across two reads is still found. A result
//! names the file, line, column, key and field, and previews the line with
//! the secret masked — never the secret itself.

pub mod keep;
mod session;

pub use crate::copies::Encoding;
pub use session::{checkable, kept, resolve_kept, Keeping, Recheck, Request, Session};

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use base64::Engine as _;
use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::inventory;
use crate::vault::Vault;

/// Secret values shorter than this are not searched for: they would match
/// by chance.
pub const MIN_SECRET_LEN: usize = 8;
/// Encoded forms are searched for only from this length (shorter ones are
/// common substrings).
pub const MIN_ENCODED_LEN: usize = 16;

/// What a copy's preview says when the line around it is withheld.
///
/// The preview shows the bytes around a copy. Were that offered for any
/// stored value, someone at an unlocked window (or a compromised web view)
/// could store a value they chose — `password`, the start of a line — and
/// scan any readable file to read what follows it, preview by preview. So
/// the line around a copy is shown only for values of [`MIN_ENCODED_LEN`]
/// bytes or more whose key was not created, edited or rotated since the
/// last unlock with the passphrase (the audit log says which; a keyring
/// unlock, which an unlocked window can bring about, does not count): a
/// value typed into an open window finds copies, with their place, but
/// shows no text around them until someone types the passphrase.
pub const PREVIEW_WITHHELD: &str =
    "**** (preview withheld: a short value, or one stored since the passphrase was last typed)";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "scan: no stored secret is long enough to search for (at least {MIN_SECRET_LEN} bytes)"
    )]
    NothingToFind,
    #[error("scan: the search could not be built: {0}")]
    Matcher(String),
    /// A copy the user says is dealt with is still in its file.
    #[error(
        "the copy is still in {shown} (line {line}): remove it first, or mark it resolved anyway"
    )]
    StillThere { shown: String, line: u64 },
    #[error("{shown} cannot be checked: {reason}")]
    Unchecked { shown: String, reason: String },
    #[error("{0} cannot be checked (its name is not valid UTF-8): remove the copy, then mark it resolved anyway")]
    NameUnreadable(String),
    #[error("copy: no open copy has id {0} (resolved already, or never kept)")]
    NoSuchCopy(u64),
    #[error(transparent)]
    Inventory(#[from] inventory::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What one needle stands for (never its bytes).
#[derive(Clone, Debug)]
struct Origin {
    key_id: String,
    label: String,
    field: String,
    encoding: Encoding,
    /// Searched for to be reported; otherwise only masked in previews (a
    /// one-key scan must not show another key's secret on the same line).
    reported: bool,
    /// Whether a copy's preview may show the line around it
    /// ([`PREVIEW_WITHHELD`] says when not).
    preview: bool,
}

/// The secrets to look for, decrypted for the scan only.
#[derive(Default)]
pub struct Needles {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    origins: Vec<Origin>,
    /// Values too short to search for (1–7 bytes): masked in previews only.
    masks: Vec<Zeroizing<Vec<u8>>>,
    /// Secret fields of the keys searched for that are too short to search.
    pub too_short: Vec<(String, String)>,
    /// The keys searched for, by full id (empty: every key).
    pub only: Vec<String>,
}

impl Needles {
    /// Every stored secret field of the given keys (none given: of every
    /// key), with its encodings; every other key's secrets are taken too,
    /// to be masked in previews, never reported. Values are taken without a
    /// `secret.reveal` row each (that would mislead): the caller writes one
    /// `secret.scan` row.
    pub fn from_vault(vault: &Vault, keys: &[String]) -> Result<Self> {
        let mut wanted = Vec::with_capacity(keys.len());
        for k in keys {
            wanted.push(inventory::get(vault, k)?.id);
        }
        let mut n = Needles::default();
        let fresh = crate::vault::audit::keys_changed_since_passphrase(vault)
            .map_err(|e| Error::Matcher(e.to_string()))?;
        for e in &inventory::list(vault)? {
            let reported = wanted.is_empty() || wanted.contains(&e.id);
            if reported && !wanted.is_empty() {
                n.only.push(e.id.clone());
            }
            for field in &e.secret_fields {
                let value = inventory::take_secret_quietly(vault, &e.id, field.as_str())?;
                let preview = value.len() >= MIN_ENCODED_LEN && !fresh.contains(&e.id);
                n.push_value(
                    &e.id,
                    &e.label,
                    field.as_str(),
                    value.expose(),
                    reported,
                    preview,
                );
            }
        }
        if n.is_empty() {
            return Err(Error::NothingToFind);
        }
        Ok(n)
    }

    /// One key's secret fields only, nothing to mask: enough to check
    /// whether a file still holds a copy (no preview is shown), without
    /// decrypting every other key's secrets for it.
    pub fn of_key(vault: &Vault, key: &str) -> Result<Self> {
        let e = inventory::get(vault, key)?;
        let mut n = Needles::default();
        for field in &e.secret_fields {
            let value = inventory::take_secret_quietly(vault, &e.id, field.as_str())?;
            n.add(&e.id, &e.label, field.as_str(), value.expose());
        }
        if n.is_empty() {
            return Err(Error::NothingToFind);
        }
        Ok(n)
    }

    /// Adds one secret value and its encoded forms, to be reported.
    pub fn add(&mut self, key_id: &str, label: &str, field: &str, value: &[u8]) {
        self.add_as(key_id, label, field, value, true);
    }

    fn add_as(&mut self, key_id: &str, label: &str, field: &str, value: &[u8], reported: bool) {
        self.push_value(key_id, label, field, value, reported, true);
    }

    fn push_value(
        &mut self,
        key_id: &str,
        label: &str,
        field: &str,
        value: &[u8],
        reported: bool,
        preview: bool,
    ) {
        if value.len() < MIN_SECRET_LEN {
            if reported {
                self.too_short.push((key_id.to_owned(), field.to_owned()));
            }
            if !value.is_empty() {
                self.masks.push(Zeroizing::new(value.to_vec()));
            }
            return;
        }
        let origin = |encoding| Origin {
            key_id: key_id.to_owned(),
            label: label.to_owned(),
            field: field.to_owned(),
            encoding,
            reported,
            preview,
        };
        let mut push = |bytes: Zeroizing<Vec<u8>>, encoding: Encoding| {
            match self.patterns.iter().position(|p| **p == *bytes) {
                // The same value twice (a key stored twice): report it once,
                // as a key searched for if either is.
                Some(i) if reported && !self.origins[i].reported => {
                    self.origins[i] = origin(encoding)
                }
                Some(_) => {}
                None => {
                    self.patterns.push(bytes);
                    self.origins.push(origin(encoding));
                }
            }
        };
        push(Zeroizing::new(value.to_vec()), Encoding::Raw);
        if value.len() >= MIN_ENCODED_LEN {
            // Each form written into a buffer sized up front (no regrowth
            // leaving copies behind) and wiped on drop.
            // `encode_slice` writes straight into the buffer (the string
            // encoders go through a stack buffer nobody wipes).
            let len = base64::encoded_len(value.len(), true).unwrap_or(0);
            let mut b64 = Zeroizing::new(vec![0u8; len]);
            if let Ok(n) = base64::engine::general_purpose::STANDARD.encode_slice(value, &mut b64) {
                // Without padding: the padding depends on what follows.
                let unpadded = b64[..n]
                    .iter()
                    .rposition(|&b| b != b'=')
                    .map_or(0, |i| i + 1);
                b64.truncate(unpadded);
                push(b64, Encoding::Base64);
            }
            let mut url = Zeroizing::new(String::with_capacity(value.len() * 3));
            for part in percent_encoding::percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            {
                url.push_str(part);
            }
            if url.as_bytes() != value {
                push(
                    Zeroizing::new(std::mem::take(&mut *url).into_bytes()),
                    Encoding::Url,
                );
            }
            let mut hex = Zeroizing::new(vec![0u8; value.len() * 2]);
            if hex::encode_to_slice(value, &mut hex).is_ok() {
                push(hex, Encoding::Hex);
            }
        }
    }

    /// How many values are searched for to be reported.
    pub fn len(&self) -> usize {
        self.origins.iter().filter(|o| o.reported).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where copies of keys usually end up: shell and REPL histories, app
/// settings and data, downloads, project folders.
const SUGGESTED: &[(&str, &str)] = &[
    (".bash_history", "Bash history"),
    (".zsh_history", "Zsh history"),
    (".local/share/fish/fish_history", "Fish history"),
    (".python_history", "Python history"),
    (".node_repl_history", "Node.js history"),
    (".psql_history", "psql history"),
    (".env", ".env in the home folder"),
    (".config", "App settings (~/.config)"),
    (".local/share", "App data (~/.local/share)"),
    ("Downloads", "Downloads"),
    ("Desktop", "Desktop"),
    ("Documents", "Documents"),
    ("projects", "Projects"),
    ("Projects", "Projects"),
    ("src", "Source folder"),
    ("code", "Code folder"),
    ("dev", "dev folder"),
    ("git", "git folder"),
    ("repos", "Repositories"),
    ("work", "work folder"),
];

/// The usual places that exist under `home`, with a label each: what the
/// app offers and `keyward scan --suggested` searches.
pub fn suggested_places(home: &Path) -> Vec<(PathBuf, &'static str)> {
    SUGGESTED
        .iter()
        .map(|&(rel, label)| (home.join(rel), label))
        .filter(|(p, _)| p.exists())
        .collect()
}

/// One copy found.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(rename = "ScanMatch")]
pub struct Match {
    /// The path for people (non-UTF-8 bytes replaced).
    pub path: String,
    /// The path itself, for reveal and re-check (never sent to the window).
    #[serde(skip)]
    #[ts(skip)]
    pub file: PathBuf,
    #[ts(type = "number")]
    pub line: u64,
    #[ts(type = "number")]
    pub column: u64,
    pub key_id: String,
    pub label: String,
    pub field: String,
    pub encoding: Encoding,
    /// The line around the match with the secret replaced by `****` (binary
    /// bytes shown as `.`), at most 120 characters.
    pub preview: String,
}

/// A file not searched, and why.
#[derive(Clone, Debug, Serialize, TS)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Live counters (for a progress bar), the results so far (shown as they
/// come in) and the cancel switch. Shared between the scan and whoever
/// watches it.
#[derive(Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    /// Files and bytes to read in all, once [`measure`] has finished
    /// (`measured`): what an ETA needs.
    pub total_files: AtomicU64,
    pub total_bytes: AtomicU64,
    pub measured: AtomicBool,
    pub cancel: AtomicBool,
    /// Set when the scan has ended (a [`measure`] still walking stops).
    pub finished: AtomicBool,
    pub found: Mutex<Vec<Match>>,
    pub skipped: Mutex<Vec<Skipped>>,
}

impl Progress {
    /// The matches found after the first `since`, and how many there are
    /// in all (read together: for polling).
    pub fn found_since(&self, since: usize) -> (Vec<Match>, usize) {
        tail(&self.found, since)
    }

    /// The `index`th match found.
    pub fn found_at(&self, index: usize) -> Option<Match> {
        self.found.lock().ok()?.get(index).cloned()
    }

    /// The files skipped after the first `since`, and how many in all.
    pub fn skipped_since(&self, since: usize) -> (Vec<Skipped>, usize) {
        tail(&self.skipped, since)
    }

    fn skip(&self, path: String, reason: String) {
        if let Ok(mut s) = self.skipped.lock() {
            s.push(Skipped { path, reason });
        }
    }
}

fn tail<T: Clone>(list: &Mutex<Vec<T>>, since: usize) -> (Vec<T>, usize) {
    list.lock()
        .map(|l| {
            (
                l.get(since..).map(<[T]>::to_vec).unwrap_or_default(),
                l.len(),
            )
        })
        .unwrap_or_default()
}

/// What a scan found.
#[derive(Debug, Default, Serialize, TS)]
pub struct Report {
    pub matches: Vec<Match>,
    pub skipped: Vec<Skipped>,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    pub cancelled: bool,
}

/// Needles at least this long are searched together; shorter ones (rare:
/// short passphrases) in a second group, so that one 8-byte value does not
/// make every long one's search look at every byte.
const LONG: usize = 16;
/// The piece [`Sampled`] looks up: one unaligned 64-bit load.
const GRAM: usize = 8;

/// Finds needles without looking at every byte.
///
/// Aho-Corasick (what the first version used) has a SIMD path only up to
/// ~64 needles, and its DFA slows as the vault grows (three needles per
/// secret: raw, base64, hex); it also keeps copies of the needles it does
/// not wipe. Here, with `m` the shortest needle, `w` the piece width (8
/// bytes, or 4 for the group of 8–15-byte needles) and `stride = m - w + 1`,
/// every copy of a needle covers a buffer position that is a multiple of
/// `stride`, at an offset below `stride` from its start. Only those
/// positions are read: the `w` bytes there are hashed into a sparse bitmap
/// of every needle's first `stride` pieces, and a hit is verified in full.
/// For 32-byte secrets that is one lookup per 25 bytes, whatever the number
/// of secrets; each copy is found exactly once (from the first sampled
/// position inside it).
struct Sampled {
    /// Bytes per piece: 8, or 4 for the short needles (8–15 bytes), whose
    /// stride would otherwise be 1–8.
    width: usize,
    stride: usize,
    shift: u32,
    bitmap: Zeroizing<Vec<u64>>,
    /// `[piece, needle << 32 | offset]`, sorted by piece. Secret bytes:
    /// wiped on drop like the needles.
    pieces: Zeroizing<Vec<[u64; 2]>>,
}

fn gram(b: &[u8]) -> u64 {
    let mut a = [0u8; GRAM];
    a.copy_from_slice(&b[..GRAM]);
    u64::from_le_bytes(a)
}

/// The piece of `width` bytes at the start of `b` (two fixed-size loads,
/// so the hot loop stays branch-predictable).
fn piece(b: &[u8], width: usize) -> u64 {
    if width == GRAM {
        gram(b)
    } else {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[..4]);
        u64::from(u32::from_le_bytes(a))
    }
}

fn bucket(g: u64, shift: u32) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

impl Sampled {
    fn new(patterns: &[Zeroizing<Vec<u8>>], ids: &[usize], width: usize) -> Option<Self> {
        let shortest = ids.iter().map(|&i| patterns[i].len()).min()?;
        let stride = shortest.checked_sub(width)? + 1;
        let mut pieces = Zeroizing::new(Vec::with_capacity(ids.len() * stride));
        for &i in ids {
            for off in 0..stride {
                pieces.push([
                    piece(&patterns[i][off..], width),
                    (i as u64) << 32 | off as u64,
                ]);
            }
        }
        // In place: a stable sort would copy pieces into a buffer not wiped.
        pieces.sort_unstable_by_key(|e| e[0]);
        // About 32 bits per piece keeps false hits near 3 %.
        let log2 = (pieces.len() * 32)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 26);
        let shift = 64 - log2;
        let mut bitmap = Zeroizing::new(vec![0u64; 1 << (log2 - 6)]);
        for e in pieces.iter() {
            let b = bucket(e[0], shift);
            bitmap[b >> 6] |= 1 << (b & 63);
        }
        Some(Sampled {
            width,
            stride,
            shift,
            bitmap,
            pieces,
        })
    }

    /// Pushes `(needle, start, end)` for every copy wholly inside `hay`.
    fn find(
        &self,
        patterns: &[Zeroizing<Vec<u8>>],
        hay: &[u8],
        out: &mut Vec<(usize, usize, usize)>,
    ) {
        let Some(last) = hay.len().checked_sub(self.width) else {
            return;
        };
        let mut p = 0;
        while p <= last {
            let g = piece(&hay[p..], self.width);
            let b = bucket(g, self.shift);
            if self.bitmap[b >> 6] & (1 << (b & 63)) != 0 {
                let from = self.pieces.partition_point(|e| e[0] < g);
                for e in self.pieces[from..].iter().take_while(|e| e[0] == g) {
                    let needle = (e[1] >> 32) as usize;
                    let off = (e[1] & 0xffff_ffff) as usize;
                    let Some(start) = p.checked_sub(off) else {
                        continue;
                    };
                    let end = start + patterns[needle].len();
                    if hay.get(start..end) == Some(patterns[needle].as_slice()) {
                        out.push((needle, start, end));
                    }
                }
            }
            p += self.stride;
        }
    }
}

/// The compiled search.
pub struct Scanner {
    /// Needles of [`LONG`] bytes or more, and the shorter ones.
    groups: Vec<Sampled>,
    needles: Needles,
    max_len: usize,
    max_file: u64,
}

/// Reads this large: the buffer stays in the core's cache while it is searched.
const CHUNK: usize = 256 << 10;

impl Scanner {
    /// `max_file`: larger files are reported as skipped.
    pub fn new(needles: Needles, max_file: u64) -> Result<Self> {
        if needles.patterns.iter().any(|p| p.len() < GRAM) {
            return Err(Error::Matcher(format!(
                "a value shorter than {GRAM} bytes cannot be searched for"
            )));
        }
        let (long, short): (Vec<usize>, Vec<usize>) =
            (0..needles.patterns.len()).partition(|&i| needles.patterns[i].len() >= LONG);
        let groups = [(long, GRAM), (short, 4)]
            .iter()
            .filter_map(|(ids, width)| Sampled::new(&needles.patterns, ids, *width))
            .collect();
        let max_len = needles.patterns.iter().map(|p| p.len()).max().unwrap_or(1);
        Ok(Scanner {
            groups,
            needles,
            max_len,
            max_file,
        })
    }

    /// Every copy wholly inside `hay`, ordered by where it starts.
    fn find_all(&self, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for g in &self.groups {
            g.find(&self.needles.patterns, hay, &mut out);
        }
        out.sort_unstable_by_key(|&(n, s, _)| (s, n));
        out
    }

    /// Scans `roots` (files or folders), in parallel; matches and skipped
    /// files appear in `progress` as each file is done.
    pub fn scan(&self, roots: &[PathBuf], progress: &Progress) -> Report {
        if let Some(walk) = walker(roots) {
            let keep = self.max_len.saturating_sub(1);
            // Folders and files by (device, inode): reached again through a
            // symlink, an overlapping place or a hard link, they are not
            // searched twice — and a tree of links cannot multiply the walk.
            let seen = Mutex::new(HashSet::<(u64, u64)>::new());
            let seen = &seen;
            let system = system_devices();
            let system = &system;
            walk.build_parallel().run(|| {
                // One read buffer per thread, wiped when the walk ends.
                let mut buf = Zeroizing::new(vec![0u8; CHUNK + keep]);
                Box::new(move |entry| {
                    if progress.cancel.load(Ordering::Relaxed) {
                        return ignore::WalkState::Quit;
                    }
                    let entry = match entry {
                        Ok(e) => e,
                        Err(e) => {
                            let (path, reason) = walk_error(&e);
                            progress.skip(path, reason);
                            return ignore::WalkState::Continue;
                        }
                    };
                    let Some(kind) = entry.file_type() else {
                        return ignore::WalkState::Continue;
                    };
                    if !kind.is_file() && !kind.is_dir() {
                        return ignore::WalkState::Continue;
                    }
                    if let Ok(m) = entry.metadata() {
                        use std::os::unix::fs::MetadataExt;
                        // Kernel file systems are endless and hold no copies,
                        // however they are reached (a link to `/`, `/` itself).
                        if kind.is_dir() && system.contains(&m.dev()) {
                            progress.skip(
                                entry.path().display().to_string(),
                                "a system folder (/proc, /sys, /dev): not searched".into(),
                            );
                            return ignore::WalkState::Skip;
                        }
                        let new = seen
                            .lock()
                            .map_or(true, |mut s| s.insert((m.dev(), m.ino())));
                        if !new {
                            return if kind.is_dir() {
                                ignore::WalkState::Skip
                            } else {
                                ignore::WalkState::Continue
                            };
                        }
                    }
                    if kind.is_dir() {
                        return ignore::WalkState::Continue;
                    }
                    let path = entry.path();
                    match self.scan_file(path, progress, &mut buf) {
                        Ok((found, note)) => {
                            progress.files.fetch_add(1, Ordering::Relaxed);
                            if !found.is_empty() {
                                if let Ok(mut f) = progress.found.lock() {
                                    f.extend(found);
                                }
                            }
                            if let Some(note) = note {
                                progress.skip(path.display().to_string(), note);
                            }
                        }
                        Err(reason) => progress.skip(path.display().to_string(), reason),
                    }
                    ignore::WalkState::Continue
                })
            });
        }
        progress.finished.store(true, Ordering::Relaxed);
        let mut report = Report {
            matches: progress.found.lock().map(|f| f.clone()).unwrap_or_default(),
            skipped: progress
                .skipped
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default(),
            files: progress.files.load(Ordering::Relaxed),
            bytes: progress.bytes.load(Ordering::Relaxed),
            cancelled: progress.cancel.load(Ordering::Relaxed),
        };
        report
            .matches
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        report
    }

    /// Searches one file (to check that a copy has gone); `Err` says why it
    /// could not be read.
    pub fn scan_path(&self, path: &Path) -> Result<Vec<Match>, String> {
        let mut buf = Zeroizing::new(vec![0u8; CHUNK + self.max_len]);
        match self.scan_file(path, &Progress::default(), &mut buf)? {
            (found, None) => Ok(found),
            (found, Some(_)) if !found.is_empty() => Ok(found),
            (_, Some(note)) => Err(note),
        }
    }

    /// Searches bytes that are not a file here — a blob staged in git, for
    /// `keyward scan --staged` — reported under `name`. `Err` says why
    /// they were not searched (over the size limit).
    pub fn scan_bytes(
        &self,
        name: &str,
        bytes: &[u8],
    ) -> Result<(Vec<Match>, Option<String>), String> {
        if bytes.len() as u64 > self.max_file {
            return Err(self.over_limit());
        }
        // Sized to the bytes (a commit's files are mostly small): a whole
        // chunk allocated and wiped per file made a 3,000-file commit slow.
        let mut buf = Zeroizing::new(vec![0u8; bytes.len().min(CHUNK) + self.max_len]);
        let mut reader = std::io::Cursor::new(bytes);
        self.search(Path::new(name), &mut reader, &Progress::default(), &mut buf)
    }

    /// The size limit in bytes (what [`Scanner::new`] was given).
    pub fn max_file(&self) -> u64 {
        self.max_file
    }

    /// Searches one file in overlapping chunks. `Err` is why it was not
    /// searched; a note with the copies is why it was searched only in
    /// part (a read error, more than the size limit read, too many copies).
    fn scan_file(
        &self,
        path: &Path,
        progress: &Progress,
        buf: &mut [u8],
    ) -> Result<(Vec<Match>, Option<String>), String> {
        let mut file = open_regular(path)?;
        let len = file.metadata().map_err(|e| io_reason(&e))?.len();
        if len > self.max_file {
            return Err(self.over_limit());
        }
        let (mut found, note) = self.search(path, &mut file, progress, buf)?;
        // Named where the file really is (links resolved): one file reached
        // by two spellings is one place, and a kept copy names it once.
        if !found.is_empty() {
            if let Ok(real) = std::fs::canonicalize(path) {
                for m in &mut found {
                    m.path = real.display().to_string();
                    m.file.clone_from(&real);
                }
            }
        }
        Ok((found, note))
    }

    fn over_limit(&self) -> String {
        format!("larger than the {} MiB limit", self.max_file >> 20)
    }

    /// The search of one open file; apart from [`Self::scan_file`] so a
    /// test can hand it a reader that fails part-way (a bad sector, a
    /// network share going away).
    fn search<R: Read + Seek>(
        &self,
        path: &Path,
        file: &mut R,
        progress: &Progress,
        buf: &mut [u8],
    ) -> Result<(Vec<Match>, Option<String>), String> {
        let keep = self.max_len.saturating_sub(1);
        // `carry` bytes at the start of `buf` are the end of the last chunk.
        let mut carry = 0usize;
        // Offset in the file of buf[0].
        let mut base: u64 = 0;
        // Where the copies of the last chunk lie in the carried bytes: a
        // preview here must mask them too.
        let mut carried: Vec<(usize, usize)> = Vec::new();
        // (offset in the file, needle, preview): lines and columns are
        // counted afterwards, and only in files with a copy.
        let mut hits: Vec<(u64, usize, String)> = Vec::new();
        let mut note = None;
        loop {
            if progress.cancel.load(Ordering::Relaxed) {
                break;
            }
            if base + carry as u64 > self.max_file {
                // Grew while read (a log), or a file whose size says 0.
                note = Some(self.over_limit());
                break;
            }
            let room = buf.len() - carry;
            let (n, failed) = read_full(file, &mut buf[carry..]);
            if let Some(e) = failed {
                if n == 0 && base == 0 && carry == 0 {
                    return Err(io_reason(&e));
                }
                // Search what was read, then stop.
                note = Some(format!("read in part: {}", io_reason(&e)));
            }
            if n == 0 {
                break;
            }
            progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
            let filled = carry + n;
            let hay = &buf[..filled];
            let found = self.find_all(hay);
            if found
                .iter()
                .any(|&(i, _, e)| e > carry && self.needles.origins[i].reported)
            {
                // A preview masks every secret around it, not only its own
                // (two secrets often share a line).
                let mut ranges: Vec<(usize, usize)> =
                    found.iter().map(|&(_, s, e)| (s, e)).collect();
                ranges.extend_from_slice(&carried);
                // Bytes near the end of a full read may start a secret that
                // the next read completes: previews stop before them.
                let safe_end = if n < room {
                    filled
                } else {
                    filled - keep.min(filled)
                };
                for &(needle, start, end) in &found {
                    // Copies wholly inside the carried bytes were found last
                    // round; others' secrets are only masked.
                    if end <= carry || !self.needles.origins[needle].reported {
                        continue;
                    }
                    if hits.len() >= MAX_COPIES_PER_FILE {
                        note = Some(format!(
                            "more than {MAX_COPIES_PER_FILE} copies: the first are listed"
                        ));
                        break;
                    }
                    // In a later read the first bytes may end a short value
                    // begun in the last one: the preview starts after them.
                    let floor = if base > 0 { start.min(GRAM - 1) } else { 0 };
                    let shown = if self.needles.origins[needle].preview {
                        preview(
                            hay,
                            (floor, end.max(safe_end)),
                            start,
                            end,
                            &ranges,
                            &self.needles.masks,
                        )
                    } else {
                        PREVIEW_WITHHELD.to_owned()
                    };
                    hits.push((base + start as u64, needle, shown));
                }
                if note.is_some() {
                    break;
                }
            }
            // Advance: keep the last `keep` bytes for copies across chunks.
            let new_carry = keep.min(filled);
            let consumed = filled - new_carry;
            carried = found
                .iter()
                .filter(|&&(_, _, e)| e > consumed)
                .map(|&(_, s, e)| (s.saturating_sub(consumed), e - consumed))
                .collect();
            base += consumed as u64;
            buf.copy_within(consumed..filled, 0);
            carry = new_carry;
            if note.is_some() {
                break;
            }
        }
        if hits.is_empty() {
            return Ok((Vec::new(), note));
        }
        // Unplaced (line 0) past a point the file cannot be read again:
        // the copies are still reported.
        let (places, failed) = locate(file, buf, hits.iter().map(|h| h.0));
        if let Some(e) = failed {
            note = Some(format!("lines not counted: {}", io_reason(&e)));
        }
        let found = hits
            .into_iter()
            .zip(places)
            .map(|((_, needle, preview), (line, column))| {
                let o = &self.needles.origins[needle];
                Match {
                    path: path.display().to_string(),
                    file: path.to_path_buf(),
                    line,
                    column,
                    key_id: o.key_id.clone(),
                    label: o.label.clone(),
                    field: o.field.clone(),
                    encoding: o.encoding,
                    preview,
                }
            })
            .collect();
        Ok((found, note))
    }
}

/// The devices of the kernel's own file systems (`/proc`, `/sys`, `/dev`),
/// never searched. One that is the root file system's (a chroot without
/// them mounted) is left out, or nothing would be searched.
fn system_devices() -> Vec<u64> {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &str| std::fs::metadata(p).ok().map(|m| m.dev());
    let root = dev("/");
    ["/proc", "/sys", "/dev"]
        .iter()
        .filter_map(|p| dev(p))
        .filter(|&d| Some(d) != root)
        .collect()
}

/// At most this many copies are listed per file (a file repeating a
/// secret a million times would otherwise flood the window).
const MAX_COPIES_PER_FILE: usize = 1000;

/// Opens a regular file without blocking: a path swapped for a FIFO, or a
/// `/proc` file with nothing to read yet, must not stall a walker thread
/// forever; the type is checked on the handle, not the name.
fn open_regular(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| io_reason(&e))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err("not a regular file".into()),
        Err(e) => Err(io_reason(&e)),
    }
}

/// The ignore crate's parallel walker with every ignore rule off: hidden
/// and git-ignored files are where `.env` files live. Symlinks are
/// followed (a project folder linked from elsewhere is searched); loops are
/// reported by the walker.
fn walker(roots: &[PathBuf]) -> Option<ignore::WalkBuilder> {
    let (first, rest) = roots.split_first()?;
    let mut builder = ignore::WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(true)
        .threads(std::thread::available_parallelism().map_or(2, |n| n.get()));
    Some(builder)
}

/// Counts the files and bytes a scan of `roots` will read (files over
/// `max_file` excluded), for a progress bar's total and an ETA. Reads
/// metadata only; stops when cancelled.
pub fn measure(roots: &[PathBuf], max_file: u64, progress: &Progress) {
    if let Some(mut walk) = walker(roots) {
        let system = system_devices();
        walk.filter_entry(move |e| {
            use std::os::unix::fs::MetadataExt;
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.metadata().is_ok_and(|m| system.contains(&m.dev())))
        });
        for entry in walk.build() {
            if progress.cancel.load(Ordering::Relaxed) || progress.finished.load(Ordering::Relaxed)
            {
                return;
            }
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.len() <= max_file {
                progress.total_files.fetch_add(1, Ordering::Relaxed);
                progress
                    .total_bytes
                    .fetch_add(meta.len(), Ordering::Relaxed);
            }
        }
    }
    progress.measured.store(true, Ordering::Relaxed);
}

/// Line and column (1-based, in bytes) of each offset, ascending, by
/// counting newlines from the start of the file. Done only for files with a
/// copy, so a clean file is read once and never counted.
/// Places not reached before a read error stay (0, 0), and the error is
/// returned beside them.
fn locate<R: Read + Seek>(
    file: &mut R,
    buf: &mut [u8],
    offsets: impl Iterator<Item = u64>,
) -> (Vec<(u64, u64)>, Option<std::io::Error>) {
    use std::io::SeekFrom;
    let offsets: Vec<u64> = offsets.collect();
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut places = vec![(0u64, 0u64); offsets.len()];
    if let Err(e) = file.seek(SeekFrom::Start(0)) {
        return (places, Some(e));
    }
    let (mut line, mut line_start, mut pos) = (1u64, 0u64, 0u64);
    let mut next = order.iter().peekable();
    while next.peek().is_some() {
        let (n, failed) = read_full(file, buf);
        if n == 0 {
            return (places, failed);
        }
        let chunk = &buf[..n];
        let mut cursor = 0usize;
        while let Some(&&i) = next.peek() {
            if offsets[i] >= pos + n as u64 {
                break;
            }
            let to = (offsets[i] - pos) as usize;
            let part = &chunk[cursor..to];
            line += memchr::memchr_iter(b'\n', part).count() as u64;
            if let Some(k) = memchr::memrchr(b'\n', part) {
                line_start = pos + (cursor + k) as u64 + 1;
            }
            cursor = to;
            places[i] = (line, offsets[i] - line_start + 1);
            next.next();
        }
        let part = &chunk[cursor..];
        line += memchr::memchr_iter(b'\n', part).count() as u64;
        if let Some(k) = memchr::memrchr(b'\n', part) {
            line_start = pos + (cursor + k) as u64 + 1;
        }
        pos += n as u64;
    }
    (places, None)
}

/// Fills `buf` as far as the file goes; the bytes read before an error
/// are counted (and searched) too.
fn read_full(f: &mut impl Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut total = 0;
    while total < buf.len() {
        match f.read(&mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (total, Some(e)),
        }
    }
    (total, None)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "vanished during the scan".into(),
        std::io::ErrorKind::PermissionDenied => "not readable (permission denied)".into(),
        _ => format!("not readable ({e})"),
    }
}

fn walk_error(e: &ignore::Error) -> (String, String) {
    let path = walk_error_path(e).unwrap_or_default();
    if is_loop(e) {
        (path, format!("symlink loop: {e}"))
    } else {
        (path, format!("not walkable: {e}"))
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn walk_error_path(e: &ignore::Error) -> Option<String> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        _ => None,
    }
}

/// The match's line, printable, at most 50 bytes either side, with this
/// secret and every other one found nearby masked.
///
/// `masks` are values too short to search for: looked for in the window
/// only, and masked too.
/// Shown: at most `shown` of `hay`; masks are looked for in all of `hay`
/// around it (a short value may straddle the window's edge).
fn preview(
    hay: &[u8],
    shown: (usize, usize),
    start: usize,
    end: usize,
    found: &[(usize, usize)],
    masks: &[Zeroizing<Vec<u8>>],
) -> String {
    let (floor, ceiling) = shown;
    let line_start = memchr::memrchr(b'\n', &hay[floor..start]).map_or(floor, |i| floor + i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..ceiling]).map_or(ceiling, |i| end + i);
    let from = line_start.max(start.saturating_sub(50));
    let to = line_end.min(end + 50);
    // Only what touches the window (a file full of copies has many).
    let mut all: Vec<(usize, usize)> = found
        .iter()
        .copied()
        .filter(|&(s, e)| e > from && s < to)
        .collect();
    let (lo, hi) = (from.saturating_sub(GRAM), (to + GRAM).min(hay.len()));
    for m in masks {
        all.extend(
            memchr::memmem::find_iter(&hay[lo..hi], m.as_slice())
                .map(|i| (lo + i, lo + i + m.len())),
        );
    }
    let hidden = |i: usize| all.iter().any(|&(s, e)| s <= i && i < e);
    let mut out = String::with_capacity(to - from + 4);
    let mut i = from;
    while i < to {
        if hidden(i) {
            out.push_str("****");
            while i < to && hidden(i) {
                i += 1;
            }
            continue;
        }
        let b = hay[i];
        out.push(if (0x20..0x7f).contains(&b) {
            b as char
        } else {
            '.'
        });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"scan-secret-Xq7mW2pL9sT4vN8c";

    fn scanner(values: &[&[u8]]) -> Scanner {
        let mut n = Needles::default();
        for (i, v) in values.iter().enumerate() {
            n.add(&format!("key{i}"), "bot", "api_secret", v);
        }
        Scanner::new(n, 1 << 30).unwrap()
    }

    fn find(s: &Scanner, bytes: &[u8]) -> Vec<Match> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        let mut buf = vec![0u8; CHUNK + s.max_len];
        s.scan_file(&p, &Progress::default(), &mut buf).unwrap().0
    }

    #[test]
    fn a_secret_across_the_chunk_boundary_is_found_once_with_its_place() {
        let s = scanner(&[SECRET]);
        for cut in [0usize, 1, 5, SECRET.len() - 1] {
            let mut bytes = vec![b'a'; CHUNK - cut];
            bytes.extend_from_slice(b"\nx=");
            bytes.extend_from_slice(SECRET);
            bytes.extend_from_slice(b"\n");
            let found = find(&s, &bytes);
            assert_eq!(found.len(), 1, "cut {cut}");
            assert_eq!((found[0].line, found[0].column), (2, 3), "cut {cut}");
            assert_eq!(found[0].preview, "x=****");
        }
    }

    #[test]
    fn a_preview_masks_every_secret_on_the_line() {
        let other: &[u8] = b"other-secret-Jd3kF6hR1zY5uB0e";
        let s = scanner(&[SECRET, other]);
        let mut line = b"KEY=".to_vec();
        line.extend_from_slice(SECRET);
        line.extend_from_slice(b" SECRET=");
        line.extend_from_slice(other);
        line.push(b'\n');
        let found = find(&s, &line);
        assert_eq!(found.len(), 2);
        for m in &found {
            assert_eq!(m.preview, "KEY=**** SECRET=****");
        }
    }

    #[test]
    fn encodings_are_found_and_short_values_are_not_searched() {
        let s = scanner(&[SECRET, b"short"]);
        assert_eq!(s.needles.too_short.len(), 1);
        let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
        let text = format!(
            "a {b64}\nb {}\nc {}",
            hex::encode(SECRET),
            "scan%2Dsecret%2DXq7mW2pL9sT4vN8c"
        );
        let found = find(&s, text.as_bytes());
        let kinds: Vec<Encoding> = found.iter().map(|m| m.encoding).collect();
        assert_eq!(kinds, [Encoding::Base64, Encoding::Hex, Encoding::Url]);
        assert!(found.iter().all(|m| !m.preview.contains("Xq7m")));
    }

    /// A tiny deterministic generator (no test-only crate for this).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn the_sampled_search_finds_exactly_what_a_naive_search_finds() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        for round in 0..40 {
            // Narrow alphabets make needles overlap and share pieces.
            let alphabet: &[u8] = if round % 2 == 0 {
                b"ab"
            } else {
                b"abcdef0123456789"
            };
            let count = 1 + rng.below(if round % 3 == 0 { 400 } else { 12 });
            let values: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    let len = MIN_SECRET_LEN + rng.below(60);
                    (0..len)
                        .map(|_| alphabet[rng.below(alphabet.len())])
                        .collect()
                })
                .collect();
            let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
            let s = scanner(&refs);
            let mut hay: Vec<u8> = (0..4000)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            for _ in 0..6 {
                let p = &s.needles.patterns[rng.below(s.needles.patterns.len())];
                let at = rng.below(hay.len() - p.len());
                hay[at..at + p.len()].copy_from_slice(p);
            }
            let mut naive = Vec::new();
            for (n, p) in s.needles.patterns.iter().enumerate() {
                for start in 0..=hay.len() - p.len() {
                    if hay[start..start + p.len()] == p[..] {
                        naive.push((n, start, start + p.len()));
                    }
                }
            }
            naive.sort_unstable_by_key(|&(n, s, _)| (s, n));
            assert!(!naive.is_empty(), "round {round}");
            assert_eq!(s.find_all(&hay), naive, "round {round}");
        }
    }

    fn tree_with_secret(files: usize, size: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let filler: Vec<u8> = (0..size).map(|i| b"lorem ipsum\n"[i % 12]).collect();
        for i in 0..files {
            std::fs::write(dir.path().join(format!("f{i}.txt")), &filler).unwrap();
        }
        let mut planted = b"TOKEN=".to_vec();
        planted.extend_from_slice(SECRET);
        std::fs::write(dir.path().join("f0.txt"), planted).unwrap();
        dir
    }

    #[test]
    fn cancel_stops_the_scan_within_a_read_per_thread() {
        let dir = tree_with_secret(48, 1 << 20);
        let s = scanner(&[SECRET]);
        let progress = Progress::default();
        let at_cancel = std::thread::scope(|t| {
            let watcher = t.spawn(|| {
                while progress.bytes.load(Ordering::Relaxed) < 4 << 20 {
                    std::thread::yield_now();
                }
                progress.cancel.store(true, Ordering::Relaxed);
                progress.bytes.load(Ordering::Relaxed)
            });
            let report = s.scan(&[dir.path().to_path_buf()], &progress);
            assert!(report.cancelled);
            watcher.join().unwrap()
        });
        let after = progress.bytes.load(Ordering::Relaxed);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
        assert!(after < 48 << 20, "read everything: {after}");
        assert!(
            after - at_cancel <= threads * (CHUNK + s.max_len) as u64,
            "read {} bytes after cancel",
            after - at_cancel
        );
    }

    #[test]
    // The only unsafe code: two libc calls so root can test "permission denied".
    #[allow(unsafe_code)]
    fn loops_dangling_links_unreadable_and_vanished_files_are_reported_not_fatal() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tree_with_secret(3, 100);
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        symlink(root, root.join("sub/loop")).unwrap();
        symlink(root.join("gone"), root.join("dangling")).unwrap();
        symlink("/proc", root.join("proc")).unwrap();
        let locked = root.join("locked.env");
        std::fs::write(&locked, SECRET).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let s = scanner(&[SECRET]);
        // Root reads anything: scan as nobody, as a user would be. The
        // file-system uid is per thread and the walker's threads inherit it.
        let report = std::thread::scope(|t| {
            t.spawn(|| {
                // SAFETY: setfsuid changes only this thread's file-access uid.
                if unsafe { libc::geteuid() } == 0 {
                    unsafe { libc::setfsuid(65534) };
                }
                s.scan(&[root.to_path_buf()], &Progress::default())
            })
            .join()
            .unwrap()
        });
        assert_eq!(report.matches.len(), 1, "{report:?}");
        assert!(report.matches[0].path.ends_with("f0.txt"));
        let reason = |name: &str| {
            report
                .skipped
                .iter()
                .find(|k| k.path.ends_with(name))
                .map(|k| k.reason.clone())
                .unwrap_or_else(|| panic!("{name} not reported: {:?}", report.skipped))
        };
        assert!(reason("loop").starts_with("symlink loop"));
        assert!(reason("proc").starts_with("a system folder"));
        assert!(reason("dangling").starts_with("not walkable"));
        assert_eq!(reason("locked.env"), "not readable (permission denied)");
        // A file listed by the walker and gone when it is opened.
        let s = scanner(&[SECRET]);
        let mut buf = vec![0u8; CHUNK + s.max_len];
        let gone = s.scan_file(&root.join("gone"), &Progress::default(), &mut buf);
        assert_eq!(gone.unwrap_err(), "vanished during the scan");
    }

    /// No preview may show five bytes running of any secret or its forms.
    fn assert_masked(found: &[Match], secrets: &[&[u8]]) {
        for m in found {
            for sec in secrets {
                let b64 = base64::engine::general_purpose::STANDARD.encode(sec);
                for form in [
                    sec.to_vec(),
                    b64.into_bytes(),
                    hex::encode(sec).into_bytes(),
                ] {
                    for w in form.windows(5) {
                        let w = String::from_utf8_lossy(w);
                        assert!(!m.preview.contains(&*w), "{:?} shows {w:?}", m.preview);
                    }
                }
            }
        }
    }

    #[test]
    fn previews_mask_copies_found_in_the_last_read_other_keys_and_short_values() {
        let other: &[u8] = b"other-key-secret-Lw8sN3bQ5e";
        let short: &[u8] = b"pw12345";
        let mut n = Needles::default();
        n.add("k1", "bot", "api_secret", SECRET);
        n.add_as("k2", "other", "api_secret", other, false);
        n.add_as("k2", "other", "passphrase", short, false);
        assert_eq!(n.len(), 4, "the searched key's raw, base64, url, hex");
        let s = Scanner::new(n, 1 << 30).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
        let line = format!(
            "{{\"s\":\"{}\",\"o\":\"{}\",\"p\":\"{}\",\"b\":\"{b64}\"}}\n",
            String::from_utf8_lossy(SECRET),
            String::from_utf8_lossy(other),
            String::from_utf8_lossy(short),
        );
        // The line at every place across the first read's end.
        for back in 0..line.len() + 8 {
            let mut bytes = vec![b'a'; CHUNK - back];
            bytes.extend_from_slice(line.as_bytes());
            let found = find(&s, &bytes);
            assert_eq!(found.len(), 2, "back {back}: the raw and base64 copies");
            assert!(found.iter().all(|m| m.key_id == "k1"));
            assert_masked(&found, &[SECRET, other, short]);
        }
    }

    #[test]
    fn a_fifo_is_not_waited_on_and_links_do_not_count_a_copy_twice() {
        use std::os::unix::fs::symlink;
        let dir = tree_with_secret(1, 10);
        let root = dir.path();
        std::fs::hard_link(root.join("f0.txt"), root.join("hard.txt")).unwrap();
        symlink(root.join("f0.txt"), root.join("soft.txt")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        symlink(root, root.join("sub/up")).unwrap();
        let fifo = root.join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let s = scanner(&[SECRET]);
        // Given as a place itself, and opened directly: no wait for a writer.
        let report = s.scan(&[root.to_path_buf(), fifo.clone()], &Progress::default());
        assert_eq!(report.matches.len(), 1, "{report:?}");
        let mut buf = vec![0u8; CHUNK + s.max_len];
        let err = s
            .scan_file(&fifo, &Progress::default(), &mut buf)
            .unwrap_err();
        assert_eq!(err, "not a regular file");
    }

    #[test]
    fn a_file_full_of_copies_lists_the_first_thousand_and_says_so() {
        let s = scanner(&[SECRET]);
        let mut line = SECRET.to_vec();
        line.push(b'\n');
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("many"), line.repeat(1500)).unwrap();
        let report = s.scan(&[dir.path().to_path_buf()], &Progress::default());
        assert_eq!(report.matches.len(), MAX_COPIES_PER_FILE);
        assert_eq!(report.matches[999].line, 1000);
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0]
            .reason
            .starts_with("more than 1000 copies"));
        // Exactly the cap: all listed, nothing said.
        std::fs::write(dir.path().join("many"), line.repeat(1000)).unwrap();
        let report = s.scan(&[dir.path().to_path_buf()], &Progress::default());
        assert_eq!((report.matches.len(), report.skipped.len()), (1000, 0));
    }

    #[test]
    fn small_reads_find_every_copy_once_with_its_line_and_column() {
        // Reads of a few bytes put a read boundary inside, before and after
        // every copy: each must be found once, placed as a naive search of
        // the whole file places it, with no secret in any preview.
        let mut rng = Rng(0xfeed_beef_0bad_cafe);
        let dir = tempfile::tempdir().unwrap();
        for round in 0..30 {
            let alphabet: &[u8] = b"ab\nc";
            let values: Vec<Vec<u8>> = (0..1 + rng.below(6))
                .map(|_| {
                    (0..MIN_SECRET_LEN + rng.below(30))
                        .map(|_| b"xyz"[rng.below(3)])
                        .collect()
                })
                .collect();
            let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
            let s = scanner(&refs);
            let mut hay: Vec<u8> = (0..3000)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            // One whole copy in each eighth (a copy overwritten by another
            // would leave a fragment: not a copy, so not masked).
            for part in 0..8 {
                let p = &s.needles.patterns[rng.below(s.needles.patterns.len())];
                let at = part * 375 + rng.below(375 - p.len());
                hay[at..at + p.len()].copy_from_slice(p);
            }
            let mut naive: Vec<(u64, u64, usize)> = Vec::new();
            for (n, p) in s.needles.patterns.iter().enumerate() {
                for start in 0..=hay.len() - p.len() {
                    if hay[start..start + p.len()] == p[..] {
                        let before = &hay[..start];
                        let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
                        let line_start = before
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |i| i + 1);
                        naive.push((line, (start - line_start + 1) as u64, n));
                    }
                }
            }
            let path = dir.path().join(format!("f{round}"));
            std::fs::write(&path, &hay).unwrap();
            let keep = s.max_len - 1;
            for extra in [1, 2, 7, 33] {
                let mut buf = vec![0u8; keep + extra];
                let (found, note) = s.scan_file(&path, &Progress::default(), &mut buf).unwrap();
                assert!(note.is_none());
                let mut got: Vec<(u64, u64, usize)> = found
                    .iter()
                    .map(|m| {
                        let n = s
                            .needles
                            .origins
                            .iter()
                            .position(|o| o.key_id == m.key_id && o.encoding == m.encoding);
                        (m.line, m.column, n.unwrap())
                    })
                    .collect();
                got.sort_unstable();
                let mut want = naive.clone();
                want.sort_unstable();
                assert_eq!(got, want, "round {round}, read {extra} bytes at a time");
                assert_masked(&found, &refs);
            }
        }
    }

    #[test]
    fn a_short_value_is_masked_wherever_a_read_boundary_falls() {
        let short: &[u8] = b"pw1234";
        let mut n = Needles::default();
        n.add("k1", "bot", "api_secret", SECRET);
        n.add_as("k2", "other", "passphrase", short, false);
        let s = Scanner::new(n, 1 << 30).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        // The short value at every distance up to a preview's reach before
        // the copy, and just after it.
        for gap in [1, 20, 40, 44, 46, 48] {
            for lead in 0..40 {
                let mut bytes = vec![b'a'; lead];
                bytes.extend_from_slice(b"P=pw1234");
                bytes.extend(std::iter::repeat_n(b' ', gap));
                bytes.extend_from_slice(SECRET);
                bytes.extend_from_slice(b" Q=pw1234\n");
                std::fs::write(&path, &bytes).unwrap();
                for extra in [1, 3, 9, 20] {
                    let mut buf = vec![0u8; s.max_len - 1 + extra];
                    let (found, _) = s.scan_file(&path, &Progress::default(), &mut buf).unwrap();
                    assert_eq!(found.len(), 1, "gap {gap}, lead {lead}, reads of {extra}");
                    assert_masked(&found, &[SECRET, short]);
                }
            }
        }
    }

    #[test]
    fn the_size_limit_holds_at_the_byte_and_while_reading() {
        let dir = tree_with_secret(1, 10);
        let f = dir.path().join("f0.txt");
        let len = std::fs::metadata(&f).unwrap().len();
        let mut buf = vec![0u8; CHUNK + 128];
        let limited = |max| {
            let mut n = Needles::default();
            n.add("k", "bot", "api_secret", SECRET);
            Scanner::new(n, max).unwrap()
        };
        let found = limited(len)
            .scan_file(&f, &Progress::default(), &mut buf)
            .unwrap()
            .0;
        assert_eq!(found.len(), 1);
        let under = limited(len - 1);
        let err = under
            .scan_file(&f, &Progress::default(), &mut buf)
            .unwrap_err();
        assert!(err.starts_with("larger than"));
        // A file whose size says 0 but that reads on (a /proc file): cut
        // at the limit, and said so.
        let maps = Path::new("/proc/self/maps");
        let (found, note) = under
            .scan_file(maps, &Progress::default(), &mut buf)
            .unwrap();
        assert!(found.is_empty());
        assert!(note.is_some_and(|n| n.starts_with("larger than")));
        // The kernel's file systems are known, the root's is not among them.
        use std::os::unix::fs::MetadataExt;
        let system = system_devices();
        assert!(system.contains(&std::fs::metadata("/proc").unwrap().dev()));
        assert!(!system.contains(&std::fs::metadata("/").unwrap().dev()));
    }

    #[test]
    fn bytes_are_searched_as_a_file_would_be_under_the_name_given() {
        let s = scanner(&[SECRET]);
        let mut bytes = b"a\nb = ".to_vec();
        bytes.extend_from_slice(SECRET);
        let (found, note) = s.scan_bytes("src/conf.py", &bytes).unwrap();
        assert!(note.is_none());
        assert_eq!(found.len(), 1);
        let m = &found[0];
        assert_eq!((m.path.as_str(), m.line, m.column), ("src/conf.py", 2, 5));
        assert_masked(&found, &[SECRET]);
        let mut n = Needles::default();
        n.add("k", "bot", "api_secret", SECRET);
        let small = Scanner::new(n, bytes.len() as u64 - 1).unwrap();
        assert!(small
            .scan_bytes("src/conf.py", &bytes)
            .unwrap_err()
            .starts_with("larger than"));
    }

    /// A file that fails with EIO once `good` bytes have been read, on every
    /// pass (a bad sector stays bad).
    struct Failing {
        inner: std::io::Cursor<Vec<u8>>,
        good: u64,
    }

    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let left = self.good.saturating_sub(self.inner.position());
            if left == 0 {
                return Err(std::io::Error::from_raw_os_error(libc::EIO));
            }
            let n = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.inner.read(&mut out[..n])
        }
    }

    impl Seek for Failing {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn locate_keeps_the_places_it_reached_before_a_read_error() {
        let mut file = Failing {
            inner: std::io::Cursor::new(b"a\nbb\nccc\ndddd\n".to_vec()),
            good: 6,
        };
        let mut buf = vec![0u8; 4];
        let (places, failed) = locate(&mut file, &mut buf, [2u64, 5, 10].into_iter());
        assert_eq!(places, vec![(2, 1), (3, 1), (0, 0)]);
        assert!(failed.is_some());
    }

    #[test]
    fn a_read_error_part_way_keeps_the_copies_before_it_placed_and_says_so() {
        let s = scanner(&[SECRET]);
        let mut bytes = b"line one\nexport K=".to_vec();
        bytes.extend_from_slice(SECRET);
        bytes.extend_from_slice(b"\n");
        let bad_at = bytes.len() as u64 + 100;
        bytes.extend(std::iter::repeat_n(b'.', 300));
        bytes.extend_from_slice(SECRET);
        // The error falls in the first read, in a later one, and right at a
        // read's end; reads of a few bytes put boundaries everywhere.
        for extra in [5usize, 64, CHUNK] {
            let mut buf = vec![0u8; s.max_len - 1 + extra];
            let mut file = Failing {
                inner: std::io::Cursor::new(bytes.clone()),
                good: bad_at,
            };
            let (found, note) = s
                .search(Path::new("f"), &mut file, &Progress::default(), &mut buf)
                .unwrap();
            assert_eq!(found.len(), 1, "reads of {extra}");
            assert_eq!(
                (found[0].line, found[0].column),
                (2, 10),
                "reads of {extra}"
            );
            let note = note.unwrap_or_default();
            assert!(note.starts_with("read in part: "), "{note}");
            assert!(!note.contains("lines not counted"), "{note}");
            assert_masked(&found, &[SECRET]);
        }
        // Nothing readable at all: an error, not an empty result.
        let mut file = Failing {
            inner: std::io::Cursor::new(bytes.clone()),
            good: 0,
        };
        let mut buf = vec![0u8; CHUNK + s.max_len];
        let err = s
            .search(Path::new("f"), &mut file, &Progress::default(), &mut buf)
            .unwrap_err();
        assert!(!err.is_empty());
    }
}
