//! `glossa`: read a transformer's parameters in its own vocabulary.
//!
//! This binary only turns flags into configuration, calls the libraries, and
//! prints; every stage lives in a crate under `crates/`. What to type about
//! an error (a flag, a command) is said here, in [`hints`], never by a library.

mod args;
mod commands;
mod hints;
mod output;
mod plots;
mod progress;
mod render;
mod resolve;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse_from(args::arrows_as_words(std::env::args_os()));
    let topic = args.command.topic();
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped reading (`glossa search x | head -1`) is no
        // failure: end quietly, as coreutils and ripgrep do.
        Err(error) if output::is_closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error, hints::hint(&error, topic));
            exit_code(&error)
        }
    }
}

/// Prints the error, its causes and a hint to standard error. A standard
/// error that cannot be written (a closed pipe) loses the message, never
/// the exit code: `eprintln!` would panic there.
fn report(error: &anyhow::Error, hint: Option<String>) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let mut text = format!("error: {error}\n");
    for cause in error.chain().skip(1) {
        text.push_str(&format!("  caused by: {cause}\n"));
    }
    if let Some(hint) = hint {
        text.push_str(&format!("  hint: {hint}\n"));
    }
    let _ = stderr.write_all(text.as_bytes());
}

/// The exit codes the README documents: 1 for a failed command, 3 when
/// `glossa verify` ran and found problems (2, a usage error, is clap's).
fn exit_code(error: &anyhow::Error) -> ExitCode {
    if error.is::<commands::VerifyFailed>() {
        ExitCode::from(3)
    } else {
        ExitCode::FAILURE
    }
}
