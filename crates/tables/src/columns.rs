//! Typed access to the columns of a batch read back from a table.

use std::path::Path;
use std::str::FromStr;

use arrow_array::{Array, RecordBatch};

use crate::error::{Result, TableError};
use crate::schema::SCHEMA_VERSION;

/// The columns of one batch of the file at `path`, looked up by name.
pub(crate) struct Columns<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Columns<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, path: &'a Path) -> Columns<'a> {
        Columns { batch, path }
    }

    /// The column `name` as array type `T`, or a schema error naming it.
    pub(crate) fn get<T: Array + 'static>(&self, name: &'static str) -> Result<&'a T> {
        self.batch
            .column_by_name(name)
            .and_then(|column| column.as_any().downcast_ref::<T>())
            .ok_or_else(|| self.error(name))
    }

    /// Parses a stored name (`side`, `polarity`, `circuit`).
    pub(crate) fn parse<T: FromStr>(&self, name: &'static str, value: &str) -> Result<T> {
        value.parse().map_err(|_| self.error(name))
    }

    fn error(&self, column: &'static str) -> TableError {
        TableError::Schema {
            path: self.path.to_path_buf(),
            column,
            version: SCHEMA_VERSION,
        }
    }
}
