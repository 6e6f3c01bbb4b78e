//! GPT-2: where its checkpoints keep each canonical part.
//!
//! Hugging Face GPT-2 checkpoints store linear layers as `Conv1D`, with weights
//! laid out `[in, out]`; tensor names appear with or without the
//! `transformer.` prefix; `attn.bias` / `attn.masked_bias` are causal-mask
//! buffers, not weights, and are never read.

use crate::checkpoint::Checkpoint;
use crate::config::ModelShape;
use crate::error::{LoadError, Result};
use crate::matrix::Matrix;
use crate::model::{check_finite, AttentionParts, LayerParts};

const PREFIX: &str = "transformer.";

/// The canonical parts of a GPT-2 checkpoint.
pub(crate) struct Gpt2Parts {
    pub(crate) embedding: Matrix,
    pub(crate) unembedding: Matrix,
    pub(crate) layers: Vec<LayerParts>,
}

/// Maps a GPT-2 checkpoint onto the embeddings and per-layer parts.
pub(crate) fn map(checkpoint: &Checkpoint, shape: &ModelShape) -> Result<Gpt2Parts> {
    let tensor = |name: &str, expected: [usize; 2]| -> Result<Matrix> {
        let found = [format!("{PREFIX}{name}"), name.to_string()]
            .into_iter()
            .find(|candidate| checkpoint.contains(candidate));
        let Some(found) = found else {
            return Err(LoadError::MissingTensor {
                name: name.to_string(),
                candidates: format!("{name:?} and {:?}", format!("{PREFIX}{name}")),
                architecture: "GPT-2",
            });
        };
        let matrix = checkpoint.matrix(&found)?;
        if [matrix.rows(), matrix.cols()] != expected {
            let stored_shape = checkpoint
                .shapes()
                .remove(&found)
                .unwrap_or_else(|| vec![matrix.rows(), matrix.cols()]);
            return Err(LoadError::ShapeMismatch {
                name: found,
                found: stored_shape,
                expected: expected.to_vec(),
            });
        }
        check_finite(&found, &matrix)?;
        Ok(matrix)
    };
    let (d, d_ff, vocab) = (shape.d_model, shape.d_ff, shape.vocab);

    let embedding = tensor("wte.weight", [vocab, d])?;
    let unembedding = if !shape.tied_embeddings && checkpoint.contains("lm_head.weight") {
        tensor("lm_head.weight", [vocab, d])?
    } else if shape.tied_embeddings {
        embedding.clone()
    } else {
        return Err(LoadError::MissingTensor {
            name: "lm_head.weight".to_string(),
            candidates: "\"lm_head.weight\" (config.json says tie_word_embeddings: false)"
                .to_string(),
            architecture: "GPT-2",
        });
    };

    let layers = (0..shape.layers)
        .map(|l| {
            // Conv1D [in, out]: c_fc maps d → d_ff, so neuron i's key is column i;
            // the transposed view makes it row i without copying.
            let ff_keys = tensor(&format!("h.{l}.mlp.c_fc.weight"), [d, d_ff])?.transposed();
            let ff_values = tensor(&format!("h.{l}.mlp.c_proj.weight"), [d_ff, d])?;
            let qkv = tensor(&format!("h.{l}.attn.c_attn.weight"), [d, 3 * d])?;
            let output = tensor(&format!("h.{l}.attn.c_proj.weight"), [d, d])?;
            Ok(LayerParts {
                ff_keys,
                ff_values,
                attention: AttentionParts {
                    query: qkv.columns(0, d),
                    key: qkv.columns(d, d),
                    value: qkv.columns(2 * d, d),
                    output,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Gpt2Parts {
        embedding,
        unembedding,
        layers,
    })
}
