//! The family checkpoints: layouts written from the transformers state dicts
//! independently of the generator, configs, tokenizers, determinism.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use glossa_synth::{family_presets, Family, FamilyModel, FamilySpec, TokenizerKind};
use safetensors::SafeTensors;
use serde_json::Value;
use tokenizers::Tokenizer;

use crate::support::{decode, files};

/// Every preset, generated once per test binary.
fn models() -> &'static [(&'static str, FamilyModel)] {
    static MODELS: OnceLock<Vec<(&'static str, FamilyModel)>> = OnceLock::new();
    MODELS.get_or_init(|| {
        family_presets()
            .into_iter()
            .map(|(name, spec)| {
                let model = FamilyModel::new(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
                (name, model)
            })
            .collect()
    })
}

/// Every preset written once, in a directory per preset.
fn written() -> &'static (tempfile::TempDir, Vec<(&'static str, &'static FamilyModel)>) {
    static WRITTEN: OnceLock<(tempfile::TempDir, Vec<(&'static str, &'static FamilyModel)>)> =
        OnceLock::new();
    WRITTEN.get_or_init(|| {
        let root = tempfile::tempdir().expect("temp dir");
        let models = models()
            .iter()
            .map(|(name, model)| {
                model.write(&root.path().join(name)).expect("writes");
                (*name, model)
            })
            .collect();
        (root, models)
    })
}

fn dir(name: &str) -> std::path::PathBuf {
    written().0.path().join(name)
}

/// Name, shape and dtype ("F32", "BOOL", …) of every tensor in the files of `dir`.
fn stored(dir: &Path) -> BTreeMap<String, (Vec<usize>, String)> {
    let mut tensors = BTreeMap::new();
    for file in files(dir) {
        if file.extension().is_some_and(|e| e == "safetensors") {
            let bytes = fs::read(&file).expect("read");
            let st = SafeTensors::deserialize(&bytes).expect("safetensors");
            for (name, view) in st.tensors() {
                let dtype = format!("{:?}", view.dtype());
                tensors.insert(name, (view.shape().to_vec(), dtype));
            }
        }
    }
    tensors
}

/// The state dict of `spec`'s transformers class, transcribed from the
/// modelling code: names and shapes, parameters and buffers.
fn expected_layout(s: &FamilySpec) -> BTreeMap<String, Vec<usize>> {
    let (d, f, v, dh) = (s.hidden_size, s.intermediate_size, s.vocab_size, s.head_dim);
    let (h, kv) = (s.num_attention_heads, s.num_key_value_heads);
    let mut m = BTreeMap::new();
    let mut add = |name: String, shape: &[usize]| {
        assert!(
            m.insert(name.clone(), shape.to_vec()).is_none(),
            "{name} twice"
        );
    };
    let layers = 0..s.num_hidden_layers;
    match s.family {
        Family::Llama
        | Family::Mistral
        | Family::Qwen2
        | Family::Qwen3
        | Family::Gemma
        | Family::Gemma2
        | Family::Gemma3Text
        | Family::Gemma3 => {
            let p = if s.family == Family::Gemma3 {
                "language_model.model"
            } else {
                "model"
            };
            add(format!("{p}.embed_tokens.weight"), &[v, d]);
            add(format!("{p}.norm.weight"), &[d]);
            for l in layers {
                let b = format!("{p}.layers.{l}");
                add(format!("{b}.input_layernorm.weight"), &[d]);
                add(format!("{b}.post_attention_layernorm.weight"), &[d]);
                add(format!("{b}.self_attn.q_proj.weight"), &[h * dh, d]);
                add(format!("{b}.self_attn.k_proj.weight"), &[kv * dh, d]);
                add(format!("{b}.self_attn.v_proj.weight"), &[kv * dh, d]);
                add(format!("{b}.self_attn.o_proj.weight"), &[d, h * dh]);
                add(format!("{b}.mlp.gate_proj.weight"), &[f, d]);
                add(format!("{b}.mlp.up_proj.weight"), &[f, d]);
                add(format!("{b}.mlp.down_proj.weight"), &[d, f]);
                if s.family == Family::Qwen2 {
                    add(format!("{b}.self_attn.q_proj.bias"), &[h * dh]);
                    add(format!("{b}.self_attn.k_proj.bias"), &[kv * dh]);
                    add(format!("{b}.self_attn.v_proj.bias"), &[kv * dh]);
                }
                if matches!(
                    s.family,
                    Family::Qwen3 | Family::Gemma3Text | Family::Gemma3
                ) {
                    add(format!("{b}.self_attn.q_norm.weight"), &[dh]);
                    add(format!("{b}.self_attn.k_norm.weight"), &[dh]);
                }
                if matches!(
                    s.family,
                    Family::Gemma2 | Family::Gemma3Text | Family::Gemma3
                ) {
                    add(format!("{b}.pre_feedforward_layernorm.weight"), &[d]);
                    add(format!("{b}.post_feedforward_layernorm.weight"), &[d]);
                }
            }
            if s.family == Family::Gemma3 {
                let e = "vision_tower.vision_model.embeddings";
                add(format!("{e}.patch_embedding.weight"), &[32, 3, 14, 14]);
                add(format!("{e}.patch_embedding.bias"), &[32]);
                add(format!("{e}.position_embedding.weight"), &[4, 32]);
                add(
                    "vision_tower.vision_model.post_layernorm.weight".into(),
                    &[32],
                );
                add(
                    "vision_tower.vision_model.post_layernorm.bias".into(),
                    &[32],
                );
                add(
                    "multi_modal_projector.mm_input_projection_weight".into(),
                    &[32, d],
                );
                add(
                    "multi_modal_projector.mm_soft_emb_norm.weight".into(),
                    &[32],
                );
            }
            if !s.tie_word_embeddings {
                add("lm_head.weight".into(), &[v, d]);
            }
        }
        Family::Phi3 => {
            add("model.embed_tokens.weight".into(), &[v, d]);
            add("model.norm.weight".into(), &[d]);
            for l in layers {
                let b = format!("model.layers.{l}");
                add(format!("{b}.input_layernorm.weight"), &[d]);
                add(format!("{b}.post_attention_layernorm.weight"), &[d]);
                add(
                    format!("{b}.self_attn.qkv_proj.weight"),
                    &[(h + 2 * kv) * dh, d],
                );
                add(format!("{b}.self_attn.o_proj.weight"), &[d, h * dh]);
                add(format!("{b}.mlp.gate_up_proj.weight"), &[2 * f, d]);
                add(format!("{b}.mlp.down_proj.weight"), &[d, f]);
            }
            add("lm_head.weight".into(), &[v, d]);
        }
        Family::GptNeox => {
            add("gpt_neox.embed_in.weight".into(), &[v, d]);
            add("gpt_neox.final_layer_norm.weight".into(), &[d]);
            add("gpt_neox.final_layer_norm.bias".into(), &[d]);
            add("embed_out.weight".into(), &[v, d]);
            let n = s.max_position_embeddings;
            for l in layers {
                let b = format!("gpt_neox.layers.{l}");
                for (name, out, inp) in [
                    ("attention.query_key_value", 3 * d, d),
                    ("attention.dense", d, d),
                    ("mlp.dense_h_to_4h", f, d),
                    ("mlp.dense_4h_to_h", d, f),
                ] {
                    add(format!("{b}.{name}.weight"), &[out, inp]);
                    add(format!("{b}.{name}.bias"), &[out]);
                }
                for norm in ["input_layernorm", "post_attention_layernorm"] {
                    add(format!("{b}.{norm}.weight"), &[d]);
                    add(format!("{b}.{norm}.bias"), &[d]);
                }
                if s.mask_buffers {
                    add(format!("{b}.attention.bias"), &[1, 1, n, n]);
                    add(format!("{b}.attention.masked_bias"), &[]);
                    add(
                        format!("{b}.attention.rotary_emb.inv_freq"),
                        &[s.rotary_dim / 2],
                    );
                }
            }
        }
        Family::GptJ => {
            add("transformer.wte.weight".into(), &[v, d]);
            add("transformer.ln_f.weight".into(), &[d]);
            add("transformer.ln_f.bias".into(), &[d]);
            add("lm_head.weight".into(), &[v, d]);
            add("lm_head.bias".into(), &[v]);
            for l in layers {
                let b = format!("transformer.h.{l}");
                add(format!("{b}.ln_1.weight"), &[d]);
                add(format!("{b}.ln_1.bias"), &[d]);
                for p in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                    add(format!("{b}.attn.{p}.weight"), &[d, d]);
                }
                add(format!("{b}.mlp.fc_in.weight"), &[f, d]);
                add(format!("{b}.mlp.fc_in.bias"), &[f]);
                add(format!("{b}.mlp.fc_out.weight"), &[d, f]);
                add(format!("{b}.mlp.fc_out.bias"), &[d]);
            }
        }
        Family::Opt => {
            let p = "model.decoder";
            add(format!("{p}.embed_tokens.weight"), &[v, d]);
            add(
                format!("{p}.embed_positions.weight"),
                &[s.max_position_embeddings + 2, d],
            );
            add(format!("{p}.final_layer_norm.weight"), &[d]);
            add(format!("{p}.final_layer_norm.bias"), &[d]);
            for l in layers {
                let b = format!("{p}.layers.{l}");
                for (name, out, inp) in [
                    ("self_attn.q_proj", d, d),
                    ("self_attn.k_proj", d, d),
                    ("self_attn.v_proj", d, d),
                    ("self_attn.out_proj", d, d),
                    ("fc1", f, d),
                    ("fc2", d, f),
                ] {
                    add(format!("{b}.{name}.weight"), &[out, inp]);
                    add(format!("{b}.{name}.bias"), &[out]);
                }
                for norm in ["self_attn_layer_norm", "final_layer_norm"] {
                    add(format!("{b}.{norm}.weight"), &[d]);
                    add(format!("{b}.{norm}.bias"), &[d]);
                }
            }
        }
        Family::Bert | Family::Roberta => {
            let bert = s.family == Family::Bert;
            let p = match (s.base_model, bert) {
                (true, _) => "",
                (false, true) => "bert.",
                (false, false) => "roberta.",
            };
            let types = if bert { 2 } else { 1 };
            add(format!("{p}embeddings.word_embeddings.weight"), &[v, d]);
            add(
                format!("{p}embeddings.position_embeddings.weight"),
                &[s.max_position_embeddings, d],
            );
            add(
                format!("{p}embeddings.token_type_embeddings.weight"),
                &[types, d],
            );
            add(format!("{p}embeddings.LayerNorm.weight"), &[d]);
            add(format!("{p}embeddings.LayerNorm.bias"), &[d]);
            for l in layers {
                let b = format!("{p}encoder.layer.{l}");
                for (name, out, inp) in [
                    ("attention.self.query", d, d),
                    ("attention.self.key", d, d),
                    ("attention.self.value", d, d),
                    ("attention.output.dense", d, d),
                    ("intermediate.dense", f, d),
                    ("output.dense", d, f),
                ] {
                    add(format!("{b}.{name}.weight"), &[out, inp]);
                    add(format!("{b}.{name}.bias"), &[out]);
                }
                for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
                    add(format!("{b}.{norm}.weight"), &[d]);
                    add(format!("{b}.{norm}.bias"), &[d]);
                }
            }
            let head: &[(&str, &[usize])] = match (s.base_model, bert) {
                (true, _) => &[
                    ("pooler.dense.weight", &[d, d]),
                    ("pooler.dense.bias", &[d]),
                ],
                (false, true) => &[
                    ("cls.predictions.bias", &[v]),
                    ("cls.predictions.transform.dense.weight", &[d, d]),
                    ("cls.predictions.transform.dense.bias", &[d]),
                    ("cls.predictions.transform.LayerNorm.weight", &[d]),
                    ("cls.predictions.transform.LayerNorm.bias", &[d]),
                ],
                (false, false) => &[
                    ("lm_head.bias", &[v]),
                    ("lm_head.dense.weight", &[d, d]),
                    ("lm_head.dense.bias", &[d]),
                    ("lm_head.layer_norm.weight", &[d]),
                    ("lm_head.layer_norm.bias", &[d]),
                ],
            };
            for (name, shape) in head {
                add((*name).to_owned(), shape);
            }
        }
    }
    m
}

