//! GPT-NeoX and Pythia. `query_key_value` fuses the projections per head:
//! its rows, viewed as `(heads, 3, d_head)`, hold head h's query, key and
//! value rows one after another. Rotary embeddings turn the first
//! `rotary_pct` of each head, dim i with dim i + dims/2. The output
//! embedding `embed_out` is untied.

use serde::Deserialize;

use super::shared::{check_layers, output_embedding, Dimensions, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, HeadParts, LayerParts, Model, Rotary, RotaryPairing};

const NAME: &str = "GPT-NeoX";

const ROOTS: &[&str] = &["gpt_neox.", ""];

const BLOCK: &str = "layers";

/// The keys of `config.json` GPT-NeoX uses.
#[derive(Debug, Deserialize)]
struct NeoxConfig {
    #[serde(flatten)]
    dimensions: Dimensions,
    #[serde(default = "default_rotary_pct")]
    rotary_pct: f64,
    #[serde(default = "super::shared::default_rope_theta")]
    rotary_emb_base: f64,
    #[serde(default)]
    tie_word_embeddings: bool,
}

fn default_rotary_pct() -> f64 {
    0.25
}

/// Reads a GPT-NeoX checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let neox: NeoxConfig = config.parse()?;
    let shape = neox
        .dimensions
        .shape(&config, &HF_KEYS, neox.tie_word_embeddings, false)?;
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let top = TensorLookup::new(checkpoint, NAME, &[""]);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;
    let (d, d_ff, dh) = (shape.d_model, shape.d_ff, shape.d_head);
    let embedding = tensors.matrix("embed_in.weight", [shape.vocab, d])?;
    let unembedding = output_embedding(&top, "embed_out.weight", &shape, &embedding)?;
    let rotary = Rotary {
        base: neox.rotary_emb_base,
        // Even, so that every rotated dim has its partner.
        dims: ((dh as f64 * neox.rotary_pct) as usize) & !1,
        pairing: RotaryPairing::Halves,
    };
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let block = blocks.pp(l);
            let qkv = block
                .matrix("attention.query_key_value.weight", [3 * d, d])?
                .transposed();
            let output = block.matrix("attention.dense.weight", [d, d])?.transposed();
            let heads = (0..shape.heads)
                .map(|h| {
                    let first = 3 * dh * h;
                    HeadParts {
                        query: qkv.columns(first, dh),
                        key: qkv.columns(first + dh, dh),
                        value: qkv.columns(first + 2 * dh, dh),
                        output: output.row_range(h * dh, dh),
                        kv_head: h,
                        query_norm: None,
                        key_norm: None,
                    }
                })
                .collect();
            Ok(LayerParts {
                ff_gates: None,
                ff_keys: block.matrix("mlp.dense_h_to_4h.weight", [d_ff, d])?,
                ff_values: block
                    .matrix("mlp.dense_4h_to_h.weight", [d, d_ff])?
                    .transposed(),
                heads,
                attention_norm: block.optional_vector("input_layernorm.weight", d)?,
                ff_norm: block.optional_vector("post_attention_layernorm.weight", d)?,
                rotary: Some(rotary),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture: Architecture::GptNeox,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: tensors.optional_vector("final_layer_norm.weight", d)?,
        layers,
    })
}
