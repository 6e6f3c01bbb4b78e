//! The neuron lists table.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, StringBuilder, UInt16Builder, UInt32Builder};
use arrow_array::{
    Array, ArrayRef, Float32Array, Float64Array, RecordBatch, StringArray, UInt16Array, UInt32Array,
};

use crate::columns::{check_scores, narrow, Columns};
use crate::error::Result;
use crate::kinds::{Polarity, Side};
use crate::parquet_io::read_batches;
use crate::schema;

/// One entry of one neuron's list, as stored.
///
/// Serialises with the columns of the `neurons` schema, in its order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// (score − mean) / std of the neuron side's selectable scores.
    pub z: f32,
}

/// One entry of a neuron list, before its rank is assigned.
#[derive(Debug, Clone, Copy)]
pub struct TokenEntry<'a> {
    pub token_id: u32,
    /// Display form of the token.
    pub token: &'a str,
    pub score: f32,
    pub z: f32,
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
    z: Float32Builder,
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
            z: Float32Builder::new(),
            rows: 0,
        }
    }

    /// Appends one list, strongest entry first; ranks are assigned from 1.
    ///
    /// Fails, appending nothing, when a score or z is not finite or a layer
    /// or rank does not fit its column.
    pub fn push_list<'t>(
        &mut self,
        layer: u32,
        neuron: u32,
        side: Side,
        polarity: Polarity,
        entries: impl IntoIterator<Item = TokenEntry<'t>>,
    ) -> Result<()> {
        let entries: Vec<_> = entries.into_iter().collect();
        let layer = narrow("layer", layer as usize)?;
        narrow("rank", entries.len())?;
        check_scores(entries.iter().flat_map(|e| [e.score, e.z]), || {
            format!("layer {layer} neuron {neuron} {side} {polarity}")
        })?;
        for (index, entry) in entries.into_iter().enumerate() {
            self.layer.append_value(layer);
            self.neuron.append_value(neuron);
            self.side.append_value(side.as_str());
            self.polarity.append_value(polarity.as_str());
            self.rank.append_value(index as u16 + 1);
            self.token_id.append_value(entry.token_id);
            self.token.append_value(entry.token);
            self.score.append_value(entry.score);
            self.z.append_value(entry.z);
            self.rows += 1;
        }
        Ok(())
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
            Arc::new(self.z.finish()),
        ];
        RecordBatch::try_new(schema::neurons(), columns)
            .expect("columns are built to match the neurons schema")
    }
}

/// Reads the rows of a neuron table, optionally only those of one neuron.
pub fn read_neuron_rows(path: &Path, only_neuron: Option<u32>) -> Result<Vec<NeuronRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let layer = columns.get::<UInt16Array>("layer")?;
        let neuron = columns.get::<UInt32Array>("neuron")?;
        let side = columns.get::<StringArray>("side")?;
        let polarity = columns.get::<StringArray>("polarity")?;
        let rank = columns.get::<UInt16Array>("rank")?;
        let token_id = columns.get::<UInt32Array>("token_id")?;
        let token = columns.get::<StringArray>("token")?;
        let score = columns.get::<Float32Array>("score")?;
        let z = columns.get::<Float32Array>("z")?;
        for i in 0..batch.num_rows() {
            if only_neuron.is_some_and(|n| n != neuron.value(i)) {
                continue;
            }
            rows.push(NeuronRow {
                layer: layer.value(i) as u32,
                neuron: neuron.value(i),
                side: columns.parse("side", side.value(i))?,
                polarity: columns.parse("polarity", polarity.value(i))?,
                rank: rank.value(i) as u32,
                token_id: token_id.value(i),
                token: token.value(i).to_string(),
                score: score.value(i),
                z: z.value(i),
            });
        }
    }
    Ok(rows)
}

/// One neuron side in `neuron_summary/layer-NNN.parquet`: the scores its
/// top and bottom lists were chosen from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NeuronSummaryRow {
    pub layer: u32,
    pub neuron: u32,
    pub side: Side,
    /// Selectable tokens: how many scores the mean and std are over.
    pub tokens: u32,
    /// Mean score over the selectable tokens.
    pub mean: f64,
    /// Population standard deviation of those scores.
    pub std: f64,
    /// Excess kurtosis of those scores; `None` when they do not vary.
    pub kurtosis: Option<f64>,
    /// Entropy in nats of their softmax.
    pub entropy: f64,
    /// Key and gate sides: tokens their top list shares with the value's
    /// top list; `None` for the value side.
    pub value_overlap: Option<u16>,
}

/// The summary rows as one batch of the `neuron_summary` schema.
///
/// Fails when a layer does not fit its column.
pub fn neuron_summary_batch(rows: &[NeuronSummaryRow]) -> Result<RecordBatch> {
    let layers = rows
        .iter()
        .map(|r| narrow("layer", r.layer as usize))
        .collect::<Result<Vec<u16>>>()?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt16Array::from(layers)),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.neuron))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.side.as_str()),
        )),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.tokens))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.mean))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.std))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.kurtosis))),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.entropy),
        )),
        Arc::new(UInt16Array::from_iter(rows.iter().map(|r| r.value_overlap))),
    ];
    Ok(RecordBatch::try_new(schema::neuron_summary(), columns)
        .expect("columns are built to match the neuron_summary schema"))
}

/// Reads one `neuron_summary/layer-NNN.parquet`.
pub fn read_neuron_summary(path: &Path) -> Result<Vec<NeuronSummaryRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let layer = columns.get::<UInt16Array>("layer")?;
        let neuron = columns.get::<UInt32Array>("neuron")?;
        let side = columns.get::<StringArray>("side")?;
        let tokens = columns.get::<UInt32Array>("tokens")?;
        let mean = columns.get::<Float64Array>("mean")?;
        let std = columns.get::<Float64Array>("std")?;
        let kurtosis = columns.get::<Float64Array>("kurtosis")?;
        let entropy = columns.get::<Float64Array>("entropy")?;
        let overlap = columns.get::<UInt16Array>("value_overlap")?;
        for i in 0..batch.num_rows() {
            rows.push(NeuronSummaryRow {
                layer: layer.value(i) as u32,
                neuron: neuron.value(i),
                side: columns.parse("side", side.value(i))?,
                tokens: tokens.value(i),
                mean: mean.value(i),
                std: std.value(i),
                kurtosis: kurtosis.is_valid(i).then(|| kurtosis.value(i)),
                entropy: entropy.value(i),
                value_overlap: overlap.is_valid(i).then(|| overlap.value(i)),
            });
        }
    }
    Ok(rows)
}
