//! One small spec per family, and one per layout variant loaders must meet.

use super::spec::{Family, FamilySpec, TokenizerKind};
use crate::spec::Dtype;

/// Every preset as `(name, spec)`. All are tiny (width 32 to 64, 2 or 3
/// blocks, at most 1024 tokens), so a test generates them in seconds.
///
/// | name | family | d | layers | H/KV | head_dim | F | vocab | notes |
/// | --- | --- | --- | --- | --- | --- | --- | --- | --- |
/// | `llama` | llama | 48 | 2 | 4/2 | 12 | 96 | 1024 SP | untied, f32 |
/// | `llama3-sharded` | llama | 64 | 3 | 8/2 | 8 | 128 | 1024 byte BPE | tied, bf16, 2 shards |
/// | `mistral` | mistral | 48 | 2 | 4/1 | 16 | 128 | 1024 SP | untied, f16 |
/// | `qwen2` | qwen2 | 64 | 2 | 4/2 | 16 | 128 | 1024 byte BPE | q/k/v biases, tied, bf16 |
/// | `qwen3` | qwen3 | 48 | 2 | 4/2 | 16 | 96 | 1024 byte BPE | q/k norms, untied, f32 |
/// | `gemma` | gemma | 48 | 2 | 4/1 | 16 | 128 | 1024 SP | f32 |
/// | `gemma2` | gemma2 | 48 | 2 | 4/2 | 16 | 96 | 1024 SP | bf16 |
/// | `gemma3_text` | gemma3_text | 32 | 2 | 4/2 | 16 | 64 | 1024 SP | f32 |
/// | `gemma3` | gemma3 | 48 | 2 | 4/1 | 16 | 96 | 1024 SP, 1032 rows | multimodal nesting, bf16 |
/// | `phi3` | phi3 | 48 | 2 | 4/2 | 12 | 96 | 1024 SP | rotary 6 of 12, untied, f32 |
/// | `gpt_neox` | gpt_neox | 64 | 2 | 4/4 | 16 | 256 | 1024 byte BPE | rotary 4 of 16, mask buffers, f16 |
/// | `gptj` | gptj | 48 | 2 | 4/4 | 12 | 192 | 1024 byte BPE | rotary 4 of 12, f32 |
/// | `opt` | opt | 32 | 2 | 4/4 | 8 | 128 | 1024 byte BPE | 64 positions, f16 |
/// | `bert` | bert | 32 | 2 | 4/4 | 8 | 64 | 1024 WordPiece | masked LM, f32 |
/// | `bert-base-model` | bert | 32 | 2 | 4/4 | 8 | 64 | 1024 WordPiece | no prefix, no head, pooler |
/// | `roberta` | roberta | 32 | 2 | 4/4 | 8 | 64 | 1024 RoBERTa BPE | masked LM, f32 |
/// | `roberta-base-model` | roberta | 32 | 2 | 4/4 | 8 | 64 | 1024 RoBERTa BPE | no prefix, no head, pooler |
pub fn family_presets() -> Vec<(&'static str, FamilySpec)> {
    use Family::*;
    use TokenizerKind::*;
    vec![
        ("llama", small(Llama, SentencePieceBpe, 1)),
        (
            "llama3-sharded",
            FamilySpec {
                hidden_size: 64,
                num_hidden_layers: 3,
                num_attention_heads: 8,
                num_key_value_heads: 2,
                head_dim: 8,
                rotary_dim: 8,
                intermediate_size: 128,
                tie_word_embeddings: true,
                dtype: Dtype::Bf16,
                shards: 2,
                ..small(Llama, ByteLevelBpe, 2)
            },
        ),
        (
            "mistral",
            FamilySpec {
                num_key_value_heads: 1,
                head_dim: 16,
                rotary_dim: 16,
                intermediate_size: 128,
                dtype: Dtype::F16,
                ..small(Mistral, SentencePieceBpe, 3)
            },
        ),
        (
            "qwen2",
            FamilySpec {
                hidden_size: 64,
                head_dim: 16,
                rotary_dim: 16,
                intermediate_size: 128,
                tie_word_embeddings: true,
                dtype: Dtype::Bf16,
                ..small(Qwen2, ByteLevelBpe, 4)
            },
        ),
        ("qwen3", head_16(small(Qwen3, ByteLevelBpe, 5))),
        (
            "gemma",
            FamilySpec {
                num_key_value_heads: 1,
                intermediate_size: 128,
                ..tied(head_16(small(Gemma, SentencePieceBpe, 6)))
            },
        ),
        (
            "gemma2",
            FamilySpec {
                dtype: Dtype::Bf16,
                ..tied(head_16(small(Gemma2, SentencePieceBpe, 7)))
            },
        ),
        (
            "gemma3_text",
            FamilySpec {
                hidden_size: 32,
                intermediate_size: 64,
                ..tied(head_16(small(Gemma3Text, SentencePieceBpe, 8)))
            },
        ),
        (
            "gemma3",
            FamilySpec {
                num_key_value_heads: 1,
                vocab_size: 1032,
                dtype: Dtype::Bf16,
                ..tied(head_16(small(Gemma3, SentencePieceBpe, 9)))
            },
        ),
        (
            "phi3",
            FamilySpec {
                rotary_dim: 6,
                ..small(Phi3, SentencePieceBpe, 10)
            },
        ),
        (
            "gpt_neox",
            FamilySpec {
                hidden_size: 64,
                num_key_value_heads: 4,
                head_dim: 16,
                rotary_dim: 4,
                intermediate_size: 256,
                mask_buffers: true,
                dtype: Dtype::F16,
                ..small(GptNeox, ByteLevelBpe, 11)
            },
        ),
        (
            "gptj",
            FamilySpec {
                num_key_value_heads: 4,
                rotary_dim: 4,
                intermediate_size: 192,
                ..small(GptJ, ByteLevelBpe, 12)
            },
        ),
        (
            "opt",
            FamilySpec {
                intermediate_size: 128,
                dtype: Dtype::F16,
                ..tied(encoder_sized(small(Opt, ByteLevelBpe, 13)))
            },
        ),
        ("bert", tied(encoder_sized(small(Bert, WordPiece, 14)))),
        (
            "bert-base-model",
            FamilySpec {
                base_model: true,
                ..tied(encoder_sized(small(Bert, WordPiece, 15)))
            },
        ),
        (
            "roberta",
            FamilySpec {
                max_position_embeddings: 66,
                ..tied(encoder_sized(small(Roberta, RobertaBpe, 16)))
            },
        ),
        (
            "roberta-base-model",
            FamilySpec {
                max_position_embeddings: 66,
                base_model: true,
                ..tied(encoder_sized(small(Roberta, RobertaBpe, 17)))
            },
        ),
    ]
}

