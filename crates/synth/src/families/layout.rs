//! Tensor names, shapes and initialisations per family, as the state dict
//! of the transformers class names them. Linear weights are `[out, in]`.

use std::borrow::Cow;

use super::spec::{Family, FamilySpec};
use crate::checkpoint::{Format, Stored};
use crate::spec::{Dtype, Init, Parameter, INIT_STD};

/// Width of Gemma 3's vision tower stub.
pub(super) const VISION_HIDDEN: usize = 32;
/// Side of the images the stub's config accepts, in pixels.
pub(super) const IMAGE_SIZE: usize = 28;
/// Side of one image patch, in pixels; `IMAGE_SIZE / PATCH_SIZE` squared
/// patches, each one image token.
pub(super) const PATCH_SIZE: usize = 14;
/// Base of the rotary frequencies, as GPT-NeoX's `rotary_emb_base`.
pub(super) const ROTARY_BASE: f64 = 10000.0;

const WEIGHT: Init = Init::Normal(INIT_STD);

/// Parameters in state-dict order, with their full names.
#[derive(Default)]
struct List(Vec<Parameter>);

impl List {
    fn push(&mut self, name: &str, shape: &[usize], init: Init) {
        self.0.push(Parameter::new(name, shape, init));
    }

    /// `{name}.weight` `[out, inp]`, and `{name}.bias` `[out]` when `bias`.
    fn linear(&mut self, name: &str, out: usize, inp: usize, bias: bool) {
        self.push(&format!("{name}.weight"), &[out, inp], WEIGHT);
        if bias {
            self.push(&format!("{name}.bias"), &[out], WEIGHT);
        }
    }

    /// `{name}.weight` `[width]` drawn as `gain`, and a bias when `bias`.
    fn norm(&mut self, name: &str, width: usize, gain: Init, bias: bool) {
        self.push(&format!("{name}.weight"), &[width], gain);
        if bias {
            self.push(&format!("{name}.bias"), &[width], WEIGHT);
        }
    }
}

/// Every parameter of `spec`, in the order of its state dict.
pub(super) fn parameters(spec: &FamilySpec) -> Vec<Parameter> {
    let mut list = List::default();
    match spec.family {
        Family::Phi3 => phi3(spec, &mut list),
        Family::GptNeox => gpt_neox(spec, &mut list),
        Family::GptJ => gptj(spec, &mut list),
        Family::Opt => opt(spec, &mut list),
        Family::Bert | Family::Roberta => encoder(spec, &mut list),
        _ => llama(spec, &mut list),
    }
    list.0
}

/// Llama and the families that keep its names: Mistral, Qwen 2/3, Gemma 1/2/3.
fn llama(s: &FamilySpec, list: &mut List) {
    let family = s.family;
    let prefix = if family == Family::Gemma3 {
        "language_model.model."
    } else {
        "model."
    };
    let (d, dh, f) = (s.hidden_size, s.head_dim, s.intermediate_size);
    let (q, kv) = (s.num_attention_heads * dh, s.num_key_value_heads * dh);
    // Gemma's RMSNorm multiplies by 1 + w, so its stored weights sit near 0.
    let gain = if family.is_gemma() {
        Init::GainOffset
    } else {
        Init::Gain
    };
    let qkv_bias = family == Family::Qwen2;
    let qk_norm = matches!(family, Family::Qwen3 | Family::Gemma3Text | Family::Gemma3);
    let mlp_norms = matches!(family, Family::Gemma2 | Family::Gemma3Text | Family::Gemma3);
    list.push(
        &format!("{prefix}embed_tokens.weight"),
        &[s.vocab_size, d],
        Init::Embedding,
    );
    for l in 0..s.num_hidden_layers {
        let b = format!("{prefix}layers.{l}");
        list.linear(&format!("{b}.self_attn.q_proj"), q, d, qkv_bias);
        list.linear(&format!("{b}.self_attn.k_proj"), kv, d, qkv_bias);
        list.linear(&format!("{b}.self_attn.v_proj"), kv, d, qkv_bias);
        list.linear(&format!("{b}.self_attn.o_proj"), d, q, false);
        if qk_norm {
            list.norm(&format!("{b}.self_attn.q_norm"), dh, gain, false);
            list.norm(&format!("{b}.self_attn.k_norm"), dh, gain, false);
        }
        list.linear(&format!("{b}.mlp.gate_proj"), f, d, false);
        list.linear(&format!("{b}.mlp.up_proj"), f, d, false);
        list.linear(&format!("{b}.mlp.down_proj"), d, f, false);
        list.norm(&format!("{b}.input_layernorm"), d, gain, false);
        list.norm(&format!("{b}.post_attention_layernorm"), d, gain, false);
        if mlp_norms {
            list.norm(&format!("{b}.pre_feedforward_layernorm"), d, gain, false);
            list.norm(&format!("{b}.post_feedforward_layernorm"), d, gain, false);
        }
    }
    list.norm(&format!("{prefix}norm"), d, gain, false);
    if family == Family::Gemma3 {
        vision_stub(d, list);
    }
    if !s.tie_word_embeddings {
        list.push("lm_head.weight", &[s.vocab_size, d], Init::Embedding);
    }
}

