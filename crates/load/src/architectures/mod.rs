//! One adapter per architecture, chosen by the `model_type` of `config.json`.
//!
//! An adapter reads its architecture's keys of `config.json` into a
//! [`ModelShape`](crate::ModelShape), opens the weights and maps its tensor
//! names and layouts onto the canonical [`Model`], with what every adapter
//! shares from `shared`. Adding an architecture is one file here, one row in
//! [`ADAPTERS`] and one [`Architecture`](crate::Architecture) variant.

mod bert;
mod gemma;
mod gpt2;
mod gpt_neox;
mod gptj;
mod llama;
mod opt;
mod phi3;
mod shared;

use std::path::PathBuf;

use crate::checkpoint::{Checkpoint, WeightsFormat};
use crate::config::ConfigFile;
use crate::error::{LoadError, Result};
use crate::gguf::GgufFile;
use crate::model::Model;
use crate::source::ModelFiles;

/// Builds the model from its config and opened weights.
type Adapter = fn(ConfigFile, &Checkpoint) -> Result<Model>;

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
    /// Reads `config.json` (or a GGUF file's metadata), opens the weights
    /// and maps them onto the canonical parts.
    pub fn load(files: &ModelFiles) -> Result<Model> {
        // A GGUF file's header holds both the config and the tensor table.
        let gguf = match files.weights_format {
            WeightsFormat::Gguf => Some(GgufFile::open(gguf_path(files)?)?),
            _ => None,
        };
        let config = match (&files.config, &gguf) {
            (Some(path), _) => ConfigFile::read(path)?,
            (None, Some(gguf)) => gguf.config()?,
            (None, None) => {
                return Err(LoadError::MissingFile {
                    dir: PathBuf::from("."),
                    file: "config.json".to_string(),
                })
            }
        };
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
        let checkpoint = match &gguf {
            Some(gguf) => Checkpoint::from_gguf(gguf)?,
            None => Checkpoint::open(files.weights_format, &files.weights)?,
        };
        let mut model = adapter(config, &checkpoint)?;
        model.decode_small_embeddings()?;
        Ok(model)
    }
}

/// The GGUF file of a GGUF model.
fn gguf_path(files: &ModelFiles) -> Result<&std::path::Path> {
    files
        .weights
        .first()
        .map(PathBuf::as_path)
        .ok_or_else(|| LoadError::NoWeights {
            path: PathBuf::from("."),
        })
}
