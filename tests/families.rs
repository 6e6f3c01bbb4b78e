//! Every family's checkpoint, extracted as a user would, against a float64
//! brute force written here from the family's Hugging Face layout: every
//! neuron list (gate, key, value) and every head list (VO, QK), raw and with
//! folded norms, every neuron side's kurtosis, softmax entropy and key–value
//! overlap, a rotary model's QK circuit at a nonzero offset, and a gated
//! model's neuron-to-neuron connections (gate and key sides).
//!
//! The reference reads the generated tensors by their checkpoint names and
//! maps them onto vectors itself, independently of `glossa-load`.

use std::collections::HashMap;
use std::path::Path;

use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_synth::{family_presets, Family, FamilyModel};
use glossa_tables::{
    read_head_rows, read_neuron_rows, read_neuron_summary, Circuit, Polarity, Side, Table,
};

use crate::common::offline_hub;
use crate::connections::{assert_connections_match, Vectors};

/// A row-major f64 matrix.
#[derive(Clone)]
struct Mat {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Mat {
    fn at(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    fn transposed(&self) -> Mat {
        let mut data = Vec::with_capacity(self.data.len());
        for c in 0..self.cols {
            for r in 0..self.rows {
                data.push(self.at(r, c));
            }
        }
        Mat {
            rows: self.cols,
            cols: self.rows,
            data,
        }
    }

    /// Rows `start..start + count`.
    fn rows_of(&self, start: usize, count: usize) -> Mat {
        Mat {
            rows: count,
            cols: self.cols,
            data: self.data[start * self.cols..(start + count) * self.cols].to_vec(),
        }
    }

    fn times(&self, other: &Mat) -> Mat {
        assert_eq!(self.cols, other.rows);
        let mut data = vec![0f64; self.rows * other.cols];
        for r in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(r, k);
                for c in 0..other.cols {
                    data[r * other.cols + c] += a * other.at(k, c);
                }
            }
        }
        Mat {
            rows: self.rows,
            cols: other.cols,
            data,
        }
    }

    /// `diag(rows) · self · diag(cols)`.
    fn scaled(&self, rows: Option<&[f64]>, cols: Option<&[f64]>) -> Mat {
        let mut out = self.clone();
        for r in 0..self.rows {
            for c in 0..self.cols {
                out.data[r * self.cols + c] *=
                    rows.map_or(1.0, |g| g[r]) * cols.map_or(1.0, |g| g[c]);
            }
        }
        out
    }
}

/// One query head: W_Q, W_K, W_V (`d × dh`, K and V of the head it reads),
/// W_O (`dh × d`).
struct Head {
    q: Mat,
    k: Mat,
    v: Mat,
    o: Mat,
}

struct Layer {
    /// Neuron vectors, one row each (`F × d`).
    gate: Option<Mat>,
    key: Mat,
    value: Mat,
    heads: Vec<Head>,
    attention_norm: Option<Vec<f64>>,
    ff_norm: Option<Vec<f64>>,
    query_norm: Option<Vec<f64>>,
    key_norm: Option<Vec<f64>>,
}

struct Reference {
    embedding: Mat,
    unembedding: Mat,
    final_norm: Option<Vec<f64>>,
    layers: Vec<Layer>,
}

/// The tensors of a generated model, read by name.
struct Tensors<'a>(&'a FamilyModel);

impl Tensors<'_> {
    fn get(&self, name: &str) -> Option<Mat> {
        let (values, shape) = self.0.tensor(name)?;
        let cols = *shape.last().unwrap();
        Some(Mat {
            rows: values.len() / cols,
            cols,
            data: values.iter().map(|&v| v as f64).collect(),
        })
    }

    fn mat(&self, name: &str) -> Mat {
        self.get(name).unwrap_or_else(|| panic!("no tensor {name}"))
    }

    /// An `nn.Linear` weight (`[out, in]`) as the `in × out` matrix x·W uses.
    fn linear(&self, name: &str) -> Mat {
        self.mat(name).transposed()
    }

    fn gain(&self, name: &str, plus_one: bool) -> Option<Vec<f64>> {
        let m = self.get(name)?;
        Some(
            m.data
                .iter()
                .map(|&w| if plus_one { 1.0 + w } else { w })
                .collect(),
        )
    }
}

