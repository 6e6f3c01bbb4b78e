//! Head circuits: every list equals a float64 brute force of the full matrix.

use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_synth::{presets, Plant, SynthModel};
use glossa_tables::{read_head_rows, read_head_summary, Circuit, HeadRow, Polarity};
use glossa_vocab::Vocabulary;

use crate::common::*;

/// Row-major `rows × cols` product of `x` (rows × inner) and `y` (inner × cols) in f64,
/// where `y` is addressed as y[i * y_row + j * y_col].
fn product(
    x: &[f64],
    rows: usize,
    inner: usize,
    y: &[f32],
    y_row: usize,
    y_col: usize,
    cols: usize,
) -> Vec<f64> {
    let mut out = vec![0f64; rows * cols];
    for r in 0..rows {
        for i in 0..inner {
            let xv = x[r * inner + i];
            for c in 0..cols {
                out[r * cols + c] += xv * y[i * y_row + c * y_col] as f64;
            }
        }
    }
    out
}

/// The factors (A, B) of a head's circuit, in f64, from the generator's weights.
pub(crate) fn factors(
    model: &SynthModel,
    layer: usize,
    head: usize,
    circuit: Circuit,
    tokens: usize,
) -> (Vec<f64>, Vec<f64>) {
    let spec = &model.spec;
    let (d, dh) = (spec.n_embd, spec.d_head());
    let (wte, _) = model.weights.embedding();
    let (unembedding, _) = model.weights.unembedding();
    let e_in: Vec<f64> = wte[..tokens * d].iter().map(|&x| x as f64).collect();
    let e_out: Vec<f64> = unembedding[..tokens * d]
        .iter()
        .map(|&x| x as f64)
        .collect();
    let (c_attn, _) = model
        .weights
        .tensor(&format!("h.{layer}.attn.c_attn.weight"))
        .unwrap();
    let (c_proj, _) = model
        .weights
        .tensor(&format!("h.{layer}.attn.c_proj.weight"))
        .unwrap();
    // c_attn is [d, 3d]: Q, K, V column blocks; head h owns columns h·dh.. of each.
    let block = |offset: usize| &c_attn[offset + head * dh..];
    match circuit {
        Circuit::Qk => (
            product(&e_in, tokens, d, block(0), 3 * d, 1, dh),
            product(&e_in, tokens, d, block(d), 3 * d, 1, dh),
        ),
        Circuit::Vo => (
            product(&e_in, tokens, d, block(2 * d), 3 * d, 1, dh),
            // B = E_out · W_Oᵀ, W_O = rows h·dh.. of c_proj ([d, d]).
            product(&e_out, tokens, d, &c_proj[head * dh * d..], 1, d, dh),
        ),
    }
}

/// Checks every head list of a dataset against the full matrices in f64.
fn assert_heads_match_reference(
    model: &SynthModel,
    dir: &std::path::Path,
    tokens: usize,
    k: usize,
) {
    let spec = &model.spec;
    let dh = spec.d_head();
    for layer in 0..spec.n_layer {
        let rows =
            read_head_rows(&dir.join(format!("heads/layer-{layer:03}.parquet")), None).unwrap();
        for head in 0..spec.n_head {
            for circuit in [Circuit::Vo, Circuit::Qk] {
                let (a, b) = factors(model, layer, head, circuit, tokens);
                let entry = |i: usize, j: usize| -> f64 {
                    (0..dh).map(|p| a[i * dh + p] * b[j * dh + p]).sum()
                };
                let mut all: Vec<(f64, usize, usize)> = Vec::with_capacity(tokens * tokens);
                for i in 0..tokens {
                    for j in 0..tokens {
                        all.push((entry(i, j), i, j));
                    }
                }
                let scale = all.iter().fold(0f64, |m, e| m.max(e.0.abs()));
                all.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
                for polarity in [Polarity::Top, Polarity::Bottom] {
                    let expected: Vec<&(f64, usize, usize)> = match polarity {
                        Polarity::Top => all.iter().take(k).collect(),
                        Polarity::Bottom => all.iter().rev().take(k).collect(),
                    };
                    let got: Vec<&HeadRow> = rows
                        .iter()
                        .filter(|r| {
                            r.head as usize == head
                                && r.circuit == circuit
                                && r.polarity == polarity
                        })
                        .collect();
                    assert_eq!(got.len(), k, "{layer}/{head}/{circuit}/{polarity} length");
                    for (rank, (row, want)) in got.iter().zip(&expected).enumerate() {
                        let at = format!(
                            "layer {layer} head {head} {circuit} {polarity} rank {}",
                            rank + 1
                        );
                        let tolerance = 1e-5 * scale;
                        assert!(
                            (row.score as f64 - want.0).abs() <= tolerance,
                            "{at}: score {} vs {}",
                            row.score,
                            want.0
                        );
                        let true_score =
                            entry(row.src_token_id as usize, row.dst_token_id as usize);
                        assert!(
                            (true_score - want.0).abs() <= tolerance,
                            "{at}: pair ({}, {}) has true score {true_score}, reference ({}, {}) {}",
                            row.src_token_id, row.dst_token_id, want.1, want.2, want.0
                        );
                    }
                }
            }
        }
    }
}

