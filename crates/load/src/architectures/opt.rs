//! OPT: separate `q_proj`, `k_proj`, `v_proj`, `out_proj` and `fc1`, `fc2`
//! (`[out, in]`), learned positions (not projected), and tied embeddings.
//! Checkpoints whose word embeddings are narrower than the residual stream
//! (`word_embed_proj_dim`, OPT-350m) project them in and out; their
//! vocabulary lives in another space, so they are refused.

use serde::Deserialize;

use super::shared::{check_layers, contiguous_heads, output_embedding, Dimensions, Keys, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model};

const NAME: &str = "OPT";

const ROOTS: &[&str] = &["model.decoder.", "decoder.", ""];

const BLOCK: &str = "layers";

/// The keys of `config.json` OPT uses.
#[derive(Debug, Deserialize)]
struct OptConfig {
    #[serde(flatten)]
    dimensions: Dimensions,
    word_embed_proj_dim: Option<usize>,
    /// Post-norm OPT (350m) normalises after each block: no norm feeds a
    /// block's input.
    #[serde(default = "pre_norm")]
    do_layer_norm_before: bool,
    #[serde(default = "tied")]
    tie_word_embeddings: bool,
}

fn pre_norm() -> bool {
    true
}

fn tied() -> bool {
    true
}

/// Reads an OPT checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let opt: OptConfig = config.parse()?;
    const OPT_KEYS: Keys = Keys {
        ff: "ffn_dim",
        ..HF_KEYS
    };
    let shape = opt
        .dimensions
        .shape(&config, &OPT_KEYS, opt.tie_word_embeddings, false)?;
    if opt
        .word_embed_proj_dim
        .is_some_and(|width| width != shape.d_model)
    {
        return Err(config.invalid(format!(
            "word_embed_proj_dim {} differs from hidden_size {}: the embeddings are projected in and out, which Glossa does not read",
            opt.word_embed_proj_dim.unwrap_or_default(),
            shape.d_model
        )));
    }
    let tensors = TensorLookup::new(checkpoint, NAME, ROOTS);
    let top = TensorLookup::new(checkpoint, NAME, &[""]);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;
    let (d, d_ff) = (shape.d_model, shape.d_ff);
    let embedding = tensors.matrix("embed_tokens.weight", [shape.vocab, d])?;
    let unembedding = output_embedding(&top, "lm_head.weight", &shape, &embedding)?;
    let norm = |block: &TensorLookup, name: &str| -> Result<Option<Vec<f32>>> {
        if opt.do_layer_norm_before {
            block.optional_vector(name, d)
        } else {
            Ok(None)
        }
    };
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let block = blocks.pp(l);
            let projection = |name: &str| Ok(block.matrix(name, [d, d])?.transposed());
            Ok(LayerParts {
                ff_gates: None,
                ff_keys: block.matrix("fc1.weight", [d_ff, d])?,
                ff_values: block.matrix("fc2.weight", [d, d_ff])?.transposed(),
                heads: contiguous_heads(
                    &shape,
                    &projection("self_attn.q_proj.weight")?,
                    &projection("self_attn.k_proj.weight")?,
                    &projection("self_attn.v_proj.weight")?,
                    &projection("self_attn.out_proj.weight")?,
                ),
                attention_norm: norm(&block, "self_attn_layer_norm.weight")?,
                ff_norm: norm(&block, "final_layer_norm.weight")?,
                rotary: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture: Architecture::Opt,
        shape,
        config: config.json,
        embedding,
        unembedding,
        final_norm: norm(&tensors, "final_layer_norm.weight")?,
        layers,
    })
}
