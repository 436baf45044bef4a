//! The operating system's edges, each behind a small type: for now the
//! clipboard. Notifications, the keyring and the tray come with their issues.

pub mod clipboard;
