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

    #[error("{path}: line {line}: not JSON")]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path}: line {line}: not a JSON object")]
    NotAnObject { path: PathBuf, line: usize },

    #[error("{path}: not a readable CSV file")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    #[error("{path}: not a readable Parquet file")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("{path}: not a readable Parquet file")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow_schema::ArrowError,
    },

    #[error("{path}: column {column:?} holds {found}, not text")]
    NotText {
        path: PathBuf,
        column: String,
        found: String,
    },

    #[error("{path}: no text column {column:?} (columns: {})", found.join(", "))]
    NoTextColumn {
        path: PathBuf,
        column: String,
        found: Vec<String>,
    },

    #[error("{0}: no such file or directory")]
    Missing(PathBuf),

    #[error("invalid file pattern {pattern:?}")]
    Pattern {
        pattern: String,
        #[source]
        source: globset::Error,
    },

    #[error("{what} holds no corpus files (looked for {pattern})")]
    NoFiles { what: String, pattern: String },

    #[error("the tokenizer failed on a text of the corpus")]
    Encoding {
        #[source]
        source: tokenizers::Error,
    },
}

impl CorpusError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CorpusError {
        let path = path.into();
        move |source| CorpusError::Io { path, source }
    }
}
