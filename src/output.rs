//! Standard output that fails instead of panicking.
//!
//! `print!` panics when standard output is a closed pipe or a full disk;
//! every command writes through [`emit`] instead, and `main` ends quietly on
//! a closed pipe and reports any other write error.

use std::io::Write;

/// Writing to standard output failed.
#[derive(Debug, thiserror::Error)]
#[error("could not write to standard output")]
pub struct StdoutError(#[source] std::io::Error);

/// Writes `text` to standard output and flushes it.
pub fn emit(text: &str) -> Result<(), StdoutError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(StdoutError)
}

/// Whether `error` is a write to standard output whose reader has gone.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<StdoutError>()
        .is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
}
