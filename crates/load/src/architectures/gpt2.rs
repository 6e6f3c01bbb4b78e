//! GPT-2: its `config.json` keys and where its checkpoints keep each canonical part.
//!
//! Hugging Face GPT-2 checkpoints store linear layers as `Conv1D`, with weights
//! laid out `[in, out]`; tensor names appear with or without the
//! `transformer.` prefix; `attn.bias` / `attn.masked_bias` are causal-mask
//! buffers, not weights, and are never read.

use serde::Deserialize;

use super::shared::{check_layers, contiguous_heads, output_embedding, Dimensions, GPT2_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model, ModelShape};

const NAME: &str = "GPT-2";

/// `transformer.` when saved from `GPT2LMHeadModel`, nothing from `GPT2Model`.
const ROOTS: &[&str] = &["transformer.", ""];

/// Block `l`'s tensors are named `h.{l}.…`.
const BLOCK: &str = "h";

/// The keys of `config.json` GPT-2 uses (`GPT2Config`).
#[derive(Debug, Deserialize)]
struct Gpt2Config {
    #[serde(flatten)]
    dimensions: Dimensions,
    /// `GPT2Config` ties the embeddings unless told otherwise.
    #[serde(default = "tied_by_default")]
    tie_word_embeddings: bool,
}

fn tied_by_default() -> bool {
    true
}

/// Reads a GPT-2 checkpoint: the config's shape first, then the weights.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let gpt2: Gpt2Config = config.parse()?;
    // `n_head` only splits `n_embd` into heads: no GPT-2 tensor has a
    // per-head axis, so divisibility is all the weights can confirm.
    let shape = gpt2
        .dimensions
        .shape(&config, &GPT2_KEYS, gpt2.tie_word_embeddings, false)?;
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let (d, vocab) = (shape.d_model, shape.vocab);

    check_layers(&tensors, BLOCK, "n_layer", shape.layers)?;

    let embedding = tensors.matrix("wte.weight", [vocab, d])?;
    let unembedding = output_embedding(&tensors, "lm_head.weight", &shape, &embedding)?;
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| layer(&blocks.pp(l), &shape))
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture: Architecture::Gpt2,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: tensors.optional_vector("ln_f.weight", d)?,
        layers,
    })
}

/// One block, from a lookup scoped to `h.{l}.`.
fn layer(block: &TensorLookup, shape: &ModelShape) -> Result<LayerParts> {
    let (d, d_ff) = (shape.d_model, shape.d_ff);
    // Conv1D [in, out]: c_fc maps d → d_ff, so neuron i's key is column i;
    // the transposed view makes it row i without copying.
    let ff_keys = block.matrix("mlp.c_fc.weight", [d, d_ff])?.transposed();
    let ff_values = block.matrix("mlp.c_proj.weight", [d_ff, d])?;
    // c_attn holds W_Q, W_K and W_V side by side, each d columns wide.
    let qkv = block.matrix("attn.c_attn.weight", [d, 3 * d])?;
    let output = block.matrix("attn.c_proj.weight", [d, d])?;
    let heads = contiguous_heads(
        shape,
        &qkv.columns(0, d),
        &qkv.columns(d, d),
        &qkv.columns(2 * d, d),
        &output,
    );
    Ok(LayerParts {
        ff_gates: None,
        ff_keys,
        ff_values,
        heads,
        attention_norm: block.optional_vector("ln_1.weight", d)?,
        ff_norm: block.optional_vector("ln_2.weight", d)?,
        rotary: None,
    })
}
