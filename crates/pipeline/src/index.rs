//! The search index, always rebuilt from the tables.

use std::path::Path;

use glossa_forms::Dictionary;
use glossa_index::{HeadPairEntry, Index, IndexBuilder, NeuronEntry, Replace};
use glossa_tables::{
    read_head_rows, read_neuron_rows, FileRecord, Layout, Manifest, Table, TableKind, UnitKind,
};

use crate::error::{PipelineError, Result};

/// Memory the index build may use: it runs after the stages have let their
/// weights go, but beside what the run still holds, all within 1 GiB of an
/// 8B model's checkpoint.
const INDEX_MEMORY_BUDGET: usize = 128 << 20;

/// Builds the search index of the dataset of `layout` from its neuron and
/// head tables (`tables` lists the dataset's files), with the word forms of
/// the Hunspell dictionary `word_forms`, if one is named.
pub(crate) fn rebuild_index(
    layout: &Layout,
    tables: &[FileRecord],
    threads: Option<usize>,
    word_forms: Option<&Path>,
) -> Result<()> {
    let threads = threads.unwrap_or_else(rayon::current_num_threads).max(1);
    // Read before the build starts, so that a missing dictionary leaves any
    // index there as it was.
    let dictionary = word_forms
        .map(|path| {
            Dictionary::open(path).map_err(|source| PipelineError::WordForms {
                path: path.to_path_buf(),
                source,
            })
        })
        .transpose()?;
    // The dataset's index directory only ever holds its index, derived from the
    // tables: whatever is there (a damaged index, a file) is replaced.
    let mut builder = IndexBuilder::create_with(
        &layout.index(),
        INDEX_MEMORY_BUDGET,
        threads,
        Replace::Anything,
    )?;
    if let Some(dictionary) = dictionary {
        builder = builder.with_word_forms(dictionary);
    }
    let listed = |pick: fn(Table) -> bool| {
        tables
            .iter()
            .filter(move |t| Table::parse(&t.path).is_some_and(pick))
            .map(|t| layout.file(&t.path))
    };
    for path in listed(|t| matches!(t, Table::Neurons(_))) {
        let rows = read_neuron_rows(&path, None)?;
        for row in &rows {
            builder.add(&NeuronEntry {
                kind: UnitKind::Neuron,
                layer: row.layer,
                unit: row.neuron,
                side: row.side,
                polarity: row.polarity,
                rank: row.rank,
                token_id: row.token_id,
                token: &row.token,
                score: row.score,
                z: row.z,
            })?;
        }
    }
    for path in listed(|t| matches!(t, Table::Heads(_))) {
        for row in read_head_rows(&path, None)? {
            builder.add_pair(&HeadPairEntry {
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
                z: row.z,
            })?;
        }
    }
    builder.finish()?;
    Ok(())
}

/// Entries the index of a dataset must hold: one per neuron row and head row.
pub(crate) fn expected_entries(manifest: &Manifest) -> u64 {
    TableKind::ALL
        .into_iter()
        .filter(|kind| kind.indexed())
        .map(|kind| manifest.rows(kind))
        .sum()
}

/// The index of the dataset of `layout`, if it opens and holds `expected`
/// entries; else what is wrong with it: missing, unreadable, or stale.
pub(crate) fn open_checked(layout: &Layout, expected: u64) -> std::result::Result<Index, String> {
    match Index::open(layout.index()) {
        Err(glossa_index::Error::Missing { .. }) => Err("the search index is missing".into()),
        Err(error) => Err(format!("the search index cannot be read ({error})")),
        Ok(index) if index.entries() != expected => Err(format!(
            "the search index is stale: it holds {} entries, the tables {expected}",
            index.entries()
        )),
        Ok(index) => Ok(index),
    }
}
