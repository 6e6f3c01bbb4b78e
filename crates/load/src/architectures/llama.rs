//! LLaMA and the models that share its layout: Mistral, Qwen2 (with Q/K/V
//! biases, which are ignored), Qwen3 (with per-head Q and K norms), SmolLM2.
//!
//! `nn.Linear` weights are stored `[out, in]`, so every projection is read
//! transposed; the gated feed-forward layer is SwiGLU: neuron i computes
//! `silu(gate_i · x) · (up_i · x)` and writes `down[:, i]`. Query heads are
//! grouped onto `num_key_value_heads` key and value heads. Rotary embeddings
//! turn dim i with dim i + d_head/2 (`rotate_half`).

use serde::Deserialize;

use super::shared::{check_layers, contiguous_heads, output_embedding, Dimensions, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model, ModelShape, Rotary, RotaryPairing};

const NAME: &str = "LLaMA";

/// `model.` before every name but `lm_head`; absent when saved from the
/// base model (`LlamaModel`).
const ROOTS: &[&str] = &["model.", ""];

/// Block `l`'s tensors are named `layers.{l}.…`.
const BLOCK: &str = "layers";

/// The keys of `config.json` the LLaMA family uses, and Phi-3 with it.
#[derive(Debug, Deserialize)]
pub(super) struct LlamaConfig {
    model_type: String,
    #[serde(flatten)]
    pub(super) dimensions: Dimensions,
    #[serde(default = "super::shared::default_rope_theta")]
    rope_theta: f64,
    /// Phi-style partial rotary; LLaMA rotates every dim.
    partial_rotary_factor: Option<f64>,
    /// `LlamaConfig` leaves the embeddings untied unless told.
    #[serde(default)]
    pub(super) tie_word_embeddings: bool,
}

impl LlamaConfig {
    /// Rotary embeddings on the first `partial_rotary_factor` of each head
    /// (all of it by default), dim i with dim i + dims/2.
    pub(super) fn rotary(&self, d_head: usize) -> Rotary {
        Rotary {
            base: self.rope_theta,
            dims: rotary_dims(d_head, self.partial_rotary_factor),
            pairing: RotaryPairing::Halves,
        }
    }
}

/// Reads a LLaMA-family checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let llama: LlamaConfig = config.parse()?;
    let shape = llama
        .dimensions
        .shape(&config, &HF_KEYS, llama.tie_word_embeddings, true)?;
    let architecture = match llama.model_type.as_str() {
        "mistral" => Architecture::Mistral,
        "qwen2" => Architecture::Qwen2,
        "qwen3" => Architecture::Qwen3,
        _ => Architecture::Llama,
    };
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let top = TensorLookup::new(checkpoint, NAME, &[""]);
    let (d, vocab) = (shape.d_model, shape.vocab);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;

    let embedding = tensors.matrix("embed_tokens.weight", [vocab, d])?;
    let unembedding = output_embedding(&top, "lm_head.weight", &shape, &embedding)?;
    let rotary = Some(llama.rotary(shape.d_head));
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let norms = Norms {
                attention: "input_layernorm.weight",
                ff: "post_attention_layernorm.weight",
                head_norms: architecture == Architecture::Qwen3,
                plus_one: false,
            };
            layer(&blocks.pp(l), &shape, &norms, rotary)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: tensors.optional_vector("norm.weight", d)?,
        layers,
    })
}

/// Which norms a LLaMA-layout block has, and how its gains are stored.
pub(super) struct Norms {
    /// The norm in front of the attention.
    pub(super) attention: &'static str,
    /// The norm in front of the feed-forward layer.
    pub(super) ff: &'static str,
    /// Whether each head's query and key pass their own norm (`q_norm`, `k_norm`).
    pub(super) head_norms: bool,
    /// Whether a gain is stored as `w` and applied as `1 + w` (Gemma).
    pub(super) plus_one: bool,
}

/// One LLaMA-layout block, from a lookup scoped to `layers.{l}.`.
pub(super) fn layer(
    block: &TensorLookup,
    shape: &ModelShape,
    norms: &Norms,
    rotary: Option<Rotary>,
) -> Result<LayerParts> {
    let (d, d_ff, dh) = (shape.d_model, shape.d_ff, shape.d_head);
    let query = block.matrix("self_attn.q_proj.weight", [shape.heads * dh, d])?;
    let key = block.matrix("self_attn.k_proj.weight", [shape.kv_heads * dh, d])?;
    let value = block.matrix("self_attn.v_proj.weight", [shape.kv_heads * dh, d])?;
    let output = block.matrix("self_attn.o_proj.weight", [d, shape.heads * dh])?;
    let mut heads = contiguous_heads(
        shape,
        &query.transposed(),
        &key.transposed(),
        &value.transposed(),
        &output.transposed(),
    );
    let gain = |name: &str, len: usize| -> Result<Option<Vec<f32>>> {
        let stored = block.optional_vector(name, len)?;
        Ok(stored.map(|w| {
            if norms.plus_one {
                w.iter().map(|&w| 1.0 + w).collect()
            } else {
                w
            }
        }))
    };
    if norms.head_norms {
        let (query_norm, key_norm) = (
            gain("self_attn.q_norm.weight", dh)?,
            gain("self_attn.k_norm.weight", dh)?,
        );
        for head in &mut heads {
            head.query_norm.clone_from(&query_norm);
            head.key_norm.clone_from(&key_norm);
        }
    }
    Ok(LayerParts {
        ff_gates: Some(block.matrix("mlp.gate_proj.weight", [d_ff, d])?),
        ff_keys: block.matrix("mlp.up_proj.weight", [d_ff, d])?,
        ff_values: block
            .matrix("mlp.down_proj.weight", [d, d_ff])?
            .transposed(),
        heads,
        attention_norm: gain(norms.attention, d)?,
        ff_norm: gain(norms.ff, d)?,
        rotary,
    })
}

/// The dims of a head that rotary embeddings turn.
fn rotary_dims(d_head: usize, partial: Option<f64>) -> usize {
    match partial {
        // Even, so that every rotated dim has its partner.
        Some(factor) => ((d_head as f64 * factor) as usize) & !1,
        None => d_head,
    }
}
