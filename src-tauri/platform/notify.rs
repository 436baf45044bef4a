//! Desktop notifications (freedesktop Notifications over D-Bus, through
//! notify-rust on the libdbus binding the window toolkit already links).
//!
//! A notification carries what the user needs to act — platform, label,
//! when — and never a secret or an id. Detailed ones (vault unlocked) may
//! carry an "Open" action that brings the window to the key; generic ones
//! (vault locked) name no key at all.

use notify_rust::{Notification, Timeout, Urgency};

/// The application name notification servers show and group by.
const APP_NAME: &str = "Keyward";
/// The action id for "Open": the key is found again by the caller.
pub const ACTION_OPEN: &str = "open";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("notifications: no notification service answered on the session bus ({0})")]
    Unavailable(String),
}

/// One notification to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
    /// Overdue or due today: shown as urgent where the server supports it.
    pub urgent: bool,
    /// Offer an "Open" action (only where the server supports actions).
    pub open_action: bool,
}

/// Whether the server can show buttons (dunst, GNOME, KDE can; some
/// minimal servers cannot, and then the action is left out).
pub fn supports_actions() -> bool {
    notify_rust::get_capabilities()
        .map(|caps| caps.iter().any(|c| c == "actions"))
        .unwrap_or(false)
}

/// Called with the action id when the user clicks a notification's button.
pub type OnAction = Box<dyn FnOnce(&str) + Send>;

/// Shows a notification. With `on_action`, waits on a background thread
/// for the user's click and calls it with the action id.
pub fn show(notice: &Notice, on_action: Option<OnAction>) -> Result<(), Error> {
    let mut n = Notification::new();
    n.appname(APP_NAME)
        .summary(&notice.summary)
        .body(&notice.body)
        .icon("keyward")
        .timeout(Timeout::Default)
        .urgency(if notice.urgent {
            Urgency::Critical
        } else {
            Urgency::Normal
        });
    let wants_action = notice.open_action && on_action.is_some() && supports_actions();
    if wants_action {
        n.action("default", "Open").action(ACTION_OPEN, "Open");
    }
    let Some(callback) = on_action.filter(|_| wants_action) else {
        n.show().map_err(|e| Error::Unavailable(e.to_string()))?;
        return Ok(());
    };
    // The libdbus handle cannot cross threads: the thread that shows the
    // notification also waits (blocking on D-Bus signals) for its click,
    // and reports whether showing worked.
    let (shown_tx, shown_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("notification".into())
        .spawn(move || match n.show() {
            Ok(handle) => {
                let _ = shown_tx.send(Ok(()));
                handle.wait_for_action(|action| {
                    if action == ACTION_OPEN || action == "default" {
                        callback(ACTION_OPEN);
                    }
                });
            }
            Err(e) => {
                let _ = shown_tx.send(Err(Error::Unavailable(e.to_string())));
            }
        })
        .map_err(|e| Error::Unavailable(e.to_string()))?;
    shown_rx
        .recv()
        .unwrap_or_else(|_| Err(Error::Unavailable("the notification thread ended".into())))
}
