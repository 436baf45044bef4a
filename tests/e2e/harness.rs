//! What the end-to-end suite and the window benchmarks share: running
//! inside the throwaway desktop, starting a WebDriver session with the app,
//! and small helpers over the WebDriver client.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Outside the desktop: starts it (`dbus-run-session -- scripts/with-desktop.sh`)
/// with this same binary inside, and exits with its status. Inside: returns.
pub fn ensure_desktop() {
    if std::env::var_os("WEBDRIVER_URL").is_some() {
        return;
    }
    let status = Command::new("dbus-run-session")
        .arg("--")
        .arg(repo().join("scripts/with-desktop.sh"))
        .arg(std::env::current_exe().unwrap())
        .args(std::env::args().skip(1))
        .status()
        .expect("dbus-run-session (package dbus) must be installed: run scripts/bootstrap");
    std::process::exit(status.code().unwrap_or(1));
}

/// A WebDriver session with the app at `app`, started with `args`.
pub async fn session(app: &Path, args: &[&str]) -> Client {
    // No browserName: WebKitWebDriver only matches when the client leaves it
    // out (tauri-driver reports "wry" itself). An incognito webview cannot
    // be automated, which is why the window keeps WebKit's default storage.
    let caps = serde_json::json!({
        "tauri:options": { "application": app.to_str().unwrap(), "args": args }
    });
    let url = std::env::var("WEBDRIVER_URL").unwrap();
    ClientBuilder::native()
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&url)
        .await
        .expect("a WebDriver session with the app")
}

pub type Step = Result<(), String>;

/// Small helpers over the WebDriver client: find with waiting, type, click.
pub struct Ui {
    pub c: Client,
}

pub const WAIT: Duration = Duration::from_secs(10);

impl Ui {
    pub async fn find(&self, css: &str) -> Result<Element, String> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("{css}: {e}"))
    }
    pub async fn wait(&self, css: &str) -> Step {
        self.find(css).await.map(|_| ())
    }
    pub async fn click(&self, css: &str) -> Step {
        self.find(css)
            .await?
            .click()
            .await
            .map_err(|e| format!("click {css}: {e}"))
    }
    pub async fn click_xpath(&self, xpath: &str) -> Step {
        let el = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(xpath))
            .await
            .map_err(|e| format!("{xpath}: {e}"))?;
        el.click().await.map_err(|e| format!("click {xpath}: {e}"))
    }
    pub async fn typ(&self, css: &str, text: &str) -> Step {
        self.find(css)
            .await?
            .send_keys(text)
            .await
            .map_err(|e| format!("type into {css}: {e}"))
    }
    pub async fn clear(&self, css: &str) -> Step {
        let el = self.find(css).await?;
        // Select all and delete, so the page sees input events.
        el.send_keys("\u{E009}a\u{E009}\u{E003}")
            .await
            .map_err(|e| format!("clear {css}: {e}"))
    }
    pub async fn select(&self, css: &str, value: &str) -> Step {
        self.find(css)
            .await?
            .select_by_value(value)
            .await
            .map_err(|e| format!("select {css}: {e}"))
    }
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.c
            .find(Locator::Css(css))
            .await
            .ok()?
            .attr(name)
            .await
            .ok()?
    }
    pub async fn value(&self, css: &str) -> Option<String> {
        self.c
            .find(Locator::Css(css))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()?
    }
    /// The text of every element matching `css`, read in one script call
    /// (element-by-element reads race with re-renders).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent.trim());";
        match self.c.execute(script, vec![serde_json::json!(css)]).await {
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
    pub async fn until<F, Fut>(&self, what: &str, check: F) -> Step
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.until_within(what, WAIT, check).await
    }
    pub async fn until_within<F, Fut>(&self, what: &str, limit: Duration, mut check: F) -> Step
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while start.elapsed() < limit {
            if check().await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("timed out waiting for {what}"))
    }
    pub async fn wait_text(&self, css: &str, text: &str) -> Step {
        self.until(&format!("{css} to read {text:?}"), || async {
            self.texts(css).await.iter().any(|t| t.contains(text))
        })
        .await
    }
    pub async fn gone(&self, css: &str) -> Step {
        self.until(&format!("{css} to close"), || async {
            self.c.find(Locator::Css(css)).await.is_err()
        })
        .await
    }
    pub async fn wait_count(&self, n: usize) -> Step {
        self.wait_text(".count", &format!("{n} keys")).await?;
        self.until(&format!("{n} rows"), || async {
            self.texts("[role=row] .label-text").await.len() == n
        })
        .await
    }
    pub async fn expect_rows(&self, labels: &[&str]) -> Step {
        self.until(&format!("rows {labels:?}"), || async {
            self.texts("[role=row] .label-text").await == labels
        })
        .await
    }
    /// Saves a screenshot of the window to target/screenshots/NAME.png
    /// (`scripts/update-screenshots` copies them to docs/screenshots: a
    /// test run leaves the work tree as it was), after
    /// a frame so the last change is painted. Taken from the X display
    /// (`import`): WebKit's own WebDriver screenshot never returns when
    /// compositing is off, as the app runs it.
    pub async fn shot(&self, name: &str) {
        let _ = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let window = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "^Keyward$"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .unwrap_or_else(|| "root".into());
        let ok = Command::new("import")
            .args([
                "-window",
                &window,
                dir.join(format!("{name}.png")).to_str().unwrap(),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("  screenshot {name} failed");
        }
    }
}

/// Where the suite's screenshots go: ignored by git, so `npm test` leaves
/// `git status` clean.
pub fn screenshot_dir() -> PathBuf {
    repo().join("target/screenshots")
}
