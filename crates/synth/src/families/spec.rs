//! What a generated checkpoint is: its family, shape, tokenizer, dtype and files.

use crate::error::{Error, Result};
use crate::spec::Dtype;

/// A model family, as `config.json` names it in `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `llama`: `LlamaForCausalLM`.
    Llama,
    /// `mistral`: Llama's tensor names.
    Mistral,
    /// `qwen2`: Llama's tensor names plus biases on q, k and v.
    Qwen2,
    /// `qwen3`: Llama's tensor names plus `q_norm` and `k_norm`.
    Qwen3,
    /// `gemma`: Llama's names, norms applied as `1 + w`, always tied.
    Gemma,
    /// `gemma2`: Gemma plus norms before and after the MLP.
    Gemma2,
    /// `gemma3_text`: Gemma 2's layout plus `q_norm` and `k_norm`.
    Gemma3Text,
    /// `gemma3`: `Gemma3ForConditionalGeneration`, the Gemma 3 text model
    /// under `language_model.model.` beside a vision tower stub (no encoder
    /// layers) and the multimodal projector; `config.json` nests the text
    /// model's settings in `text_config`.
    Gemma3,
    /// `phi3`: fused `qkv_proj` and `gate_up_proj`.
    Phi3,
    /// `gpt_neox` (Pythia): fused, per-head interleaved `query_key_value`.
    GptNeox,
    /// `gptj`: separate q, k, v without biases, an `lm_head` with a bias.
    GptJ,
    /// `opt`: learned positions offset by 2, tied output.
    Opt,
    /// `bert`: an encoder with a masked-language-model head.
    Bert,
    /// `roberta`: BERT's encoder with RoBERTa's head and position offset.
    Roberta,
}

/// How a family rotates queries and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rotary {
    /// Every dimension of a head (the `rotary_dim` of the spec is `head_dim`).
    Full,
    /// The first `rotary_dim` dimensions of a head.
    Partial,
    /// Learned or absolute positions (`rotary_dim` is 0).
    None,
}

impl Family {
    /// The `model_type` of `config.json`.
    pub fn model_type(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Mistral => "mistral",
            Family::Qwen2 => "qwen2",
            Family::Qwen3 => "qwen3",
            Family::Gemma => "gemma",
            Family::Gemma2 => "gemma2",
            Family::Gemma3Text => "gemma3_text",
            Family::Gemma3 => "gemma3",
            Family::Phi3 => "phi3",
            Family::GptNeox => "gpt_neox",
            Family::GptJ => "gptj",
            Family::Opt => "opt",
            Family::Bert => "bert",
            Family::Roberta => "roberta",
        }
    }

    pub(super) fn is_gemma(self) -> bool {
        matches!(
            self,
            Family::Gemma | Family::Gemma2 | Family::Gemma3Text | Family::Gemma3
        )
    }

    pub(super) fn rotary(self) -> Rotary {
        match self {
            Family::Phi3 | Family::GptNeox | Family::GptJ => Rotary::Partial,
            Family::Opt | Family::Bert | Family::Roberta => Rotary::None,
            _ => Rotary::Full,
        }
    }

    /// Whether the family has fewer key/value heads than query heads available.
    pub(super) fn has_grouped_attention(self) -> bool {
        !matches!(
            self,
            Family::GptNeox | Family::GptJ | Family::Opt | Family::Bert | Family::Roberta
        )
    }

    /// Whether `config.json` can name a head width other than
    /// `hidden_size / num_attention_heads`.
    pub(super) fn has_head_dim_key(self) -> bool {
        matches!(self, Family::Llama | Family::Mistral | Family::Qwen3) || self.is_gemma()
    }

    /// `Some(tied)` for families whose transformers class always (or never)
    /// ties the output layer to the input embedding.
    pub(super) fn fixed_tying(self) -> Option<bool> {
        match self {
            Family::GptJ => Some(false),
            Family::Opt | Family::Bert | Family::Roberta => Some(true),
            _ if self.is_gemma() => Some(true),
            _ => None,
        }
    }
}

/// The kind of `tokenizer.json` a spec gets. All are trained on the shipped
/// Polish corpus, so every kind meets the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerKind {
    /// GPT-2's byte-level BPE (as [`train_tokenizer`](crate::train_tokenizer)),
    /// `<|endoftext|>` at id 0: GPT-J, Pythia, OPT, Llama 3, Qwen.
    ByteLevelBpe,
    /// RoBERTa's byte-level BPE: `<s>`, `<pad>`, `</s>`, `<unk>` at ids 0 to 3,
    /// `<mask>` last, and RoBERTa's post-processor.
    RobertaBpe,
    /// SentencePiece-style BPE as Llama 2's `tokenizer.json` has it: `▁` for
    /// spaces, `<unk>`, `<s>`, `</s>` at ids 0 to 2, the byte pieces
    /// `<0x00>`..`<0xFF>` at ids 3 to 258 for byte fallback, and the decoder
    /// Replace(`▁`→space), ByteFallback, Fuse, Strip: Llama 2, Mistral, Phi-3, Gemma.
    SentencePieceBpe,
    /// BERT's cased WordPiece with `##` continuations; `[PAD]`, `[UNK]`,
    /// `[CLS]`, `[SEP]`, `[MASK]` at ids 0 to 4.
    WordPiece,
}

