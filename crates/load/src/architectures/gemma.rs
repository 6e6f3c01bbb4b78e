//! Gemma, Gemma 2 and Gemma 3 (text): LLaMA's tensor names, with norm gains
//! stored as `w` and applied as `1 + w`, a `head_dim` of its own, and tied
//! embeddings (which Gemma scales by √d_model on input: a constant factor
//! that changes no ranking, so it is left out).
//!
//! Gemma 2 and 3 put a norm in front of the feed-forward layer
//! (`pre_feedforward_layernorm`; their `post_attention_layernorm` follows the
//! attention); Gemma 3 adds per-head query and key norms, and turns its
//! local (sliding-window) layers at `rope_local_base_freq` and its global
//! ones at `rope_theta`. The multimodal `gemma3` checkpoint nests the text
//! model's config under `text_config` and its tensors under `language_model.`.

use serde::Deserialize;

use super::llama::{layer, Norms};
use super::shared::{check_layers, Dimensions, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, Model, Rotary, RotaryPairing};

const NAME: &str = "Gemma";

/// Block `l`'s tensors are named `layers.{l}.…`.
const BLOCK: &str = "layers";

/// The keys of `config.json` (or of its `text_config`) Gemma uses.
#[derive(Debug, Deserialize)]
struct GemmaConfig {
    model_type: String,
    #[serde(flatten)]
    dimensions: Dimensions,
    #[serde(default = "super::shared::default_rope_theta")]
    rope_theta: f64,
    /// Gemma 3's rate for local layers.
    rope_local_base_freq: Option<f64>,
    /// Gemma 3: every n-th layer is global (older configs).
    sliding_window_pattern: Option<usize>,
    /// Gemma 3: `sliding_attention` or `full_attention`, per layer (newer configs).
    layer_types: Option<Vec<String>>,
}

/// A multimodal `gemma3` config: the text model's keys are nested.
#[derive(Debug, Deserialize)]
struct MultimodalConfig {
    text_config: serde_json::Value,
}

/// Reads a Gemma checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let multimodal = config.model_type() == Some("gemma3");
    let gemma: GemmaConfig = if multimodal {
        let nested: MultimodalConfig = config.parse()?;
        config.parse_value(nested.text_config)?
    } else {
        config.parse()?
    };
    // Gemma always ties its embeddings; its configs do not say so.
    let shape = gemma.dimensions.shape(&config, &HF_KEYS, true, true)?;
    let architecture = match gemma.model_type.as_str() {
        "gemma" => Architecture::Gemma,
        "gemma2" => Architecture::Gemma2,
        _ => Architecture::Gemma3,
    };
    let roots: &'static [&'static str] = if multimodal {
        &["language_model.model.", "model.language_model."]
    } else {
        &["model.", ""]
    };
    let tensors = TensorLookup::new(checkpoint, NAME, roots);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;
    let embedding = tensors.matrix("embed_tokens.weight", [shape.vocab, shape.d_model])?;
    let norms = Norms {
        attention: "input_layernorm.weight",
        ff: match architecture {
            Architecture::Gemma => "post_attention_layernorm.weight",
            _ => "pre_feedforward_layernorm.weight",
        },
        head_norms: architecture == Architecture::Gemma3,
        plus_one: true,
    };
    let blocks = tensors.pp(BLOCK);
    let layers = (0..shape.layers)
        .map(|l| {
            let rotary = Rotary {
                base: gemma.rope_base(l),
                dims: shape.d_head,
                pairing: RotaryPairing::Halves,
            };
            layer(&blocks.pp(l), &shape, &norms, Some(rotary))
        })
        .collect::<Result<Vec<_>>>()?;
    let final_norm = tensors
        .optional_vector("norm.weight", shape.d_model)?
        .map(|w| w.iter().map(|&w| 1.0 + w).collect());
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture,
        shape,
        config: config.json,
        unembedding: embedding.clone(),
        embedding,
        final_norm,
        layers,
    })
}

impl GemmaConfig {
    /// The rotary base of layer `l`: Gemma 3's local layers turn at their own rate.
    fn rope_base(&self, l: usize) -> f64 {
        let Some(local) = self.rope_local_base_freq else {
            return self.rope_theta;
        };
        let global = match (&self.layer_types, self.sliding_window_pattern) {
            (Some(types), _) => types.get(l).is_some_and(|t| t == "full_attention"),
            (None, Some(pattern)) if pattern > 0 => (l + 1).is_multiple_of(pattern),
            (None, _) => true,
        };
        if global {
            self.rope_theta
        } else {
            local
        }
    }
}
