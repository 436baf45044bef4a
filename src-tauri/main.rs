//! `keyward`: with no subcommand it opens the window; with one it is the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let _ = keyward_app::started();
    // Before anything holds a secret: no core dump, no ptrace, no
    // /proc/PID/mem for other processes of this user.
    if let Err(e) = keyward_app::harden_process() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("warning: could not turn core dumps off: {e}");
        }
    }
    keyward_app::cli::main()
}
