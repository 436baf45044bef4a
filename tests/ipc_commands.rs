//! The app's command list is written in four places that must agree: the
//! build step's list (which makes each command need a permission), the
//! handler registration, the main window's capability, and the window's
//! one IPC module. A command added to one and not the others either cannot
//! be called or is callable without being granted: this test names it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not found"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    &text[from..to]
}

/// Every `"…"` in `text`, with `prefix` removed from those that have it.
fn quoted(text: &str, prefix: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter_map(|s| s.strip_prefix(prefix))
        .map(str::to_owned)
        .collect()
}

fn build_list() -> BTreeSet<String> {
    quoted(
        between(&read("src-tauri/build.rs"), "const COMMANDS", "];"),
        "",
    )
}

fn handlers() -> BTreeSet<String> {
    between(&read("src-tauri/lib.rs"), "generate_handler![", "]")
        .split(',')
        .filter_map(|path| path.trim().rsplit("::").next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

fn capability() -> BTreeSet<String> {
    let json: serde_json::Value =
        serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap();
    json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect()
}

fn ui_calls() -> BTreeSet<String> {
    let ts = read("ui/src/lib/ipc/index.ts");
    ts.split("call<")
        .skip(1)
        .filter_map(|rest| {
            let after = &rest[rest.find(">(\"")? + 3..];
            Some(after[..after.find('"')?].to_owned())
        })
        .collect()
}

#[test]
fn the_four_command_lists_agree() {
    let build = build_list();
    assert!(build.len() > 50, "{build:?}");
    for (what, list) in [
        ("generate_handler! in src-tauri/lib.rs", handlers()),
        ("src-tauri/capabilities/main.json", capability()),
        ("ui/src/lib/ipc/index.ts", ui_calls()),
    ] {
        let missing: Vec<_> = build.difference(&list).collect();
        let extra: Vec<_> = list.difference(&build).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{what} disagrees with src-tauri/build.rs: missing {missing:?}, not in build.rs {extra:?}"
        );
    }
}
