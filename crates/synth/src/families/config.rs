//! `config.json` per family, with the keys transformers writes for its
//! `model_type` (sorted, as `to_json_string` writes them).

use serde_json::{json, Value};

use super::layout::{type_vocab_size, IMAGE_SIZE, PATCH_SIZE, ROTARY_BASE, VISION_HIDDEN};
use super::spec::{Family, FamilySpec};
use super::vocab::{specials, Specials};
use crate::error::Result;

/// Image tokens Gemma 3 multimodal keeps beyond the tokenizer (begin of
/// image, end of image, image soft token), as the real checkpoints keep
/// theirs in rows the text tokenizer does not reach.
const GEMMA3_IMAGE_TOKENS: usize = 3;

/// Embedding rows `family` needs beyond the tokenizer's entries.
pub(super) fn extra_token_rows(family: Family) -> usize {
    if family == Family::Gemma3 {
        GEMMA3_IMAGE_TOKENS
    } else {
        0
    }
}

/// `config.json` for `spec`, whose tokenizer has `tokens` entries.
pub(super) fn config_json(spec: &FamilySpec, tokens: usize) -> Result<String> {
    let ids = specials(spec.tokenizer);
    let config = match spec.family {
        Family::Gemma3 => gemma3(spec, ids, tokens),
        Family::GptNeox => gpt_neox(spec, ids),
        Family::GptJ => gptj(spec, ids),
        Family::Opt => opt(spec, ids),
        Family::Bert | Family::Roberta => encoder(spec, ids),
        _ => decoder(spec, ids),
    };
    Ok(serde_json::to_string_pretty(&config)? + "\n")
}

/// `base` with the keys of `extra` added.
fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(map), Value::Object(extra)) = (base.as_object_mut(), extra) {
        map.extend(extra);
    }
    base
}

fn architecture(spec: &FamilySpec) -> &'static str {
    match spec.family {
        Family::Llama => "LlamaForCausalLM",
        Family::Mistral => "MistralForCausalLM",
        Family::Qwen2 => "Qwen2ForCausalLM",
        Family::Qwen3 => "Qwen3ForCausalLM",
        Family::Gemma => "GemmaForCausalLM",
        Family::Gemma2 => "Gemma2ForCausalLM",
        Family::Gemma3Text => "Gemma3ForCausalLM",
        Family::Gemma3 => "Gemma3ForConditionalGeneration",
        Family::Phi3 => "Phi3ForCausalLM",
        Family::GptNeox => "GPTNeoXForCausalLM",
        Family::GptJ => "GPTJForCausalLM",
        Family::Opt => "OPTForCausalLM",
        Family::Bert if spec.base_model => "BertModel",
        Family::Bert => "BertForMaskedLM",
        Family::Roberta if spec.base_model => "RobertaModel",
        Family::Roberta => "RobertaForMaskedLM",
    }
}

/// The Llama-like decoders: Llama, Mistral, Qwen 2/3, Phi-3, Gemma 1/2/3 text.
fn decoder(s: &FamilySpec, ids: Specials) -> Value {
    merged(
        decoder_text(s, ids),
        json!({
            "architectures": [architecture(s)],
            "torch_dtype": s.dtype.torch_name(),
        }),
    )
}

