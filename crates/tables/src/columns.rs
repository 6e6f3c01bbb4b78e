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

/// The longest list a table can hold: ranks are stored as 16-bit numbers.
pub const MAX_LIST_LEN: usize = u16::MAX as usize;

/// `value` as a 16-bit column (`layer`, `head`, `rank`), or an error naming it.
pub(crate) fn narrow(column: &'static str, value: usize) -> Result<u16> {
    u16::try_from(value).map_err(|_| TableError::OutOfRange {
        column,
        value,
        max: u16::MAX as usize,
    })
}

/// Fails on the first score that is NaN or infinite: such a list ranks
/// nothing, so it is never written.
pub(crate) fn check_scores(
    scores: impl IntoIterator<Item = f32>,
    list: impl FnOnce() -> String,
) -> Result<()> {
    match scores.into_iter().find(|s| !s.is_finite()) {
        Some(score) => Err(TableError::NonFiniteScore {
            list: list(),
            score,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Circuit, HeadTableBuilder, NeuronTableBuilder, PairEntry, Polarity, Side, TokenEntry,
    };

    fn entry(token_id: u32, score: f32) -> TokenEntry<'static> {
        TokenEntry {
            token_id,
            token: "t",
            score,
            z: 1.0,
        }
    }

    #[test]
    fn lists_longer_than_the_rank_column_are_refused_whole() {
        let mut builder = NeuronTableBuilder::new();
        let long = (0..=u16::MAX as u32).map(|id| entry(id, 1.0));
        let error = builder
            .push_list(0, 0, Side::Key, Polarity::Top, long)
            .unwrap_err();
        assert!(error.to_string().contains("rank 65536"), "{error}");
        assert!(builder.is_empty(), "nothing appended");
        let longest = (0..u16::MAX as u32).map(|id| entry(id, 1.0));
        builder
            .push_list(0, 0, Side::Key, Polarity::Top, longest)
            .unwrap();
        assert_eq!(builder.len(), 65535);
    }

    #[test]
    fn non_finite_scores_are_never_written() {
        let mut neurons = NeuronTableBuilder::new();
        for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            let error = neurons
                .push_list(
                    1,
                    2,
                    Side::Value,
                    Polarity::Bottom,
                    [entry(0, 1.0), entry(1, bad)],
                )
                .unwrap_err();
            assert!(
                error.to_string().contains("layer 1 neuron 2 value bottom"),
                "{error}"
            );
            let bad_z = TokenEntry {
                z: bad,
                ..entry(0, 1.0)
            };
            assert!(neurons
                .push_list(1, 2, Side::Key, Polarity::Top, [bad_z])
                .is_err());
        }
        assert!(neurons.is_empty());

        let mut heads = HeadTableBuilder::default();
        let pair = |score| PairEntry {
            src_token_id: 0,
            dst_token_id: 1,
            src_token: "a",
            dst_token: "b",
            score,
            z: 0.5,
        };
        let error = heads
            .push_list(
                0,
                3,
                Circuit::Vo,
                Polarity::Top,
                [pair(2.0), pair(f32::INFINITY)],
            )
            .unwrap_err();
        assert!(error.to_string().contains("not a finite number"), "{error}");
        assert_eq!(heads.finish().num_rows(), 0);
        let error = heads
            .push_list(70_000, 0, Circuit::Qk, Polarity::Top, [pair(1.0)])
            .unwrap_err();
        assert!(error.to_string().contains("layer 70000"), "{error}");
    }
}
