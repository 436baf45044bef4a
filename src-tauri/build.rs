//! Tauri's build step. Capabilities live under src-tauri/capabilities; every
//! app command must be listed here so that it has to be granted explicitly
//! (`allow-<command>`) in a capability — otherwise every window could call it.

const COMMANDS: &[&str] = &[];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