/// The tensors of `Gemma3ForConditionalGeneration` outside the language
/// model, for a SigLIP tower with no encoder layers: what a text-only
/// loader must skip.
fn vision_stub(d: usize, list: &mut List) {
    let v = VISION_HIDDEN;
    let patches = (IMAGE_SIZE / PATCH_SIZE).pow(2);
    let embeddings = "vision_tower.vision_model.embeddings";
    list.push(
        &format!("{embeddings}.patch_embedding.weight"),
        &[v, 3, PATCH_SIZE, PATCH_SIZE],
        WEIGHT,
    );
    list.push(&format!("{embeddings}.patch_embedding.bias"), &[v], WEIGHT);
    list.push(
        &format!("{embeddings}.position_embedding.weight"),
        &[patches, v],
        WEIGHT,
    );
    list.norm(
        "vision_tower.vision_model.post_layernorm",
        v,
        Init::Gain,
        true,
    );
    // A bare parameter, not a Linear: `[vision width, text width]`.
    list.push(
        "multi_modal_projector.mm_input_projection_weight",
        &[v, d],
        WEIGHT,
    );
    list.norm(
        "multi_modal_projector.mm_soft_emb_norm",
        v,
        Init::GainOffset,
        false,
    );
}

fn phi3(s: &FamilySpec, list: &mut List) {
    let (d, dh, f) = (s.hidden_size, s.head_dim, s.intermediate_size);
    let h = s.num_attention_heads;
    let fused = (h + 2 * s.num_key_value_heads) * dh;
    list.push(
        "model.embed_tokens.weight",
        &[s.vocab_size, d],
        Init::Embedding,
    );
    for l in 0..s.num_hidden_layers {
        let b = format!("model.layers.{l}");
        list.linear(&format!("{b}.self_attn.o_proj"), d, h * dh, false);
        // Rows: the queries, then the keys, then the values.
        list.linear(&format!("{b}.self_attn.qkv_proj"), fused, d, false);
        // Rows: the gate, then the up projection.
        list.linear(&format!("{b}.mlp.gate_up_proj"), 2 * f, d, false);
        list.linear(&format!("{b}.mlp.down_proj"), d, f, false);
        list.norm(&format!("{b}.input_layernorm"), d, Init::Gain, false);
        list.norm(
            &format!("{b}.post_attention_layernorm"),
            d,
            Init::Gain,
            false,
        );
    }
    list.norm("model.norm", d, Init::Gain, false);
    if !s.tie_word_embeddings {
        list.push("lm_head.weight", &[s.vocab_size, d], Init::Embedding);
    }
}

