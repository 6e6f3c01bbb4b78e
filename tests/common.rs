//! Shared helpers: running extractions and an independent float64 reference.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glossa_load::HubOptions;
use glossa_pipeline::{extract, ExtractConfig, Silent, Summary};
use glossa_synth::SynthModel;
use glossa_tables::{read_neuron_rows, NeuronRow, Polarity, Side};

/// The default model committed to the repository.
pub fn shipped_model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/tiny-polish-gpt2")
}

/// `glossa ARGS` run in `cwd` as a user runs it, offline, with an empty hub
/// cache, no token or mirror, and no backtraces asked for.
pub fn glossa_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_glossa"));
    command
        .args(args)
        .current_dir(cwd)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", cwd.join("no-cache"))
        .env_remove("HF_TOKEN")
        .env_remove("HF_ENDPOINT")
        .env_remove("RUST_BACKTRACE");
    command
}

/// [`glossa_command`], run to completion.
pub fn glossa(args: &[&str], cwd: &Path) -> Output {
    glossa_command(args, cwd).output().expect("glossa runs")
}

/// Hub options that can never reach the network.
pub fn offline_hub(cache_dir: &Path) -> HubOptions {
    HubOptions {
        cache_dir: cache_dir.to_path_buf(),
        token: None,
        offline: true,
        endpoint: None,
    }
}

/// Runs an extraction of `model` into `out` with `k`.
pub fn run_extract(model: &str, out: &Path, k: usize, hub: &HubOptions) -> Summary {
    let mut config = ExtractConfig::new(model);
    config.out = Some(out.to_path_buf());
    config.k = k;
    extract(&config, hub, &Silent).expect("extraction succeeds")
}

/// Every neuron row of a dataset, all layers.
pub fn all_rows(dir: &Path, layers: usize) -> Vec<NeuronRow> {
    (0..layers)
        .flat_map(|l| {
            read_neuron_rows(&dir.join(format!("neurons/layer-{l:03}.parquet")), None)
                .expect("table readable")
        })
        .collect()
}

/// Float64 scores of one vector against the first `tokens` rows of E.
fn scores(vector: &[f64], unembedding: &[f32], d: usize, tokens: usize) -> Vec<f64> {
    (0..tokens)
        .map(|t| {
            let row = &unembedding[t * d..(t + 1) * d];
            vector.iter().zip(row).map(|(a, &b)| a * b as f64).sum()
        })
        .collect()
}

/// Checks every list of a dataset against a float64 brute force computed from
/// the generator's own weights (not from the files Glossa read).
///
/// Lists must hold the reference's tokens in the reference's order; a
/// different token is accepted at a rank only if its true score equals the
/// reference's score at that rank to within float32 rounding (a near-tie).
pub fn assert_matches_reference(model: &SynthModel, dir: &Path, tokens: usize, k: usize) {
    assert_matches_filtered_reference(model, dir, &vec![true; tokens], k);
}

/// A generated GPT-2's neuron `neuron` of `layer` in float64: its key
/// (column of the Conv1D `c_fc`, stored `[in, out]`) and its value (row of
/// `c_proj`), read from the generator's weights.
pub fn gpt2_neuron(model: &SynthModel, layer: usize, neuron: usize) -> (Vec<f64>, Vec<f64>) {
    let (d, d_ff) = (model.spec.n_embd, model.spec.n_inner);
    let tensor = |name: &str| {
        let (data, _) = model
            .weights
            .tensor(&format!("h.{layer}.mlp.{name}.weight"))
            .unwrap_or_else(|| panic!("{name} of layer {layer}"));
        data
    };
    let (c_fc, c_proj) = (tensor("c_fc"), tensor("c_proj"));
    (
        (0..d).map(|i| c_fc[i * d_ff + neuron] as f64).collect(),
        (0..d).map(|i| c_proj[neuron * d + i] as f64).collect(),
    )
}

/// As [`assert_matches_reference`], with only the tokens `allowed` selectable.
pub fn assert_matches_filtered_reference(
    model: &SynthModel,
    dir: &Path,
    allowed: &[bool],
    k: usize,
) {
    let tokens = allowed.len();
    let spec = &model.spec;
    let (d, d_ff) = (spec.n_embd, spec.n_inner);
    // Keys are read through the input embedding, values through the output
    // embedding (the same matrix when tied).
    let (embedding, _) = model.weights.embedding();
    let (unembedding, _) = model.weights.unembedding();
    let rows = all_rows(dir, spec.n_layer);
    assert_eq!(rows.len(), spec.n_layer * d_ff * 2 * 2 * k, "row count");
    let mut checked = 0;
    for layer in 0..spec.n_layer {
        for neuron in 0..d_ff {
            let (key, value) = gpt2_neuron(model, layer, neuron);
            for (side, vector, through) in [
                (Side::Key, key, embedding),
                (Side::Value, value, unembedding),
            ] {
                let all = scores(&vector, through, d, tokens);
                let scale = all.iter().fold(0f64, |m, s| m.max(s.abs())).max(1e-30);
                let mut order: Vec<usize> = (0..tokens).filter(|&t| allowed[t]).collect();
                order.sort_by(|&a, &b| all[b].total_cmp(&all[a]).then(a.cmp(&b)));
                for polarity in [Polarity::Top, Polarity::Bottom] {
                    let expected: Vec<usize> = match polarity {
                        Polarity::Top => order.iter().take(k).copied().collect(),
                        Polarity::Bottom => order.iter().rev().take(k).copied().collect(),
                    };
                    let got: Vec<&NeuronRow> = rows
                        .iter()
                        .filter(|r| {
                            r.layer as usize == layer
                                && r.neuron as usize == neuron
                                && r.side == side
                                && r.polarity == polarity
                        })
                        .collect();
                    assert_eq!(
                        got.len(),
                        k,
                        "list length at {layer}/{neuron}/{side}/{polarity}"
                    );
                    for (rank, (row, &want)) in got.iter().zip(&expected).enumerate() {
                        assert_eq!(row.rank as usize, rank + 1);
                        let where_ = format!(
                            "layer {layer} neuron {neuron} {side} {polarity} rank {}",
                            rank + 1
                        );
                        let tolerance = 1e-5 * scale;
                        assert!(
                            (row.score as f64 - all[want]).abs() <= tolerance,
                            "{where_}: score {} vs reference {}",
                            row.score,
                            all[want]
                        );
                        if row.token_id as usize != want {
                            assert!(
                                (all[row.token_id as usize] - all[want]).abs() <= tolerance,
                                "{where_}: token {} (true score {}) instead of {} ({})",
                                row.token_id,
                                all[row.token_id as usize],
                                want,
                                all[want]
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, rows.len());
}
