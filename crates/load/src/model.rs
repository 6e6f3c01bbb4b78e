//! The canonical description every architecture is mapped onto.
//!
//! Nothing here knows how a particular checkpoint names or lays out its
//! tensors: that is the business of the files under `architectures/`, which
//! build a [`Model`] from these parts.

use serde::Serialize;

use crate::matrix::Matrix;

/// Architectures Glossa can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// GPT-2 (`model_type: "gpt2"`), Conv1D weights stored `[in, out]`.
    Gpt2,
}

/// The dimensions of a model, as the rest of Glossa needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelShape {
    /// Number of transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Width of each head (`d_model / heads`).
    pub d_head: usize,
    /// Feed-forward neurons per block.
    pub d_ff: usize,
    /// Rows of the embedding matrix (may exceed the tokenizer's vocabulary).
    pub vocab: usize,
    /// Whether the unembedding is the input embedding.
    pub tied_embeddings: bool,
}

/// A model reduced to the parameters Glossa projects.
///
/// [`Model::load`] reads one from a checkpoint's files.
pub struct Model {
    /// The architecture the parts were mapped from.
    pub architecture: Architecture,
    /// Dimensions.
    pub shape: ModelShape,
    /// `config.json` as found, for the manifest.
    pub config: serde_json::Value,
    /// The input embedding, one row per token (`vocab × d_model`).
    pub embedding: Matrix,
    /// E: the output embedding (the input embedding when tied), the matrix
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