/// A decoder's keys without `architectures` and `torch_dtype`, which Gemma 3
/// multimodal keeps at the top level rather than in `text_config`.
fn decoder_text(s: &FamilySpec, ids: Specials) -> Value {
    let family = s.family;
    let common = json!({
        "attention_dropout": 0.0,
        "bos_token_id": ids.bos,
        "eos_token_id": ids.eos,
        "hidden_size": s.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate_size,
        "max_position_embeddings": s.max_position_embeddings,
        "model_type": family.model_type(),
        "num_attention_heads": s.num_attention_heads,
        "num_hidden_layers": s.num_hidden_layers,
        "num_key_value_heads": s.num_key_value_heads,
        "use_cache": true,
        "vocab_size": s.vocab_size,
    });
    let rotary_fraction = s.rotary_dim as f64 / s.head_dim as f64;
    let extra = match family {
        Family::Llama => json!({
            "attention_bias": false,
            "head_dim": s.head_dim,
            "hidden_act": "silu",
            "mlp_bias": false,
            "pretraining_tp": 1,
            "rms_norm_eps": 1e-5,
            "rope_scaling": null,
            "rope_theta": 500000.0,
            "tie_word_embeddings": s.tie_word_embeddings,
        }),
        Family::Mistral => json!({
            "head_dim": s.head_dim,
            "hidden_act": "silu",
            "rms_norm_eps": 1e-5,
            "rope_theta": 1000000.0,
            "sliding_window": null,
            "tie_word_embeddings": s.tie_word_embeddings,
        }),
        Family::Qwen2 | Family::Qwen3 => {
            let qwen = json!({
                "hidden_act": "silu",
                "max_window_layers": s.num_hidden_layers,
                "rms_norm_eps": 1e-6,
                "rope_scaling": null,
                "rope_theta": 1000000.0,
                "sliding_window": s.max_position_embeddings,
                "tie_word_embeddings": s.tie_word_embeddings,
                "use_sliding_window": false,
            });
            if family == Family::Qwen3 {
                merged(
                    qwen,
                    json!({ "attention_bias": false, "head_dim": s.head_dim }),
                )
            } else {
                qwen
            }
        }
        Family::Phi3 => json!({
            "attention_bias": false,
            "embd_pdrop": 0.0,
            "hidden_act": "silu",
            "original_max_position_embeddings": s.max_position_embeddings,
            "pad_token_id": ids.pad,
            "partial_rotary_factor": rotary_fraction,
            "resid_pdrop": 0.0,
            "rms_norm_eps": 1e-5,
            "rope_scaling": null,
            "rope_theta": 10000.0,
            "sliding_window": s.max_position_embeddings - 1,
            "tie_word_embeddings": s.tie_word_embeddings,
        }),
        // Gemma checkpoints leave `tie_word_embeddings` out: always tied.
        Family::Gemma => json!({
            "attention_bias": false,
            "head_dim": s.head_dim,
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_activation": "gelu_pytorch_tanh",
            "pad_token_id": ids.pad,
            "rms_norm_eps": 1e-6,
            "rope_theta": 10000.0,
        }),
        Family::Gemma2 => json!({
            "attention_bias": false,
            "attn_logit_softcapping": 50.0,
            "cache_implementation": "hybrid",
            "final_logit_softcapping": 30.0,
            "head_dim": s.head_dim,
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_activation": "gelu_pytorch_tanh",
            "pad_token_id": ids.pad,
            "query_pre_attn_scalar": s.head_dim,
            "rms_norm_eps": 1e-6,
            "rope_theta": 10000.0,
            "sliding_window": s.max_position_embeddings / 2,
        }),
        _ => json!({
            "attention_bias": false,
            "attn_logit_softcapping": null,
            "cache_implementation": "hybrid",
            "final_logit_softcapping": null,
            "head_dim": s.head_dim,
            "hidden_activation": "gelu_pytorch_tanh",
            "pad_token_id": ids.pad,
            "query_pre_attn_scalar": s.head_dim,
            "rms_norm_eps": 1e-6,
            "rope_local_base_freq": 10000.0,
            "rope_scaling": null,
            "rope_theta": 1000000.0,
            "sliding_window": s.max_position_embeddings / 2,
            "sliding_window_pattern": 6,
        }),
    };
    let config = merged(common, extra);
    if family == Family::Gemma3 {
        merged(config, json!({ "model_type": "gemma3_text" }))
    } else {
        config
    }
}

/// `Gemma3ForConditionalGeneration`: the text settings in `text_config`,
/// the vision stub's in `vision_config`, image tokens after the tokenizer.
fn gemma3(s: &FamilySpec, ids: Specials, tokens: usize) -> Value {
    let image = |k: usize| tokens + k;
    json!({
        "architectures": [architecture(s)],
        "boi_token_index": image(0),
        "eoi_token_index": image(1),
        "eos_token_id": ids.eos,
        "image_token_index": image(2),
        "initializer_range": 0.02,
        "mm_tokens_per_image": (IMAGE_SIZE / PATCH_SIZE).pow(2),
        "model_type": "gemma3",
        "text_config": decoder_text(s, ids),
        "torch_dtype": s.dtype.torch_name(),
        "vision_config": {
            "hidden_size": VISION_HIDDEN,
            "image_size": IMAGE_SIZE,
            "intermediate_size": 2 * VISION_HIDDEN,
            "model_type": "siglip_vision_model",
            "num_attention_heads": 2,
            "num_hidden_layers": 0,
            "patch_size": PATCH_SIZE,
            "vision_use_head": false,
        },
    })
}

