//! The UI's TypeScript types are generated from the Rust types, never written
//! by hand: this test regenerates them and fails if the committed files in
//! `ui/src/lib/ipc/bindings/` differ. To update after changing an IPC type:
//! `KEYWARD_UPDATE_BINDINGS=1 cargo test --test bindings`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "ts") {
                out.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn committed_typescript_bindings_match_the_rust_types() {
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/ipc/bindings");
    let fresh = tempfile::tempdir().unwrap();
    keyward_app::bindings::export_all(fresh.path()).unwrap();
    let fresh_files = read_dir(fresh.path());
    assert!(
        fresh_files.contains_key("Entry.ts"),
        "{:?}",
        fresh_files.keys()
    );

    if std::env::var_os("KEYWARD_UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &fresh_files {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = read_dir(&committed_dir);
    for (name, text) in &fresh_files {
        match committed.get(name) {
            None => panic!("{name} is missing from ui/src/lib/ipc/bindings: run KEYWARD_UPDATE_BINDINGS=1 cargo test --test bindings"),
            Some(c) => assert_eq!(c, text, "{name} is out of date: run KEYWARD_UPDATE_BINDINGS=1 cargo test --test bindings"),
        }
    }
    for name in committed.keys() {
        assert!(
            fresh_files.contains_key(name),
            "{name} no longer matches a Rust type: remove it"
        );
    }
}
