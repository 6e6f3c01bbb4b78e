//! One adapter per architecture, chosen by the `model_type` of `config.json`.
//!
//! An adapter reads its architecture's keys of `config.json` into a
//! [`ModelShape`], opens the weights and maps its tensor names and layouts
//! onto the canonical [`Model`]. Adding an architecture is one file here, one
//! row in [`ADAPTERS`] and one [`Architecture`](crate::Architecture) variant.

mod bert;
mod gemma;
mod gpt2;
mod gpt_neox;
mod gptj;
mod llama;
mod opt;
mod phi3;

use crate::config::ConfigFile;
use crate::error::{LoadError, Result};
use crate::lookup::TensorLookup;
use crate::matrix::Matrix;
use crate::model::{HeadParts, Model, ModelShape};
use crate::source::ModelFiles;

/// Builds the model from its config and files.
type Adapter = fn(ConfigFile, &ModelFiles) -> Result<Model>;

/// Every supported `model_type`, with its adapter.
const ADAPTERS: &[(&str, Adapter)] = &[
    ("gpt2", gpt2::load),
    ("gptj", gptj::load),
    ("gpt_neox", gpt_neox::load),
    ("opt", opt::load),
    ("llama", llama::load),
    ("mistral", llama::load),
    ("qwen2", llama::load),
    ("qwen3", llama::load),
    ("gemma", gemma::load),
    ("gemma2", gemma::load),
    ("gemma3", gemma::load),
    ("gemma3_text", gemma::load),
    ("phi3", phi3::load),
    ("bert", bert::load),
    ("roberta", bert::load),
];

impl Model {
    /// Reads `config.json`, opens the weights and maps them onto the canonical parts.
    pub fn load(files: &ModelFiles) -> Result<Model> {
        let config = ConfigFile::read(&files.config)?;
        let model_type = config.model_type().unwrap_or_default();
        let Some((_, adapter)) = ADAPTERS.iter().find(|(name, _)| *name == model_type) else {
            let found = if model_type.is_empty() {
                "(config.json has no model_type)".to_string()
            } else {
                model_type.to_string()
            };
            return Err(LoadError::UnsupportedArchitecture {
                found,
                supported: ADAPTERS.iter().map(|(name, _)| *name).collect(),
            });
        };
        adapter(config, files)
    }
}

/// Refuses a checkpoint holding blocks beyond the config's layer count,
/// which would otherwise be skipped without a word.
fn check_layers(
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
fn contiguous_heads(
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

/// Refuses head counts that do not split the model into whole heads and
/// whole query groups.
fn check_heads(config: &ConfigFile, shape: &ModelShape, keys: [&str; 2]) -> Result<()> {
    let [heads_key, kv_key] = keys;
    if !shape.heads.is_multiple_of(shape.kv_heads) {
        return Err(config.invalid(format!(
            "{heads_key} {} is not a multiple of {kv_key} {}",
            shape.heads, shape.kv_heads
        )));
    }
    Ok(())
}

/// The output embedding: `name` (`vocab × d_model`), or the input
/// embedding when the config ties them.
fn output_embedding(
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