#[test]
fn every_preset_writes_its_familys_state_dict() {
    for (name, model) in &written().1 {
        let spec = &model.spec;
        let files = stored(&dir(name));
        let actual: BTreeMap<_, _> = files
            .iter()
            .map(|(n, (shape, _))| (n.clone(), shape.clone()))
            .collect();
        assert_eq!(actual, expected_layout(spec), "{name}");
        let want = match spec.dtype {
            glossa_synth::Dtype::F32 => "F32",
            glossa_synth::Dtype::F16 => "F16",
            glossa_synth::Dtype::Bf16 => "BF16",
        };
        for (tensor, values, shape) in model.tensors() {
            let (file_shape, dtype) = &files[tensor];
            assert_eq!(dtype, want, "{name}: {tensor}");
            assert_eq!(file_shape.as_slice(), shape, "{name}: {tensor}");
            assert_eq!(values.len(), shape.iter().product::<usize>());
        }
        // Only buffers are stored without being parameters.
        for (tensor, (_, dtype)) in &files {
            if model.tensor(tensor).is_none() {
                assert!(spec.mask_buffers, "{name}: {tensor} is not a parameter");
                assert!(
                    dtype == "BOOL" || dtype == "F32",
                    "{name}: {tensor} {dtype}"
                );
            }
        }
    }
}

