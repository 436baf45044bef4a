//! Leak scan: find copies of the vault's own secrets in files on this
//! machine — exactly, byte for byte, with no guessing by pattern.
//!
//! The needles are the stored secret values (and, for values long enough to
//! make it unambiguous, their base64, URL-encoded and hex forms), held in
//! zeroizing buffers for the scan only. Files are walked in parallel with
//! the `ignore` crate (its ignore rules switched off: `.env` files hide in
//! git-ignored places) and searched with one Aho-Corasick automaton, in
//! chunks that overlap by the longest needle so a match across two reads is
//! still found. A result names the file, line, column, key and field, and
//! previews the line with the secret masked — never the secret itself.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
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
const CHUNK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "scan: no stored secret is long enough to search for (at least {MIN_SECRET_LEN} bytes)"
    )]
    NothingToFind,
    #[error("scan: the search could not be built: {0}")]
    Matcher(String),
    #[error(transparent)]
    Inventory(#[from] inventory::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a secret appears in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase", rename = "ScanEncoding")]
pub enum Encoding {
    Raw,
    Base64,
    Url,
    Hex,
}

/// What one needle stands for (never its bytes).
#[derive(Clone, Debug)]
struct Origin {
    key_id: String,
    label: String,
    field: String,
    encoding: Encoding,
}

/// The secrets to look for, decrypted for the scan only.
pub struct Needles {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    origins: Vec<Origin>,
    /// Secret fields too short to search for.
    pub too_short: Vec<(String, String)>,
}

impl Needles {
    /// Every stored secret field (of one key, if `key` is given), with its
    /// encodings. Each value taken is audited as a scan (`secret.reveal`
    /// would mislead): one audit row for the whole scan is written by the caller.
    pub fn from_vault(vault: &Vault, key: Option<&str>) -> Result<Self> {
        let entries = match key {
            Some(k) => vec![inventory::get(vault, k)?],
            None => inventory::list(vault)?,
        };
        let mut n = Needles {
            patterns: Vec::new(),
            origins: Vec::new(),
            too_short: Vec::new(),
        };
        for e in &entries {
            for field in &e.secret_fields {
                let value = inventory::take_secret_quietly(vault, &e.id, field.as_str())?;
                n.add(&e.id, &e.label, field.as_str(), value.expose());
            }
        }
        if n.patterns.is_empty() {
            return Err(Error::NothingToFind);
        }
        Ok(n)
    }

    /// Adds one secret value and its encoded forms.
    pub fn add(&mut self, key_id: &str, label: &str, field: &str, value: &[u8]) {
        if value.len() < MIN_SECRET_LEN {
            self.too_short.push((key_id.to_owned(), field.to_owned()));
            return;
        }
        let mut push = |bytes: Vec<u8>, encoding: Encoding| {
            let bytes = Zeroizing::new(bytes);
            if self.patterns.iter().any(|p| **p == *bytes) {
                return;
            }
            self.patterns.push(bytes);
            self.origins.push(Origin {
                key_id: key_id.to_owned(),
                label: label.to_owned(),
                field: field.to_owned(),
                encoding,
            });
        };
        push(value.to_vec(), Encoding::Raw);
        if value.len() >= MIN_ENCODED_LEN {
            let b64 = base64::engine::general_purpose::STANDARD.encode(value);
            // Without padding too: the padding depends on what follows.
            push(
                b64.trim_end_matches('=').as_bytes().to_vec(),
                Encoding::Base64,
            );
            let url: String =
                percent_encoding::percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            if url.as_bytes() != value {
                push(url.into_bytes(), Encoding::Url);
            }
            push(hex::encode(value).into_bytes(), Encoding::Hex);
        }
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// One copy found.
#[derive(Clone, Debug, Serialize, TS)]
#[ts(rename = "ScanMatch")]
pub struct Match {
    pub path: String,
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

/// Live counters (for a progress bar) and the cancel switch.
#[derive(Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub cancel: AtomicBool,
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

/// The compiled search.
pub struct Scanner {
    ac: AhoCorasick,
    needles: Needles,
    max_len: usize,
    max_file: u64,
}

impl Scanner {
    /// `max_file`: larger files are reported as skipped.
    pub fn new(needles: Needles, max_file: u64) -> Result<Self> {
        // A DFA: matching speed does not fall with the number of needles
        // the way the prefilter-driven searchers do past ~64 patterns.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(needles.patterns.iter().map(|p| p.as_slice()))
            .or_else(|_| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(needles.patterns.iter().map(|p| p.as_slice()))
            })
            .map_err(|e| Error::Matcher(e.to_string()))?;
        let max_len = needles.patterns.iter().map(|p| p.len()).max().unwrap_or(1);
        Ok(Scanner {
            ac,
            needles,
            max_len,
            max_file,
        })
    }

    /// Scans `roots` (files or folders), in parallel.
    pub fn scan(&self, roots: &[PathBuf], progress: &Progress) -> Report {
        let report = Mutex::new(Report::default());
        let mut roots_iter = roots.iter();
        let Some(first) = roots_iter.next() else {
            return Report::default();
        };
        let mut builder = ignore::WalkBuilder::new(first);
        for r in roots_iter {
            builder.add(r);
        }
        builder
            .standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .threads(std::thread::available_parallelism().map_or(2, |n| n.get()));
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                if progress.cancel.load(Ordering::Relaxed) {
                    return ignore::WalkState::Quit;
                }
                let skip = |path: String, reason: String| {
                    if let Ok(mut r) = report.lock() {
                        r.skipped.push(Skipped { path, reason });
                    }
                };
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        skip(String::new(), walk_error(&e));
                        return ignore::WalkState::Continue;
                    }
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let path = entry.path();
                match self.scan_file(path, progress) {
                    Ok(found) => {
                        progress.files.fetch_add(1, Ordering::Relaxed);
                        if !found.is_empty() {
                            if let Ok(mut r) = report.lock() {
                                r.matches.extend(found);
                            }
                        }
                    }
                    Err(reason) => skip(path.display().to_string(), reason),
                }
                ignore::WalkState::Continue
            })
        });
        let mut report = report.into_inner().unwrap_or_default();
        report.files = progress.files.load(Ordering::Relaxed);
        report.bytes = progress.bytes.load(Ordering::Relaxed);
        report.cancelled = progress.cancel.load(Ordering::Relaxed);
        report
            .matches
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        report
    }

    /// Searches one file in overlapping chunks; `Err` is why it was skipped.
    fn scan_file(&self, path: &Path, progress: &Progress) -> Result<Vec<Match>, String> {
        let mut file = File::open(path).map_err(|e| io_reason(&e))?;
        let len = file.metadata().map_err(|e| io_reason(&e))?.len();
        if len > self.max_file {
            return Err(format!("larger than the {} MiB limit", self.max_file >> 20));
        }
        let keep = self.max_len.saturating_sub(1);
        let mut buf = vec![0u8; CHUNK + keep];
        // `carry` bytes at the start of `buf` are the end of the last chunk.
        let mut carry = 0usize;
        // Offset in the file of buf[0], and the line count before buf[0].
        let mut base: u64 = 0;
        let mut line_base: u64 = 1;
        // Offset in the file where the line containing buf[0] starts.
        let mut line_start_abs: u64 = 0;
        let mut out = Vec::new();
        loop {
            if progress.cancel.load(Ordering::Relaxed) {
                break;
            }
            let room = buf.len() - carry;
            let n = read_full(&mut file, &mut buf[carry..]).map_err(|e| io_reason(&e))?;
            if n == 0 {
                break;
            }
            progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
            let filled = carry + n;
            let hay = &buf[..filled];
            // Every match in the chunk: a preview masks all of them, not
            // only its own (two secrets often share a line).
            let found: Vec<aho_corasick::Match> = self.ac.find_overlapping_iter(hay).collect();
            let ranges: Vec<(usize, usize)> = found.iter().map(|m| (m.start(), m.end())).collect();
            // Bytes near the end of a full read may start a secret that the
            // next read completes: previews stop before them.
            let at_eof = n < room;
            let safe_end = if at_eof {
                filled
            } else {
                filled - keep.min(filled)
            };
            for m in &found {
                // Matches wholly inside the carried bytes were found last round.
                if m.end() <= carry {
                    continue;
                }
                let before = &hay[..m.start()];
                let nl_in_before = memchr::memchr_iter(b'\n', before).count() as u64;
                let line = line_base + nl_in_before;
                let line_start = match memchr::memrchr(b'\n', before) {
                    Some(i) => base + i as u64 + 1,
                    None => line_start_abs,
                };
                let column = base + m.start() as u64 - line_start + 1;
                let o = &self.needles.origins[m.pattern().as_usize()];
                out.push(Match {
                    path: path.display().to_string(),
                    line,
                    column,
                    key_id: o.key_id.clone(),
                    label: o.label.clone(),
                    field: o.field.clone(),
                    encoding: o.encoding,
                    preview: preview(&hay[..m.end().max(safe_end)], m.start(), m.end(), &ranges),
                });
            }
            // Advance: keep the last `keep` bytes for matches across chunks.
            let new_carry = keep.min(filled);
            let consumed = filled - new_carry;
            let consumed_part = &buf[..consumed];
            line_base += memchr::memchr_iter(b'\n', consumed_part).count() as u64;
            if let Some(i) = memchr::memrchr(b'\n', consumed_part) {
                line_start_abs = base + i as u64 + 1;
            }
            base += consumed as u64;
            buf.copy_within(consumed..filled, 0);
            carry = new_carry;
        }
        // Wipe what was read: it may hold secrets.
        zeroize::Zeroize::zeroize(&mut buf);
        Ok(out)
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while total < buf.len() {
        match f.read(&mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "vanished during the scan".into(),
        std::io::ErrorKind::PermissionDenied => "not readable (permission denied)".into(),
        _ => format!("not readable ({e})"),
    }
}

fn walk_error(e: &ignore::Error) -> String {
    let text = e.to_string();
    if text.contains("loop") {
        format!("symlink loop: {text}")
    } else {
        format!("not walkable: {text}")
    }
}

/// The match's line, printable, at most 50 bytes either side, with this
/// secret and every other one found nearby masked.
fn preview(hay: &[u8], start: usize, end: usize, all: &[(usize, usize)]) -> String {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
    let from = line_start.max(start.saturating_sub(50));
    let to = line_end.min(end + 50);
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
        let mut n = Needles {
            patterns: Vec::new(),
            origins: Vec::new(),
            too_short: Vec::new(),
        };
        for (i, v) in values.iter().enumerate() {
            n.add(&format!("key{i}"), "bot", "api_secret", v);
        }
        Scanner::new(n, 1 << 30).unwrap()
    }

    fn find(s: &Scanner, bytes: &[u8]) -> Vec<Match> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        s.scan_file(&p, &Progress::default()).unwrap()
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
}