/// Splits `d × H·dh` (and `d × KV·dh`) projections into query heads.
fn heads(q: &Mat, k: &Mat, v: &Mat, o: &Mat, h: usize, kv: usize, dh: usize) -> Vec<Head> {
    let cols = |m: &Mat, i: usize| m.transposed().rows_of(i * dh, dh).transposed();
    (0..h)
        .map(|i| {
            let g = i / (h / kv);
            Head {
                q: cols(q, i),
                k: cols(k, g),
                v: cols(v, g),
                o: o.rows_of(i * dh, dh),
            }
        })
        .collect()
}

fn reference(model: &FamilyModel) -> Reference {
    let t = Tensors(model);
    let s = &model.spec;
    let (h, kv, dh, f) = (
        s.num_attention_heads,
        s.num_key_value_heads,
        s.head_dim,
        s.intermediate_size,
    );
    let layers = s.num_hidden_layers;
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
                "language_model.model."
            } else {
                "model."
            };
            let gemma = matches!(
                s.family,
                Family::Gemma | Family::Gemma2 | Family::Gemma3Text | Family::Gemma3
            );
            let embedding = t.mat(&format!("{p}embed_tokens.weight"));
            let unembedding = t.get("lm_head.weight").unwrap_or_else(|| embedding.clone());
            let ff_norm = if matches!(
                s.family,
                Family::Gemma2 | Family::Gemma3Text | Family::Gemma3
            ) {
                "pre_feedforward_layernorm"
            } else {
                "post_attention_layernorm"
            };
            Reference {
                final_norm: t.gain(&format!("{p}norm.weight"), gemma),
                layers: (0..layers)
                    .map(|l| {
                        let b = format!("{p}layers.{l}.");
                        Layer {
                            gate: Some(t.mat(&format!("{b}mlp.gate_proj.weight"))),
                            key: t.mat(&format!("{b}mlp.up_proj.weight")),
                            value: t.linear(&format!("{b}mlp.down_proj.weight")),
                            heads: heads(
                                &t.linear(&format!("{b}self_attn.q_proj.weight")),
                                &t.linear(&format!("{b}self_attn.k_proj.weight")),
                                &t.linear(&format!("{b}self_attn.v_proj.weight")),
                                &t.linear(&format!("{b}self_attn.o_proj.weight")),
                                h,
                                kv,
                                dh,
                            ),
                            attention_norm: t.gain(&format!("{b}input_layernorm.weight"), gemma),
                            ff_norm: t.gain(&format!("{b}{ff_norm}.weight"), gemma),
                            query_norm: t.gain(&format!("{b}self_attn.q_norm.weight"), gemma),
                            key_norm: t.gain(&format!("{b}self_attn.k_norm.weight"), gemma),
                        }
                    })
                    .collect(),
                embedding,
                unembedding,
            }
        }
        Family::Phi3 => {
            let embedding = t.mat("model.embed_tokens.weight");
            Reference {
                unembedding: t.get("lm_head.weight").unwrap_or_else(|| embedding.clone()),
                final_norm: t.gain("model.norm.weight", false),
                layers: (0..layers)
                    .map(|l| {
                        let b = format!("model.layers.{l}.");
                        let qkv = t.mat(&format!("{b}self_attn.qkv_proj.weight"));
                        let gate_up = t.mat(&format!("{b}mlp.gate_up_proj.weight"));
                        let (q_rows, kv_rows) = (h * dh, kv * dh);
                        Layer {
                            gate: Some(gate_up.rows_of(0, f)),
                            key: gate_up.rows_of(f, f),
                            value: t.linear(&format!("{b}mlp.down_proj.weight")),
                            heads: heads(
                                &qkv.rows_of(0, q_rows).transposed(),
                                &qkv.rows_of(q_rows, kv_rows).transposed(),
                                &qkv.rows_of(q_rows + kv_rows, kv_rows).transposed(),
                                &t.linear(&format!("{b}self_attn.o_proj.weight")),
                                h,
                                kv,
                                dh,
                            ),
                            attention_norm: t.gain(&format!("{b}input_layernorm.weight"), false),
                            ff_norm: t.gain(&format!("{b}post_attention_layernorm.weight"), false),
                            query_norm: None,
                            key_norm: None,
                        }
                    })
                    .collect(),
                embedding,
            }
        }
        Family::GptNeox => Reference {
            embedding: t.mat("gpt_neox.embed_in.weight"),
            unembedding: t.mat("embed_out.weight"),
            final_norm: t.gain("gpt_neox.final_layer_norm.weight", false),
            layers: (0..layers)
                .map(|l| {
                    let b = format!("gpt_neox.layers.{l}.");
                    let qkv = t.mat(&format!("{b}attention.query_key_value.weight"));
                    let o = t.linear(&format!("{b}attention.dense.weight"));
                    // Rows per head: its query, key and value rows in turn.
                    let part =
                        |i: usize, which: usize| qkv.rows_of((3 * i + which) * dh, dh).transposed();
                    Layer {
                        gate: None,
                        key: t.mat(&format!("{b}mlp.dense_h_to_4h.weight")),
                        value: t.linear(&format!("{b}mlp.dense_4h_to_h.weight")),
                        heads: (0..h)
                            .map(|i| Head {
                                q: part(i, 0),
                                k: part(i, 1),
                                v: part(i, 2),
                                o: o.rows_of(i * dh, dh),
                            })
                            .collect(),
                        attention_norm: t.gain(&format!("{b}input_layernorm.weight"), false),
                        ff_norm: t.gain(&format!("{b}post_attention_layernorm.weight"), false),
                        query_norm: None,
                        key_norm: None,
                    }
                })
                .collect(),
        },
        Family::GptJ => Reference {
            embedding: t.mat("transformer.wte.weight"),
            unembedding: t.mat("lm_head.weight"),
            final_norm: t.gain("transformer.ln_f.weight", false),
            layers: (0..layers)
                .map(|l| {
                    let b = format!("transformer.h.{l}.");
                    let norm = t.gain(&format!("{b}ln_1.weight"), false);
                    Layer {
                        gate: None,
                        key: t.mat(&format!("{b}mlp.fc_in.weight")),
                        value: t.linear(&format!("{b}mlp.fc_out.weight")),
                        heads: heads(
                            &t.linear(&format!("{b}attn.q_proj.weight")),
                            &t.linear(&format!("{b}attn.k_proj.weight")),
                            &t.linear(&format!("{b}attn.v_proj.weight")),
                            &t.linear(&format!("{b}attn.out_proj.weight")),
                            h,
                            h,
                            dh,
                        ),
                        attention_norm: norm.clone(),
                        ff_norm: norm,
                        query_norm: None,
                        key_norm: None,
                    }
                })
                .collect(),
        },
        Family::Opt => {
            let embedding = t.mat("model.decoder.embed_tokens.weight");
            Reference {
                unembedding: embedding.clone(),
                final_norm: t.gain("model.decoder.final_layer_norm.weight", false),
                layers: (0..layers)
                    .map(|l| {
                        let b = format!("model.decoder.layers.{l}.");
                        Layer {
                            gate: None,
                            key: t.mat(&format!("{b}fc1.weight")),
                            value: t.linear(&format!("{b}fc2.weight")),
                            heads: heads(
                                &t.linear(&format!("{b}self_attn.q_proj.weight")),
                                &t.linear(&format!("{b}self_attn.k_proj.weight")),
                                &t.linear(&format!("{b}self_attn.v_proj.weight")),
                                &t.linear(&format!("{b}self_attn.out_proj.weight")),
                                h,
                                h,
                                dh,
                            ),
                            attention_norm: t
                                .gain(&format!("{b}self_attn_layer_norm.weight"), false),
                            ff_norm: t.gain(&format!("{b}final_layer_norm.weight"), false),
                            query_norm: None,
                            key_norm: None,
                        }
                    })
                    .collect(),
                embedding,
            }
        }
        Family::Bert | Family::Roberta => {
            let p = match (s.family, s.base_model) {
                (_, true) => "",
                (Family::Bert, false) => "bert.",
                _ => "roberta.",
            };
            let embedding = t.mat(&format!("{p}embeddings.word_embeddings.weight"));
            // Post-norm: a block reads through the norm that ended the one before.
            let mut attention_norm = t.gain(&format!("{p}embeddings.LayerNorm.weight"), false);
            let mut out = Vec::new();
            for l in 0..layers {
                let b = format!("{p}encoder.layer.{l}.");
                out.push(Layer {
                    gate: None,
                    key: t.mat(&format!("{b}intermediate.dense.weight")),
                    value: t.linear(&format!("{b}output.dense.weight")),
                    heads: heads(
                        &t.linear(&format!("{b}attention.self.query.weight")),
                        &t.linear(&format!("{b}attention.self.key.weight")),
                        &t.linear(&format!("{b}attention.self.value.weight")),
                        &t.linear(&format!("{b}attention.output.dense.weight")),
                        h,
                        h,
                        dh,
                    ),
                    attention_norm: attention_norm.take(),
                    ff_norm: t.gain(&format!("{b}attention.output.LayerNorm.weight"), false),
                    query_norm: None,
                    key_norm: None,
                });
                attention_norm = t.gain(&format!("{b}output.LayerNorm.weight"), false);
            }
            Reference {
                unembedding: embedding.clone(),
                embedding,
                final_norm: None,
                layers: out,
            }
        }
    }
}

