use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use glossa_synth::{write_checkpoint, Dtype, Gpt2Spec, SynthModel};
use safetensors::SafeTensors;
use serde_json::Value;

use crate::support::{bench_quick, decode, shipped, untied, written};

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("read")).expect("json")
}

/// Checks every tensor of the files in `dir` against the model: names with
/// the spec's prefix, shapes, dtype and values exactly as `weights` holds
/// them. Returns the names found, buffers included.
fn check_files(model: &SynthModel, dir: &Path, files: &[String]) -> BTreeSet<String> {
    let spec = &model.spec;
    let expected_dtype = match spec.dtype {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F16 => safetensors::Dtype::F16,
        Dtype::Bf16 => safetensors::Dtype::BF16,
    };
    let mut names = BTreeSet::new();
    for file in files {
        let bytes = fs::read(dir.join(file)).expect("read");
        let tensors = SafeTensors::deserialize(&bytes).expect("parses");
        for (name, view) in tensors.tensors() {
            assert_eq!(view.dtype(), expected_dtype, "{name}");
            let bare = match (spec.transformer_prefix, name.as_str()) {
                (_, "lm_head.weight") => name.as_str(),
                (true, _) => name.strip_prefix("transformer.").expect("prefixed"),
                (false, _) => name.as_str(),
            };
            let values = decode(&view);
            if let Some((data, shape)) = model.weights.tensor(bare) {
                assert_eq!(view.shape(), shape, "{name}");
                assert!(values == data, "{name} holds other values than the weights");
            } else if bare.ends_with(".attn.bias") {
                let n = spec.n_positions;
                assert_eq!(view.shape(), [1, 1, n, n]);
                assert_eq!(values[1], 0.0, "position 0 does not see position 1");
                assert_eq!(values[n], 1.0, "position 1 sees position 0");
            } else {
                assert!(
                    bare.ends_with(".attn.masked_bias"),
                    "unexpected tensor {name}"
                );
                assert!(view.shape().is_empty());
            }
            assert!(names.insert(name), "tensor in two files");
        }
    }
    let parameters = model.weights.tensors().count();
    let buffers = if spec.mask_buffers {
        2 * spec.n_layer
    } else {
        0
    };
    assert_eq!(names.len(), parameters + buffers);
    names
}

#[test]
fn shipped_checkpoint_is_one_tied_f32_file() {
    let model = shipped();
    let dir = written(model);
    check_files(model, dir.path(), &["model.safetensors".to_owned()]);
    assert!(model.weights.tensor("lm_head.weight").is_none());
    assert_eq!(model.weights.unembedding(), model.weights.embedding());
    let (_, shape) = model.weights.tensor("h.0.mlp.c_fc.weight").expect("c_fc");
    assert_eq!(shape, [64, 256]);
    let (_, shape) = model
        .weights
        .tensor("h.3.attn.c_attn.weight")
        .expect("c_attn");
    assert_eq!(shape, [64, 192]);

    let config = json(&dir.path().join("config.json"));
    assert_eq!(config["model_type"], "gpt2");
    assert_eq!(config["architectures"][0], "GPT2LMHeadModel");
    assert_eq!(config["n_layer"], 4);
    assert_eq!(config["n_head"], 4);
    assert_eq!(config["n_embd"], 64);
    assert_eq!(config["n_inner"], 256);
    assert_eq!(config["n_positions"], 128);
    assert_eq!(config["vocab_size"], 4096);
    assert_eq!(config["tie_word_embeddings"], true);
    assert_eq!(config["activation_function"], "gelu_new");
    assert_eq!(config["torch_dtype"], "float32");
    for name in [
        "config.json",
        "tokenizer.json",
        "plants.json",
        "model.safetensors",
    ] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
}

