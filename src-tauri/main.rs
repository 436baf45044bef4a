//! `keyward`: with no subcommand it opens the window; with one it is the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let _ = keyward_app::started();
    keyward_app::cli::main()
}