/// Turns each row of W_K (`d × dh`) as a key `offset` positions before the
/// query is turned relative to it (HF's `rotate_half` pairing: i with i + dims/2).
fn rotate_halves(k: &Mat, dims: usize, base: f64, offset: i64) -> Mat {
    let mut out = k.clone();
    let half = dims / 2;
    for r in 0..k.rows {
        for i in 0..half {
            let angle = -(offset as f64) * base.powf(-2.0 * i as f64 / dims as f64);
            let (a, b) = (k.at(r, i), k.at(r, i + half));
            out.data[r * k.cols + i] = a * angle.cos() - b * angle.sin();
            out.data[r * k.cols + i + half] = a * angle.sin() + b * angle.cos();
        }
    }
    out
}

/// The k highest and k lowest of `scores` (ids ascending on ties).
fn extremes(scores: &[f64], k: usize) -> (Vec<usize>, Vec<usize>) {
    let first = |better: &dyn Fn(usize, usize) -> std::cmp::Ordering| {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.select_nth_unstable_by(k - 1, |&a, &b| better(a, b));
        order.truncate(k);
        order.sort_by(|&a, &b| better(a, b));
        order
    };
    (
        first(&|a, b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b))),
        first(&|a, b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b))),
    )
}

/// Excess kurtosis and softmax entropy (nats) of `scores`, from their
/// definitions.
fn kurtosis_and_entropy(scores: &[f64]) -> (f64, f64) {
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let central = |p: i32| scores.iter().map(|s| (s - mean).powi(p)).sum::<f64>() / n;
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let partition: f64 = scores.iter().map(|s| (s - max).exp()).sum();
    let entropy = scores
        .iter()
        .map(|s| (s - max).exp() / partition)
        .map(|p| -p * p.ln())
        .sum();
    (central(4) / central(2).powi(2) - 3.0, entropy)
}

