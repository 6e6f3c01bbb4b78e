//! Opening a finished dataset.

use std::path::{Path, PathBuf};

use glossa_index::{Hit, Index, Search};
use glossa_tables::{
    read_head_rows, read_head_summary, read_neuron_rows, HeadRow, HeadSummaryRow, Manifest,
    NeuronRow, UnitKind, MANIFEST_FILE,
};

use crate::error::{PipelineError, Result};
use crate::extract::{head_table, neuron_table, HEAD_SUMMARY_TABLE};
use crate::index::INDEX_DIR;
use crate::resume::{active_run, ActiveRun, RUN_DIR};
use crate::verify::{expected_entries, index_problem};

/// A dataset directory with a manifest: a finished extraction.
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
}

/// The one dataset under `root` (directories holding a `manifest.json`).
///
/// Commands that read a dataset use this when no `--data` is given.
pub fn find_dataset(root: &Path) -> Result<PathBuf> {
    let mut found = Vec::new();
    let mut unfinished = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join(MANIFEST_FILE).is_file() {
                found.push(path);
            } else if path.join(RUN_DIR).is_dir() {
                unfinished.push(path);
            }
        }
    }
    found.sort();
    unfinished.sort();
    match found.len() {
        // No finished dataset, but a run that has not finished: say so.
        0 if !unfinished.is_empty() => Err(not_finished(&unfinished[0])),
        0 => Err(PipelineError::NoDataset {
            root: root.to_path_buf(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(PipelineError::SeveralDatasets {
            root: root.to_path_buf(),
            names: found.iter().map(|p| p.display().to_string()).collect(),
        }),
    }
}

/// Why `dir`, which has no manifest, is not a dataset: an extraction is
/// still writing it, one was interrupted, or none ran there.
fn not_finished(dir: &Path) -> PipelineError {
    let dir = dir.to_path_buf();
    match active_run(&dir) {
        Some(ActiveRun::Running(holder)) => PipelineError::StillRunning {
            dir,
            holder: holder.describe(),
        },
        Some(ActiveRun::Interrupted) => PipelineError::Interrupted { dir },
        None => PipelineError::NotADataset { dir },
    }
}

impl Dataset {
    /// Opens the dataset in `dir`.
    ///
    /// A directory without a manifest is refused, saying whether an
    /// extraction is still writing it, was interrupted, or never ran there.
    pub fn open(dir: &Path) -> Result<Dataset> {
        if !dir.join(MANIFEST_FILE).is_file() {
            return Err(not_finished(dir));
        }
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest: Manifest::read(dir)?,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// A dimension of the model's shape (`layers`, `heads`, `d_ff`, ...).
    pub(crate) fn shape_value(&self, name: &str) -> usize {
        self.manifest.shape[name].as_u64().unwrap_or(0) as usize
    }

    /// Every list entry of one neuron, in table order (side, polarity, rank).
    pub fn neuron(&self, layer: u32, neuron: u32) -> Result<Vec<NeuronRow>> {
        let layers = self.shape_value("layers");
        if layer as usize >= layers {
            return Err(PipelineError::NoSuchLayer { layer, layers });
        }
        let neurons = self.shape_value("d_ff");
        if neuron as usize >= neurons {
            return Err(PipelineError::NoSuchNeuron { neuron, neurons });
        }
        Ok(read_neuron_rows(
            &self.dir.join(neuron_table(layer as usize)),
            Some(neuron),
        )?)
    }

    /// Checks that head `head` of `layer` exists.
    fn check_head(&self, layer: u32, head: u32) -> Result<()> {
        let layers = self.shape_value("layers");
        if layer as usize >= layers {
            return Err(PipelineError::NoSuchLayer { layer, layers });
        }
        let heads = self.shape_value("heads");
        if head as usize >= heads {
            return Err(PipelineError::NoSuchHead { head, heads });
        }
        Ok(())
    }

    /// Every pair-list entry of one head, in table order (circuit, polarity, rank).
    pub fn head(&self, layer: u32, head: u32) -> Result<Vec<HeadRow>> {
        self.check_head(layer, head)?;
        Ok(read_head_rows(
            &self.dir.join(head_table(layer as usize)),
            Some(head),
        )?)
    }

    /// The summary rows (VO and QK) of one head.
    pub fn head_summary(&self, layer: u32, head: u32) -> Result<Vec<HeadSummaryRow>> {
        self.check_head(layer, head)?;
        let rows = self
            .head_summaries()?
            .ok_or_else(|| PipelineError::NoHeads {
                dir: self.dir.clone(),
            })?;
        Ok(rows
            .into_iter()
            .filter(|r| r.layer == layer && r.head == head)
            .collect())
    }

    /// Every row of head_summary.parquet, read once; `None` when the
    /// extraction skipped the heads.
    pub fn head_summaries(&self) -> Result<Option<Vec<HeadSummaryRow>>> {
        if !self
            .manifest
            .tables
            .iter()
            .any(|t| t.path == HEAD_SUMMARY_TABLE)
        {
            return Ok(None);
        }
        Ok(Some(read_head_summary(&self.dir.join(HEAD_SUMMARY_TABLE))?))
    }

    /// Searches the dataset's index.
    pub fn search(&self, search: &Search) -> Result<Vec<Hit>> {
        Ok(Index::open(self.dir.join(INDEX_DIR))?.search(search)?)
    }

    /// Per layer and kind, how many units hold a matching entry.
    pub fn count_by_layer(&self, search: &Search) -> Result<Vec<(u32, UnitKind, u64)>> {
        Ok(Index::open(self.dir.join(INDEX_DIR))?.count_by_layer(search)?)
    }

    /// What is wrong with the search index, if anything: missing, unreadable,
    /// or stale (not holding one entry per neuron and head row of the tables).
    /// [`Dataset::rebuild_index`] mends all three.
    pub fn index_problem(&self) -> Option<String> {
        index_problem(&self.dir, expected_entries(&self.manifest))
    }

    /// Rebuilds the index from the tables the manifest lists.
    pub fn rebuild_index(&self, threads: Option<usize>) -> Result<()> {
        crate::index::rebuild_index(&self.dir, &self.manifest.tables, threads)
    }
}
