//! What can go wrong while writing or reading tables.

use std::path::PathBuf;

/// The result of table operations.
pub type Result<T, E = TableError> = std::result::Result<T, E>;

/// An error while writing or reading a dataset's files.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("{path}: column {column:?} is missing or has the wrong type; the file does not follow schema version {version}")]
    Schema {
        path: PathBuf,
        column: &'static str,
        version: u32,
    },

    #[error("{path}: not a Glossa manifest")]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("{path}: the tables follow schema version {found}, this glossa reads version {supported}; extract the dataset again with this version")]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("{column} {value} does not fit the tables, which hold at most {max}")]
    OutOfRange {
        column: &'static str,
        value: usize,
        max: usize,
    },

    #[error("{list}: score {score} is not a finite number; the weights overflow 32-bit floats when multiplied, so the list cannot be ranked")]
    NonFiniteScore { list: String, score: f32 },

    #[error(transparent)]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl TableError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TableError {
        let path = path.into();
        move |source| TableError::Io { path, source }
    }

    pub(crate) fn parquet(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(parquet::errors::ParquetError) -> TableError {
        let path = path.into();
        move |source| TableError::Parquet { path, source }
    }
}