fn gpt_neox(s: &FamilySpec, list: &mut List) {
    let (d, f) = (s.hidden_size, s.intermediate_size);
    list.push(
        "gpt_neox.embed_in.weight",
        &[s.vocab_size, d],
        Init::Embedding,
    );
    for l in 0..s.num_hidden_layers {
        let b = format!("gpt_neox.layers.{l}");
        list.norm(&format!("{b}.input_layernorm"), d, Init::Gain, true);
        list.norm(
            &format!("{b}.post_attention_layernorm"),
            d,
            Init::Gain,
            true,
        );
        // Rows viewed as (heads, 3, head_dim): per head its q, k, v rows.
        list.linear(&format!("{b}.attention.query_key_value"), 3 * d, d, true);
        list.linear(&format!("{b}.attention.dense"), d, d, true);
        list.linear(&format!("{b}.mlp.dense_h_to_4h"), f, d, true);
        list.linear(&format!("{b}.mlp.dense_4h_to_h"), d, f, true);
    }
    list.norm("gpt_neox.final_layer_norm", d, Init::Gain, true);
    if !s.tie_word_embeddings {
        list.push("embed_out.weight", &[s.vocab_size, d], Init::Embedding);
    }
}

fn gptj(s: &FamilySpec, list: &mut List) {
    let (d, f) = (s.hidden_size, s.intermediate_size);
    list.push(
        "transformer.wte.weight",
        &[s.vocab_size, d],
        Init::Embedding,
    );
    for l in 0..s.num_hidden_layers {
        let b = format!("transformer.h.{l}");
        list.norm(&format!("{b}.ln_1"), d, Init::Gain, true);
        for projection in ["k_proj", "v_proj", "q_proj", "out_proj"] {
            list.linear(&format!("{b}.attn.{projection}"), d, d, false);
        }
        list.linear(&format!("{b}.mlp.fc_in"), f, d, true);
        list.linear(&format!("{b}.mlp.fc_out"), d, f, true);
    }
    list.norm("transformer.ln_f", d, Init::Gain, true);
    list.push("lm_head.weight", &[s.vocab_size, d], Init::Embedding);
    list.push("lm_head.bias", &[s.vocab_size], WEIGHT);
}

fn opt(s: &FamilySpec, list: &mut List) {
    let (d, f) = (s.hidden_size, s.intermediate_size);
    let decoder = "model.decoder";
    list.push(
        &format!("{decoder}.embed_tokens.weight"),
        &[s.vocab_size, d],
        Init::Embedding,
    );
    // OPT's learned positions start at row 2.
    list.push(
        &format!("{decoder}.embed_positions.weight"),
        &[s.max_position_embeddings + 2, d],
        WEIGHT,
    );
    list.norm(&format!("{decoder}.final_layer_norm"), d, Init::Gain, true);
    for l in 0..s.num_hidden_layers {
        let b = format!("{decoder}.layers.{l}");
        for projection in ["k_proj", "v_proj", "q_proj", "out_proj"] {
            list.linear(&format!("{b}.self_attn.{projection}"), d, d, true);
        }
        list.norm(&format!("{b}.self_attn_layer_norm"), d, Init::Gain, true);
        list.linear(&format!("{b}.fc1"), f, d, true);
        list.linear(&format!("{b}.fc2"), d, f, true);
        list.norm(&format!("{b}.final_layer_norm"), d, Init::Gain, true);
    }
}

