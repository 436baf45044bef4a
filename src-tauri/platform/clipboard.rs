//! Copying a secret to the system clipboard, in Rust: the value goes from
//! the vault to the clipboard without passing through the web UI.
//!
//! The copy is marked as a secret for clipboard managers where the platform
//! allows (on X11/KDE `x-kde-passwordManagerHint: secret`, via arboard's
//! `exclude_from_history`), and cleared after a delay — but only if the
//! clipboard still holds it: something the user copied meanwhile is left
//! alone. Only a salted hash of the value is kept while waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyward_core::secret::Witness;
use keyward_core::SecretValue;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("this secret is not text and cannot be copied to the clipboard")]
    NotText,
    #[error("the clipboard is not available: {0}")]
    Unavailable(String),
}

/// The app's one clipboard handle. On X11 the process that copied serves the
/// clipboard's contents, so the handle lives as long as the app.
#[derive(Default)]
pub struct SecretClipboard {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    board: Mutex<Option<arboard::Clipboard>>,
    /// Bumped by every copy, so an older timer never clears a newer copy.
    generation: AtomicU64,
    witness: Mutex<Option<Witness>>,
}

impl SecretClipboard {
    /// Puts `value` on the clipboard and schedules its removal.
    pub fn copy(&self, value: &SecretValue, clear_after: Duration) -> Result<(), Error> {
        // EXPOSE: copying to the clipboard is the point of this function.
        let text = std::str::from_utf8(value.expose()).map_err(|_| Error::NotText)?;
        let generation = {
            let mut board = lock(&self.inner.board);
            if board.is_none() {
                *board =
                    Some(arboard::Clipboard::new().map_err(|e| Error::Unavailable(e.to_string()))?);
            }
            let Some(cb) = board.as_mut() else {
                return Err(Error::Unavailable("no clipboard".into()));
            };
            set_secret_text(cb, text).map_err(|e| Error::Unavailable(e.to_string()))?;
            *lock(&self.inner.witness) = Some(Witness::of(value.expose()));
            self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1
        };
        let inner = Arc::clone(&self.inner);
        std::thread::spawn(move || {
            std::thread::sleep(clear_after);
            if inner.generation.load(Ordering::SeqCst) == generation {
                inner.clear_if_ours();
            }
        });
        Ok(())
    }

    /// Puts text that is not a secret (an incident summary) on the
    /// clipboard, to stay: no history exclusion, no timer. A secret copied
    /// before is replaced, so its timer has nothing left to clear.
    pub fn copy_plain(&self, text: &str) -> Result<(), Error> {
        let mut board = lock(&self.inner.board);
        if board.is_none() {
            *board =
                Some(arboard::Clipboard::new().map_err(|e| Error::Unavailable(e.to_string()))?);
        }
        let Some(cb) = board.as_mut() else {
            return Err(Error::Unavailable("no clipboard".into()));
        };
        cb.set_text(text)
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        *lock(&self.inner.witness) = None;
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Clears the clipboard now if it still holds the last copied secret
    /// (on lock and on exit).
    pub fn clear_if_ours(&self) {
        self.inner.clear_if_ours();
    }
}

impl Inner {
    fn clear_if_ours(&self) {
        let mut witness = lock(&self.witness);
        let Some(w) = witness.as_ref() else {
            return;
        };
        let mut board = lock(&self.board);
        let Some(cb) = board.as_mut() else {
            return;
        };
        let still_ours = cb
            .get_text()
            .map(|t| {
                let t = zeroize::Zeroizing::new(t);
                w.matches(t.as_bytes())
            })
            .unwrap_or(false);
        if still_ours {
            let _ = cb.clear();
        }
        *witness = None;
    }
}

#[cfg(target_os = "linux")]
fn set_secret_text(cb: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtLinux;
    cb.set().exclude_from_history().text(text)
}

#[cfg(not(target_os = "linux"))]
fn set_secret_text(cb: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    cb.set().text(text)
}

/// A poisoned lock only means another thread panicked mid-copy; the data
/// (a handle and a hash) is still sound.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
