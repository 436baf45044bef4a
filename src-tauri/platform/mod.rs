//! The operating system's edges, each behind a small type: the clipboard,
//! desktop notifications, the wall-clock timer reminders sleep on, and
//! autostart at login.

pub mod autostart;
pub mod clipboard;
pub mod notify;
pub mod timer;
