use crate::error::{Error, Result};

/// Floating-point format of the tensors in the written safetensors files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (the upper half of a binary32).
    Bf16,
}

impl Dtype {
    /// `value` rounded to the nearest number this format can hold, widened back to `f32`.
    pub(crate) fn round(self, value: f32) -> f32 {
        match self {
            Dtype::F32 => value,
            Dtype::F16 => half::f16::from_f32(value).to_f32(),
            Dtype::Bf16 => half::bf16::from_f32(value).to_f32(),
        }
    }

    /// The name PyTorch gives this format, as `config.json` records it in `torch_dtype`.
    pub(crate) fn torch_name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }

    pub(crate) fn safetensors(self) -> safetensors::Dtype {
        match self {
            Dtype::F32 => safetensors::Dtype::F32,
            Dtype::F16 => safetensors::Dtype::F16,
            Dtype::Bf16 => safetensors::Dtype::BF16,
        }
    }

    pub(crate) fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    /// Little-endian bytes of `values` in this format, as safetensors stores them.
    pub(crate) fn encode(self, values: &[f32]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(values.len() * self.size());
        match self {
            Dtype::F32 => values
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes())),
            Dtype::F16 => values
                .iter()
                .for_each(|v| bytes.extend_from_slice(&half::f16::from_f32(*v).to_le_bytes())),
            Dtype::Bf16 => values
                .iter()
                .for_each(|v| bytes.extend_from_slice(&half::bf16::from_f32(*v).to_le_bytes())),
        }
        bytes
    }
}

/// Shape, seed and file layout of one synthetic GPT-2 checkpoint.
///
/// The shape fields carry the names of Hugging Face's `GPT2Config`. The layout
/// fields (`dtype`, `shards`, `transformer_prefix`, `mask_buffers`) reproduce
/// the variety of real checkpoints so that loaders meet each variant in tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpt2Spec {
    /// Number of transformer blocks.
    pub n_layer: usize,
    /// Attention heads per block; must divide `n_embd`.
    pub n_head: usize,
    /// Width of the residual stream.
    pub n_embd: usize,
    /// Width of the MLP hidden layer (number of neurons per block).
    pub n_inner: usize,
    /// Number of learned positions (rows of `wpe`).
    pub n_positions: usize,
    /// Rows of the embedding matrix. May exceed the tokenizer's vocabulary, as
    /// in checkpoints whose vocabulary was padded to a multiple of some number.
    pub vocab_size: usize,
    /// Whether the output layer reuses `wte` (no `lm_head.weight` in the file).
    pub tie_word_embeddings: bool,
    /// Seed of the one random stream all tensors and plants draw from.
    pub seed: u64,
    /// Format of the written tensors; the generated values are rounded to it.
    pub dtype: Dtype,
    /// Number of safetensors files: 1 writes `model.safetensors`, more write
    /// `model-0000k-of-0000n.safetensors` plus `model.safetensors.index.json`.
    pub shards: usize,
    /// Whether tensor names start with `transformer.`, as in checkpoints saved
    /// from `GPT2LMHeadModel` (the `lm_head.weight` name never carries it).
    pub transformer_prefix: bool,
    /// Whether to write the causal-mask buffers `h.{i}.attn.bias` and
    /// `h.{i}.attn.masked_bias` that older Hugging Face checkpoints contain.
    pub mask_buffers: bool,
    /// Standard deviation of the log of the embedding row norms; trained
    /// models have rows whose norms spread over a factor of a few.
    pub row_norm_sigma: f32,
    /// `layer_norm_epsilon` written to `config.json`.
    pub layer_norm_epsilon: f64,
    /// Id of `<|endoftext|>`, written as both `bos_token_id` and `eos_token_id`.
    pub eos_token_id: u32,
}

