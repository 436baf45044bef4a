//! `keyward`: with no subcommand it opens the window; with one it is the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    keyward_app::cli::main()
}
