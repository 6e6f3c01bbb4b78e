//! Bounded property tests standing in for fuzzing the checkpoint readers:
//! random bytes, mutated safetensors headers (lengths beyond the file,
//! overlapping or reversed offsets, dtypes whose size contradicts the bytes,
//! absurd shapes) and random `config.json` values give a model or a clean
//! [`LoadError`], never a panic. `make fuzz` runs many more cases
//! (`GLOSSA_FUZZ_CASES`).

use std::path::{Path, PathBuf};

use glossa_load::{Checkpoint, LoadError, Model, ModelFiles, WeightsFormat};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

/// Cases per property: few in the normal test run, many under `make fuzz`.
fn config() -> Config {
    let cases = std::env::var("GLOSSA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The shape of the small valid GPT-2 every mutation starts from.
const LAYERS: usize = 1;
const D: usize = 4;
const D_FF: usize = 8;
const VOCAB: usize = 8;

fn gpt2_config() -> Value {
    json!({
        "model_type": "gpt2",
        "n_layer": LAYERS,
        "n_head": 2,
        "n_embd": D,
        "n_inner": D_FF,
        "vocab_size": VOCAB,
        "tie_word_embeddings": true,
    })
}

/// The tensors of the small GPT-2: name, dtype, shape.
fn tensors() -> Vec<(String, &'static str, Vec<usize>)> {
    let mut all = vec![("wte.weight".to_string(), "F32", vec![VOCAB, D])];
    for l in 0..LAYERS {
        all.push((format!("h.{l}.mlp.c_fc.weight"), "F16", vec![D, D_FF]));
        all.push((format!("h.{l}.mlp.c_proj.weight"), "BF16", vec![D_FF, D]));
        all.push((format!("h.{l}.attn.c_attn.weight"), "F32", vec![D, 3 * D]));
        all.push((format!("h.{l}.attn.c_proj.weight"), "F32", vec![D, D]));
    }
    all
}

fn dtype_size(dtype: &str) -> usize {
    match dtype {
        "F32" => 4,
        _ => 2,
    }
}

/// The header (as a JSON object) and data of the valid checkpoint.
fn valid() -> (Map<String, Value>, Vec<u8>) {
    let mut header = Map::new();
    let mut data = Vec::new();
    for (name, dtype, shape) in tensors() {
        let len = shape.iter().product::<usize>() * dtype_size(dtype);
        let start = data.len();
        data.extend((0..len).map(|i| (i % 7) as u8 * 16));
        header.insert(
            name,
            json!({ "dtype": dtype, "shape": shape, "data_offsets": [start, data.len()] }),
        );
    }
    (header, data)
}

fn file_bytes(header_len: Option<u64>, header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = header_len
        .unwrap_or(header.len() as u64)
        .to_le_bytes()
        .to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(data);
    bytes
}

/// Writes the model files into `dir` and loads them; every tensor the
/// checkpoint holds is also read on its own.
fn load(dir: &Path, config: &Value, weights: &[u8]) -> Result<(), LoadError> {
    let config_path = dir.join("config.json");
    let weights_path = dir.join("model.safetensors");
    std::fs::write(&config_path, config.to_string()).unwrap();
    std::fs::write(&weights_path, weights).unwrap();
    let checkpoint = Checkpoint::open(
        WeightsFormat::Safetensors,
        std::slice::from_ref(&weights_path),
    )?;
    for name in checkpoint.shapes().keys() {
        // Decoding an encoded tensor reads every byte it covers.
        if let Ok(matrix) = checkpoint.matrix(name).and_then(|m| m.decode()) {
            let values = matrix.values().expect("a decoded matrix holds f32");
            assert!(values.len() >= matrix.rows() * matrix.cols());
        }
    }
    drop(checkpoint);
    let files = ModelFiles {
        config: Some(config_path),
        tokenizer: Some(PathBuf::from("unused")),
        weights_format: WeightsFormat::Safetensors,
        weights: vec![weights_path],
        commit: None,
        card: None,
    };
    let model = Model::load(&files)?;
    assert_eq!(model.layers.len(), model.shape.layers);
    Ok(())
}

/// One way of damaging the valid checkpoint.
#[derive(Debug, Clone)]
enum Mutation {
    HeaderLength(u64),
    Offsets(usize, u64, u64),
    Dtype(usize, &'static str),
    Shape(usize, Vec<u64>),
    Remove(usize),
    Rename(usize, String),
    FlipHeaderByte(usize, u8),
    TruncateData(usize),
    ExtraKey(usize, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = tensors().len();
    let big = prop_oneof![0u64..200, any::<u64>(), Just(u64::MAX), Just(1 << 40)];
    prop_oneof![
        big.clone().prop_map(Mutation::HeaderLength),
        (0..n, big.clone(), big.clone()).prop_map(|(i, a, b)| Mutation::Offsets(i, a, b)),
        (
            0..n,
            prop::sample::select(vec![
                "F32", "F16", "BF16", "F64", "I8", "U8", "I64", "BOOL", "F8_E4M3", "F8_E5M2", "F4",
                "E8M0", "C64", "nonsense", ""
            ])
        )
            .prop_map(|(i, d)| Mutation::Dtype(i, d)),
        (0..n, prop::collection::vec(big.clone(), 0..5)).prop_map(|(i, s)| Mutation::Shape(i, s)),
        (0..n).prop_map(Mutation::Remove),
        (0..n, ".{0,12}").prop_map(|(i, s)| Mutation::Rename(i, s)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipHeaderByte(i, b)),
        (0usize..2000).prop_map(Mutation::TruncateData),
        (
            0..n,
            prop_oneof![
                Just(Value::Null),
                Just(json!(-1)),
                Just(json!("x")),
                Just(json!([1, 2, 3])),
                Just(json!({"a": 1}))
            ]
        )
            .prop_map(|(i, v)| Mutation::ExtraKey(i, v)),
    ]
}

fn apply(mutations: &[Mutation]) -> Vec<u8> {
    let (mut header, mut data) = valid();
    let names: Vec<String> = tensors().into_iter().map(|t| t.0).collect();
    let mut header_len = None;
    let mut flips = Vec::new();
    for mutation in mutations {
        match mutation {
            Mutation::HeaderLength(len) => header_len = Some(*len),
            Mutation::Offsets(i, a, b) => {
                if let Some(entry) = header.get_mut(&names[*i]) {
                    entry["data_offsets"] = json!([a, b]);
                }
            }
            Mutation::Dtype(i, dtype) => {
                if let Some(entry) = header.get_mut(&names[*i]) {
                    entry["dtype"] = json!(dtype);
                }
            }
            Mutation::Shape(i, shape) => {
                if let Some(entry) = header.get_mut(&names[*i]) {
                    entry["shape"] = json!(shape);
                }
            }
            Mutation::Remove(i) => {
                header.remove(&names[*i]);
            }
            Mutation::Rename(i, name) => {
                if let Some(entry) = header.remove(&names[*i]) {
                    header.insert(name.clone(), entry);
                }
            }
            Mutation::FlipHeaderByte(at, byte) => flips.push((*at, *byte)),
            Mutation::TruncateData(by) => data.truncate(data.len().saturating_sub(*by)),
            Mutation::ExtraKey(i, value) => {
                if let Some(entry) = header.get_mut(&names[*i]) {
                    entry["extra"] = value.clone();
                }
            }
        }
    }
    let mut text = serde_json::to_vec(&header).unwrap();
    for (at, byte) in flips {
        if !text.is_empty() {
            let at = at % text.len();
            text[at] = byte;
        }
    }
    file_bytes(header_len, &text, &data)
}

/// A config value of any JSON kind, biased towards the corners.
fn config_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..20).prop_map(Value::from),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1u64 << 40)),
        Just(json!(1.5)),
        Just(json!("4")),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!([4])),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_are_refused_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let tmp = tempfile::tempdir().unwrap();
        let result = load(tmp.path(), &gpt2_config(), &bytes);
        prop_assert!(result.is_err());
    }

    #[test]
    fn random_pickles_are_refused_cleanly(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            // A zip's local header magic, then noise.
            prop::collection::vec(any::<u8>(), 0..512).prop_map(|mut b| {
                b.splice(0..0, *b"PK\x03\x04");
                b
            }),
        ],
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pytorch_model.bin");
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(checkpoint) = Checkpoint::open(WeightsFormat::PytorchPickle, &[path]) {
            for name in checkpoint.shapes().keys() {
                let _ = checkpoint.matrix(name);
            }
        }
    }

    #[test]
    fn random_headers_are_refused_cleanly(
        header in prop::collection::vec(any::<u8>(), 0..256),
        claimed in prop_oneof![Just(None), any::<u64>().prop_map(Some)],
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = file_bytes(claimed, &header, &[0u8; 64]);
        let _ = load(tmp.path(), &gpt2_config(), &bytes);
    }

    #[test]
    fn mutated_checkpoints_load_or_are_refused_cleanly(
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let _ = load(tmp.path(), &gpt2_config(), &apply(&mutations));
    }

    #[test]
    fn any_config_values_load_or_are_refused_cleanly(
        changes in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "n_layer", "n_head", "n_embd", "n_inner", "vocab_size",
                    "tie_word_embeddings", "model_type",
                ]),
                config_value(),
            ),
            1..4,
        ),
        remove in prop::option::of(prop::sample::select(vec!["n_layer", "n_embd", "model_type"])),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut config = gpt2_config();
        for (key, value) in &changes {
            config[*key] = value.clone();
        }
        if let Some(key) = remove {
            config.as_object_mut().unwrap().remove(key);
        }
        let (header, data) = valid();
        let weights = file_bytes(None, &serde_json::to_vec(&header).unwrap(), &data);
        let _ = load(tmp.path(), &config, &weights);
    }
}

#[test]
fn the_unmutated_checkpoint_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let (header, data) = valid();
    let weights = file_bytes(None, &serde_json::to_vec(&header).unwrap(), &data);
    load(tmp.path(), &gpt2_config(), &weights).expect("the valid checkpoint loads");
}