#[test]
fn untied_checkpoint_is_sharded_prefixed_f16_and_padded() {
    let model = untied();
    let dir = written(model);
    let index = json(&dir.path().join("model.safetensors.index.json"));
    let weight_map = index["weight_map"].as_object().expect("weight_map");
    let shard_files: BTreeSet<String> = weight_map
        .values()
        .map(|v| v.as_str().expect("file name").to_owned())
        .collect();
    assert_eq!(
        shard_files.iter().collect::<Vec<_>>(),
        [
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors"
        ]
    );
    assert!(!dir.path().join("model.safetensors").exists());
    let shard_files: Vec<String> = shard_files.into_iter().collect();
    let names = check_files(model, dir.path(), &shard_files);
    // The index maps every tensor, and to the shard that holds it.
    assert_eq!(names, weight_map.keys().cloned().collect());
    for file in &shard_files {
        let bytes = fs::read(dir.path().join(file)).expect("read");
        for name in SafeTensors::deserialize(&bytes).expect("parses").names() {
            assert_eq!(weight_map[name], file.as_str());
        }
    }
    let data_bytes: u64 = shard_files
        .iter()
        .map(|f| {
            let bytes = fs::read(dir.path().join(f)).expect("read");
            let tensors = SafeTensors::deserialize(&bytes).expect("parses");
            tensors
                .tensors()
                .iter()
                .map(|(_, v)| v.data().len() as u64)
                .sum::<u64>()
        })
        .sum();
    assert_eq!(index["metadata"]["total_size"], data_bytes);
    assert!(names.contains("lm_head.weight"));
    assert!(names.contains("transformer.wte.weight"));

    let (_, wte) = model.weights.embedding();
    let (_, lm_head) = model.weights.unembedding();
    assert_eq!(wte, [704, 60]);
    assert_eq!(lm_head, [704, 60]);
    assert_ne!(model.weights.embedding().0, model.weights.unembedding().0);
    assert_eq!(model.spec.d_head(), 20);

    let config = json(&dir.path().join("config.json"));
    assert_eq!(config["tie_word_embeddings"], false);
    assert_eq!(config["vocab_size"], 704);
    assert_eq!(config["torch_dtype"], "float16");
    let tokenizer =
        tokenizers::Tokenizer::from_file(dir.path().join("tokenizer.json")).expect("loads");
    assert_eq!(tokenizer.get_vocab_size(true), 700);
}

#[test]
fn bench_quick_is_a_scaled_polish_gpt2_medium() {
    let model = bench_quick();
    let spec = &model.spec;
    assert_eq!(
        (spec.n_layer, spec.n_head, spec.n_embd, spec.n_inner),
        (4, 4, 256, 1024)
    );
    assert_eq!(spec.vocab_size, 8192);
    assert!(spec.tie_word_embeddings);
    let (wte, shape) = model.weights.embedding();
    assert_eq!(shape, [8192, 256]);
    // Row norms spread log-normally, as in trained models.
    let mut norms: Vec<f64> = wte
        .chunks(256)
        .map(|row| {
            row.iter()
                .map(|v| f64::from(*v).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    norms.sort_by(f64::total_cmp);
    let ratio = norms[norms.len() * 9 / 10] / norms[norms.len() / 10];
    assert!(ratio > 1.8 && ratio < 2.6, "p90/p10 norm ratio {ratio}");
}

#[test]
fn bf16_weights_round_to_bf16() {
    let spec = Gpt2Spec {
        dtype: Dtype::Bf16,
        ..untied().spec.clone()
    };
    let model = SynthModel::new(
        spec,
        untied().plants.clone(),
        untied().tokenizer_json.clone(),
    )
    .expect("generates");
    let dir = written(&model);
    let index = json(&dir.path().join("model.safetensors.index.json"));
    let files: BTreeSet<String> = index["weight_map"]
        .as_object()
        .expect("weight_map")
        .values()
        .map(|v| v.as_str().expect("name").to_owned())
        .collect();
    check_files(&model, dir.path(), &files.into_iter().collect::<Vec<_>>());
}

#[test]
fn write_checkpoint_rejects_a_spec_the_weights_do_not_match() {
    let model = shipped();
    let dir = tempfile::tempdir().expect("temp dir");
    let deeper = Gpt2Spec {
        n_layer: 5,
        ..model.spec.clone()
    };
    assert!(write_checkpoint(dir.path(), &deeper, &model.weights, &model.tokenizer_json).is_err());
    let half = Gpt2Spec {
        dtype: Dtype::F16,
        ..model.spec.clone()
    };
    assert!(write_checkpoint(dir.path(), &half, &model.weights, &model.tokenizer_json).is_err());
    // The untied model's tokenizer (700 entries) fits, the reverse would not.
    let big_tokenizer = &model.tokenizer_json;
    assert!(
        write_checkpoint(dir.path(), &untied().spec, &untied().weights, big_tokenizer).is_err()
    );
}

#[test]
fn too_many_shards_is_an_error() {
    let model = untied();
    let spec = Gpt2Spec {
        shards: 1000,
        ..model.spec.clone()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(write_checkpoint(dir.path(), &spec, &model.weights, &model.tokenizer_json).is_err());
}
