//! The neuron-to-neuron connections table.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, StringBuilder, UInt16Builder, UInt32Builder};
use arrow_array::{ArrayRef, Float32Array, RecordBatch, StringArray, UInt16Array, UInt32Array};

use crate::columns::{check_scores, narrow, Columns};
use crate::error::Result;
use crate::kinds::{Direction, Polarity, Side};
use crate::parquet_io::read_batches;
use crate::schema;

/// One entry of one neuron's connection list, as stored.
///
/// Serialises with the columns of the `connections` schema, in its order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConnectionRow {
    pub layer: u32,
    pub neuron: u32,
    pub direction: Direction,
    /// The read side of the pair (key or gate).
    pub side: Side,
    pub polarity: Polarity,
    /// 1 = strongest.
    pub rank: u32,
    pub other_layer: u32,
    pub other_neuron: u32,
    /// Value · key (or gate).
    pub score: f32,
}

/// One entry of a connection list, before its rank is assigned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionEntry {
    pub other_layer: u32,
    pub other_neuron: u32,
    pub score: f32,
}

/// Accumulates connection lists into a record batch of the `connections` schema.
#[derive(Default)]
pub struct ConnectionTableBuilder {
    layer: UInt16Builder,
    neuron: UInt32Builder,
    direction: StringBuilder,
    side: StringBuilder,
    polarity: StringBuilder,
    rank: UInt16Builder,
    other_layer: UInt16Builder,
    other_neuron: UInt32Builder,
    score: Float32Builder,
}

impl ConnectionTableBuilder {
    /// Appends one list, strongest entry first; ranks are assigned from 1.
    ///
    /// Fails, appending nothing, when a score is not finite or a layer or
    /// rank does not fit its column.
    pub fn push_list(
        &mut self,
        (layer, neuron): (u32, u32),
        direction: Direction,
        side: Side,
        polarity: Polarity,
        entries: &[ConnectionEntry],
    ) -> Result<()> {
        let layer = narrow("layer", layer as usize)?;
        narrow("rank", entries.len())?;
        let others = entries
            .iter()
            .map(|e| narrow("layer", e.other_layer as usize))
            .collect::<Result<Vec<u16>>>()?;
        check_scores(entries.iter().map(|e| e.score), || {
            format!("layer {layer} neuron {neuron} {direction} {side} {polarity}")
        })?;
        for (index, (entry, other_layer)) in entries.iter().zip(others).enumerate() {
            self.layer.append_value(layer);
            self.neuron.append_value(neuron);
            self.direction.append_value(direction.as_str());
            self.side.append_value(side.as_str());
            self.polarity.append_value(polarity.as_str());
            self.rank.append_value(index as u16 + 1);
            self.other_layer.append_value(other_layer);
            self.other_neuron.append_value(entry.other_neuron);
            self.score.append_value(entry.score);
        }
        Ok(())
    }

    /// The appended rows as one batch; the builder starts over.
    pub fn finish(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.layer.finish()),
            Arc::new(self.neuron.finish()),
            Arc::new(self.direction.finish()),
            Arc::new(self.side.finish()),
            Arc::new(self.polarity.finish()),
            Arc::new(self.rank.finish()),
            Arc::new(self.other_layer.finish()),
            Arc::new(self.other_neuron.finish()),
            Arc::new(self.score.finish()),
        ];
        RecordBatch::try_new(schema::connections(), columns)
            .expect("columns are built to match the connections schema")
    }
}

/// Reads the rows of a connections table, optionally only those of one neuron.
pub fn read_connection_rows(path: &Path, only_neuron: Option<u32>) -> Result<Vec<ConnectionRow>> {
    let mut rows = Vec::new();
    for batch in read_batches(path)? {
        let columns = Columns::new(&batch, path);
        let layer = columns.get::<UInt16Array>("layer")?;
        let neuron = columns.get::<UInt32Array>("neuron")?;
        let direction = columns.get::<StringArray>("direction")?;
        let side = columns.get::<StringArray>("side")?;
        let polarity = columns.get::<StringArray>("polarity")?;
        let rank = columns.get::<UInt16Array>("rank")?;
        let other_layer = columns.get::<UInt16Array>("other_layer")?;
        let other_neuron = columns.get::<UInt32Array>("other_neuron")?;
        let score = columns.get::<Float32Array>("score")?;
        for i in 0..batch.num_rows() {
            if only_neuron.is_some_and(|n| n != neuron.value(i)) {
                continue;
            }
            rows.push(ConnectionRow {
                layer: u32::from(layer.value(i)),
                neuron: neuron.value(i),
                direction: columns.parse("direction", direction.value(i))?,
                side: columns.parse("side", side.value(i))?,
                polarity: columns.parse("polarity", polarity.value(i))?,
                rank: u32::from(rank.value(i)),
                other_layer: u32::from(other_layer.value(i)),
                other_neuron: other_neuron.value(i),
                score: score.value(i),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_back_as_written() {
        let tmp = tempfile::tempdir().unwrap();
        let mut builder = ConnectionTableBuilder::default();
        let entries = [
            ConnectionEntry {
                other_layer: 3,
                other_neuron: 7,
                score: 2.5,
            },
            ConnectionEntry {
                other_layer: 2,
                other_neuron: 0,
                score: 1.0,
            },
        ];
        builder
            .push_list(
                (1, 4),
                Direction::Downstream,
                Side::Gate,
                Polarity::Top,
                &entries,
            )
            .unwrap();
        let bad = [ConnectionEntry {
            score: f32::NAN,
            ..entries[0]
        }];
        assert!(builder
            .push_list((1, 5), Direction::Upstream, Side::Key, Polarity::Top, &bad)
            .is_err());
        let record = crate::write_table(
            tmp.path(),
            "c.parquet",
            schema::connections(),
            [builder.finish()],
            crate::TableOptions::default(),
        )
        .unwrap();
        assert_eq!(record.rows, 2);
        let rows = read_connection_rows(&tmp.path().join("c.parquet"), Some(4)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].rank, rows[1].other_layer, rows[1].other_neuron),
            (2, 2, 0)
        );
        assert_eq!(rows[0].direction, Direction::Downstream);
        assert_eq!(rows[0].side, Side::Gate);
    }
}
