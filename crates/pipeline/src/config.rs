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
