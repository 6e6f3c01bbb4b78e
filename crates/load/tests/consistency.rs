//! A `config.json` that contradicts its weights is refused, not read in part,
//! and the errors keep their underlying causes for the "caused by" chain.

use std::error::Error as _;
use std::path::Path;

use glossa_load::{
    Checkpoint, DownloadProgress, HubOptions, LoadError, Model, ModelSource, WeightsFormat,
};
use glossa_synth::{
    generate, synthetic_tokenizer, write_checkpoint, Dtype, Gpt2Spec, Plants, END_OF_TEXT_ID,
};

/// Writes a random six-block GPT-2 (no plants) into `dir`.
fn six_layer_gpt2(dir: &Path, transformer_prefix: bool, shards: usize) {
    let spec = Gpt2Spec {
        n_layer: 6,
        n_head: 2,
        n_embd: 8,
        n_inner: 16,
        n_positions: 8,
        vocab_size: 300,
        tie_word_embeddings: true,
        seed: 1,
        dtype: Dtype::F32,
        shards,
        transformer_prefix,
        mask_buffers: true,
        row_norm_sigma: 0.3,
        layer_norm_epsilon: 1e-5,
        eos_token_id: END_OF_TEXT_ID,
    };
    let weights = generate(&spec, &Plants::default()).unwrap();
    let tokenizer = synthetic_tokenizer(300, 1).unwrap();
    write_checkpoint(dir, &spec, &weights, &tokenizer).unwrap();
}

fn set_config(dir: &Path, key: &str, value: serde_json::Value) {
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config[key] = value;
    std::fs::write(&path, config.to_string()).unwrap();
}

struct Silent;

impl DownloadProgress for Silent {
    fn start(&mut self, _: &str, _: usize) {}
    fn advance(&mut self, _: usize) {}
    fn finish(&mut self) {}
}

fn load(dir: &Path) -> Result<Model, LoadError> {
    let offline = HubOptions {
        cache_dir: dir.join("no-cache"),
        token: None,
        offline: true,
        endpoint: None,
    };
    let files =
        ModelSource::parse(dir.to_str().unwrap(), "main")?.resolve(&offline, &mut Silent)?;
    Model::load(&files)
}

#[test]
fn fewer_layers_in_config_than_in_checkpoint_is_refused() {
    for (prefix, shards) in [(false, 1), (true, 2)] {
        let tmp = tempfile::tempdir().unwrap();
        six_layer_gpt2(tmp.path(), prefix, shards);
        assert_eq!(load(tmp.path()).unwrap().layers.len(), 6);

        set_config(tmp.path(), "n_layer", 4.into());
        let error = load(tmp.path()).err().expect("a truncated read is refused");
        assert!(
            matches!(
                &error,
                LoadError::UndeclaredLayers { stored, declared: 4, .. } if *stored == [0, 1, 2, 3, 4, 5]
            ),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("the checkpoint holds layers 0–5 (h.0 … h.5)"),
            "{message}"
        );
        assert!(message.contains("declares n_layer = 4"), "{message}");
    }
}

#[test]
fn more_layers_in_config_than_in_checkpoint_names_the_first_missing_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    six_layer_gpt2(tmp.path(), false, 1);
    set_config(tmp.path(), "n_layer", 7.into());
    let error = load(tmp.path()).err().expect("a missing block is refused");
    assert!(
        matches!(&error, LoadError::MissingTensor { name, .. } if name == "h.6.mlp.c_fc.weight"),
        "{error:?}"
    );
}

#[test]
fn heads_that_do_not_divide_the_width_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    six_layer_gpt2(tmp.path(), false, 1);
    set_config(tmp.path(), "n_head", 3.into());
    let error = load(tmp.path()).err().expect("8 is not a multiple of 3");
    assert!(matches!(error, LoadError::ConfigValue { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("n_embd 8 is not a multiple of n_head 3"),
        "{error}"
    );
}

#[test]
fn unknown_architectures_list_the_supported_ones() {
    let tmp = tempfile::tempdir().unwrap();
    six_layer_gpt2(tmp.path(), false, 1);
    set_config(tmp.path(), "model_type", "mamba".into());
    let error = load(tmp.path()).err().expect("mamba is not supported");
    assert_eq!(
        error.to_string(),
        "unsupported architecture \"mamba\"; supported: gpt2, gptj, gpt_neox, opt, llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3, gemma3_text, phi3, bert, roberta"
    );
}

#[test]
fn parse_errors_stay_in_the_source_chain() {
    let tmp = tempfile::tempdir().unwrap();
    six_layer_gpt2(tmp.path(), false, 1);

    std::fs::write(tmp.path().join("config.json"), "{ n_layer: 4").unwrap();
    let error = load(tmp.path()).err().expect("not JSON");
    assert!(matches!(error, LoadError::Config { .. }), "{error:?}");
    let source = error.source().expect("the JSON error is kept");
    assert!(source.downcast_ref::<serde_json::Error>().is_some());
    // The cause is in the chain, not repeated in the message.
    assert!(!error.to_string().contains(&source.to_string()), "{error}");

    let weights = tmp.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let error = Checkpoint::open(WeightsFormat::Safetensors, &[weights])
        .err()
        .expect("truncated");
    let source = error.source().expect("the safetensors error is kept");
    assert!(source
        .downcast_ref::<safetensors::SafeTensorError>()
        .is_some());
}