#[test]
fn stored_values_are_the_exposed_values() {
    for (name, model) in &written().1 {
        for file in files(&dir(name)) {
            if file.extension().is_none_or(|e| e != "safetensors") {
                continue;
            }
            let bytes = fs::read(&file).expect("read");
            let st = SafeTensors::deserialize(&bytes).expect("safetensors");
            for (tensor, view) in st.tensors() {
                if let Some((values, _)) = model.tensor(&tensor) {
                    assert!(decode(&view) == values, "{name}: {tensor} differs");
                }
            }
        }
    }
}

#[test]
fn norm_gains_differ_from_one_and_gemma_stores_them_less_one() {
    for (name, model) in models() {
        let gemma = model.spec.family.model_type().starts_with("gemma");
        let norm = model
            .tensors()
            .find(|(n, _, _)| n.ends_with("input_layernorm.weight"))
            .map(|(_, values, _)| values);
        let Some(norm) = norm else { continue };
        let mean = norm.iter().sum::<f32>() / norm.len() as f32;
        let centre = if gemma { 0.0 } else { 1.0 };
        assert!((mean - centre).abs() < 0.05, "{name}: mean gain {mean}");
        assert!(norm.iter().any(|g| (g - centre).abs() > 0.01), "{name}");
    }
}

#[test]
fn grouped_query_attention_is_real_where_the_family_has_it() {
    for (name, model) in models() {
        let s = &model.spec;
        if matches!(
            s.family,
            Family::Llama
                | Family::Mistral
                | Family::Qwen2
                | Family::Qwen3
                | Family::Gemma
                | Family::Gemma2
                | Family::Gemma3Text
                | Family::Gemma3
                | Family::Phi3
        ) {
            assert!(s.num_key_value_heads < s.num_attention_heads, "{name}");
        }
        if s.family.model_type().starts_with("gemma") || s.family == Family::Qwen3 {
            assert_ne!(s.head_dim * s.num_attention_heads, s.hidden_size, "{name}");
        }
    }
}

