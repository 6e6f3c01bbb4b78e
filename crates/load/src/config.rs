//! The checkpoint's `config.json`, resolved into the shape the code uses.

use std::path::Path;

use serde::Deserialize;

use crate::error::{LoadError, Result};

/// The dimensions of a model, as the rest of Glossa needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ModelShape {
    /// Number of transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Width of each head (`d_model / heads`).
    pub d_head: usize,
    /// Feed-forward neurons per block.
    pub d_ff: usize,
    /// Rows of the embedding matrix (may exceed the tokenizer's vocabulary).
    pub vocab: usize,
    /// Whether the unembedding is the input embedding (`wte`).
    pub tied_embeddings: bool,
}

/// `config.json` of a Hugging Face GPT-2 checkpoint (`GPT2Config`).
#[derive(Debug, Deserialize)]
pub(crate) struct Gpt2Config {
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    /// `null` in most checkpoints, meaning 4 × n_embd.
    n_inner: Option<usize>,
    vocab_size: usize,
    #[serde(default = "default_tied")]
    tie_word_embeddings: bool,
}

fn default_tied() -> bool {
    true
}

/// The largest dimension a config may give: far beyond any real model, and
/// small enough that products of dimensions cannot overflow.
const MAX_DIMENSION: usize = 1 << 24;

/// Architectures with an adapter, as named in `model_type`.
pub(crate) const SUPPORTED: &[&str] = &["gpt2"];

/// Reads `config.json`, checks the architecture and resolves the shape.
pub(crate) fn read(path: &Path) -> Result<(ModelShape, serde_json::Value)> {
    let text = std::fs::read_to_string(path).map_err(LoadError::io(path))?;
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| LoadError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let model_type = raw
        .get("model_type")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    if !SUPPORTED.contains(&model_type.as_str()) {
        let found = if model_type.is_empty() {
            "(config.json has no model_type)".to_string()
        } else {
            model_type
        };
        return Err(LoadError::UnsupportedArchitecture {
            found,
            supported: SUPPORTED,
        });
    }
    let config: Gpt2Config =
        serde_json::from_value(raw.clone()).map_err(|e| LoadError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let shape = config.shape().map_err(|message| LoadError::Config {
        path: path.to_path_buf(),
        message,
    })?;
    Ok((shape, raw))
}

impl Gpt2Config {
    fn shape(&self) -> std::result::Result<ModelShape, String> {
        for (name, value) in [
            ("n_layer", Some(self.n_layer)),
            ("n_head", Some(self.n_head)),
            ("n_embd", Some(self.n_embd)),
            ("n_inner", self.n_inner),
            ("vocab_size", Some(self.vocab_size)),
        ] {
            match value {
                Some(0) => return Err(format!("{name} is 0")),
                Some(value) if value > MAX_DIMENSION => {
                    return Err(format!(
                        "{name} is {value}, implausibly large (at most {MAX_DIMENSION})"
                    ))
                }
                _ => {}
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(format!(
                "n_embd {} is not a multiple of n_head {}",
                self.n_embd, self.n_head
            ));
        }
        Ok(ModelShape {
            layers: self.n_layer,
            heads: self.n_head,
            d_model: self.n_embd,
            d_head: self.n_embd / self.n_head,
            d_ff: self.n_inner.unwrap_or(4 * self.n_embd),
            vocab: self.vocab_size,
            tied_embeddings: self.tie_word_embeddings,
        })
    }
}
