use rand::rngs::SmallRng;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::spec::{Gpt2Spec, INIT_STD};
use crate::weights::{Gpt2Weights, Tensor};

/// Norm of the direction added to each planted token's embedding rows, in
/// units of a typical row norm. Random rows of width d project onto any unit
/// vector with a spread of about 1/sqrt(d) of their norm, so 4 row norms keep
/// the planted tokens well clear of the largest random projection even for
/// d = 48 and rows whose log-normal factor is large.
const BOOST: f64 = 4.0;

/// Norm of a planted circuit vector, in units of the norm of a random vector
/// of the same length, so that planted units also stand out by size.
const STRENGTH: f64 = 10.0;

/// A token a plant refers to: its id and the text it decodes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantedToken {
    /// Row of the embedding matrices.
    pub id: u32,
    /// The decoded token, e.g. `" dieta"`.
    pub text: String,
}

impl PlantedToken {
    /// Looks `text` up in `tokenizer`, which must encode it to exactly one token.
    pub fn resolve(tokenizer: &Tokenizer, text: &str) -> Result<Self> {
        let ids = tokenizer.encode(text, false)?.get_ids().to_vec();
        match ids.as_slice() {
            [id] => Ok(PlantedToken {
                id: *id,
                text: text.to_owned(),
            }),
            _ => Err(Error::NotSingleToken {
                text: text.to_owned(),
                ids,
            }),
        }
    }
}

/// A unit planted into otherwise random weights, so that tests can assert
/// what projecting it onto the vocabulary must find.
///
/// "Unembedding" below is `lm_head.weight` when the model has one, else
/// `wte.weight`; head `h` owns columns `h*d_head..(h+1)*d_head` of each
/// third (Q, K, V) of `attn.c_attn.weight` and the same rows of
/// `attn.c_proj.weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plant {
    /// Row `neuron` of `h.{layer}.mlp.c_proj.weight` is a large multiple of the
    /// normalised sum of the unembedding rows of `tokens`: projected onto the
    /// unembedding, it ranks exactly these tokens first.
    ValueNeuron {
        /// Block index.
        layer: usize,
        /// MLP neuron index.
        neuron: usize,
        /// The tokens it promotes.
        tokens: Vec<PlantedToken>,
    },
    /// Column `neuron` of `h.{layer}.mlp.c_fc.weight` is built like a value
    /// neuron's vector: against the unembedding it ranks `tokens` first.
    KeyNeuron {
        /// Block index.
        layer: usize,
        /// MLP neuron index.
        neuron: usize,
        /// The tokens it responds to.
        tokens: Vec<PlantedToken>,
    },
    /// The head's OV circuit copies `token`: `wte · W_V · W_O · unembeddingᵀ`
    /// has its largest entry at (`token`, `token`).
    CopyHead {
        /// Block index.
        layer: usize,
        /// Head index.
        head: usize,
        /// The copied token.
        token: PlantedToken,
    },
    /// The head's QK circuit pairs two tokens: `wte · W_Q · W_Kᵀ · wteᵀ` has
    /// its largest entry at (`query`, `key`).
    PairHead {
        /// Block index.
        layer: usize,
        /// Head index.
        head: usize,
        /// The attending token (row).
        query: PlantedToken,
        /// The attended-to token (column).
        key: PlantedToken,
    },
}

/// The plants of one model, as written to `plants.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plants {
    /// In the order they were applied.
    pub plants: Vec<Plant>,
}

impl Plant {
    fn layer(&self) -> usize {
        match self {
            Plant::ValueNeuron { layer, .. }
            | Plant::KeyNeuron { layer, .. }
            | Plant::CopyHead { layer, .. }
            | Plant::PairHead { layer, .. } => *layer,
        }
    }

    /// Token sets that each get their own planted embedding direction. The
    /// query and key of a pair get one each: a shared direction would score
    /// (key, query) and (query, query) as high as (query, key).
    fn token_groups(&self) -> Vec<Vec<u32>> {
        let ids = |tokens: &[PlantedToken]| tokens.iter().map(|t| t.id).collect();
        match self {
            Plant::ValueNeuron { tokens, .. } | Plant::KeyNeuron { tokens, .. } => {
                vec![ids(tokens)]
            }
            Plant::CopyHead { token, .. } => vec![vec![token.id]],
            Plant::PairHead { query, key, .. } => vec![vec![query.id], vec![key.id]],
        }
    }
}

impl Plants {
    /// `plants.json` text.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    pub(crate) fn validate(&self, spec: &Gpt2Spec) -> Result<()> {
        let invalid = |message: String| Err(Error::Spec(message));
        let mut directions = 0;
        for plant in &self.plants {
            if plant.layer() >= spec.n_layer {
                return invalid(format!("{plant:?} is outside the {} layers", spec.n_layer));
            }
            match plant {
                Plant::ValueNeuron { neuron, .. } | Plant::KeyNeuron { neuron, .. }
                    if *neuron >= spec.n_inner =>
                {
                    return invalid(format!("{plant:?}: the MLP has {} neurons", spec.n_inner));
                }
                Plant::CopyHead { head, .. } | Plant::PairHead { head, .. }
                    if *head >= spec.n_head =>
                {
                    return invalid(format!("{plant:?}: the model has {} heads", spec.n_head));
                }
                Plant::PairHead { query, key, .. } if query.id == key.id => {
                    return invalid(format!("{plant:?} pairs a token with itself"));
                }
                _ => {}
            }
            for group in plant.token_groups() {
                if group.is_empty() {
                    return invalid(format!("{plant:?} names no token"));
                }
                if let Some(id) = group.iter().find(|id| **id as usize >= spec.vocab_size) {
                    return invalid(format!(
                        "token {id} is outside the {} embedding rows",
                        spec.vocab_size
                    ));
                }
                directions += 1;
            }
        }
        // Each group needs a direction orthogonal to all the others.
        if directions >= spec.n_embd {
            return invalid(format!(
                "{directions} planted directions do not fit n_embd {}",
                spec.n_embd
            ));
        }
        Ok(())
    }
}

