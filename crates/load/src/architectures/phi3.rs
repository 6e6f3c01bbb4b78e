//! Phi-3: LLaMA's block with fused projections. `qkv_proj` stacks the query
//! rows, then the key rows, then the value rows; `gate_up_proj` stacks the
//! gate rows, then the up rows. Rotary embeddings may turn only the first
//! `partial_rotary_factor` of each head.

use super::llama::LlamaConfig;
use super::shared::{check_layers, contiguous_heads, output_embedding, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model};

const NAME: &str = "Phi-3";

const ROOTS: &[&str] = &["model.", ""];

const BLOCK: &str = "layers";

/// Reads a Phi-3 checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    // Phi-3's config keys are LLaMA's.
    let phi: LlamaConfig = config.parse()?;
    let shape = phi
        .dimensions
        .shape(&config, &HF_KEYS, phi.tie_word_embeddings, true)?;
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let top = TensorLookup::new(checkpoint, NAME, &[""]);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;
    let (d, d_ff, dh) = (shape.d_model, shape.d_ff, shape.d_head);
    let embedding = tensors.matrix("embed_tokens.weight", [shape.vocab, d])?;
    let unembedding = output_embedding(&top, "lm_head.weight", &shape, &embedding)?;
    let rotary = phi.rotary(dh);
    let (q_rows, kv_rows) = (shape.heads * dh, shape.kv_heads * dh);
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let block = blocks.pp(l);
            let qkv = block
                .matrix("self_attn.qkv_proj.weight", [q_rows + 2 * kv_rows, d])?
                .transposed();
            let output = block.matrix("self_attn.o_proj.weight", [d, q_rows])?;
            let gate_up = block.matrix("mlp.gate_up_proj.weight", [2 * d_ff, d])?;
            Ok(LayerParts {
                ff_gates: Some(gate_up.row_range(0, d_ff)),
                ff_keys: gate_up.row_range(d_ff, d_ff),
                ff_values: block
                    .matrix("mlp.down_proj.weight", [d, d_ff])?
                    .transposed(),
                heads: contiguous_heads(
                    &shape,
                    &qkv.columns(0, q_rows),
                    &qkv.columns(q_rows, kv_rows),
                    &qkv.columns(q_rows + kv_rows, kv_rows),
                    &output.transposed(),
                ),
                attention_norm: block.optional_vector("input_layernorm.weight", d)?,
                ff_norm: block.optional_vector("post_attention_layernorm.weight", d)?,
                rotary: Some(rotary),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture: Architecture::Phi3,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: tensors.optional_vector("norm.weight", d)?,
        layers,
    })
}