#[test]
fn every_preset_regenerates_byte_for_byte() {
    let again = tempfile::tempdir().expect("temp dir");
    for (name, spec) in family_presets() {
        let out = again.path().join(name);
        FamilyModel::new(spec)
            .expect("generates")
            .write(&out)
            .expect("writes");
        let (first, second) = (files(&dir(name)), files(&out));
        assert_eq!(first.len(), second.len(), "{name}");
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.file_name(), b.file_name());
            assert!(
                fs::read(a).expect("read") == fs::read(b).expect("read"),
                "{name}: {} differs",
                a.display()
            );
        }
    }
}

fn config(name: &str) -> Value {
    let text = fs::read_to_string(dir(name).join("config.json")).expect("config");
    serde_json::from_str(&text).expect("json")
}

/// The keys each family's loader reads, beside `model_type` and `architectures`.
fn required_keys(family: Family) -> &'static [&'static str] {
    match family {
        Family::Llama | Family::Mistral => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "vocab_size",
            "rope_theta",
            "rms_norm_eps",
            "tie_word_embeddings",
            "max_position_embeddings",
            "hidden_act",
            "torch_dtype",
        ],
        Family::Qwen2 => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "vocab_size",
            "rope_theta",
            "rms_norm_eps",
            "tie_word_embeddings",
            "hidden_act",
            "torch_dtype",
        ],
        Family::Qwen3 => &[
            "hidden_size",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "rms_norm_eps",
            "tie_word_embeddings",
        ],
        Family::Gemma | Family::Gemma2 | Family::Gemma3Text => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "vocab_size",
            "rms_norm_eps",
            "hidden_activation",
            "torch_dtype",
        ],
        Family::Gemma3 => &["text_config", "vision_config", "image_token_index"],
        Family::Phi3 => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "vocab_size",
            "rope_theta",
            "partial_rotary_factor",
            "tie_word_embeddings",
        ],
        Family::GptNeox => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
            "rotary_pct",
            "rotary_emb_base",
            "use_parallel_residual",
            "tie_word_embeddings",
        ],
        Family::GptJ => &[
            "n_embd",
            "n_head",
            "n_layer",
            "n_inner",
            "rotary_dim",
            "vocab_size",
            "tie_word_embeddings",
        ],
        Family::Opt => &[
            "hidden_size",
            "ffn_dim",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
            "word_embed_proj_dim",
            "do_layer_norm_before",
        ],
        Family::Bert | Family::Roberta => &[
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
            "max_position_embeddings",
            "type_vocab_size",
        ],
    }
}

