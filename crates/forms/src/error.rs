//! What can go wrong reading a dictionary.

use std::path::PathBuf;

/// A dictionary that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the word-form dictionary file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: the character set {set} is not one this reader decodes (UTF-8, ISO8859-1, ISO8859-2)")]
    Encoding { path: PathBuf, set: String },

    #[error("{path}, line {line}: {reason}")]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// A result whose error is an [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
