//! GPT-J: separate `q_proj`, `k_proj`, `v_proj` and `out_proj` (`[out, in]`,
//! no biases), attention and feed-forward reading the same `ln_1` in
//! parallel, rotary embeddings on the first `rotary_dim` dims of each head
//! turning dim 2i with dim 2i + 1 (`rotate_every_two`), and an untied
//! `lm_head`.

use serde::Deserialize;

use super::shared::{check_layers, contiguous_heads, output_embedding, Dimensions, GPT2_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model, Rotary, RotaryPairing};

const NAME: &str = "GPT-J";

const ROOTS: &[&str] = &["transformer.", ""];

const BLOCK: &str = "h";

/// The keys of `config.json` GPT-J uses: GPT-2's names, and its rotary dims.
#[derive(Debug, Deserialize)]
struct GptjConfig {
    #[serde(flatten)]
    dimensions: Dimensions,
    /// Absent: every dim of a head turns.
    rotary_dim: Option<usize>,
    #[serde(default)]
    tie_word_embeddings: bool,
}

/// Reads a GPT-J checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let gptj: GptjConfig = config.parse()?;
    config.check_dimensions(&[("rotary_dim", gptj.rotary_dim)])?;
    let shape = gptj
        .dimensions
        .shape(&config, &GPT2_KEYS, gptj.tie_word_embeddings, false)?;
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let top = TensorLookup::new(checkpoint, NAME, &[""]);
    check_layers(&tensors, BLOCK, "n_layer", shape.layers)?;
    let (d, d_ff) = (shape.d_model, shape.d_ff);
    let embedding = tensors.matrix("wte.weight", [shape.vocab, d])?;
    let unembedding = output_embedding(&top, "lm_head.weight", &shape, &embedding)?;
    let rotary = Rotary {
        base: super::shared::default_rope_theta(),
        dims: gptj.rotary_dim.unwrap_or(shape.d_head).min(shape.d_head) & !1,
        pairing: RotaryPairing::Adjacent,
    };
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let block = blocks.pp(l);
            let projection = |name: &str| Ok(block.matrix(name, [d, d])?.transposed());
            // One norm feeds attention and feed-forward alike.
            let norm = block.optional_vector("ln_1.weight", d)?;
            Ok(LayerParts {
                ff_gates: None,
                ff_keys: block.matrix("mlp.fc_in.weight", [d_ff, d])?,
                ff_values: block.matrix("mlp.fc_out.weight", [d, d_ff])?.transposed(),
                heads: contiguous_heads(
                    &shape,
                    &projection("attn.q_proj.weight")?,
                    &projection("attn.k_proj.weight")?,
                    &projection("attn.v_proj.weight")?,
                    &projection("attn.out_proj.weight")?,
                ),
                attention_norm: norm.clone(),
                ff_norm: norm,
                rotary: Some(rotary),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture: Architecture::Gptj,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: tensors.optional_vector("ln_f.weight", d)?,
        layers,
    })
}
