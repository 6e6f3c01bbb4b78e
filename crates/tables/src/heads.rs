//! The head pair lists table and the per-head summary table.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, StringBuilder, UInt16Builder, UInt32Builder};
use arrow_array::{
    Array, ArrayRef, Float32Array, Float64Array, RecordBatch, StringArray, UInt16Array,
    UInt32Array, UInt64Array,
};

use crate::columns::{check_scores, narrow, Columns};
use crate::error::Result;
use crate::kinds::{Circuit, Polarity};
use crate::parquet_io::read_batches;
use crate::schema;

/// One entry of one head's pair list, as stored.
///
/// Serialises with the columns of the `heads` schema, in its order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeadRow {
    pub layer: u32,
    pub head: u32,
    pub circuit: Circuit,
    pub polarity: Polarity,
    /// 1 = strongest.
    pub rank: u32,
    /// VO: the attended token; QK: the query token.
    pub src_token_id: u32,
    /// VO: the promoted token; QK: the key token.
    pub dst_token_id: u32,
    pub src_token: String,
    pub dst_token: String,
    pub score: f32,
    /// (score − mean) / std of the circuit's selectable entries.
    pub z: f32,
}

/// One pair of a list, before ranks are assigned.
#[derive(Debug, Clone, Copy)]
pub struct PairEntry<'a> {
    pub src_token_id: u32,
    pub dst_token_id: u32,
    pub src_token: &'a str,
    pub dst_token: &'a str,
    pub score: f32,
    pub z: f32,
}

/// Accumulates head lists into record batches of the `heads` schema.
#[derive(Default)]
pub struct HeadTableBuilder {
    layer: UInt16Builder,
    head: UInt16Builder,
    circuit: StringBuilder,
    polarity: StringBuilder,
    rank: UInt16Builder,
    src_id: UInt32Builder,
    dst_id: UInt32Builder,
    src: StringBuilder,
    dst: StringBuilder,
    score: Float32Builder,
    z: Float32Builder,
}

impl HeadTableBuilder {
    /// Appends one list, strongest pair first; ranks are assigned from 1.
    ///
    /// Fails, appending nothing, when a score or z is not finite or a layer,
    /// head or rank does not fit its column.
    pub fn push_list<'t>(
        &mut self,
        layer: u32,
        head: u32,
        circuit: Circuit,
        polarity: Polarity,
        pairs: impl IntoIterator<Item = PairEntry<'t>>,
    ) -> Result<()> {
        let pairs: Vec<_> = pairs.into_iter().collect();
        let layer = narrow("layer", layer as usize)?;
        let head = narrow("head", head as usize)?;
        narrow("rank", pairs.len())?;
        check_scores(pairs.iter().flat_map(|p| [p.score, p.z]), || {
            format!("layer {layer} head {head} {circuit} {polarity}")
        })?;
        for (index, pair) in pairs.into_iter().enumerate() {
            self.layer.append_value(layer);
            self.head.append_value(head);
            self.circuit.append_value(circuit.as_str());
            self.polarity.append_value(polarity.as_str());
            self.rank.append_value(index as u16 + 1);
            self.src_id.append_value(pair.src_token_id);
            self.dst_id.append_value(pair.dst_token_id);
            self.src.append_value(pair.src_token);
            self.dst.append_value(pair.dst_token);
            self.score.append_value(pair.score);
            self.z.append_value(pair.z);
        }
        Ok(())
    }

    /// The appended rows as one batch; the builder starts over.
    pub fn finish(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.layer.finish()),
            Arc::new(self.head.finish()),
            Arc::new(self.circuit.finish()),
            Arc::new(self.polarity.finish()),
            Arc::new(self.rank.finish()),
            Arc::new(self.src_id.finish()),
            Arc::new(self.dst_id.finish()),
            Arc::new(self.src.finish()),
            Arc::new(self.dst.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.z.finish()),
        ];
        RecordBatch::try_new(schema::heads(), columns)
            .expect("columns are built to match the heads schema")
    }
}