impl TokenizerKind {
    /// The `model.type` of `tokenizer.json`: `BPE` or `WordPiece`.
    pub fn model_type(self) -> &'static str {
        match self {
            TokenizerKind::WordPiece => "WordPiece",
            _ => "BPE",
        }
    }
}

/// Shape, seed, tokenizer and file layout of one synthetic checkpoint.
///
/// The shape fields carry the names of transformers' Llama config; each
/// family's `config.json` spells them its own way (`n_embd`, `ffn_dim`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySpec {
    /// The family, which fixes tensor names and `config.json` keys.
    pub family: Family,
    /// Width of the residual stream, d.
    pub hidden_size: usize,
    /// Number of blocks.
    pub num_hidden_layers: usize,
    /// Query heads, H.
    pub num_attention_heads: usize,
    /// Key/value heads; divides H, and equals it in families without
    /// grouped-query attention (GPT-NeoX, GPT-J, OPT, BERT, RoBERTa).
    pub num_key_value_heads: usize,
    /// Width of one head. Must be d / H except in the families whose
    /// `config.json` has a `head_dim` key (Llama, Mistral, Qwen3, Gemma).
    pub head_dim: usize,
    /// Width of the MLP hidden layer, F.
    pub intermediate_size: usize,
    /// Rows of the embedding matrix. May exceed the tokenizer's entries
    /// (padding rows); Gemma 3 multimodal puts its image tokens there.
    pub vocab_size: usize,
    /// Positions: rows of the position embedding where the family learns
    /// them (OPT adds its offset of 2 to this), else only a config value.
    pub max_position_embeddings: usize,
    /// Rotated dimensions per head: `head_dim` for full rotary families, an
    /// even number up to `head_dim` for Phi-3, GPT-NeoX and GPT-J, 0 for
    /// families with learned positions.
    pub rotary_dim: usize,
    /// Whether the output layer reuses the input embedding (no output
    /// tensor in the file). Fixed by the family except for Llama, Mistral,
    /// Qwen 2/3, Phi-3 and GPT-NeoX.
    pub tie_word_embeddings: bool,
    /// BERT and RoBERTa only: save the bare encoder as `BertModel` /
    /// `RobertaModel` does (and sentence-transformers ships): no name
    /// prefix, no masked-LM head, a pooler.
    pub base_model: bool,
    /// GPT-NeoX and GPT-J only: add the causal-mask buffers older
    /// checkpoints hold (`attention.bias` as bool, `attention.masked_bias`,
    /// and for GPT-NeoX `attention.rotary_emb.inv_freq`).
    pub mask_buffers: bool,
    /// The kind of tokenizer.
    pub tokenizer: TokenizerKind,
    /// Entries of the tokenizer, special tokens included.
    pub tokenizer_size: usize,
    /// Seed of the one random stream all tensors draw from.
    pub seed: u64,
    /// Format of the written tensors; the generated values are rounded to it.
    pub dtype: Dtype,
    /// Number of safetensors files: 1 writes `model.safetensors`, more write
    /// `model-0000k-of-0000n.safetensors` plus `model.safetensors.index.json`.
    pub shards: usize,
}

impl FamilySpec {
    pub(super) fn validate(&self) -> Result<()> {
        let family = self.family;
        let positive = [
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
            ("intermediate_size", self.intermediate_size),
            ("vocab_size", self.vocab_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("shards", self.shards),
        ];
        let fail = |message: String| Err(Error::Spec(format!("{family:?}: {message}")));
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return fail(format!("{name} must be positive"));
        }
        let (d, h, kv, dh) = (
            self.hidden_size,
            self.num_attention_heads,
            self.num_key_value_heads,
            self.head_dim,
        );
        if !h.is_multiple_of(kv) {
            return fail(format!("{kv} key/value heads do not divide {h} heads"));
        }
        if kv != h && !family.has_grouped_attention() {
            return fail(format!("{kv} key/value heads for {h} heads"));
        }
        if !family.has_head_dim_key() && dh * h != d {
            return fail(format!("head_dim {dh} times {h} heads is not {d}"));
        }
        let rotary_ok = match family.rotary() {
            Rotary::Full => self.rotary_dim == dh,
            Rotary::Partial => {
                self.rotary_dim > 0 && self.rotary_dim <= dh && self.rotary_dim.is_multiple_of(2)
            }
            Rotary::None => self.rotary_dim == 0,
        };
        if !rotary_ok {
            return fail(format!(
                "rotary_dim {} does not fit head_dim {dh}",
                self.rotary_dim
            ));
        }
        if family
            .fixed_tying()
            .is_some_and(|tied| tied != self.tie_word_embeddings)
        {
            return fail(format!(
                "tie_word_embeddings must be {}",
                !self.tie_word_embeddings
            ));
        }
        if self.base_model && !matches!(family, Family::Bert | Family::Roberta) {
            return fail("only BERT and RoBERTa have a base-model layout".into());
        }
        if self.mask_buffers && !matches!(family, Family::GptNeox | Family::GptJ) {
            return fail("only GPT-NeoX and GPT-J have mask buffers".into());
        }
        Ok(())
    }
}
