//! The core's structure, checked: each top-level module imports only from
//! modules of lower layers (so no cycle can form), and one module alone
//! writes a key's status. `docs/architecture.md` draws the same table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top. A module may use `crate::X` only for X in a lower layer.
const LAYERS: &[&[&str]] = &[
    &["secret", "timefmt", "fsio", "field", "render", "platforms"],
    &["vault"],
    &["key", "settings"],
    &["due", "followup"],
    &["inventory", "hold", "copies"],
    &["lifecycle"],
    &["findings"],
    &[
        "rotation",
        "review",
        "incident",
        "scan",
        "backup",
        "interchange",
    ],
    &["reminder"],
];

/// Test support (`#[doc(hidden)]`): builds vaults for benchmarks and tests,
/// above everything.
const SUPPORT: &[&str] = &["testdata"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(module: &str) -> Option<usize> {
    if SUPPORT.contains(&module) {
        return Some(LAYERS.len());
    }
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a source file belongs to (`vault/audit.rs` → vault).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The code without comments and without the unit-test module at the end
/// of the file (tests may borrow from anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module named after `crate::`, including inside `crate::{a, b::c}`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group, skipping nested braces.
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                if depth == 0 && at_start && (c.is_alphanumeric() || c == '_') {
                    name.push(c);
                    continue;
                }
                if !name.is_empty() {
                    out.insert(std::mem::take(&mut name));
                    at_start = false;
                }
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `crate::keywords!`: a macro at the crate's root, not a module.
            if !rest[name.len()..].starts_with('!') {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn each_module_imports_only_from_lower_layers() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for f in &files {
        let module = module_of(f);
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            problems.push(format!("{module}: not in the layer table"));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        for used in crate_paths(&code) {
            if used == module || used == "self" {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(l) => problems.push(format!(
                    "{} (layer {own}) uses crate::{used} (layer {l})",
                    f.strip_prefix(src()).unwrap().display()
                )),
                None => problems.push(format!(
                    "{} uses crate::{used}, which is not in the layer table",
                    f.strip_prefix(src()).unwrap().display()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    let code = "use crate::{a, b::{c, d}, e::f};\nlet x = crate::g::h();\n// crate::comment\ncrate::m!(X);\n";
    let found: Vec<String> = crate_paths(&code_of(code)).into_iter().collect();
    assert_eq!(found, ["a", "b", "e", "g"]);
}

#[test]
fn only_the_lifecycle_writes_a_keys_status() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut writers = BTreeSet::new();
    for f in &files {
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
        let upper = flat.to_ascii_uppercase();
        let mut rest = upper.as_str();
        while let Some(i) = rest.find("UPDATE ENTRIES SET") {
            rest = &rest[i + "UPDATE ENTRIES SET".len()..];
            let statement = rest.split(['"', ';']).next().unwrap_or("");
            let sets_status = statement
                .split("WHERE")
                .next()
                .unwrap_or("")
                .split(',')
                .any(|a| a.trim().starts_with("STATUS"));
            if sets_status {
                writers.insert(f.strip_prefix(src()).unwrap().display().to_string());
            }
        }
    }
    assert_eq!(
        writers.into_iter().collect::<Vec<_>>(),
        ["lifecycle.rs"],
        "UPDATE entries SET status outside the lifecycle"
    );
}
