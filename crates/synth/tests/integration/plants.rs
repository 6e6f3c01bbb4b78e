//! Brute-force checks, in f64 over the whole vocabulary, that each planted
//! unit is rank 1 for what `plants.json` says it does.

use glossa_synth::{generate, Plant, PlantedToken, Plants, SynthModel};

use crate::support::{bench_quick, shipped, untied};

/// A `[rows, cols]` tensor of the model as f64 rows.
struct Matrix {
    data: Vec<f64>,
    cols: usize,
}

impl Matrix {
    fn of(model: &SynthModel, name: &str) -> Matrix {
        let (data, shape) = model.weights.tensor(name).expect(name);
        Matrix::from_slice(data, shape)
    }

    fn from_slice(data: &[f32], shape: &[usize]) -> Matrix {
        Matrix {
            data: data.iter().map(|v| f64::from(*v)).collect(),
            cols: shape[1],
        }
    }

    fn rows(&self) -> usize {
        self.data.len() / self.cols
    }

    fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    fn column(&self, c: usize) -> Vec<f64> {
        (0..self.rows())
            .map(|r| self.data[r * self.cols + c])
            .collect()
    }

    /// self · (the given columns of `other`): one row per row of self.
    fn times_columns(
        &self,
        other: &Matrix,
        columns: impl Iterator<Item = usize> + Clone,
    ) -> Matrix {
        let picked: Vec<Vec<f64>> = columns.map(|c| other.column(c)).collect();
        let data = (0..self.rows())
            .flat_map(|r| picked.iter().map(move |col| dot(self.row(r), col)))
            .collect();
        Matrix {
            data,
            cols: picked.len(),
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn ids(tokens: &[PlantedToken]) -> Vec<usize> {
    let mut ids: Vec<usize> = tokens.iter().map(|t| t.id as usize).collect();
    ids.sort_unstable();
    ids
}

/// Ratio by which the planted units must beat the best unplanted alternative.
const MARGIN: f64 = 1.5;

/// The `k` rows of `matrix` with the largest dot product with `v`, sorted by
/// id, after checking that the k-th beats the (k+1)-th by [`MARGIN`].
fn top_rows(matrix: &Matrix, v: &[f64], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = (0..matrix.rows())
        .map(|r| (dot(matrix.row(r), v), r))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert!(
        scored[k - 1].0 > MARGIN * scored[k].0.max(0.0),
        "no clear top {k}"
    );
    let mut top: Vec<usize> = scored[..k].iter().map(|(_, r)| *r).collect();
    top.sort_unstable();
    top
}

/// The (i, j) maximising a_i · b_j over all pairs, after checking that it
/// beats every other pair by [`MARGIN`].
fn argmax_pair(a: &Matrix, b: &Matrix) -> (usize, usize) {
    let mut best = (f64::NEG_INFINITY, 0, 0);
    let mut runner_up = f64::NEG_INFINITY;
    for i in 0..a.rows() {
        for j in 0..b.rows() {
            let score = dot(a.row(i), b.row(j));
            if score > best.0 {
                runner_up = best.0;
                best = (score, i, j);
            } else if score > runner_up {
                runner_up = score;
            }
        }
    }
    assert!(best.0 > MARGIN * runner_up.max(0.0), "no clear best pair");
    (best.1, best.2)
}

fn check_plants(model: &SynthModel, heads: bool) {
    let spec = &model.spec;
    let (d, dh) = (spec.n_embd, spec.d_head());
    let (data, shape) = model.weights.embedding();
    let embedding = Matrix::from_slice(data, shape);
    let (data, shape) = model.weights.unembedding();
    let unembedding = Matrix::from_slice(data, shape);
    for plant in &model.plants.plants {
        match plant {
            Plant::ValueNeuron {
                layer,
                neuron,
                tokens,
            } => {
                let c_proj = Matrix::of(model, &format!("h.{layer}.mlp.c_proj.weight"));
                let value = c_proj.row(*neuron);
                assert_eq!(
                    top_rows(&unembedding, value, tokens.len()),
                    ids(tokens),
                    "{plant:?}"
                );
            }
            Plant::KeyNeuron {
                layer,
                neuron,
                tokens,
            } => {
                let c_fc = Matrix::of(model, &format!("h.{layer}.mlp.c_fc.weight"));
                let key = c_fc.column(*neuron);
                assert_eq!(
                    top_rows(&unembedding, &key, tokens.len()),
                    ids(tokens),
                    "{plant:?}"
                );
            }
            Plant::CopyHead { layer, head, token } if heads => {
                let c_attn = Matrix::of(model, &format!("h.{layer}.attn.c_attn.weight"));
                let c_proj = Matrix::of(model, &format!("h.{layer}.attn.c_proj.weight"));
                // E·W_V·W_O·Uᵀ = (E·W_V)·(U·W_Oᵀ)ᵀ, with W_O's head rows as columns of W_Oᵀ.
                let read =
                    embedding.times_columns(&c_attn, 2 * d + head * dh..2 * d + (head + 1) * dh);
                let w_o_t: Vec<f64> = (0..d)
                    .flat_map(|c| (head * dh..(head + 1) * dh).map(move |r| (r, c)))
                    .map(|(r, c)| c_proj.row(r)[c])
                    .collect();
                let w_o_t = Matrix {
                    data: w_o_t,
                    cols: dh,
                };
                let write = unembedding.times_columns(&w_o_t, 0..dh);
                let t = token.id as usize;
                assert_eq!(argmax_pair(&read, &write), (t, t), "{plant:?}");
            }
            Plant::PairHead {
                layer,
                head,
                query,
                key,
            } if heads => {
                let c_attn = Matrix::of(model, &format!("h.{layer}.attn.c_attn.weight"));
                let q = embedding.times_columns(&c_attn, head * dh..(head + 1) * dh);
                let k = embedding.times_columns(&c_attn, d + head * dh..d + (head + 1) * dh);
                let expected = (query.id as usize, key.id as usize);
                assert_eq!(argmax_pair(&q, &k), expected, "{plant:?}");
            }
            _ => {}
        }
    }
}

#[test]
fn shipped_plants_are_rank_one() {
    check_plants(shipped(), true);
}

#[test]
fn untied_plants_are_rank_one() {
    check_plants(untied(), true);
}

#[test]
fn bench_neuron_plants_are_rank_one() {
    // 8192² pairs per head are too slow for a debug build; the heads are
    // checked on the smaller models, built by the same code.
    check_plants(bench_quick(), false);
}

#[test]
fn shipped_plants_sit_where_documented() {
    let plants = &shipped().plants.plants;
    let text = |t: &PlantedToken| t.text.clone();
    match &plants[..] {
        [Plant::ValueNeuron {
            layer: 2,
            neuron: 17,
            tokens: value,
        }, Plant::KeyNeuron {
            layer: 1,
            neuron: 101,
            tokens: key,
        }, Plant::CopyHead {
            layer: 3,
            head: 1,
            token,
        }, Plant::PairHead {
            layer: 2,
            head: 2,
            query,
            key: attended,
        }] => {
            assert_eq!(
                value.iter().map(text).collect::<Vec<_>>(),
                [" dieta", " diety", " dietą", " dietę", " diecie"]
            );
            assert_eq!(
                key.iter().map(text).collect::<Vec<_>>(),
                [" łódź", " Łódź", " łodzi"]
            );
            assert_eq!(token.text, " dieta");
            assert_eq!(
                (query.text.as_str(), attended.text.as_str()),
                (" dieta", " zdrowie")
            );
        }
        other => panic!("unexpected plants {other:?}"),
    }
}

#[test]
fn plants_json_round_trips() {
    let plants = &shipped().plants;
    let parsed: Plants = serde_json::from_str(&plants.to_json().expect("json")).expect("parses");
    assert_eq!(&parsed, plants);
}

#[test]
fn out_of_range_plants_are_rejected() {
    let model = shipped();
    let token = PlantedToken {
        id: 5,
        text: "x".into(),
    };
    let bad = [
        Plant::ValueNeuron {
            layer: 4,
            neuron: 0,
            tokens: vec![token.clone()],
        },
        Plant::KeyNeuron {
            layer: 0,
            neuron: 256,
            tokens: vec![token.clone()],
        },
        Plant::CopyHead {
            layer: 0,
            head: 4,
            token: token.clone(),
        },
        Plant::PairHead {
            layer: 0,
            head: 0,
            query: token.clone(),
            key: token.clone(),
        },
        Plant::ValueNeuron {
            layer: 0,
            neuron: 0,
            tokens: vec![],
        },
        Plant::CopyHead {
            layer: 0,
            head: 0,
            token: PlantedToken {
                id: 4096,
                text: "x".into(),
            },
        },
    ];
    for plant in bad {
        let plants = Plants {
            plants: vec![plant.clone()],
        };
        assert!(
            generate(&model.spec, &plants).is_err(),
            "{plant:?} accepted"
        );
    }
}
