//! The canonical parts every architecture is mapped onto.

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::config::{self, ModelShape};
use crate::error::{LoadError, Result};
use crate::gpt2;
use crate::matrix::Matrix;
use crate::source::ModelFiles;

/// Architectures Glossa can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// GPT-2 (`model_type: "gpt2"`), Conv1D weights stored `[in, out]`.
    Gpt2,
}

/// A model reduced to the parameters Glossa projects.
pub struct Model {
    /// The architecture the parts were mapped from.
    pub architecture: Architecture,
    /// Dimensions.
    pub shape: ModelShape,
    /// `config.json` as found, for the manifest.
    pub config: serde_json::Value,
    /// The input embedding (`wte`), one row per token (`vocab × d_model`).
    pub embedding: Matrix,
    /// E: the output embedding (`lm_head`, or `wte` when tied), the matrix
    /// neuron scores are read through (`vocab × d_model`).
    pub unembedding: Matrix,
    /// Per-layer parts, in order.
    pub layers: Vec<LayerParts>,
}

/// The parameters of one transformer block.
pub struct LayerParts {
    /// Feed-forward keys: row i is the input weight vector of neuron i (`d_ff × d_model`).
    pub ff_keys: Matrix,
    /// Feed-forward values: row i is the output weight vector of neuron i (`d_ff × d_model`).
    pub ff_values: Matrix,
    /// The attention projections.
    pub attention: AttentionParts,
}

/// Attention projections acting on the residual stream from the right (`x · W`).
pub struct AttentionParts {
    /// W_Q, `d_model × d_model`; head h owns columns `h·d_head ..`.
    pub query: Matrix,
    /// W_K, `d_model × d_model`; head h owns columns `h·d_head ..`.
    pub key: Matrix,
    /// W_V, `d_model × d_model`; head h owns columns `h·d_head ..`.
    pub value: Matrix,
    /// W_O, `d_model × d_model`; head h owns rows `h·d_head ..`.
    pub output: Matrix,
}

impl AttentionParts {
    /// Head `h`'s columns of W_Q, W_K, W_V (`d_model × d_head` each) and rows
    /// of W_O (`d_head × d_model`).
    pub fn head(&self, h: usize, d_head: usize) -> [Matrix; 4] {
        let start = h * d_head;
        [
            self.query.columns(start, d_head),
            self.key.columns(start, d_head),
            self.value.columns(start, d_head),
            self.output.row_range(start, d_head),
        ]
    }
}

impl Model {
    /// Reads `config.json`, opens the weights and maps them onto the canonical parts.
    pub fn load(files: &ModelFiles) -> Result<Model> {
        let (shape, config) = config::read(&files.config)?;
        let checkpoint = Checkpoint::open(files.weights_format, &files.weights)?;
        let parts = gpt2::map(&checkpoint, &shape)?;
        Ok(Model {
            architecture: Architecture::Gpt2,
            shape,
            config,
            embedding: parts.embedding,
            unembedding: parts.unembedding,
            layers: parts.layers,
        })
    }
}

/// Fails on the first NaN or infinity in `matrix`, naming the tensor.
pub(crate) fn check_finite(name: &str, matrix: &Matrix) -> Result<()> {
    match matrix.first_non_finite() {
        Some((position, value)) => Err(LoadError::NonFinite {
            name: name.to_string(),
            value,
            position,
        }),
        None => Ok(()),
    }
}
