//! Where is each file of a dataset? One type owns every path.
//!
//! A dataset directory holds:
//!
//! | path | what |
//! | --- | --- |
//! | `manifest.json` | what produced the dataset, every table's hash and row count; written last |
//! | `README.md` | the dataset card: what the tables are, for people and for the Hugging Face hub |
//! | `tokens.parquet` | one row per token of the tokenizer |
//! | `token_list.parquet` | the corpus tokens a run was restricted to (only with a token list) |
//! | `neurons/layer-NNN.parquet` | every neuron list of one layer |
//! | `heads/layer-NNN.parquet` | every head pair list of one layer |
//! | `neuron_summary/layer-NNN.parquet` | one row per neuron and side of one layer: its scores' mean and spread |
//! | `head_summary.parquet` | one row per head and circuit |
//! | `connections/layer-NNN.parquet` | every neuron-to-neuron connection list of one layer (`--connections`) |
//! | `index/` | the search index, derived from the tables |
//! | `.glossa.lock` | held by the extraction writing the directory |
//! | `.glossa-run/` | the journal of an extraction in progress |
//!
//! [`Table`] names one table file and [`TableKind`] the kind its rows count
//! under; [`Layout`] turns both into paths. Nothing else spells a file name.

use std::fmt;
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use crate::schema;

/// The kinds of table a dataset holds, as the manifest's `row_counts` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// `tokens.parquet`.
    Tokens,
    /// `token_list.parquet`.
    TokenList,
    /// `neurons/layer-NNN.parquet`, one per layer.
    Neurons,
    /// `heads/layer-NNN.parquet`, one per layer.
    Heads,
    /// `head_summary.parquet`.
    HeadSummary,
    /// `neuron_summary/layer-NNN.parquet`, one per layer.
    NeuronSummary,
    /// `connections/layer-NNN.parquet`, one per layer.
    Connections,
}

impl TableKind {
    /// Every kind, in the order a run writes them.
    pub const ALL: [TableKind; 7] = [
        TableKind::Tokens,
        TableKind::TokenList,
        TableKind::Neurons,
        TableKind::NeuronSummary,
        TableKind::Connections,
        TableKind::Heads,
        TableKind::HeadSummary,
    ];

    /// The kinds stored as one file per layer, in a directory of that name.
    pub const PER_LAYER: [TableKind; 4] = [
        TableKind::Neurons,
        TableKind::NeuronSummary,
        TableKind::Heads,
        TableKind::Connections,
    ];

    /// The name in `row_counts`: the directory of a per-layer kind, else the
    /// file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Tokens => "tokens",
            TableKind::TokenList => "token_list",
            TableKind::Neurons => "neurons",
            TableKind::Heads => "heads",
            TableKind::HeadSummary => "head_summary",
            TableKind::NeuronSummary => "neuron_summary",
            TableKind::Connections => "connections",
        }
    }

    /// Whether the kind is stored as one file per layer.
    pub fn per_layer(self) -> bool {
        TableKind::PER_LAYER.contains(&self)
    }

    /// The kind whose `row_counts` name is `name`.
    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The column layout of this kind's files.
    pub fn schema(self) -> SchemaRef {
        match self {
            TableKind::Tokens => schema::tokens(),
            TableKind::TokenList => schema::token_list(),
            TableKind::Neurons => schema::neurons(),
            TableKind::Heads => schema::heads(),
            TableKind::HeadSummary => schema::head_summary(),
            TableKind::NeuronSummary => schema::neuron_summary(),
            TableKind::Connections => schema::connections(),
        }
    }

    /// What one row of this kind is, in a line.
    pub fn about(self) -> &'static str {
        match self {
            TableKind::Tokens => "one row per token of the tokenizer",
            TableKind::TokenList => {
                "the corpus tokens the run was restricted to, most frequent first"
            }
            TableKind::Neurons => {
                "one row per entry of a neuron's list: the tokens a key, value or gate vector scores highest (top) and lowest (bottom)"
            }
            TableKind::NeuronSummary => {
                "one row per neuron and side: the mean and spread of its scores over every selectable token, which its lists' z are read against"
            }
            TableKind::Heads => {
                "one row per entry of a head's list: the token pairs its VO and QK circuits score highest (top) and lowest (bottom)"
            }
            TableKind::HeadSummary => {
                "one row per head and circuit: the circuit matrix's norm, extremes, copying score, and the mean and spread of its entries"
            }
            TableKind::Connections => {
                "one row per entry of a neuron's connection list: the neurons of later layers whose keys (or gates) its value excites (top) or inhibits (bottom) most, and the neurons of earlier layers whose values excite or inhibit its key (or gate) most"
            }
        }
    }

    /// The files of this kind as a glob relative to the dataset directory
    /// (`neurons/layer-*.parquet`, `tokens.parquet`), as a dataset card's
    /// `data_files` name them.
    pub fn files_pattern(self) -> String {
        if self.per_layer() {
            format!("{self}/{LAYER_FILES}")
        } else {
            format!("{self}.parquet")
        }
    }

    /// Whether the search index holds one entry per row of this kind: the
    /// list tables.
    pub fn indexed(self) -> bool {
        matches!(self, TableKind::Neurons | TableKind::Heads)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One table file of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `tokens.parquet`.
    Tokens,
    /// `token_list.parquet`.
    TokenList,
    /// `neurons/layer-NNN.parquet`.
    Neurons(usize),
    /// `heads/layer-NNN.parquet`.
    Heads(usize),
    /// `head_summary.parquet`.
    HeadSummary,
    /// `neuron_summary/layer-NNN.parquet`.
    NeuronSummary(usize),
    /// `connections/layer-NNN.parquet`.
    Connections(usize),
}

