//! Run configuration: one struct, filled from a pipeline file and then flags.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// Everything an extraction needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractConfig {
    /// Hub id (`ORG/NAME`) or local directory in Hugging Face layout.
    pub model: String,
    /// Hub revision: branch, tag or commit.
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Output directory; default `data/<model slug>`.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Tokens kept at each end of every neuron list.
    #[serde(default = "default_k")]
    pub k: usize,
    /// Worker threads; default: all cores.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Project feed-forward neurons.
    #[serde(default = "yes")]
    pub neurons: bool,
    /// Extract attention heads' VO and QK pair lists.
    #[serde(default = "yes")]
    pub heads: bool,
    /// Pairs kept at each end of every head circuit.
    #[serde(default = "default_head_k")]
    pub head_k: usize,
    /// Head lists skip pairs of the same token (or the same text ignoring case
    /// and the word-initial marker).
    #[serde(default)]
    pub exclude_same: bool,
    /// Head lists skip pairs of near-identical forms (see the README).
    #[serde(default)]
    pub exclude_fuzzy: bool,
    /// Character filters (`ascii`, `alnum`, `no-brackets`, `alpha`, `word`,
    /// `no-special`, `min-len=N`): tokens failing any never enter a list.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Keep only tokens that occur in this corpus: a text file or directory, a
    /// JSONL/CSV/Parquet file, `hf://datasets/ORG/NAME[@REV][/PATTERN]`, or a
    /// saved `token_list.parquet`.
    #[serde(default)]
    pub token_list: Option<String>,
    /// The text field of JSONL, CSV and Parquet corpora.
    #[serde(default = "default_text_column")]
    pub text_column: String,
    /// Keep only the N most frequent corpus tokens.
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Compute every entry of every head matrix instead of pruning with
    /// bounds; slow, for checking the pruned path.
    #[serde(default)]
    pub brute_force_heads: bool,
    /// Start over even if the output directory holds an interrupted run of
    /// the same configuration (which is otherwise resumed). A flag of one
    /// invocation, never read from a pipeline file.
    #[serde(skip)]
    pub force: bool,
}

fn default_text_column() -> String {
    "text".to_string()
}

fn yes() -> bool {
    true
}

fn default_head_k() -> usize {
    100
}

fn default_revision() -> String {
    "main".to_string()
}

fn default_k() -> usize {
    50
}

impl ExtractConfig {
    /// The defaults for `model`.
    pub fn new(model: impl Into<String>) -> ExtractConfig {
        ExtractConfig {
            model: model.into(),
            revision: default_revision(),
            out: None,
            k: default_k(),
            threads: None,
            neurons: true,
            heads: true,
            head_k: default_head_k(),
            exclude_same: false,
            exclude_fuzzy: false,
            filters: Vec::new(),
            token_list: None,
            text_column: default_text_column(),
            max_tokens: None,
            brute_force_heads: false,
            force: false,
        }
    }
}

/// A named run configuration under `pipelines/`.
///
/// ```toml
/// name = "polish-gpt2-medium"
/// description = "…"
/// [extract]
/// model = "sdadas/polish-gpt2-medium"
/// revision = "main"
/// k = 50
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Short name of the run.
    pub name: String,
    /// What the run is for.
    #[serde(default)]
    pub description: String,
    /// The extraction settings; flags given on the command line override them.
    pub extract: ExtractConfig,
}

impl PipelineFile {
    /// Reads a pipeline TOML file.
    pub fn read(path: &Path) -> Result<PipelineFile> {
        let text = std::fs::read_to_string(path).map_err(PipelineError::io(path))?;
        toml::from_str(&text).map_err(|e| PipelineError::PipelineFile {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}
