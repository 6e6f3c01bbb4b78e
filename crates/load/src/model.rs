//! The canonical description every architecture is mapped onto.
//!
//! Nothing here knows how a particular checkpoint names or lays out its
//! tensors: that is the business of the files under `architectures/`, which
//! build a [`Model`] from these parts. Everything downstream reads only this.
//!
//! Every projection acts on the residual stream from the right (`x · W`),
//! and every vector a list is made of is a row: a neuron's key, gate or
//! value is a `d_model`-wide row, a head's W_Q, W_K, W_V are `d_model × d_head`
//! and its W_O `d_head × d_model`. Grouped-query sharing is resolved by the
//! adapter: each query head carries the key and value heads it reads.

use serde::Serialize;

use crate::matrix::Matrix;

/// Architectures Glossa can read, named as `config.json`'s `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// GPT-2 (`gpt2`): Conv1D weights stored `[in, out]`.
    Gpt2,
    /// GPT-J (`gptj`): rotary on the first `rotary_dim` dims, adjacent pairs.
    Gptj,
    /// GPT-NeoX and Pythia (`gpt_neox`): fused, per-head interleaved Q/K/V.
    GptNeox,
    /// OPT (`opt`).
    Opt,
    /// LLaMA and the models that share its layout (`llama`, SmolLM2).
    Llama,
    /// Mistral (`mistral`): LLaMA's layout.
    Mistral,
    /// Qwen2 and Qwen2.5 (`qwen2`): LLaMA's layout with Q/K/V biases.
    Qwen2,
    /// Qwen3 (`qwen3`): LLaMA's layout with per-head Q and K norms.
    Qwen3,
    /// Gemma (`gemma`): norm gains stored as `w`, applied as `1 + w`.
    Gemma,
    /// Gemma 2 (`gemma2`): Gemma with pre- and post-feed-forward norms.
    Gemma2,
    /// Gemma 3 text (`gemma3_text`, or the text model of `gemma3`).
    Gemma3,
    /// Phi-3 (`phi3`): fused `qkv_proj` and `gate_up_proj`.
    Phi3,
    /// BERT (`bert`): an encoder with post-norm blocks.
    Bert,
    /// RoBERTa (`roberta`): BERT's blocks.
    Roberta,
}

impl Architecture {
    /// The name recorded in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Gpt2 => "gpt2",
            Architecture::Gptj => "gptj",
            Architecture::GptNeox => "gpt_neox",
            Architecture::Opt => "opt",
            Architecture::Llama => "llama",
            Architecture::Mistral => "mistral",
            Architecture::Qwen2 => "qwen2",
            Architecture::Qwen3 => "qwen3",
            Architecture::Gemma => "gemma",
            Architecture::Gemma2 => "gemma2",
            Architecture::Gemma3 => "gemma3",
            Architecture::Phi3 => "phi3",
            Architecture::Bert => "bert",
            Architecture::Roberta => "roberta",
        }
    }
}

/// The dimensions of a model, as the rest of Glossa needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelShape {
    /// Number of transformer blocks.
    pub layers: usize,
    /// Query heads per block.
    pub heads: usize,
    /// Key and value heads per block (fewer than `heads` with grouped-query
    /// attention, one with multi-query attention).
    pub kv_heads: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Width of each head.
    pub d_head: usize,
    /// Feed-forward neurons per block.
    pub d_ff: usize,
    /// Rows of the embedding matrix (may exceed the tokenizer's vocabulary).
    pub vocab: usize,
    /// Whether the output embedding is the input embedding.
    pub tied_embeddings: bool,
    /// Whether the feed-forward layer is gated (SwiGLU, GeGLU): its neurons
    /// have a gate beside their key and value.
    pub gated: bool,
}

impl ModelShape {
    /// The key and value head query head `head` reads: heads are grouped in
    /// order, `heads / kv_heads` query heads to each key and value head.
    pub fn kv_head(&self, head: usize) -> usize {
        head / (self.heads / self.kv_heads).max(1)
    }
}

/// How rotary position embeddings rotate a head's query and key.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rotary {
    /// The base of the frequencies: pair i turns by `position · base^(-2i/dims)`.
    pub base: f64,
    /// How many of a head's dims are rotated (the first ones); the rest pass.
    pub dims: usize,
    /// Which dims are rotated together.
    pub pairing: RotaryPairing,
}

/// Which two dims of a head one rotary frequency turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotaryPairing {
    /// Dim i with dim i + dims/2 (GPT-NeoX, LLaMA and most models: `rotate_half`).
    Halves,
    /// Dim 2i with dim 2i + 1 (GPT-J: `rotate_every_two`).
    Adjacent,
}

