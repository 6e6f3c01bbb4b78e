use crate::error::{Error, Result};
use crate::spec::{Dtype, Gpt2Spec};

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
    pub(crate) dtype: Dtype,
    /// In state-dict order; `wte.weight` comes first.
    pub(crate) tensors: Vec<Tensor>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<f32>,
}

/// Values and shape of the tensor called `name` among `tensors`.
pub(crate) fn find<'a>(tensors: &'a [Tensor], name: &str) -> Option<(&'a [f32], &'a [usize])> {
    tensors
        .iter()
        .find(|t| t.name == name)
        .map(|t| (t.data.as_slice(), t.shape.as_slice()))
}

/// `tensors` as `(name, values, shape)`, in order.
pub(crate) fn listed(tensors: &[Tensor]) -> impl Iterator<Item = (&str, &[f32], &[usize])> {
    tensors
        .iter()
        .map(|t| (t.name.as_str(), t.data.as_slice(), t.shape.as_slice()))
}

impl Gpt2Weights {
    /// Values and shape of the tensor called `name` (without `transformer.`).
    pub fn tensor(&self, name: &str) -> Option<(&[f32], &[usize])> {
        find(&self.tensors, name)
    }

    /// All tensors as `(name, values, shape)`, in state-dict order.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &[f32], &[usize])> {
        listed(&self.tensors)
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