/// Applies `plants` to freshly drawn weights.
///
/// Random embeddings alone cannot make a chosen token win a projection
/// against thousands of others, so each token group first receives its own
/// direction, orthogonal to the other groups', added to its embedding rows;
/// the circuits are then built from those rows as the plant documents say.
pub(crate) fn plant(
    weights: &mut Gpt2Weights,
    spec: &Gpt2Spec,
    plants: &Plants,
    rng: &mut SmallRng,
) -> Result<()> {
    let d = spec.n_embd;
    let row_scale = f64::from(INIT_STD) * (d as f64).sqrt();
    let embeddings: &[&str] = if spec.tie_word_embeddings {
        &["wte.weight"]
    } else {
        &["wte.weight", "lm_head.weight"]
    };
    let mut directions: Vec<Vec<f64>> = Vec::new();
    for group in plants.plants.iter().flat_map(Plant::token_groups) {
        let direction = fresh_direction(d, &directions, rng);
        for name in embeddings {
            let tensor = weights.tensor_mut(name)?;
            for id in &group {
                for (value, shift) in row_mut(tensor, *id as usize).iter_mut().zip(&direction) {
                    *value += (BOOST * row_scale * shift) as f32;
                }
            }
        }
        directions.push(direction);
    }

    let unembedding = embeddings[embeddings.len() - 1];
    let vector_norm = |len: usize| STRENGTH * f64::from(INIT_STD) * (len as f64).sqrt();
    let dh = spec.d_head();
    for plant in &plants.plants {
        match plant {
            Plant::ValueNeuron {
                layer,
                neuron,
                tokens,
            } => {
                let value = scaled(&row_sum(weights, unembedding, tokens)?, vector_norm(d));
                let c_proj = weights.tensor_mut(&format!("h.{layer}.mlp.c_proj.weight"))?;
                write_row(c_proj, *neuron, &value);
            }
            Plant::KeyNeuron {
                layer,
                neuron,
                tokens,
            } => {
                let key = scaled(&row_sum(weights, unembedding, tokens)?, vector_norm(d));
                let c_fc = weights.tensor_mut(&format!("h.{layer}.mlp.c_fc.weight"))?;
                write_column(c_fc, *neuron, &key);
            }
            Plant::CopyHead { layer, head, token } => {
                let read = scaled(
                    &row_sum(weights, "wte.weight", std::slice::from_ref(token))?,
                    vector_norm(d),
                );
                let write = scaled(
                    &row_sum(weights, unembedding, std::slice::from_ref(token))?,
                    vector_norm(d),
                );
                let c_attn = weights.tensor_mut(&format!("h.{layer}.attn.c_attn.weight"))?;
                write_column(c_attn, 2 * d + head * dh, &read);
                let c_proj = weights.tensor_mut(&format!("h.{layer}.attn.c_proj.weight"))?;
                write_row(c_proj, head * dh, &write);
            }
            Plant::PairHead {
                layer,
                head,
                query,
                key,
            } => {
                let q = scaled(
                    &row_sum(weights, "wte.weight", std::slice::from_ref(query))?,
                    vector_norm(d),
                );
                let k = scaled(
                    &row_sum(weights, "wte.weight", std::slice::from_ref(key))?,
                    vector_norm(d),
                );
                let c_attn = weights.tensor_mut(&format!("h.{layer}.attn.c_attn.weight"))?;
                write_column(c_attn, head * dh, &q);
                write_column(c_attn, d + head * dh, &k);
            }
        }
    }
    Ok(())
}

/// A random unit vector orthogonal to `previous` (which `Plants::validate`
/// keeps shorter than `d`, so the remainder is almost surely not zero).
fn fresh_direction(d: usize, previous: &[Vec<f64>], rng: &mut SmallRng) -> Vec<f64> {
    let mut v: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
    for p in previous {
        let dot: f64 = v.iter().zip(p).map(|(a, b)| a * b).sum();
        v.iter_mut().zip(p).for_each(|(a, b)| *a -= dot * b);
    }
    scaled(&v, 1.0)
}

fn row_sum(weights: &Gpt2Weights, name: &str, tokens: &[PlantedToken]) -> Result<Vec<f64>> {
    let (data, shape) = weights
        .tensor(name)
        .ok_or_else(|| Error::Spec(format!("the model has no tensor {name}")))?;
    let width = shape[1];
    let mut sum = vec![0.0; width];
    for token in tokens {
        let start = token.id as usize * width;
        let row = &data[start..start + width];
        sum.iter_mut()
            .zip(row)
            .for_each(|(s, v)| *s += f64::from(*v));
    }
    Ok(sum)
}

/// `v` rescaled to Euclidean norm `norm`.
fn scaled(v: &[f64], norm: f64) -> Vec<f64> {
    let length = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x * norm / length).collect()
}

fn row_mut(tensor: &mut Tensor, row: usize) -> &mut [f32] {
    let width = tensor.shape[1];
    &mut tensor.data[row * width..(row + 1) * width]
}

fn write_row(tensor: &mut Tensor, row: usize, values: &[f64]) {
    for (slot, v) in row_mut(tensor, row).iter_mut().zip(values) {
        *slot = *v as f32;
    }
}

fn write_column(tensor: &mut Tensor, column: usize, values: &[f64]) {
    let width = tensor.shape[1];
    for (r, v) in values.iter().enumerate() {
        tensor.data[r * width + column] = *v as f32;
    }
}