/// Reads the rows of a head table, optionally only those of one head.
pub fn read_head_rows(path: &Path, only_head: Option<u32>) -> Result<Vec<HeadRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let layer = columns.get::<UInt16Array>("layer")?;
        let head = columns.get::<UInt16Array>("head")?;
        let circuit = columns.get::<StringArray>("circuit")?;
        let polarity = columns.get::<StringArray>("polarity")?;
        let rank = columns.get::<UInt16Array>("rank")?;
        let src_id = columns.get::<UInt32Array>("src_token_id")?;
        let dst_id = columns.get::<UInt32Array>("dst_token_id")?;
        let src = columns.get::<StringArray>("src_token")?;
        let dst = columns.get::<StringArray>("dst_token")?;
        let score = columns.get::<Float32Array>("score")?;
        let z = columns.get::<Float32Array>("z")?;
        for i in 0..batch.num_rows() {
            if only_head.is_some_and(|h| h != head.value(i) as u32) {
                continue;
            }
            rows.push(HeadRow {
                layer: layer.value(i) as u32,
                head: head.value(i) as u32,
                circuit: columns.parse("circuit", circuit.value(i))?,
                polarity: columns.parse("polarity", polarity.value(i))?,
                rank: rank.value(i) as u32,
                src_token_id: src_id.value(i),
                dst_token_id: dst_id.value(i),
                src_token: src.value(i).to_string(),
                dst_token: dst.value(i).to_string(),
                score: score.value(i),
                z: z.value(i),
            });
        }
    }
    Ok(rows)
}

/// One head and circuit in `head_summary.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadSummaryRow {
    pub layer: u32,
    pub head: u32,
    /// The key and value head this query head reads (itself without
    /// grouped-query attention).
    pub kv_head: u32,
    pub circuit: Circuit,
    /// ‖E·W·Eᵀ‖_F of the vocab-space matrix.
    pub frobenius_norm: f64,
    /// Largest entry among the selectable pairs (the top list's first score).
    pub max_entry: f32,
    /// Smallest entry among the selectable pairs (the bottom list's first score).
    pub min_entry: f32,
    /// Σλ / Σ|λ| over the eigenvalues of the OV matrix; `None` for QK.
    pub copying_score: Option<f64>,
    /// Share of the matrix's entries actually computed (the rest were pruned).
    pub computed_share: f64,
    /// Selectable pairs: allowed src × allowed dst, less excluded pairs;
    /// what `mean` and `std` are over.
    pub pairs: u64,
    /// Mean entry over the selectable pairs.
    pub mean: f64,
    /// Population standard deviation of those entries.
    pub std: f64,
}

/// The summary rows as one batch of the `head_summary` schema.
pub fn head_summary_batch(rows: &[HeadSummaryRow]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt16Array::from_iter_values(
            rows.iter().map(|r| r.layer as u16),
        )),
        Arc::new(UInt16Array::from_iter_values(
            rows.iter().map(|r| r.head as u16),
        )),
        Arc::new(UInt16Array::from_iter_values(
            rows.iter().map(|r| r.kv_head as u16),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.circuit.as_str()),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.frobenius_norm),
        )),
        Arc::new(Float32Array::from_iter_values(
            rows.iter().map(|r| r.max_entry),
        )),
        Arc::new(Float32Array::from_iter_values(
            rows.iter().map(|r| r.min_entry),
        )),
        Arc::new(Float64Array::from_iter(
            rows.iter().map(|r| r.copying_score),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.computed_share),
        )),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.pairs))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.mean))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.std))),
    ];
    RecordBatch::try_new(schema::head_summary(), columns)
        .expect("columns are built to match the head_summary schema")
}

/// Reads `head_summary.parquet`.
pub fn read_head_summary(path: &Path) -> Result<Vec<HeadSummaryRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let layer = columns.get::<UInt16Array>("layer")?;
        let head = columns.get::<UInt16Array>("head")?;
        let kv_head = columns.get::<UInt16Array>("kv_head")?;
        let circuit = columns.get::<StringArray>("circuit")?;
        let frobenius = columns.get::<Float64Array>("frobenius_norm")?;
        let max = columns.get::<Float32Array>("max_entry")?;
        let min = columns.get::<Float32Array>("min_entry")?;
        let copying = columns.get::<Float64Array>("copying_score")?;
        let share = columns.get::<Float64Array>("computed_share")?;
        let pairs = columns.get::<UInt64Array>("pairs")?;
        let mean = columns.get::<Float64Array>("mean")?;
        let std = columns.get::<Float64Array>("std")?;
        for i in 0..batch.num_rows() {
            rows.push(HeadSummaryRow {
                layer: layer.value(i) as u32,
                head: head.value(i) as u32,
                kv_head: kv_head.value(i) as u32,
                circuit: columns.parse("circuit", circuit.value(i))?,
                frobenius_norm: frobenius.value(i),
                max_entry: max.value(i),
                min_entry: min.value(i),
                copying_score: copying.is_valid(i).then(|| copying.value(i)),
                computed_share: share.value(i),
                pairs: pairs.value(i),
                mean: mean.value(i),
                std: std.value(i),
            });
        }
    }
    Ok(rows)
}
