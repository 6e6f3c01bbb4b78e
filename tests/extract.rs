//! Every list equals an independent float64 brute force.

use glossa_synth::presets;
use glossa_tables::{Layout, Manifest, TableKind};
use glossa_vocab::Vocabulary;

use crate::common::*;

#[test]
fn shipped_model_matches_float64_reference() {
    let model = presets::shipped().expect("generator");
    let dir = tempfile::tempdir().unwrap();
    let summary = run_extract(
        shipped_model_dir().to_str().unwrap(),
        dir.path(),
        50,
        &offline_hub(dir.path()),
    );
    let tokens = Vocabulary::from_file(&shipped_model_dir().join("tokenizer.json"))
        .unwrap()
        .len();
    assert_matches_reference(&model, &summary.dir, tokens, 50);
}

#[test]
fn committed_model_is_what_the_generator_makes() {
    let model = presets::shipped().expect("generator");
    let dir = tempfile::tempdir().unwrap();
    model.write(dir.path()).unwrap();
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "plants.json",
    ] {
        let committed = std::fs::read(shipped_model_dir().join(file)).unwrap();
        let generated = std::fs::read(dir.path().join(file)).unwrap();
        assert!(
            committed == generated,
            "{file} differs from the generator's output; run `make shipped-model`"
        );
    }
}

#[test]
fn untied_sharded_f16_model_with_padding_matches_reference() {
    let model = presets::untied_test().expect("generator");
    let tmp = tempfile::tempdir().unwrap();
    let model_dir = tmp.path().join("untied");
    model.write(&model_dir).unwrap();
    assert!(model_dir.join("model.safetensors.index.json").is_file());
    let tokens = Vocabulary::from_file(&model_dir.join("tokenizer.json"))
        .unwrap()
        .len();
    assert!(
        tokens < model.spec.vocab_size,
        "the test model pads its vocabulary"
    );
    let out = tmp.path().join("out");
    let summary = run_extract(
        model_dir.to_str().unwrap(),
        &out,
        7,
        &offline_hub(tmp.path()),
    );
    assert_matches_reference(&model, &summary.dir, tokens, 7);
    let manifest = Manifest::read(&Layout::new(&out)).unwrap();
    assert_eq!(
        manifest.vocabulary.padding_rows_excluded,
        model.spec.vocab_size - tokens
    );
    // Padding rows have no token and must never be selected.
    for row in all_rows(&out, model.spec.n_layer) {
        assert!((row.token_id as usize) < tokens);
    }
}

#[test]
fn manifest_describes_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run_extract(
        shipped_model_dir().to_str().unwrap(),
        dir.path(),
        5,
        &offline_hub(dir.path()),
    );
    let manifest = Manifest::read(&Layout::new(&summary.dir)).unwrap();
    assert_eq!(manifest.tables, summary.manifest.tables);
    assert_eq!(manifest.inputs, summary.manifest.inputs);
    let paths: Vec<&str> = manifest.tables.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(
        paths.len(),
        1 + 4 + 4 + 4 + 1,
        "tokens, neurons, neuron summaries and heads per layer, head summary: {paths:?}"
    );
    assert!(
        paths.contains(&"neurons/layer-003.parquet") && paths.contains(&"heads/layer-003.parquet")
    );
    assert!(paths.contains(&"head_summary.parquet"));
    for table in &manifest.tables {
        let (sha, bytes) = glossa_tables::sha256_file(&summary.dir.join(&table.path)).unwrap();
        assert_eq!(
            (sha, bytes),
            (table.sha256.clone(), table.bytes),
            "{}",
            table.path
        );
    }
    assert_eq!(manifest.rows(TableKind::Neurons), 4 * 256 * 2 * 2 * 5);
    assert_eq!(manifest.rows(TableKind::Tokens), 4096);
    assert_eq!(manifest.rows(TableKind::Heads), 4 * 4 * 2 * 2 * 100);
    assert_eq!(manifest.rows(TableKind::HeadSummary), 4 * 4 * 2);
    assert_eq!(manifest.options.k, 5);
    assert_eq!(
        manifest.inputs.len(),
        3,
        "config, tokenizer, weights hashed"
    );
}

#[test]
fn reruns_give_identical_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let a = run_extract(
        model.to_str().unwrap(),
        &tmp.path().join("a"),
        10,
        &offline_hub(tmp.path()),
    );
    let b = run_extract(
        model.to_str().unwrap(),
        &tmp.path().join("b"),
        10,
        &offline_hub(tmp.path()),
    );
    assert_eq!(a.manifest.tables, b.manifest.tables);
}

#[test]
fn filtered_lists_match_reference_and_keep_polish() {
    use glossa_vocab::{allowed_tokens, CharFilter};
    let model = presets::shipped().expect("generator");
    let dir = tempfile::tempdir().unwrap();
    let mut config = glossa_pipeline::ExtractConfig::new(shipped_model_dir().to_str().unwrap());
    config.out = Some(dir.path().to_path_buf());
    config.k = 20;
    config.filters = vec!["alpha,min-len=3".to_string()];
    let summary =
        glossa_pipeline::extract(&config, &offline_hub(dir.path()), &glossa_pipeline::Silent)
            .unwrap();
    let vocabulary = Vocabulary::from_file(&shipped_model_dir().join("tokenizer.json")).unwrap();
    let allowed = allowed_tokens(&vocabulary, &[CharFilter::Alpha, CharFilter::MinLen(3)]);
    assert!(
        allowed.iter().filter(|&&a| !a).count() > 100,
        "the filter removes something"
    );
    assert_matches_filtered_reference(&model, &summary.dir, &allowed, 20);
    // Every listed token passes, Polish diacritics included.
    let rows = all_rows(&summary.dir, 4);
    assert!(rows.iter().all(|r| allowed[r.token_id as usize]));
    assert!(
        rows.iter().any(|r| r.token == "dietą"),
        "alpha keeps Polish letters"
    );
    let heads =
        glossa_tables::read_head_rows(&summary.dir.join("heads/layer-003.parquet"), None).unwrap();
    assert!(heads
        .iter()
        .all(|r| allowed[r.src_token_id as usize] && allowed[r.dst_token_id as usize]));
    assert_eq!(summary.manifest.options.filters, ["alpha", "min-len=3"]);
    // The tokens table reproduces the filter in SQL terms.
    let tokens = glossa_tables::read_tokens(&summary.dir.join("tokens.parquet")).unwrap();
    for (token, &ok) in tokens.iter().zip(&allowed) {
        assert_eq!(token.allowed, ok);
        assert_eq!(token.is_alpha && token.chars >= 3, ok, "{:?}", token.text);
    }
}

#[test]
fn the_seed_ascii_filter_drops_polish_letters() {
    use glossa_vocab::{allowed_tokens, CharFilter};
    let vocabulary = Vocabulary::from_file(&shipped_model_dir().join("tokenizer.json")).unwrap();
    let ascii = allowed_tokens(&vocabulary, &[CharFilter::Ascii]);
    let alpha = allowed_tokens(&vocabulary, &[CharFilter::Alpha]);
    let dieta = vocabulary
        .tokens()
        .iter()
        .find(|t| t.text == " dietą")
        .unwrap();
    assert!(!ascii[dieta.id as usize] && alpha[dieta.id as usize]);
}