/// A model reduced to the parameters Glossa projects.
///
/// [`Model::load`] reads one from a checkpoint's files.
pub struct Model {
    /// The architecture the parts were mapped from.
    pub architecture: Architecture,
    /// Dimensions.
    pub shape: ModelShape,
    /// `config.json` as found (for a GGUF file, as its metadata gives it).
    pub config: serde_json::Value,
    /// The encodings the checkpoint's tensors are stored in, with how many
    /// use each: `bf16 (291)`, `q4_1 (210), f32 (61), q8_0 (1)`.
    pub weights_encoding: String,
    /// The input embedding, one row per token (`vocab × d_model`).
    pub embedding: Matrix,
    /// The output embedding (`lm_head`; the input embedding when tied), one
    /// row per token (`vocab × d_model`).
    pub unembedding: Matrix,
    /// The gain of the norm in front of the output embedding, if the model
    /// has one that can be folded into it.
    pub final_norm: Option<Vec<f32>>,
    /// Per-layer parts, in order.
    pub layers: Vec<LayerParts>,
}

/// Encoded embeddings up to this size as f32 are decoded once, at load.
///
/// Every neuron side and every head's circuit factors read the whole
/// embedding; decoding a quantised one each time made SmolLM2's head stage
/// from GGUF 1.4–3× slower than from its safetensors twin, for an
/// embedding of 113 MB as f32. Larger ones (a 128k × 4096 bf16 one is 2 GB
/// as f32) stay encoded and are decoded a chunk of tokens at a time.
const DECODE_AT_LOAD_BYTES: usize = 256 << 20;

impl Model {
    /// Decodes an encoded embedding (and output embedding) of at most
    /// [`DECODE_AT_LOAD_BYTES`] as f32, once: a tied pair stays one
    /// matrix. Decoding refuses NaN and infinite weights.
    pub(crate) fn decode_small_embeddings(&mut self) -> crate::Result<()> {
        let small = |m: &Matrix| {
            m.is_encoded()
                && m.rows() * m.cols() * std::mem::size_of::<f32>() <= DECODE_AT_LOAD_BYTES
        };
        let tied = self.embedding.shares_storage(&self.unembedding);
        if small(&self.embedding) {
            self.embedding = self.embedding.decode()?;
            if tied {
                self.unembedding = self.embedding.clone();
            }
        }
        if small(&self.unembedding) {
            self.unembedding = self.unembedding.decode()?;
        }
        Ok(())
    }

    /// Every stored tensor that the embeddings and `layers` read, each once.
    pub fn tensors_read(&self, layers: impl IntoIterator<Item = usize>) -> Vec<&Matrix> {
        let mut all: Vec<&Matrix> = vec![&self.embedding, &self.unembedding];
        for layer in layers.into_iter().filter_map(|l| self.layers.get(l)) {
            all.extend(&layer.ff_gates);
            all.extend([&layer.ff_keys, &layer.ff_values]);
            for head in &layer.heads {
                all.extend([&head.query, &head.key, &head.value, &head.output]);
            }
        }
        let mut distinct: Vec<&Matrix> = Vec::with_capacity(all.len());
        for matrix in all {
            if !distinct.iter().any(|seen| seen.shares_storage(matrix)) {
                distinct.push(matrix);
            }
        }
        distinct
    }
}

/// The parameters of one transformer block.
pub struct LayerParts {
    /// Feed-forward gates of gated models: row i is neuron i's gate
    /// (`d_ff × d_model`), multiplied with its key's activation.
    pub ff_gates: Option<Matrix>,
    /// Feed-forward keys: row i is the input weight vector of neuron i
    /// (`d_ff × d_model`); the up projection of gated models.
    pub ff_keys: Matrix,
    /// Feed-forward values: row i is the output weight vector of neuron i (`d_ff × d_model`).
    pub ff_values: Matrix,
    /// One entry per query head.
    pub heads: Vec<HeadParts>,
    /// The gain of the norm that the attention reads through.
    pub attention_norm: Option<Vec<f32>>,
    /// The gain of the norm that the feed-forward layer reads through.
    pub ff_norm: Option<Vec<f32>>,
    /// Rotary position embeddings of this block's attention, if it uses
    /// them (Gemma 3 turns local and global layers at different rates).
    pub rotary: Option<Rotary>,
}

/// One query head, with the key and value head it reads.
pub struct HeadParts {
    /// W_Q, `d_model × d_head`.
    pub query: Matrix,
    /// W_K of the key head this query head reads, `d_model × d_head`.
    pub key: Matrix,
    /// W_V of the value head this query head reads, `d_model × d_head`.
    pub value: Matrix,
    /// This head's rows of W_O, `d_head × d_model`.
    pub output: Matrix,
    /// The key and value head read, for the head summary.
    pub kv_head: usize,
    /// The gains of per-head query and key norms (Qwen3, Gemma 3), applied
    /// after the projections.
    pub query_norm: Option<Vec<f32>>,
    pub key_norm: Option<Vec<f32>>,
}