#[test]
fn configs_carry_the_keys_and_values_transformers_writes() {
    for (name, model) in &written().1 {
        let s = &model.spec;
        let config = config(name);
        assert_eq!(config["model_type"], s.family.model_type(), "{name}");
        let architectures = config["architectures"].as_array().expect("architectures");
        assert_eq!(architectures.len(), 1, "{name}");
        for key in required_keys(s.family) {
            assert!(config.get(key).is_some(), "{name}: no {key}");
        }
        let text = if s.family == Family::Gemma3 {
            assert_eq!(config["text_config"]["model_type"], "gemma3_text");
            &config["text_config"]
        } else {
            &config
        };
        let width = text.get("hidden_size").or(text.get("n_embd"));
        assert_eq!(width, Some(&Value::from(s.hidden_size)), "{name}");
        assert_eq!(text["vocab_size"], s.vocab_size, "{name}");
        if let Some(head_dim) = text.get("head_dim") {
            assert_eq!(head_dim, s.head_dim, "{name}");
        }
        if let Some(kv) = text.get("num_key_value_heads") {
            assert_eq!(kv, s.num_key_value_heads, "{name}");
        }
    }
    assert_eq!(config("gptj")["n_inner"], Value::Null);
    assert_eq!(config("gpt_neox")["rotary_pct"], 0.25);
    assert_eq!(config("phi3")["partial_rotary_factor"], 0.5);
    assert_eq!(config("bert")["architectures"][0], "BertForMaskedLM");
    assert_eq!(config("bert-base-model")["architectures"][0], "BertModel");
    assert_eq!(
        config("roberta-base-model")["architectures"][0],
        "RobertaModel"
    );
    let gemma3 = config("gemma3");
    assert_eq!(gemma3["architectures"][0], "Gemma3ForConditionalGeneration");
    assert!(gemma3["image_token_index"].as_u64().expect("index") < 1032);
}

#[test]
fn sharded_preset_has_an_index_naming_every_tensor() {
    let dir = dir("llama3-sharded");
    let index: Value = serde_json::from_str(
        &fs::read_to_string(dir.join("model.safetensors.index.json")).expect("index"),
    )
    .expect("json");
    let map = index["weight_map"].as_object().expect("weight_map");
    let stored = stored(&dir);
    assert_eq!(map.len(), stored.len());
    for (tensor, file) in map {
        assert!(stored.contains_key(tensor));
        assert!(dir.join(file.as_str().expect("file")).exists());
    }
    assert!(dir.join("model-00002-of-00002.safetensors").exists());
    assert!(!dir.join("model.safetensors").exists());
}

