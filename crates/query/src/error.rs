//! What can go wrong with a query.

use std::path::PathBuf;

/// The result of query operations.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// A query that could not be answered, or an answer that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{path}: the table cannot be scanned")]
    Scan {
        path: PathBuf,
        #[source]
        source: polars::error::PolarsError,
    },

    #[error("the query cannot be answered (tables: {tables})")]
    Sql {
        /// The tables the query may name, comma-separated.
        tables: String,
        /// polars' words for what is wrong.
        #[source]
        source: polars::error::PolarsError,
    },

    #[error("the view {name} cannot be defined over this dataset's tables")]
    View {
        name: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },

    #[error("the query failed inside polars: {message} (tables: {tables})")]
    Panic { message: String, tables: String },

    #[error("the answer cannot be written as {format}")]
    Write {
        format: &'static str,
        #[source]
        source: WriteError,
    },

    #[error(transparent)]
    Table(#[from] glossa_tables::TableError),
}

/// Why an answer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Csv(#[from] csv::Error),

    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
}
