//! The operating system's edges, each behind a small type: the clipboard,
//! desktop notifications, the wall-clock timer reminders sleep on, and
//! autostart at login.

pub mod clipboard;
pub mod autostart;
pub mod notify;
pub mod timer;
