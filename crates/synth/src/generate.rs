//! Drawing a model's weights: every parameter from one seeded stream, then
//! the planted units.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use crate::error::Result;
use crate::plants::{self, Plants};
use crate::spec::{Gpt2Spec, Init, Parameter, INIT_STD};
use crate::weights::{Gpt2Weights, Tensor};

/// Spread of LayerNorm gains around 1.
const GAIN_STD: f32 = 0.05;

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

pub(crate) fn sample(parameter: &Parameter, row_norm_sigma: f32, rng: &mut SmallRng) -> Vec<f32> {
    let len: usize = parameter.shape.iter().product();
    let mut normal = || rng.sample::<f32, _>(StandardNormal);
    match parameter.init {
        Init::Normal(std) => (0..len).map(|_| std * normal()).collect(),
        Init::Gain => (0..len).map(|_| 1.0 + GAIN_STD * normal()).collect(),
        Init::GainOffset => (0..len).map(|_| GAIN_STD * normal()).collect(),
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
