//! Tensor lookup for architecture adapters: names scoped by prefix (like
//! candle's `VarBuilder::pp`), optional root prefixes, and the checks every
//! tensor passes (shape against the config, finiteness).
//!
//! Knows no architecture: each adapter says which roots its checkpoints use
//! and what shape it expects.

use std::fmt::Display;

use crate::checkpoint::Checkpoint;
use crate::error::{LoadError, Result};
use crate::matrix::Matrix;

/// Finds tensors of one checkpoint under a scope.
#[derive(Clone)]
pub(crate) struct TensorLookup<'a> {
    checkpoint: &'a Checkpoint,
    /// Architecture name for errors ("is this really a GPT-2 checkpoint?").
    architecture: &'static str,
    /// Prefixes a checkpoint may put before every name, tried in order
    /// (`transformer.` for GPT-2 saved from `GPT2LMHeadModel`, or nothing).
    roots: &'static [&'static str],
    /// The scope so far, ending in `.` unless empty (`h.3.`).
    scope: String,
}

impl<'a> TensorLookup<'a> {
    /// A lookup at the top of `checkpoint`.
    pub(crate) fn new(
        checkpoint: &'a Checkpoint,
        architecture: &'static str,
        roots: &'static [&'static str],
    ) -> TensorLookup<'a> {
        TensorLookup {
            checkpoint,
            architecture,
            roots,
            scope: String::new(),
        }
    }

    /// The same lookup, one segment deeper: `pp("h").pp(3)` finds `h.3.…`.
    pub(crate) fn pp(&self, segment: impl Display) -> TensorLookup<'a> {
        TensorLookup {
            scope: format!("{}{segment}.", self.scope),
            ..self.clone()
        }
    }

    /// The stored name of `name` in this scope, under the first root that has it.
    fn find(&self, name: &str) -> Option<String> {
        self.roots
            .iter()
            .map(|root| format!("{root}{}{name}", self.scope))
            .find(|candidate| self.checkpoint.contains(candidate))
    }

    /// The architecture's name, for errors.
    pub(crate) fn architecture(&self) -> &'static str {
        self.architecture
    }

    /// Whether the checkpoint holds `name` in this scope, under any root.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Tensor `name` in this scope as a `rows × cols` matrix, refused when
    /// missing, of another shape or holding a NaN or infinity (f32 tensors
    /// are checked here; encoded ones as their rows are decoded).
    pub(crate) fn matrix(&self, name: &str, expected: [usize; 2]) -> Result<Matrix> {
        let Some(found) = self.find(name) else {
            return Err(LoadError::MissingTensor {
                name: format!("{}{name}", self.scope),
                candidates: self
                    .roots
                    .iter()
                    .map(|root| format!("{:?}", format!("{root}{}{name}", self.scope)))
                    .collect::<Vec<_>>()
                    .join(" and "),
                architecture: self.architecture,
            });
        };
        let matrix = self.checkpoint.matrix(&found)?;
        if [matrix.rows(), matrix.cols()] != expected {
            // Report the stored shape: a [2, 3, 4] tensor is viewed as 6 × 4.
            let stored = self
                .checkpoint
                .shape(&found)
                .unwrap_or_else(|| vec![matrix.rows(), matrix.cols()]);
            return Err(LoadError::ShapeMismatch {
                name: found,
                found: stored,
                expected: expected.to_vec(),
            });
        }
        check_finite(&found, &matrix)?;
        Ok(matrix)
    }

    /// The 1-D tensor `name` in this scope (a norm's gain, `len` values).
    pub(crate) fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let matrix = self.matrix(name, [1, len])?.decode()?;
        (0..len).map(|i| matrix.get(0, i)).collect()
    }

    /// [`vector`](Self::vector), or `None` when the checkpoint does not hold it.
    pub(crate) fn optional_vector(&self, name: &str, len: usize) -> Result<Option<Vec<f32>>> {
        if self.contains(name) {
            self.vector(name, len).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The indices `i` for which this scope holds some tensor `segment.i.…`,
    /// ascending: the blocks a checkpoint stores, whatever its config says.
    pub(crate) fn indices(&self, segment: &str) -> Vec<usize> {
        let mut indices: Vec<usize> = self
            .checkpoint
            .shapes()
            .into_keys()
            .filter_map(|name| {
                self.roots.iter().find_map(|root| {
                    let rest = name
                        .strip_prefix(root)?
                        .strip_prefix(self.scope.as_str())?
                        .strip_prefix(segment)?
                        .strip_prefix('.')?;
                    let (index, _) = rest.split_once('.')?;
                    // Only plain digits: `h.+3.` or `h.x.` is no block.
                    index
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                        .then(|| index.parse().ok())?
                })
            })
            .collect();
        indices.sort_unstable();
        indices.dedup();
        indices
    }
}

/// Fails on the first NaN or infinity in `matrix`, naming the tensor.
fn check_finite(name: &str, matrix: &Matrix) -> Result<()> {
    match matrix.first_non_finite() {
        Some((position, value)) => Err(LoadError::NonFinite {
            name: name.to_string(),
            value,
            position,
        }),
        None => Ok(()),
    }
}
