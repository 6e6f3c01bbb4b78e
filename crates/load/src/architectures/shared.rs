//! What the adapters share: the dimensions every `config.json` gives, the
//! checks every checkpoint passes, and the splitting of projections whose
//! heads are contiguous slices.

use serde::Deserialize;

use crate::config::ConfigFile;
use crate::error::{LoadError, Result};
use crate::lookup::TensorLookup;
use crate::matrix::Matrix;
use crate::model::{HeadParts, ModelShape};

/// Refuses a checkpoint holding blocks beyond the config's layer count,
/// which would otherwise be skipped without a word.
pub(super) fn check_layers(
    blocks: &TensorLookup,
    segment: &'static str,
    key: &'static str,
    layers: usize,
) -> Result<()> {
    let stored = blocks.indices(segment);
    if stored.last().is_some_and(|&last| last >= layers) {
        return Err(LoadError::UndeclaredLayers {
            stored,
            block: segment,
            key,
            declared: layers,
        });
    }
    Ok(())
}

/// The query heads of projections whose heads are contiguous slices:
/// `query` is `d_model × heads·d_head`, `key` and `value` are
/// `d_model × kv_heads·d_head`, `output` is `heads·d_head × d_model`.
pub(super) fn contiguous_heads(
    shape: &ModelShape,
    query: &Matrix,
    key: &Matrix,
    value: &Matrix,
    output: &Matrix,
) -> Vec<HeadParts> {
    let dh = shape.d_head;
    (0..shape.heads)
        .map(|h| {
            let kv = shape.kv_head(h);
            HeadParts {
                query: query.columns(h * dh, dh),
                key: key.columns(kv * dh, dh),
                value: value.columns(kv * dh, dh),
                output: output.row_range(h * dh, dh),
                kv_head: kv,
                query_norm: None,
                key_norm: None,
            }
        })
        .collect()
}

/// The dimensions every `config.json` gives, under the names most families
/// use or under GPT-2's (`n_layer`, `n_head`, `n_embd`, `n_inner`) and OPT's
/// (`ffn_dim`).
#[derive(Debug, Deserialize)]
pub(super) struct Dimensions {
    #[serde(alias = "n_layer")]
    num_hidden_layers: usize,
    #[serde(alias = "n_head")]
    num_attention_heads: usize,
    /// Absent without grouped-query attention.
    num_key_value_heads: Option<usize>,
    #[serde(alias = "n_embd")]
    hidden_size: usize,
    /// `null` or absent in GPT-2-style configs, meaning 4 × hidden_size.
    #[serde(alias = "n_inner", alias = "ffn_dim")]
    intermediate_size: Option<usize>,
    vocab_size: usize,
    /// Absent in most configs, meaning hidden_size / num_attention_heads.
    head_dim: Option<usize>,
}

/// The names a family's `config.json` gives its dimensions, for messages.
pub(super) struct Keys {
    pub(super) layers: &'static str,
    pub(super) heads: &'static str,
    pub(super) hidden: &'static str,
    pub(super) ff: &'static str,
}

/// The rotary base configs default to (and GPT-J's, which its config omits).
pub(super) fn default_rope_theta() -> f64 {
    10_000.0
}

/// GPT-2's names, which GPT-J keeps.
pub(super) const GPT2_KEYS: Keys = Keys {
    layers: "n_layer",
    heads: "n_head",
    hidden: "n_embd",
    ff: "n_inner",
};

/// The names most Hugging Face configs use.
pub(super) const HF_KEYS: Keys = Keys {
    layers: "num_hidden_layers",
    heads: "num_attention_heads",
    hidden: "hidden_size",
    ff: "intermediate_size",
};

impl Dimensions {
    /// The canonical shape, refusing zero or implausible dimensions and head
    /// counts that do not split the model into whole heads and query groups.
    pub(super) fn shape(
        &self,
        config: &ConfigFile,
        keys: &Keys,
        tied_embeddings: bool,
        gated: bool,
    ) -> Result<ModelShape> {
        config.check_dimensions(&[
            (keys.layers, Some(self.num_hidden_layers)),
            (keys.heads, Some(self.num_attention_heads)),
            ("num_key_value_heads", self.num_key_value_heads),
            (keys.hidden, Some(self.hidden_size)),
            (keys.ff, self.intermediate_size),
            ("vocab_size", Some(self.vocab_size)),
            ("head_dim", self.head_dim),
        ])?;
        let (heads, hidden) = (self.num_attention_heads, self.hidden_size);
        if self.head_dim.is_none() && !hidden.is_multiple_of(heads) {
            return Err(config.invalid(format!(
                "{} {hidden} is not a multiple of {} {heads}",
                keys.hidden, keys.heads
            )));
        }
        let kv_heads = self.num_key_value_heads.unwrap_or(heads);
        if !heads.is_multiple_of(kv_heads) {
            return Err(config.invalid(format!(
                "{} {heads} is not a multiple of num_key_value_heads {kv_heads}",
                keys.heads
            )));
        }
        Ok(ModelShape {
            layers: self.num_hidden_layers,
            heads,
            kv_heads,
            d_model: hidden,
            d_head: self.head_dim.unwrap_or(hidden / heads),
            d_ff: self.intermediate_size.unwrap_or(4 * hidden),
            vocab: self.vocab_size,
            tied_embeddings,
            gated,
        })
    }
}

/// The output embedding: `name` (`vocab × d_model`), or the input
/// embedding when the config ties them.
pub(super) fn output_embedding(
    tensors: &TensorLookup,
    name: &str,
    shape: &ModelShape,
    embedding: &Matrix,
) -> Result<Matrix> {
    if shape.tied_embeddings {
        return Ok(embedding.clone());
    }
    if !tensors.contains(name) {
        return Err(LoadError::MissingTensor {
            name: name.to_string(),
            candidates: format!("{name:?} (config.json says tie_word_embeddings: false)"),
            architecture: tensors.architecture(),
        });
    }
    tensors.matrix(name, [shape.vocab, shape.d_model])
}
