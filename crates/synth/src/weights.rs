use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use crate::error::{Error, Result};
use crate::plants::{self, Plants};
use crate::spec::{Dtype, Gpt2Spec, Init, Parameter, INIT_STD};

/// Spread of LayerNorm gains around 1.
const GAIN_STD: f32 = 0.05;

/// Every parameter of a generated GPT-2, as `f32` values already rounded to
/// the checkpoint's dtype, so that a reference computed from these values
/// sees exactly the numbers a loader reads from the file.
///
/// Names are GPT-2's without the `transformer.` prefix (`wte.weight`,
/// `h.0.mlp.c_fc.weight`, `lm_head.weight`); matrices use the Conv1D layout
/// `[in, out]`, row-major. The causal-mask buffers are not parameters and
/// are not held here; [`write_checkpoint`](crate::write_checkpoint) adds
/// them when the spec asks for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Gpt2Weights {
    dtype: Dtype,
    /// In state-dict order; `wte.weight` comes first.
    tensors: Vec<Tensor>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f32>,
}

impl Gpt2Weights {
    /// Values and shape of the tensor called `name` (without `transformer.`).
    pub fn tensor(&self, name: &str) -> Option<(&[f32], &[usize])> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.data.as_slice(), t.shape.as_slice()))
    }

    /// All tensors as `(name, values, shape)`, in state-dict order.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &[f32], &[usize])> {
        self.tensors
            .iter()
            .map(|t| (t.name.as_str(), t.data.as_slice(), t.shape.as_slice()))
    }

    /// The input embedding `wte.weight`, `[vocab_size, n_embd]`.
    pub fn embedding(&self) -> (&[f32], &[usize]) {
        let wte = &self.tensors[0];
        (&wte.data, &wte.shape)
    }

    /// The output embedding: `lm_head.weight` when the model has one, else `wte.weight`.
    pub fn unembedding(&self) -> (&[f32], &[usize]) {
        self.tensor("lm_head.weight")
            .unwrap_or_else(|| self.embedding())
    }

    /// The dtype the values were rounded to.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    pub(crate) fn tensor_mut(&mut self, name: &str) -> Result<&mut Tensor> {
        self.tensors
            .iter_mut()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::Spec(format!("the model has no tensor {name}")))
    }

    /// Checks that these weights are the ones `spec` describes, so that the
    /// files written for them cannot disagree with `config.json`.
    pub(crate) fn check_matches(&self, spec: &Gpt2Spec) -> Result<()> {
        if self.dtype != spec.dtype {
            return Err(Error::Spec(format!(
                "weights were rounded to {:?} but the spec writes {:?}",
                self.dtype, spec.dtype
            )));
        }
        let expected = spec.parameters();
        let same_layout = expected.len() == self.tensors.len()
            && expected
                .iter()
                .zip(&self.tensors)
                .all(|(p, t)| p.name == t.name && p.shape == t.shape);
        if !same_layout {
            return Err(Error::Spec(
                "the weights do not have the tensors and shapes of the spec".into(),
            ));
        }
        Ok(())
    }
}

/// Draws every parameter of `spec` from one seeded stream, plants `plants`,
/// and rounds the result to `spec.dtype`.
pub fn generate(spec: &Gpt2Spec, plants: &Plants) -> Result<Gpt2Weights> {
    spec.validate()?;
    plants.validate(spec)?;
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let tensors = spec
        .parameters()
        .into_iter()
        .map(|parameter| {
            let data = sample(&parameter, spec.row_norm_sigma, &mut rng);
            Tensor {
                name: parameter.name,
                shape: parameter.shape,
                data,
            }
        })
        .collect();
    let mut weights = Gpt2Weights {
        dtype: spec.dtype,
        tensors,
    };
    plants::plant(&mut weights, spec, plants, &mut rng)?;
    for tensor in &mut weights.tensors {
        tensor
            .data
            .iter_mut()
            .for_each(|v| *v = spec.dtype.round(*v));
    }
    Ok(weights)
}

fn sample(parameter: &Parameter, row_norm_sigma: f32, rng: &mut SmallRng) -> Vec<f32> {
    let len: usize = parameter.shape.iter().product();
    let mut normal = || rng.sample::<f32, _>(StandardNormal);
    match parameter.init {
        Init::Normal(std) => (0..len).map(|_| std * normal()).collect(),
        Init::Gain => (0..len).map(|_| 1.0 + GAIN_STD * normal()).collect(),
        Init::Embedding => {
            let rows = parameter.shape[0];
            let width = len / rows;
            let mut data = Vec::with_capacity(len);
            for _ in 0..rows {
                let scale = INIT_STD * (row_norm_sigma * normal()).exp();
                data.extend((0..width).map(|_| scale * normal()));
            }
            data
        }
    }
}
