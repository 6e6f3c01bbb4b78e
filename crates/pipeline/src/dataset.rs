//! Opening a finished dataset, and reading its lists back.

use std::path::{Path, PathBuf};

use glossa_index::{Hit, Index, LayerCount, Page, Search};
use glossa_tables::{
    read_connection_rows, read_head_rows, read_head_summary, read_neuron_rows, read_neuron_summary,
    ConnectionRow, HeadRow, HeadSummaryRow, Layout, Manifest, NeuronRow, NeuronSummaryRow, Table,
};

use crate::error::{PipelineError, Result};
use crate::index::{expected_entries, open_checked, rebuild_index};
use crate::readings::Reading;
use crate::resume::{active_run, ActiveRun, RunKind};

/// A dataset directory with a manifest: a finished extraction.
pub struct Dataset {
    layout: Layout,
    manifest: Manifest,
}

/// The one dataset under `root` (directories holding a `manifest.json`).
///
/// Commands that read a dataset use this when they are not told which.
pub fn find_dataset(root: &Path) -> Result<PathBuf> {
    let mut found = Vec::new();
    let mut unfinished = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let layout = Layout::new(entry.path());
            if layout.is_finished() {
                found.push(entry.path());
            } else if layout.has_run_dir() {
                unfinished.push(entry.path());
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

/// Why `dir`, which has no manifest, is not a dataset: it is no directory,
/// an extraction is still writing it, one was interrupted, or none ran there.
fn not_finished(dir: &Path) -> PipelineError {
    let dir = dir.to_path_buf();
    if !dir.is_dir() {
        return PipelineError::NotADirectory { dir };
    }
    match active_run(&Layout::new(&dir)) {
        Some(ActiveRun::Running(holder)) => PipelineError::StillRunning {
            dir,
            holder: holder.describe(),
        },
        Some(ActiveRun::Interrupted(RunKind::Extraction)) => PipelineError::Interrupted { dir },
        Some(ActiveRun::Interrupted(RunKind::Merge)) => PipelineError::InterruptedMerge { dir },
        None => PipelineError::NotADataset { dir },
    }
}

impl Dataset {
    /// Opens the dataset in `dir`.
    ///
    /// A directory without a manifest is refused, saying whether an
    /// extraction is still writing it, was interrupted, or never ran there;
    /// so is a manifest of another schema version.
    pub fn open(dir: &Path) -> Result<Dataset> {
        let layout = Layout::new(dir);
        if !layout.is_finished() {
            return Err(not_finished(dir));
        }
        let manifest = Manifest::read(&layout)?;
        Ok(Dataset { layout, manifest })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.layout.dir()
    }

    /// Where each of its files is.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// How the extraction read the model's weights, as its manifest records.
    pub fn reading(&self) -> Reading {
        let options = &self.manifest.options;
        Reading {
            embedding: options.embedding,
            fold_norm: options.fold_norm,
            qk_offset: options.qk_offset,
        }
    }

    /// Checks that `layer` exists, and that the dataset holds it (a shard
    /// holds only its own layers).
    pub fn check_layer(&self, layer: u32) -> Result<()> {
        let layers = self.manifest.shape.layers;
        if layer as usize >= layers {
            return Err(PipelineError::NoSuchLayer { layer, layers });
        }
        match self.manifest.options.layers {
            Some(shard) if !shard.contains(layer as usize) => Err(PipelineError::LayerNotInShard {
                layer,
                shard,
                layers,
            }),
            _ => Ok(()),
        }
    }

    /// Every list entry of one neuron, in table order (side, polarity, rank).
    pub fn neuron(&self, layer: u32, neuron: u32) -> Result<Vec<NeuronRow>> {
        if !self.manifest.options.neurons {
            return Err(PipelineError::NoNeurons {
                dir: self.dir().to_path_buf(),
            });
        }
        self.check_layer(layer)?;
        let neurons = self.manifest.shape.d_ff;
        if neuron as usize >= neurons {
            return Err(PipelineError::NoSuchNeuron { neuron, neurons });
        }
        let path = self.layout.table(Table::Neurons(layer as usize));
        let rows = read_neuron_rows(&path, Some(neuron))?;
        check_layer_of_rows(&path, layer, rows.iter().map(|r| r.layer))?;
        Ok(rows)
    }

    /// The statistics of one neuron's scores (mean, spread, kurtosis,
    /// entropy, value overlap), per side.
    pub fn neuron_summary(&self, layer: u32, neuron: u32) -> Result<Vec<NeuronSummaryRow>> {
        // Checks the neuron exists, and reads nothing more than its lists.
        self.neuron(layer, neuron)?;
        let path = self.layout.table(Table::NeuronSummary(layer as usize));
        let rows = read_neuron_summary(&path)?;
        check_layer_of_rows(&path, layer, rows.iter().map(|r| r.layer))?;
        Ok(rows.into_iter().filter(|r| r.neuron == neuron).collect())
    }

    /// Every connection-list entry of one neuron, in table order (direction,
    /// side, polarity, rank); `None` when the extraction computed no
    /// connections.
    pub fn connections(&self, layer: u32, neuron: u32) -> Result<Option<Vec<ConnectionRow>>> {
        if self.manifest.options.connections.is_none() {
            return Ok(None);
        }
        self.check_layer(layer)?;
        let neurons = self.manifest.shape.d_ff;
        if neuron as usize >= neurons {
            return Err(PipelineError::NoSuchNeuron { neuron, neurons });
        }
        let path = self.layout.table(Table::Connections(layer as usize));
        let rows = read_connection_rows(&path, Some(neuron))?;
        check_layer_of_rows(&path, layer, rows.iter().map(|r| r.layer))?;
        Ok(Some(rows))
    }

    /// Checks that the heads were extracted and head `head` of `layer` exists.
    fn check_head(&self, layer: u32, head: u32) -> Result<()> {
        if !self.manifest.options.heads {
            return Err(PipelineError::NoHeads {
                dir: self.dir().to_path_buf(),
            });
        }
        self.check_layer(layer)?;
        let heads = self.manifest.shape.heads;
        if head as usize >= heads {
            return Err(PipelineError::NoSuchHead { head, heads });
        }
        Ok(())
    }

    /// Every pair-list entry of one head, in table order (circuit, polarity, rank).
    pub fn head(&self, layer: u32, head: u32) -> Result<Vec<HeadRow>> {
        self.check_head(layer, head)?;
        let path = self.layout.table(Table::Heads(layer as usize));
        let rows = read_head_rows(&path, Some(head))?;
        check_layer_of_rows(&path, layer, rows.iter().map(|r| r.layer))?;
        Ok(rows)
    }

    /// The summary rows (VO and QK) of one head.
    pub fn head_summary(&self, layer: u32, head: u32) -> Result<Vec<HeadSummaryRow>> {
        self.check_head(layer, head)?;
        let rows = self
            .head_summaries()?
            .ok_or_else(|| PipelineError::NoHeads {
                dir: self.dir().to_path_buf(),
            })?;
        Ok(rows
            .into_iter()
            .filter(|r| r.layer == layer && r.head == head)
            .collect())
    }

    /// Every row of head_summary.parquet, read once; `None` when the
    /// extraction skipped the heads.
    pub fn head_summaries(&self) -> Result<Option<Vec<HeadSummaryRow>>> {
        let table = Table::HeadSummary;
        if !self.manifest.lists(&table.path()) {
            return Ok(None);
        }
        Ok(Some(read_head_summary(&self.layout.table(table))?))
    }

    /// The search index, opened once for the command that asks.
    ///
    /// The index is derived from the tables: a missing, damaged or stale one
    /// is rebuilt rather than trusted or refused, after `rebuilding` is told why.
    pub fn index(&self, rebuilding: &dyn Fn(&str)) -> Result<Index> {
        match open_checked(&self.layout, expected_entries(&self.manifest)) {
            Ok(index) => Ok(index),
            Err(problem) => {
                rebuilding(&problem);
                self.rebuild_index(None)?;
                Ok(Index::open(self.layout.index())?)
            }
        }
    }

    /// Searches `index`, this dataset's, refusing a layer the model lacks.
    pub fn search(&self, index: &Index, search: &Search) -> Result<Vec<Hit>> {
        Ok(self.page(index, search)?.hits)
    }

    /// [`search`](Dataset::search), with the number of matches in all.
    pub fn page(&self, index: &Index, search: &Search) -> Result<Page> {
        self.check_search(search)?;
        Ok(index.page(search)?)
    }

    /// Per layer and kind, how many units hold a matching entry, and the
    /// strongest of those entries.
    pub fn count_by_layer(&self, index: &Index, search: &Search) -> Result<Vec<LayerCount>> {
        self.check_search(search)?;
        Ok(index.count_by_layer(search)?)
    }

    fn check_search(&self, search: &Search) -> Result<()> {
        match search.layer {
            Some(layer) => self.check_layer(layer),
            None => Ok(()),
        }
    }

    /// Rebuilds the index from the tables the manifest lists.
    pub fn rebuild_index(&self, threads: Option<usize>) -> Result<()> {
        rebuild_index(
            &self.layout,
            &self.manifest.tables,
            threads,
            self.manifest.options.word_forms.as_deref(),
        )
    }
}

/// Fails unless every row read from the table of `layer` is of that layer.
fn check_layer_of_rows(path: &Path, layer: u32, rows: impl Iterator<Item = u32>) -> Result<()> {
    match rows.into_iter().find(|&found| found != layer) {
        Some(found) => Err(PipelineError::WrongLayer {
            path: path.to_path_buf(),
            layer,
            found,
        }),
        None => Ok(()),
    }
}
