//! The neuron lists table.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, StringBuilder, UInt16Builder, UInt32Builder};
use arrow_array::{
    Array, ArrayRef, Float32Array, RecordBatch, StringArray, UInt16Array, UInt32Array,
};

use crate::error::{Result, TableError};
use crate::kinds::{Polarity, Side};
use crate::parquet_io::read_batches;
use crate::schema::{self, SCHEMA_VERSION};

/// One entry of one neuron's list, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronRow {
    pub layer: u32,
    pub neuron: u32,
    pub side: Side,
    pub polarity: Polarity,
    /// 1 = strongest.
    pub rank: u32,
    pub token_id: u32,
    /// Display form of the token.
    pub token: String,
    pub score: f32,
}

/// Accumulates neuron lists into record batches of the `neurons` schema.
pub struct NeuronTableBuilder {
    layer: UInt16Builder,
    neuron: UInt32Builder,
    side: StringBuilder,
    polarity: StringBuilder,
    rank: UInt16Builder,
    token_id: UInt32Builder,
    token: StringBuilder,
    score: Float32Builder,
    rows: usize,
}

impl Default for NeuronTableBuilder {
    fn default() -> Self {
        NeuronTableBuilder::new()
    }
}

impl NeuronTableBuilder {
    /// An empty builder.
    pub fn new() -> NeuronTableBuilder {
        NeuronTableBuilder {
            layer: UInt16Builder::new(),
            neuron: UInt32Builder::new(),
            side: StringBuilder::new(),
            polarity: StringBuilder::new(),
            rank: UInt16Builder::new(),
            token_id: UInt32Builder::new(),
            token: StringBuilder::new(),
            score: Float32Builder::new(),
            rows: 0,
        }
    }

    /// Appends one list, strongest entry first; ranks are assigned from 1.
    pub fn push_list<'t>(
        &mut self,
        layer: u32,
        neuron: u32,
        side: Side,
        polarity: Polarity,
        entries: impl IntoIterator<Item = (u32, &'t str, f32)>,
    ) {
        for (index, (token_id, token, score)) in entries.into_iter().enumerate() {
            self.layer.append_value(layer as u16);
            self.neuron.append_value(neuron);
            self.side.append_value(side.as_str());
            self.polarity.append_value(polarity.as_str());
            self.rank.append_value(index as u16 + 1);
            self.token_id.append_value(token_id);
            self.token.append_value(token);
            self.score.append_value(score);
            self.rows += 1;
        }
    }

    /// Rows appended since the last [`Self::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether nothing was appended since the last [`Self::finish`].
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The appended rows as one batch; the builder starts over.
    pub fn finish(&mut self) -> RecordBatch {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.layer.finish()),
            Arc::new(self.neuron.finish()),
            Arc::new(self.side.finish()),
            Arc::new(self.polarity.finish()),
            Arc::new(self.rank.finish()),
            Arc::new(self.token_id.finish()),
            Arc::new(self.token.finish()),
            Arc::new(self.score.finish()),
        ];
        RecordBatch::try_new(schema::neurons(), columns)
            .expect("columns are built to match the neurons schema")
    }
}

/// Reads the rows of a neuron table, optionally only those of one neuron.
pub fn read_neuron_rows(path: &Path, only_neuron: Option<u32>) -> Result<Vec<NeuronRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let column = |name: &'static str| {
            batch.column_by_name(name).ok_or(TableError::Schema {
                path: path.to_path_buf(),
                column: name,
                version: SCHEMA_VERSION,
            })
        };
        let schema_error = |name: &'static str| TableError::Schema {
            path: path.to_path_buf(),
            column: name,
            version: SCHEMA_VERSION,
        };
        let layer =
            downcast::<UInt16Array>(column("layer")?).ok_or_else(|| schema_error("layer"))?;
        let neuron =
            downcast::<UInt32Array>(column("neuron")?).ok_or_else(|| schema_error("neuron"))?;
        let side = downcast::<StringArray>(column("side")?).ok_or_else(|| schema_error("side"))?;
        let polarity =
            downcast::<StringArray>(column("polarity")?).ok_or_else(|| schema_error("polarity"))?;
        let rank = downcast::<UInt16Array>(column("rank")?).ok_or_else(|| schema_error("rank"))?;
        let token_id =
            downcast::<UInt32Array>(column("token_id")?).ok_or_else(|| schema_error("token_id"))?;
        let token =
            downcast::<StringArray>(column("token")?).ok_or_else(|| schema_error("token"))?;
        let score =
            downcast::<Float32Array>(column("score")?).ok_or_else(|| schema_error("score"))?;
        for i in 0..batch.num_rows() {
            if only_neuron.is_some_and(|n| n != neuron.value(i)) {
                continue;
            }
            rows.push(NeuronRow {
                layer: layer.value(i) as u32,
                neuron: neuron.value(i),
                side: side.value(i).parse().map_err(|_| schema_error("side"))?,
                polarity: polarity
                    .value(i)
                    .parse()
                    .map_err(|_| schema_error("polarity"))?,
                rank: rank.value(i) as u32,
                token_id: token_id.value(i),
                token: token.value(i).to_string(),
                score: score.value(i),
            });
        }
    }
    Ok(rows)
}

pub(crate) fn downcast<T: 'static>(array: &ArrayRef) -> Option<&T> {
    array.as_any().downcast_ref::<T>()
}
