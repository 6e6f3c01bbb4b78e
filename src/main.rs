//! `glossa`: read a transformer's parameters in its own vocabulary.
//!
//! This binary only turns flags into configuration, calls the libraries, and
//! prints; every stage lives in a crate under `crates/`.

mod args;
mod commands;
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
            ExitCode::FAILURE
        }
    }
}