fn gpt_neox(s: &FamilySpec, ids: Specials) -> Value {
    json!({
        "architectures": [architecture(s)],
        "attention_bias": true,
        "attention_dropout": 0.0,
        "bos_token_id": ids.bos,
        "classifier_dropout": 0.1,
        "eos_token_id": ids.eos,
        "hidden_act": "gelu",
        "hidden_dropout": 0.0,
        "hidden_size": s.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate_size,
        "layer_norm_eps": 1e-5,
        "max_position_embeddings": s.max_position_embeddings,
        "model_type": "gpt_neox",
        "num_attention_heads": s.num_attention_heads,
        "num_hidden_layers": s.num_hidden_layers,
        "rope_scaling": null,
        "rotary_emb_base": ROTARY_BASE,
        "rotary_pct": s.rotary_dim as f64 / s.head_dim as f64,
        "tie_word_embeddings": s.tie_word_embeddings,
        "torch_dtype": s.dtype.torch_name(),
        "use_cache": true,
        "use_parallel_residual": true,
        "vocab_size": s.vocab_size,
    })
}

fn gptj(s: &FamilySpec, ids: Specials) -> Value {
    // GPT-J writes `n_inner: null` for its default width of 4 d.
    let n_inner = (s.intermediate_size != 4 * s.hidden_size).then_some(s.intermediate_size);
    json!({
        "activation_function": "gelu_new",
        "architectures": [architecture(s)],
        "attn_pdrop": 0.0,
        "bos_token_id": ids.bos,
        "embd_pdrop": 0.0,
        "eos_token_id": ids.eos,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-5,
        "model_type": "gptj",
        "n_embd": s.hidden_size,
        "n_head": s.num_attention_heads,
        "n_inner": n_inner,
        "n_layer": s.num_hidden_layers,
        "n_positions": s.max_position_embeddings,
        "resid_pdrop": 0.0,
        "rotary_dim": s.rotary_dim,
        "tie_word_embeddings": false,
        "torch_dtype": s.dtype.torch_name(),
        "use_cache": true,
        "vocab_size": s.vocab_size,
    })
}

fn opt(s: &FamilySpec, ids: Specials) -> Value {
    json!({
        "_remove_final_layer_norm": false,
        "activation_dropout": 0.0,
        "activation_function": "relu",
        "architectures": [architecture(s)],
        "attention_dropout": 0.0,
        "bos_token_id": ids.bos,
        "do_layer_norm_before": true,
        "dropout": 0.1,
        "enable_bias": true,
        "eos_token_id": ids.eos,
        "ffn_dim": s.intermediate_size,
        "hidden_size": s.hidden_size,
        "init_std": 0.02,
        "layer_norm_elementwise_affine": true,
        "layerdrop": 0.0,
        "max_position_embeddings": s.max_position_embeddings,
        "model_type": "opt",
        "num_attention_heads": s.num_attention_heads,
        "num_hidden_layers": s.num_hidden_layers,
        "pad_token_id": ids.pad.or(ids.eos),
        "prefix": "</s>",
        "tie_word_embeddings": true,
        "torch_dtype": s.dtype.torch_name(),
        "use_cache": true,
        "vocab_size": s.vocab_size,
        "word_embed_proj_dim": s.hidden_size,
    })
}

fn encoder(s: &FamilySpec, ids: Specials) -> Value {
    let config = json!({
        "architectures": [architecture(s)],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": null,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": s.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": s.intermediate_size,
        "layer_norm_eps": if s.family == Family::Roberta { 1e-5 } else { 1e-12 },
        "max_position_embeddings": s.max_position_embeddings,
        "model_type": s.family.model_type(),
        "num_attention_heads": s.num_attention_heads,
        "num_hidden_layers": s.num_hidden_layers,
        "pad_token_id": ids.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": s.dtype.torch_name(),
        "type_vocab_size": type_vocab_size(s.family),
        "use_cache": true,
        "vocab_size": s.vocab_size,
    });
    if s.family == Family::Roberta {
        merged(
            config,
            json!({ "bos_token_id": ids.bos, "eos_token_id": ids.eos }),
        )
    } else {
        config
    }
}