#[test]
fn tokenizers_load_and_are_of_their_kind() {
    let text = "Zdrowa dieta w Łodzi: warzywa, owoce i 42 żółwie.";
    for (name, model) in &written().1 {
        let s = &model.spec;
        let path = dir(name).join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&path).expect("loads");
        assert_eq!(tokenizer.get_vocab_size(true), s.tokenizer_size, "{name}");
        let json: Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(json["model"]["type"], s.tokenizer.model_type(), "{name}");
        let vocab = tokenizer.get_vocab(true);
        let ids = tokenizer
            .encode(text, false)
            .expect("encodes")
            .get_ids()
            .to_vec();
        let decoded = tokenizer.decode(&ids, true).expect("decodes");
        match s.tokenizer {
            TokenizerKind::ByteLevelBpe => {
                assert_eq!(vocab["<|endoftext|>"], 0);
                assert!(vocab.contains_key("Ġ"));
                assert_eq!(decoded, text);
            }
            TokenizerKind::RobertaBpe => {
                for (token, id) in [("<s>", 0), ("<pad>", 1), ("</s>", 2), ("<unk>", 3)] {
                    assert_eq!(vocab[token], id, "{name}");
                }
                assert_eq!(vocab["<mask>"] as usize, s.tokenizer_size - 1);
                assert_eq!(json["post_processor"]["type"], "RobertaProcessing");
                assert_eq!(decoded, text);
            }
            TokenizerKind::SentencePieceBpe => {
                for (token, id) in [("<unk>", 0), ("<s>", 1), ("</s>", 2), ("<0x00>", 3)] {
                    assert_eq!(vocab[token], id, "{name}");
                }
                assert_eq!(vocab["<0xFF>"], 258);
                assert!(vocab.keys().any(|t| t.starts_with('▁') && t.len() > 4));
                assert_eq!(json["model"]["byte_fallback"], true);
                assert_eq!(json["decoder"]["type"], "Sequence");
                assert_eq!(decoded, text);
                // A character the corpus never shows falls back to its
                // UTF-8 bytes, after the prepended `▁`.
                let ids = tokenizer
                    .encode("€", false)
                    .expect("encodes")
                    .get_ids()
                    .to_vec();
                assert_eq!(ids[0], vocab["▁"], "{name}");
                assert_eq!(ids[1..], [3 + 0xE2, 3 + 0x82, 3 + 0xAC], "{name}");
                assert_eq!(tokenizer.decode(&ids, true).expect("decodes"), "€");
            }
            TokenizerKind::WordPiece => {
                for (token, id) in [("[PAD]", 0), ("[UNK]", 1), ("[CLS]", 2), ("[SEP]", 3)] {
                    assert_eq!(vocab[token], id, "{name}");
                }
                assert!(vocab.contains_key("[MASK]"));
                assert!(vocab.keys().any(|t| t.starts_with("##")));
                let with_specials = tokenizer.encode(text, true).expect("encodes");
                assert_eq!(with_specials.get_ids().first(), Some(&2));
                assert_eq!(with_specials.get_ids().last(), Some(&3));
            }
        }
        assert!(s.vocab_size >= s.tokenizer_size, "{name}");
    }
}

#[test]
fn specs_a_family_cannot_have_are_refused() {
    let preset = |name| glossa_synth::family_preset(name).expect("preset");
    let untied_gemma = FamilySpec {
        tie_word_embeddings: false,
        ..preset("gemma")
    };
    let gqa_neox = FamilySpec {
        num_key_value_heads: 2,
        ..preset("gpt_neox")
    };
    let odd_qwen2_heads = FamilySpec {
        head_dim: 8,
        rotary_dim: 8,
        ..preset("qwen2")
    };
    let headless_llama = FamilySpec {
        base_model: true,
        ..preset("llama")
    };
    for spec in [untied_gemma, gqa_neox, odd_qwen2_heads, headless_llama] {
        let family = spec.family;
        assert!(FamilyModel::new(spec).is_err(), "{family:?}");
    }
}