/// Checks one stored list (ids and scores) against the reference scores.
#[track_caller]
fn check_list(what: &str, got: &[(usize, f32)], scores: &[f64], want: &[usize]) {
    let scale = scores.iter().fold(0f64, |m, s| m.max(s.abs())).max(1e-30);
    let tolerance = 2e-5 * scale;
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (rank, (&(id, score), &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (score as f64 - scores[w]).abs() <= tolerance,
            "{what} rank {}: score {score} vs reference {}",
            rank + 1,
            scores[w]
        );
        // A different id only at a tie (within rounding).
        assert!(
            id == w || (scores[id] - scores[w]).abs() <= tolerance,
            "{what} rank {}: token {id} vs reference {w}",
            rank + 1
        );
    }
}

/// Extracts `model` into `out` with the given reading and checks every list.
fn extract_and_check(
    model: &FamilyModel,
    dir: &Path,
    out: &Path,
    fold_norm: bool,
    qk_offset: i64,
    rope_base: f64,
) {
    let (k, head_k) = (4, 3);
    let mut config = ExtractConfig::new(dir.to_str().unwrap());
    config.out = Some(out.to_path_buf());
    config.k = k;
    config.head_k = head_k;
    config.fold_norm = fold_norm;
    config.qk_offset = qk_offset;
    let summary = extract(&config, &offline_hub(dir), &Silent).expect("extraction succeeds");
    let tokens = summary.manifest.vocabulary.tokenizer_tokens;
    let r = reference(model);
    let fold = |g: &Option<Vec<f64>>| g.clone().filter(|_| fold_norm);
    let e = r.embedding.rows_of(0, tokens);
    let u = r.unembedding.rows_of(0, tokens);
    let name = format!(
        "{:?} (fold {fold_norm}, offset {qk_offset})",
        model.spec.family
    );

    for (l, layer) in r.layers.iter().enumerate() {
        let rows = read_neuron_rows(&out.join(Table::Neurons(l).path()), None).unwrap();
        let mut sides = vec![(Side::Key, &layer.key, fold(&layer.ff_norm), &e)];
        if let Some(gate) = &layer.gate {
            sides.push((Side::Gate, gate, fold(&layer.ff_norm), &e));
        }
        sides.push((Side::Value, &layer.value, fold(&r.final_norm), &u));
        let summary = read_neuron_summary(&out.join(Table::NeuronSummary(l).path())).unwrap();
        // Each neuron's reference top list per side, for the overlaps.
        let mut tops: HashMap<(usize, Side), Vec<usize>> = HashMap::new();
        for (side, vectors, gain, through) in sides {
            let vectors = vectors.scaled(None, gain.as_deref());
            let all = vectors.times(&through.transposed());
            for neuron in 0..vectors.rows {
                let scores = &all.data[neuron * tokens..(neuron + 1) * tokens];
                let (top, bottom) = extremes(scores, k);
                tops.insert((neuron, side), top.clone());
                let row = summary
                    .iter()
                    .find(|s| s.neuron as usize == neuron && s.side == side)
                    .expect("every neuron side has a summary row");
                let what = format!("{name} layer {l} neuron {neuron} {side}");
                assert_eq!(
                    row.tokens as usize, tokens,
                    "{what}: every token is selectable"
                );
                let (kurtosis, entropy) = kurtosis_and_entropy(scores);
                let found = row.kurtosis.expect("random scores vary");
                assert!(
                    (found - kurtosis).abs() <= 1e-4 * kurtosis.abs().max(1.0),
                    "{what}: kurtosis {found}, reference {kurtosis}"
                );
                assert!(
                    (row.entropy - entropy).abs() <= 1e-5 * entropy.max(1.0),
                    "{what}: entropy {}, reference {entropy}",
                    row.entropy
                );
                for (polarity, want) in [(Polarity::Top, top), (Polarity::Bottom, bottom)] {
                    let got: Vec<(usize, f32)> = rows
                        .iter()
                        .filter(|x| {
                            x.neuron as usize == neuron && x.side == side && x.polarity == polarity
                        })
                        .map(|x| (x.token_id as usize, x.score))
                        .collect();
                    check_list(
                        &format!("{name} layer {l} neuron {neuron} {side} {polarity}"),
                        &got,
                        scores,
                        &want,
                    );
                }
            }
        }
        for row in &summary {
            let neuron = row.neuron as usize;
            let expected = (row.side != Side::Value).then(|| {
                let value = &tops[&(neuron, Side::Value)];
                tops[&(neuron, row.side)]
                    .iter()
                    .filter(|t| value.contains(t))
                    .count() as u16
            });
            assert_eq!(
                row.value_overlap, expected,
                "{name} layer {l} neuron {neuron} {}: overlap with the value's top list",
                row.side
            );
        }

        let rows = read_head_rows(&out.join(Table::Heads(l).path()), None).unwrap();
        let attention = fold(&layer.attention_norm);
        for (i, head) in layer.heads.iter().enumerate() {
            let vo = (
                e.times(&head.v.scaled(attention.as_deref(), None)),
                u.times(
                    &head
                        .o
                        .transposed()
                        .scaled(fold(&r.final_norm).as_deref(), None),
                ),
            );
            let mut key = head
                .k
                .scaled(attention.as_deref(), fold(&layer.key_norm).as_deref());
            if qk_offset != 0 {
                key = rotate_halves(&key, model.spec.rotary_dim, rope_base, qk_offset);
            }
            let qk = (
                e.times(
                    &head
                        .q
                        .scaled(attention.as_deref(), fold(&layer.query_norm).as_deref()),
                ),
                e.times(&key),
            );
            for (circuit, (a, b)) in [(Circuit::Vo, vo), (Circuit::Qk, qk)] {
                let all = a.times(&b.transposed());
                let (top, bottom) = extremes(&all.data, head_k);
                for (polarity, want) in [(Polarity::Top, top), (Polarity::Bottom, bottom)] {
                    let got: Vec<(usize, f32)> = rows
                        .iter()
                        .filter(|x| {
                            x.head as usize == i && x.circuit == circuit && x.polarity == polarity
                        })
                        .map(|x| {
                            (
                                x.src_token_id as usize * tokens + x.dst_token_id as usize,
                                x.score,
                            )
                        })
                        .collect();
                    check_list(
                        &format!("{name} layer {l} head {i} {circuit} {polarity}"),
                        &got,
                        &all.data,
                        &want,
                    );
                }
            }
        }
    }
}