/// The preset called `name` in [`family_presets`].
pub fn family_preset(name: &str) -> Option<FamilySpec> {
    family_presets()
        .into_iter()
        .find(|(preset, _)| *preset == name)
        .map(|(_, spec)| spec)
}

/// Width 48, 2 blocks, 4 query and 2 key/value heads of width 12, 96
/// neurons, 1024 tokens and rows, 64 positions, full rotary, untied, f32.
fn small(family: Family, tokenizer: TokenizerKind, seed: u64) -> FamilySpec {
    FamilySpec {
        family,
        hidden_size: 48,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 12,
        intermediate_size: 96,
        vocab_size: 1024,
        max_position_embeddings: 64,
        rotary_dim: 12,
        tie_word_embeddings: false,
        base_model: false,
        mask_buffers: false,
        tokenizer,
        tokenizer_size: 1024,
        seed,
        dtype: Dtype::F32,
        shards: 1,
    }
}

/// Heads of width 16, unlike the 12 that `hidden_size / heads` gives, as
/// Gemma and Qwen 3 checkpoints have.
fn head_16(spec: FamilySpec) -> FamilySpec {
    FamilySpec {
        head_dim: 16,
        rotary_dim: 16,
        ..spec
    }
}

fn tied(spec: FamilySpec) -> FamilySpec {
    FamilySpec {
        tie_word_embeddings: true,
        ..spec
    }
}

/// Width 32 with 4 full heads of 8 and 64 neurons, learned positions.
fn encoder_sized(spec: FamilySpec) -> FamilySpec {
    FamilySpec {
        hidden_size: 32,
        num_key_value_heads: 4,
        head_dim: 8,
        rotary_dim: 0,
        intermediate_size: 64,
        ..spec
    }
}
