//! Finding and reading checkpoints in every layout the loader supports.

use glossa_load::{LoadError, Model, ModelSource};
use glossa_pipeline::{extract, ExtractConfig, PipelineError, Silent};
use glossa_synth::{presets, write_hub_cache};

use crate::common::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn conv1d_keys_are_columns_and_values_rows() {
    let model = presets::untied_test().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    model.write(tmp.path()).unwrap();
    let source = ModelSource::parse(tmp.path().to_str().unwrap(), "main").unwrap();
    let files = source
        .resolve(&offline_hub(tmp.path()), &mut Silent)
        .unwrap();
    let loaded = Model::load(&files).unwrap();
    let (d, d_ff) = (model.spec.n_embd, model.spec.n_inner);
    let (c_fc, _) = model.weights.tensor("h.1.mlp.c_fc.weight").unwrap();
    let (c_proj, _) = model.weights.tensor("h.1.mlp.c_proj.weight").unwrap();
    let layer = &loaded.layers[1];
    for (neuron, i) in [(0, 0), (5, 3), (d_ff - 1, d - 1)] {
        assert_eq!(
            layer.ff_keys.get(neuron, i).unwrap(),
            c_fc[i * d_ff + neuron]
        );
        assert_eq!(
            layer.ff_values.get(neuron, i).unwrap(),
            c_proj[neuron * d + i]
        );
    }
    let (lm_head, _) = model.weights.tensor("lm_head.weight").unwrap();
    assert_eq!(loaded.unembedding.get(3, 2).unwrap(), lm_head[3 * d + 2]);
    assert!(!loaded.shape.tied_embeddings);
}

#[test]
fn f32_weights_are_memory_mapped() {
    let files = ModelSource::parse(shipped_model_dir().to_str().unwrap(), "main")
        .unwrap()
        .resolve(&offline_hub(&shipped_model_dir()), &mut Silent)
        .unwrap();
    let model = Model::load(&files).unwrap();
    assert!(model.unembedding.is_mapped());
    assert!(model
        .layers
        .iter()
        .all(|l| l.ff_keys.is_mapped() && l.ff_values.is_mapped()));
}

#[test]
fn model_in_hub_cache_loads_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    write_hub_cache(
        &cache,
        "glossa-test/tiny-polish-gpt2",
        "main",
        COMMIT,
        &shipped_model_dir(),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let summary = run_extract(
        "glossa-test/tiny-polish-gpt2",
        &out,
        5,
        &offline_hub(&cache),
    );
    assert_eq!(summary.manifest.commit.as_deref(), Some(COMMIT));
    assert_eq!(summary.manifest.revision.as_deref(), Some("main"));
    // Pinning the commit itself works too.
    let mut config = ExtractConfig::new("glossa-test/tiny-polish-gpt2");
    config.revision = COMMIT.to_string();
    config.out = Some(tmp.path().join("pinned"));
    config.k = 5;
    let pinned = extract(&config, &offline_hub(&cache), &Silent).unwrap();
    assert_eq!(pinned.manifest.tables, summary.manifest.tables);
}

#[test]
fn offline_without_cached_files_names_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ExtractConfig::new("sdadas/polish-gpt2-medium");
    config.out = Some(tmp.path().join("out"));
    let error = extract(
        &config,
        &offline_hub(&tmp.path().join("empty-cache")),
        &Silent,
    )
    .unwrap_err();
    assert!(
        matches!(error, PipelineError::Load(LoadError::NotCached { .. })),
        "{error}"
    );
    assert!(error.to_string().contains("HF_HUB_OFFLINE"), "{error}");

    // A cached snapshot that lacks a file.
    let cache = tmp.path().join("hub");
    let partial = tmp.path().join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(shipped_model_dir().join(file), partial.join(file)).unwrap();
    }
    write_hub_cache(&cache, "glossa-test/partial", "main", COMMIT, &partial).unwrap();
    let mut config = ExtractConfig::new("glossa-test/partial");
    config.out = Some(tmp.path().join("out2"));
    let error = extract(&config, &offline_hub(&cache), &Silent).unwrap_err();
    assert!(
        error.to_string().contains("no weights") || error.to_string().contains("model.safetensors"),
        "{error}"
    );
}

#[test]
fn missing_files_and_bad_ids_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped_model_dir().join("config.json"),
        tmp.path().join("config.json"),
    )
    .unwrap();
    let error = ModelSource::parse(tmp.path().to_str().unwrap(), "main")
        .unwrap()
        .resolve(&offline_hub(tmp.path()), &mut Silent)
        .unwrap_err();
    assert!(error.to_string().contains("tokenizer.json"), "{error}");
    assert!(matches!(
        ModelSource::parse("./no/such/dir", "main"),
        Err(LoadError::BadModelId(_))
    ));
    assert!(matches!(
        ModelSource::parse("a b", "main"),
        Err(LoadError::BadModelId(_))
    ));
}

#[test]
fn truncated_safetensors_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(shipped_model_dir().join(file), tmp.path().join(file)).unwrap();
    }
    let weights = std::fs::read(shipped_model_dir().join("model.safetensors")).unwrap();
    std::fs::write(
        tmp.path().join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let files = ModelSource::parse(tmp.path().to_str().unwrap(), "main")
        .unwrap()
        .resolve(&offline_hub(tmp.path()), &mut Silent)
        .unwrap();
    let error = Model::load(&files).err().expect("truncated file fails");
    assert!(matches!(error, LoadError::Safetensors { .. }), "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}