#[test]
fn every_family_matches_a_float64_reference_raw_and_with_folded_norms() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, spec) in family_presets() {
        let model = FamilyModel::new(spec).expect("preset builds");
        let dir = tmp.path().join(name);
        model.write(&dir).expect("writes");
        for fold_norm in [false, true] {
            let out = tmp.path().join(format!("{name}-out-{fold_norm}"));
            extract_and_check(&model, &dir, &out, fold_norm, 0, 0.0);
        }
    }
}

/// The LLaMA preset (gated, rotary), written under `tmp`.
fn llama_preset(tmp: &Path) -> (FamilyModel, std::path::PathBuf) {
    let (_, spec) = family_presets()
        .into_iter()
        .find(|(name, _)| *name == "llama")
        .expect("a llama preset");
    let model = FamilyModel::new(spec).expect("preset builds");
    let dir = tmp.join("llama");
    model.write(&dir).expect("writes");
    (model, dir)
}

#[test]
fn a_rotary_models_qk_circuit_at_an_offset_matches_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, dir) = llama_preset(tmp.path());
    let config: serde_json::Value = serde_json::from_str(&model.config_json().unwrap()).unwrap();
    let base = config["rope_theta"].as_f64().expect("rope_theta");
    for offset in [3, -5] {
        extract_and_check(
            &model,
            &dir,
            &tmp.path().join(format!("out{offset}")),
            false,
            offset,
            base,
        );
    }
    // A model without rotary embeddings refuses the offset.
    let mut config = ExtractConfig::new(crate::common::shipped_model_dir().to_str().unwrap());
    config.out = Some(tmp.path().join("gpt2"));
    config.qk_offset = 2;
    let error = extract(&config, &offline_hub(tmp.path()), &Silent).expect_err("refused");
    assert!(error.to_string().contains("rotary"), "{error}");
}

