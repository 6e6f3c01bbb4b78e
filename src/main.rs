//! `glossa`: read a transformer's parameters in its own vocabulary.
//!
//! This binary only turns flags into configuration, calls the libraries, and
//! prints; every stage lives in a crate under `crates/`.

mod args;
mod commands;
mod plots;
mod progress;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if let Some(hint) = io_hint(&error) {
                eprintln!("  hint: {hint}");
            }
            exit_code(&error)
        }
    }
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

/// What to do about a file system error the message alone may leave open.
fn io_hint(error: &anyhow::Error) -> Option<&'static str> {
    use std::io::ErrorKind;
    let io = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())?;
    match io.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some(
            "the disk is full: free some space (or extract to another --out); rerunning the same extraction resumes it",
        ),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            Some("the path is not writable: fix its permissions (or extract to another --out)")
        }
        ErrorKind::NotADirectory => {
            Some("a part of the path is a file, not a directory: choose another path")
        }
        _ => None,
    }
}
