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

    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },

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