#[test]
fn a_gated_models_connections_match_a_float64_reference_raw_and_with_folded_norms() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, dir) = llama_preset(tmp.path());
    let r = reference(&model);
    let rows = |m: &Mat| -> Vec<Vec<f64>> {
        (0..m.rows)
            .map(|i| m.data[i * m.cols..(i + 1) * m.cols].to_vec())
            .collect()
    };
    // Values as they enter the residual stream; keys and gates as read,
    // with the pre-feed-forward gain folded in when asked.
    let values: Vec<Vectors> = r.layers.iter().map(|l| rows(&l.value)).collect();
    for fold_norm in [false, true] {
        let out = tmp.path().join(format!("out-{fold_norm}"));
        let mut config = ExtractConfig::new(dir.to_str().unwrap());
        config.out = Some(out.clone());
        config.k = 2;
        config.heads = false;
        config.fold_norm = fold_norm;
        config.connections = Some(3);
        extract(&config, &offline_hub(&dir), &Silent).expect("extraction succeeds");
        let read = |side: fn(&Layer) -> &Mat| -> Vec<Vectors> {
            r.layers
                .iter()
                .map(|l| {
                    let gain = l.ff_norm.clone().filter(|_| fold_norm);
                    rows(&side(l).scaled(None, gain.as_deref()))
                })
                .collect()
        };
        let reads = [
            (Side::Gate, read(|l| l.gate.as_ref().expect("gated"))),
            (Side::Key, read(|l| &l.key)),
        ];
        assert_connections_match(&out, &values, &reads, 3);
    }
}
