//! What can go wrong while reading a corpus.

use std::path::PathBuf;

/// The result of corpus operations.
pub type Result<T, E = CorpusError> = std::result::Result<T, E>;

/// An error while finding, reading or tokenizing a corpus.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Hub(#[from] glossa_load::LoadError),

    #[error("{path}: line {line}: not a JSON object: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error("{path}: {message}")]
    Csv { path: PathBuf, message: String },

    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },

    #[error("{path}: no text column {column:?}; pass --text-column NAME (columns: {})", found.join(", "))]
    NoTextColumn {
        path: PathBuf,
        column: String,
        found: Vec<String>,
    },

    #[error("{0}: no such file or directory")]
    Missing(PathBuf),

    #[error("{what} holds no corpus files (looked for {pattern})")]
    NoFiles { what: String, pattern: String },

    #[error("tokenizing failed: {0}")]
    Tokenizer(String),
}

impl CorpusError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CorpusError {
        let path = path.into();
        move |source| CorpusError::Io { path, source }
    }
}
