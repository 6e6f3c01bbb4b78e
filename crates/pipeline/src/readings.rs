//! What every list is read from: the vectors of a neuron side or the two
//! factors of a head circuit, with norm gains folded in and rotary offsets
//! applied when a run asks for them, and the embedding each side goes through.
//!
//! Folding a norm's gain g is exact arithmetic on the weights: a vector v
//! read through a normalised stream scores `v · (g ⊙ x̂) = (v ⊙ g) · x̂`, so
//! the gain scales the vector's coordinates (the part that depends on the
//! token, the normalisation itself, is not linear and is left out, as are
//! biases). Rotary embeddings turn a query at position m and a key at
//! position n so that their product depends on n − m only: the QK circuit at
//! a relative offset is the key side turned by the model's own frequencies,
//! a d_head × d_head rotation folded into W_K.

use glossa_load::{HeadParts, Matrix, Model, Result, Rotary, RotaryPairing};
use glossa_tables::{Circuit, EmbeddingChoice, Side};

/// How a run reads the model's weights.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reading {
    /// Which embedding each side of a list goes through.
    pub embedding: EmbeddingChoice,
    /// Fold norm gains into the weights.
    pub fold_norm: bool,
    /// The QK circuit at this query-minus-key position (0: no rotation).
    pub qk_offset: i64,
}

/// One circuit of one head as A·Bᵀ with A = E_src·W_src and B = E_dst·W_dst.
pub struct CircuitWeights<'m> {
    pub src_embedding: &'m Matrix,
    /// `d_model × d_head`.
    pub src_weight: Matrix,
    pub dst_embedding: &'m Matrix,
    /// `d_model × d_head`.
    pub dst_weight: Matrix,
}

impl Reading {
    /// The embedding a read-side vector (a key, a gate, what a head reads) goes through.
    pub fn read_embedding<'m>(&self, model: &'m Model) -> &'m Matrix {
        match self.embedding {
            EmbeddingChoice::ReadWrite => &model.embedding,
            EmbeddingChoice::Output => &model.unembedding,
        }
    }

    /// The sides a layer's neurons have: the gate only in gated models.
    pub fn sides(model: &Model) -> Vec<Side> {
        let mut sides = Vec::with_capacity(3);
        if model.shape.gated {
            sides.push(Side::Gate);
        }
        sides.extend([Side::Key, Side::Value]);
        sides
    }

    /// The vectors of one side of `layer`'s neurons (row i: neuron i),
    /// decoded, and the embedding they are read through.
    pub fn neuron_side<'m>(
        &self,
        model: &'m Model,
        layer: usize,
        side: Side,
    ) -> Result<(Matrix, &'m Matrix)> {
        let parts = &model.layers[layer];
        let (vectors, gain, embedding) = match side {
            Side::Gate => (
                parts
                    .ff_gates
                    .as_ref()
                    .expect("gates are asked of gated models only"),
                &parts.ff_norm,
                self.read_embedding(model),
            ),
            Side::Key => (&parts.ff_keys, &parts.ff_norm, self.read_embedding(model)),
            Side::Value => (&parts.ff_values, &model.final_norm, &model.unembedding),
        };
        let vectors = match gain.as_deref().filter(|_| self.fold_norm) {
            Some(gain) => scaled(vectors, None, Some(gain))?,
            None => vectors.decode()?,
        };
        Ok((vectors, embedding))
    }

    /// The values of `layer`'s neurons (row i: neuron i), decoded, as they
    /// are added to the residual stream: what a later neuron's key or gate
    /// reads. No gain is folded in; a later layer's own norm gain is the
    /// reader's, folded into its keys and gates by [`Self::neuron_side`].
    pub fn residual_values(&self, model: &Model, layer: usize) -> Result<Matrix> {
        model.layers[layer].ff_values.decode()
    }

    /// The factors of one circuit of query head `head` of `layer`, its
    /// weights decoded.
    pub fn circuit<'m>(
        &self,
        model: &'m Model,
        layer: usize,
        head: usize,
        circuit: Circuit,
    ) -> Result<CircuitWeights<'m>> {
        let parts = &model.layers[layer];
        let h: &HeadParts = &parts.heads[head];
        let fold_norm = self.fold_norm;
        let fold = move |gain: &'m Option<Vec<f32>>| gain.as_deref().filter(|_| fold_norm);
        let attention = fold(&parts.attention_norm);
        let read = self.read_embedding(model);
        Ok(match circuit {
            Circuit::Vo => CircuitWeights {
                src_embedding: read,
                src_weight: scaled(&h.value, attention, None)?,
                dst_embedding: &model.unembedding,
                // B = E_out·W_Oᵀ, with the final gain on E_out's columns.
                dst_weight: scaled(&h.output.transposed(), fold(&model.final_norm), None)?,
            },
            Circuit::Qk => {
                let mut key = scaled(&h.key, attention, fold(&h.key_norm))?;
                if let (Some(rotary), offset) = (&parts.rotary, self.qk_offset) {
                    if offset != 0 {
                        key = rotated(&key, rotary, offset)?;
                    }
                }
                CircuitWeights {
                    src_embedding: read,
                    src_weight: scaled(&h.query, attention, fold(&h.query_norm))?,
                    dst_embedding: read,
                    dst_weight: key,
                }
            }
        })
    }
}

/// `diag(rows) · m · diag(cols)` as an owned row-major matrix.
fn scaled(m: &Matrix, rows: Option<&[f32]>, cols: Option<&[f32]>) -> Result<Matrix> {
    let mut data = m.to_row_major()?;
    for (r, row) in data.chunks_exact_mut(m.cols().max(1)).enumerate() {
        let row_gain = rows.map_or(1.0, |g| g[r]);
        for (c, value) in row.iter_mut().enumerate() {
            *value = *value * row_gain * cols.map_or(1.0, |g| g[c]);
        }
    }
    Ok(Matrix::from_vec(data, m.rows(), m.cols()))
}

/// W_K turned for a query `offset` positions after the key: each row of
/// `key` (a `d_head`-wide vector) rotated by the angle a key at relative
/// position −offset gets, so that `q · R(−offset) k` is what a query scores
/// a key `offset` tokens before it.
fn rotated(key: &Matrix, rotary: &Rotary, offset: i64) -> Result<Matrix> {
    let pairs = rotary.dims / 2;
    let mut data = key.to_row_major()?;
    let cols = key.cols();
    for p in 0..pairs {
        let frequency = rotary.base.powf(-2.0 * p as f64 / rotary.dims as f64);
        let angle = -(offset as f64) * frequency;
        let (sin, cos) = angle.sin_cos();
        let (i, j) = match rotary.pairing {
            RotaryPairing::Halves => (p, p + pairs),
            RotaryPairing::Adjacent => (2 * p, 2 * p + 1),
        };
        for row in data.chunks_exact_mut(cols) {
            let (a, b) = (row[i] as f64, row[j] as f64);
            row[i] = (a * cos - b * sin) as f32;
            row[j] = (a * sin + b * cos) as f32;
        }
    }
    Ok(Matrix::from_vec(data, key.rows(), cols))
}