impl Table {
    /// The kind its rows count under.
    pub fn kind(self) -> TableKind {
        match self {
            Table::Tokens => TableKind::Tokens,
            Table::TokenList => TableKind::TokenList,
            Table::Neurons(_) => TableKind::Neurons,
            Table::Heads(_) => TableKind::Heads,
            Table::HeadSummary => TableKind::HeadSummary,
            Table::NeuronSummary(_) => TableKind::NeuronSummary,
            Table::Connections(_) => TableKind::Connections,
        }
    }

    /// The layer of a per-layer table.
    pub fn layer(self) -> Option<usize> {
        match self {
            Table::Neurons(layer)
            | Table::Heads(layer)
            | Table::NeuronSummary(layer)
            | Table::Connections(layer) => Some(layer),
            _ => None,
        }
    }

    /// The path relative to the dataset directory, `/`-separated, as the
    /// manifest records it.
    pub fn path(self) -> String {
        match self.layer() {
            Some(layer) => format!("{}/{}", self.kind(), layer_file(layer)),
            None => format!("{}.parquet", self.kind()),
        }
    }

    /// The table at `path` (relative, as the manifest records it), if it is
    /// one of a dataset's tables.
    pub fn parse(path: &str) -> Option<Table> {
        let table = match path.split_once('/') {
            Some((dir, file)) => {
                let layer = file
                    .strip_prefix("layer-")?
                    .strip_suffix(".parquet")?
                    .parse()
                    .ok()?;
                match TableKind::from_name(dir)? {
                    TableKind::Neurons => Table::Neurons(layer),
                    TableKind::Heads => Table::Heads(layer),
                    TableKind::NeuronSummary => Table::NeuronSummary(layer),
                    TableKind::Connections => Table::Connections(layer),
                    _ => return None,
                }
            }
            None => match TableKind::from_name(path.strip_suffix(".parquet")?)? {
                TableKind::Tokens => Table::Tokens,
                TableKind::TokenList => Table::TokenList,
                TableKind::HeadSummary => Table::HeadSummary,
                _ => return None,
            },
        };
        // Only the canonical spelling (`layer-007`, not `layer-7`) is a table.
        (table.path() == path).then_some(table)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// `layer-NNN.parquet`: zero-padded so that file names sort by layer.
fn layer_file(layer: usize) -> String {
    format!("layer-{layer:03}.parquet")
}

/// Every [`layer_file`], as a glob.
const LAYER_FILES: &str = "layer-*.parquet";

/// Every path of the dataset in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout of the dataset in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Layout {
        Layout { dir: dir.into() }
    }

    /// The dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    /// `README.md`, the dataset card.
    pub fn card(&self) -> PathBuf {
        self.dir.join(CARD)
    }

    /// Whether the directory holds a finished dataset (the manifest is
    /// written last).
    pub fn is_finished(&self) -> bool {
        self.manifest().is_file()
    }

    /// The file of `table`.
    pub fn table(&self, table: Table) -> PathBuf {
        self.file(&table.path())
    }

    /// A file named by its path relative to the dataset directory, as the
    /// manifest and the journal record it.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// The directory of a per-layer kind (`neurons/`, `heads/`).
    pub fn layer_dir(&self, kind: TableKind) -> PathBuf {
        self.dir.join(kind.as_str())
    }

    /// The search index directory.
    pub fn index(&self) -> PathBuf {
        self.dir.join("index")
    }

    /// The lock file of the run writing the directory.
    pub fn lock_file(&self) -> PathBuf {
        self.dir.join(".glossa.lock")
    }

    /// The directory of a run in progress: its journal and its partial files.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join(RUN_DIR)
    }

    /// The journal of a run in progress.
    pub fn journal(&self) -> PathBuf {
        self.run_dir().join("progress.json")
    }

    /// Whether an unfinished run left its directory here.
    pub fn has_run_dir(&self) -> bool {
        self.run_dir().is_dir()
    }

    /// One layer's part of the head summary, kept by a run in progress so
    /// that a resumed run can write the whole summary without recomputing
    /// done layers; relative to the dataset directory, as the journal records it.
    pub fn head_summary_part(layer: usize) -> String {
        format!("{RUN_DIR}/head-summary-{layer:03}.parquet")
    }
}

/// The run directory's name.
const RUN_DIR: &str = ".glossa-run";

/// The dataset card's name, where the Hugging Face hub looks for it.
pub(crate) const CARD: &str = "README.md";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_back_from_its_path() {
        for table in [
            Table::Tokens,
            Table::TokenList,
            Table::HeadSummary,
            Table::Neurons(0),
            Table::Neurons(123),
            Table::Heads(7),
            Table::Heads(1000),
            Table::NeuronSummary(3),
            Table::Connections(12),
        ] {
            assert_eq!(Table::parse(&table.path()), Some(table), "{table}");
        }
        assert_eq!(Table::Neurons(7).path(), "neurons/layer-007.parquet");
        assert_eq!(Table::HeadSummary.path(), "head_summary.parquet");
        assert_eq!(
            Table::NeuronSummary(2).path(),
            "neuron_summary/layer-002.parquet"
        );
    }

    #[test]
    fn other_paths_are_not_tables() {
        for path in [
            "manifest.json",
            "neurons.parquet",
            "heads/layer-7.parquet",
            "heads/layer-x.parquet",
            "tokens/layer-001.parquet",
            "index/meta.json",
            ".glossa-run/head-summary-000.parquet",
            "../tokens.parquet",
        ] {
            assert_eq!(Table::parse(path), None, "{path}");
        }
    }
}