/// BERT and RoBERTa, either `*ForMaskedLM` (prefixed names, the masked-LM
/// head, whose decoder is the tied word embedding) or the bare `*Model`.
fn encoder(s: &FamilySpec, list: &mut List) {
    let (d, f) = (s.hidden_size, s.intermediate_size);
    let bert = s.family == Family::Bert;
    let prefix = match (s.base_model, bert) {
        (true, _) => "",
        (false, true) => "bert.",
        (false, false) => "roberta.",
    };
    let e = format!("{prefix}embeddings");
    list.push(
        &format!("{e}.word_embeddings.weight"),
        &[s.vocab_size, d],
        Init::Embedding,
    );
    list.push(
        &format!("{e}.position_embeddings.weight"),
        &[s.max_position_embeddings, d],
        WEIGHT,
    );
    list.push(
        &format!("{e}.token_type_embeddings.weight"),
        &[type_vocab_size(s.family), d],
        WEIGHT,
    );
    list.norm(&format!("{e}.LayerNorm"), d, Init::Gain, true);
    for l in 0..s.num_hidden_layers {
        let b = format!("{prefix}encoder.layer.{l}");
        for projection in ["query", "key", "value"] {
            list.linear(&format!("{b}.attention.self.{projection}"), d, d, true);
        }
        list.linear(&format!("{b}.attention.output.dense"), d, d, true);
        list.norm(
            &format!("{b}.attention.output.LayerNorm"),
            d,
            Init::Gain,
            true,
        );
        list.linear(&format!("{b}.intermediate.dense"), f, d, true);
        list.linear(&format!("{b}.output.dense"), d, f, true);
        list.norm(&format!("{b}.output.LayerNorm"), d, Init::Gain, true);
    }
    if s.base_model {
        list.linear("pooler.dense", d, d, true);
    } else if bert {
        list.push("cls.predictions.bias", &[s.vocab_size], WEIGHT);
        list.linear("cls.predictions.transform.dense", d, d, true);
        list.norm("cls.predictions.transform.LayerNorm", d, Init::Gain, true);
    } else {
        list.push("lm_head.bias", &[s.vocab_size], WEIGHT);
        list.linear("lm_head.dense", d, d, true);
        list.norm("lm_head.layer_norm", d, Init::Gain, true);
    }
}

/// Rows of the token-type embedding: BERT's two segments, RoBERTa's one.
pub(super) fn type_vocab_size(family: Family) -> usize {
    if family == Family::Roberta {
        1
    } else {
        2
    }
}

/// The non-parameter tensors the spec asks for, as older GPT-NeoX and GPT-J
/// checkpoints hold them: a bool lower-triangular mask
/// `[1, 1, positions, positions]`, the f32 scalar -1e9 that replaced masked
/// scores, and for GPT-NeoX the f32 rotary frequencies.
pub(super) fn buffers(spec: &FamilySpec) -> Vec<Stored<'static>> {
    if !spec.mask_buffers {
        return Vec::new();
    }
    let n = spec.max_position_embeddings;
    let causal: Vec<f32> = (0..n * n)
        .map(|k| if k % n <= k / n { 1.0 } else { 0.0 })
        .collect();
    let half = spec.rotary_dim / 2;
    let inv_freq: Vec<f32> = (0..half)
        .map(|i| (1.0 / ROTARY_BASE.powf(2.0 * i as f64 / spec.rotary_dim as f64)) as f32)
        .collect();
    let attention = |l: usize| match spec.family {
        Family::GptNeox => format!("gpt_neox.layers.{l}.attention"),
        _ => format!("transformer.h.{l}.attn"),
    };
    let buffer = |name: String, shape: &[usize], values: &[f32], format| Stored {
        name,
        shape: shape.to_vec(),
        values: Cow::Owned(values.to_vec()),
        format,
    };
    let mut buffers = Vec::new();
    for l in 0..spec.num_hidden_layers {
        let a = attention(l);
        buffers.push(buffer(
            format!("{a}.bias"),
            &[1, 1, n, n],
            &causal,
            Format::Bool,
        ));
        buffers.push(buffer(
            format!("{a}.masked_bias"),
            &[],
            &[-1e9],
            Format::Float(Dtype::F32),
        ));
        if spec.family == Family::GptNeox {
            buffers.push(buffer(
                format!("{a}.rotary_emb.inv_freq"),
                &[half],
                &inv_freq,
                Format::Float(Dtype::F32),
            ));
        }
    }
    buffers
}
