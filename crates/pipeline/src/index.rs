//! The search index, always rebuilt from the tables.

use std::path::Path;

use glossa_index::{Entry, IndexBuilder, PairEntry};
use glossa_tables::{read_head_rows, read_neuron_rows, FileRecord, UnitKind};

use crate::error::Result;
use crate::extract::{table_kind, HEAD_TABLES, NEURON_TABLES};

/// The index directory inside a dataset.
pub const INDEX_DIR: &str = "index";

/// Memory the index build may use.
const INDEX_MEMORY_BUDGET: usize = 256 << 20;

/// Builds the search index of the dataset in `dir` from its neuron and head
/// tables (`tables` lists the dataset's files; `neurons/` and `heads/` are read).
pub fn rebuild_index(dir: &Path, tables: &[FileRecord], threads: Option<usize>) -> Result<()> {
    let threads = threads.unwrap_or_else(rayon::current_num_threads).max(1);
    let mut builder = IndexBuilder::create(&dir.join(INDEX_DIR), INDEX_MEMORY_BUDGET, threads)?;
    for table in tables
        .iter()
        .filter(|t| table_kind(&t.path) == NEURON_TABLES)
    {
        let rows = read_neuron_rows(&dir.join(&table.path), None)?;
        for row in &rows {
            builder.add(&Entry {
                kind: UnitKind::Neuron,
                layer: row.layer,
                unit: row.neuron,
                side: row.side,
                polarity: row.polarity,
                rank: row.rank,
                token_id: row.token_id,
                token: &row.token,
                score: row.score,
            })?;
        }
    }
    for table in tables.iter().filter(|t| table_kind(&t.path) == HEAD_TABLES) {
        for row in read_head_rows(&dir.join(&table.path), None)? {
            builder.add_pair(&PairEntry {
                layer: row.layer,
                head: row.head,
                circuit: row.circuit,
                polarity: row.polarity,
                rank: row.rank,
                src_token_id: row.src_token_id,
                src_token: &row.src_token,
                dst_token_id: row.dst_token_id,
                dst_token: &row.dst_token,
                score: row.score,
            })?;
        }
    }
    builder.finish()?;
    Ok(())
}