impl Gpt2Spec {
    /// Width of one attention head.
    pub fn d_head(&self) -> usize {
        self.n_embd / self.n_head
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let positive = [
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
            ("n_inner", self.n_inner),
            ("n_positions", self.n_positions),
            ("vocab_size", self.vocab_size),
            ("shards", self.shards),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(Error::Spec(format!("{name} must be positive")));
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(Error::Spec(format!(
                "n_head {} does not divide n_embd {}",
                self.n_head, self.n_embd
            )));
        }
        if self.eos_token_id as usize >= self.vocab_size {
            return Err(Error::Spec(format!(
                "eos_token_id {} is outside the {} embedding rows",
                self.eos_token_id, self.vocab_size
            )));
        }
        Ok(())
    }

    /// Every parameter tensor of the model, in the order of a GPT-2 state dict,
    /// with names free of the `transformer.` prefix.
    pub(crate) fn parameters(&self) -> Vec<Parameter> {
        let d = self.n_embd;
        let ff = self.n_inner;
        // GPT-2 shrinks the projections that write into the residual stream by
        // sqrt(2 * n_layer), so that the stream's variance does not grow with depth.
        let residual_std = INIT_STD / (2.0 * self.n_layer as f32).sqrt();
        let mut parameters = vec![
            Parameter::new("wte.weight", &[self.vocab_size, d], Init::Embedding),
            Parameter::new("wpe.weight", &[self.n_positions, d], Init::Normal(INIT_STD)),
        ];
        for i in 0..self.n_layer {
            let p = |suffix: &str, shape: &[usize], init| {
                Parameter::new(&format!("h.{i}.{suffix}"), shape, init)
            };
            parameters.extend([
                p("ln_1.weight", &[d], Init::Gain),
                p("ln_1.bias", &[d], Init::Normal(INIT_STD)),
                p("attn.c_attn.weight", &[d, 3 * d], Init::Normal(INIT_STD)),
                p("attn.c_attn.bias", &[3 * d], Init::Normal(INIT_STD)),
                p("attn.c_proj.weight", &[d, d], Init::Normal(residual_std)),
                p("attn.c_proj.bias", &[d], Init::Normal(INIT_STD)),
                p("ln_2.weight", &[d], Init::Gain),
                p("ln_2.bias", &[d], Init::Normal(INIT_STD)),
                p("mlp.c_fc.weight", &[d, ff], Init::Normal(INIT_STD)),
                p("mlp.c_fc.bias", &[ff], Init::Normal(INIT_STD)),
                p("mlp.c_proj.weight", &[ff, d], Init::Normal(residual_std)),
                p("mlp.c_proj.bias", &[d], Init::Normal(INIT_STD)),
            ]);
        }
        parameters.extend([
            Parameter::new("ln_f.weight", &[d], Init::Gain),
            Parameter::new("ln_f.bias", &[d], Init::Normal(INIT_STD)),
        ]);
        if !self.tie_word_embeddings {
            parameters.push(Parameter::new(
                "lm_head.weight",
                &[self.vocab_size, d],
                Init::Embedding,
            ));
        }
        parameters
    }
}

/// Standard deviation of GPT-2's weight initialisation (`initializer_range`).
pub(crate) const INIT_STD: f32 = 0.02;

/// How one parameter tensor is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    /// Independent N(0, std) entries.
    Normal(f32),
    /// LayerNorm gains: 1 plus small noise, so that a loader that mixes up
    /// gain and bias produces visibly different numbers.
    Gain,
    /// Norm weights of models that scale by `1 + w` (Gemma): the same gains
    /// as [`Init::Gain`], stored less 1.
    GainOffset,
    /// Rows of N(0, INIT_STD) entries, each row scaled by a log-normal factor.
    Embedding,
}

/// Name, shape and initialisation of one parameter tensor.
#[derive(Debug, Clone)]
pub(crate) struct Parameter {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) init: Init,
}

impl Parameter {
    pub(crate) fn new(name: &str, shape: &[usize], init: Init) -> Self {
        Parameter {
            name: name.to_owned(),
            shape: shape.to_vec(),
            init,
        }
    }
}