fn extract_heads(
    model_dir: &std::path::Path,
    out: &std::path::Path,
    head_k: usize,
    brute_force: bool,
) {
    let mut config = ExtractConfig::new(model_dir.to_str().unwrap());
    config.out = Some(out.to_path_buf());
    config.neurons = false;
    config.head_k = head_k;
    config.brute_force_heads = brute_force;
    extract(&config, &offline_hub(out), &Silent).expect("extraction succeeds");
}

#[test]
fn untied_model_head_lists_match_float64_reference() {
    // d_head 20 (not a multiple of the SIMD width), vocabulary 700 (not a multiple of a tile).
    let model = presets::untied_test().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let model_dir = tmp.path().join("model");
    model.write(&model_dir).unwrap();
    let tokens = Vocabulary::from_file(&model_dir.join("tokenizer.json"))
        .unwrap()
        .len();
    extract_heads(&model_dir, &tmp.path().join("out"), 25, false);
    assert_heads_match_reference(&model, &tmp.path().join("out"), tokens, 25);
}

#[test]
fn pruned_and_brute_force_paths_write_identical_tables() {
    let tmp = tempfile::tempdir().unwrap();
    extract_heads(&shipped_model_dir(), &tmp.path().join("pruned"), 100, false);
    extract_heads(&shipped_model_dir(), &tmp.path().join("brute"), 100, true);
    for layer in 0..4 {
        let table = format!("heads/layer-{layer:03}.parquet");
        let pruned = read_head_rows(&tmp.path().join("pruned").join(&table), None).unwrap();
        let brute = read_head_rows(&tmp.path().join("brute").join(&table), None).unwrap();
        assert_eq!(pruned, brute, "{table}");
    }
    let summary = read_head_summary(&tmp.path().join("pruned/head_summary.parquet")).unwrap();
    assert_eq!(summary.len(), 4 * 4 * 2);
    let brute = read_head_summary(&tmp.path().join("brute/head_summary.parquet")).unwrap();
    assert!(brute.iter().all(|s| s.computed_share == 1.0));
    println!(
        "pruned path computed {:.2}% of entries on average",
        100.0 * summary.iter().map(|s| s.computed_share).sum::<f64>() / summary.len() as f64
    );
}

#[test]
fn planted_heads_show_their_pairs_at_rank_one() {
    let model = presets::shipped().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    extract_heads(&shipped_model_dir(), tmp.path(), 10, false);
    let top = |layer: u32, head: u32, circuit: Circuit| -> HeadRow {
        read_head_rows(
            &tmp.path().join(format!("heads/layer-{layer:03}.parquet")),
            Some(head),
        )
        .unwrap()
        .into_iter()
        .find(|r| r.circuit == circuit && r.polarity == Polarity::Top && r.rank == 1)
        .unwrap()
    };
    let mut seen = 0;
    for plant in &model.plants.plants {
        match plant {
            Plant::CopyHead { layer, head, token } => {
                let row = top(*layer as u32, *head as u32, Circuit::Vo);
                assert_eq!((row.src_token_id, row.dst_token_id), (token.id, token.id));
                assert_eq!(row.src_token, "dieta");
                seen += 1;
            }
            Plant::PairHead {
                layer,
                head,
                query,
                key,
            } => {
                let row = top(*layer as u32, *head as u32, Circuit::Qk);
                assert_eq!((row.src_token_id, row.dst_token_id), (query.id, key.id));
                assert_eq!(
                    (row.src_token.as_str(), row.dst_token.as_str()),
                    ("dieta", "zdrowie")
                );
                seen += 1;
            }
            _ => {}
        }
    }
    assert_eq!(seen, 2);
    let summary = read_head_summary(&tmp.path().join("head_summary.parquet")).unwrap();
    let copy = summary
        .iter()
        .find(|s| s.layer == 3 && s.head == 1 && s.circuit == Circuit::Vo)
        .unwrap();
    assert!(copy.copying_score.unwrap() > 0.0, "the copying head copies");
}

#[test]
fn exclude_same_removes_identical_pairs_before_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ExtractConfig::new(shipped_model_dir().to_str().unwrap());
    config.out = Some(tmp.path().to_path_buf());
    config.neurons = false;
    config.head_k = 20;
    config.exclude_same = true;
    config.exclude_fuzzy = true;
    extract(&config, &offline_hub(tmp.path()), &Silent).unwrap();
    let vocabulary = Vocabulary::from_file(&shipped_model_dir().join("tokenizer.json")).unwrap();
    let norm = |id: u32| vocabulary.get(id).unwrap().text.trim_start().to_lowercase();
    for layer in 0..4 {
        let rows = read_head_rows(
            &tmp.path().join(format!("heads/layer-{layer:03}.parquet")),
            None,
        )
        .unwrap();
        assert_eq!(rows.len(), 4 * 2 * 2 * 20, "lists stay full");
        for row in rows {
            assert_ne!(row.src_token_id, row.dst_token_id);
            assert_ne!(norm(row.src_token_id), norm(row.dst_token_id));
        }
    }
}
