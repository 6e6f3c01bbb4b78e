//! The attention stage: every head's VO and QK circuits in vocabulary space.
//!
//! For query head h of layer l, with E_in the input embedding and E_out the
//! output embedding (the same matrix when tied), and W_K, W_V those of the
//! key and value head h reads:
//! - VO = E_in·W_V·W_O·E_outᵀ = A·Bᵀ with A = E_in·W_V, B = E_out·W_Oᵀ;
//! - QK = E_in·W_Q·W_Kᵀ·E_inᵀ = A·Bᵀ with A = E_in·W_Q, B = E_in·W_K.
//!
//! Each is a vocab × vocab matrix of rank d_head; only its factors are
//! formed, from the weights as the run reads them (readings: folded norms,
//! a rotary offset, the output embedding throughout).

use glossa_load::{Matrix, Model};
use glossa_project::{
    copying_score, frobenius_norm, pair_moments, product, top_pairs, MatrixView, Moments,
    PairExtremes, PairQuery, Pruning, TokenFilter,
};
use glossa_tables::{Circuit, HeadSummaryRow};
use rayon::prelude::*;

use crate::error::Result;
use crate::pairs_filter::PairFilter;
use crate::readings::Reading;
use crate::views::view;

/// The lists and summary of one circuit of one head.
pub(crate) struct CircuitResult {
    pub(crate) head: usize,
    pub(crate) circuit: Circuit,
    pub(crate) extremes: PairExtremes,
    /// Every selectable entry of the circuit, summarised.
    pub(crate) moments: Moments,
    pub(crate) summary: HeadSummaryRow,
}

/// What every circuit of a run shares.
pub(crate) struct CircuitSettings<'a> {
    /// Token ids that exist in the tokenizer: rows beyond are padding.
    pub(crate) tokens: usize,
    /// Pairs kept at each end.
    pub(crate) k: usize,
    /// Tokens that may take either place of a pair.
    pub(crate) tokens_allowed: TokenFilter<'a>,
    /// Pairs that may not take a place.
    pub(crate) pairs: &'a PairFilter,
    /// Every pair `pairs` excludes whose tokens are both allowed, each once:
    /// left out of the moments as they are out of the lists.
    pub(crate) excluded: &'a [(u32, u32)],
    pub(crate) pruning: Pruning,
    pub(crate) reading: Reading,
}

/// Computes both circuits of every head of `layer`, in (head, circuit) order.
pub(crate) fn layer_circuits(
    model: &Model,
    layer: usize,
    settings: &CircuitSettings<'_>,
    advance: &(dyn Fn(usize) + Sync),
) -> Result<Vec<CircuitResult>> {
    let tokens = settings.tokens;
    let shape = model.shape;
    let tasks: Vec<(usize, Circuit)> = (0..shape.heads)
        .flat_map(|h| [(h, Circuit::Vo), (h, Circuit::Qk)])
        .collect();
    let in_flight = circuits_in_flight(tokens, shape.d_head, shape.d_model);
    if in_flight < rayon::current_num_threads() {
        // Fewer circuits at once than threads: each holds its two factors.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(in_flight)
            .build()
            .map_err(|source| crate::error::PipelineError::ThreadPool { source })?;
        return pool.install(|| compute_circuits(model, layer, settings, advance, tasks));
    }
    compute_circuits(model, layer, settings, advance, tasks)
}

/// Memory the circuits computed at once may hold between them: a model of
/// any size keeps its head stage within the checkpoint + 1 GiB.
const CIRCUIT_MEMORY: usize = 512 << 20;

/// How many circuits may be computed at once within [`CIRCUIT_MEMORY`]:
/// each holds its two `tokens × d_head` factors and one chunk of embedding
/// rows (an 8B model's 128256 × 128 factors are 66 MB each; GPT-2 medium's,
/// 13 MB).
fn circuits_in_flight(tokens: usize, d_head: usize, d_model: usize) -> usize {
    let per_circuit = 4 * (2 * tokens * d_head + FACTOR_CHUNK * d_model);
    (CIRCUIT_MEMORY / per_circuit.max(1)).max(1)
}

/// Both circuits of the heads in `tasks`, on the current thread pool.
fn compute_circuits(
    model: &Model,
    layer: usize,
    settings: &CircuitSettings<'_>,
    advance: &(dyn Fn(usize) + Sync),
    tasks: Vec<(usize, Circuit)>,
) -> Result<Vec<CircuitResult>> {
    let (tokens, filter) = (settings.tokens, settings.pairs);
    let shape = model.shape;
    tasks
        .into_par_iter()
        .map(|(head, circuit)| {
            let (a, b) = circuit_factors(model, &settings.reading, layer, head, circuit, tokens)?;
            let a = MatrixView::row_major(&a, tokens, shape.d_head);
            let b = MatrixView::row_major(&b, tokens, shape.d_head);
            let exclude = |src: u32, dst: u32| filter.excludes(src, dst);
            let (extremes, stats) = top_pairs(&PairQuery {
                a,
                b,
                k: settings.k,
                src_filter: settings.tokens_allowed,
                dst_filter: settings.tokens_allowed,
                exclude: filter
                    .is_active()
                    .then_some(&exclude as &(dyn Fn(u32, u32) -> bool + Sync)),
                pruning: settings.pruning,
            })?;
            let moments = pair_moments(
                a,
                b,
                settings.tokens_allowed,
                settings.tokens_allowed,
                settings.excluded,
            );
            let summary = HeadSummaryRow {
                layer: layer as u32,
                head: head as u32,
                kv_head: model.layers[layer].heads[head].kv_head as u32,
                circuit,
                frobenius_norm: frobenius_norm(a, b),
                max_entry: extremes.top.first().map_or(f32::NAN, |p| p.score),
                min_entry: extremes.bottom.first().map_or(f32::NAN, |p| p.score),
                copying_score: match circuit {
                    Circuit::Vo => copying_score(a, b),
                    Circuit::Qk => None,
                },
                computed_share: stats.computed as f64 / stats.entries.max(1) as f64,
                pairs: moments.count,
                mean: moments.mean(),
                std: moments.std(),
            };
            advance(1);
            Ok(CircuitResult {
                head,
                circuit,
                extremes,
                moments,
                summary,
            })
        })
        .collect()
}

/// The factors A, B (row-major `tokens × d_head`) of one circuit, A·Bᵀ, for
/// the first `tokens` rows of the embeddings (see the module docs).
pub fn circuit_factors(
    model: &Model,
    reading: &Reading,
    layer: usize,
    head: usize,
    circuit: Circuit,
    tokens: usize,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let weights = reading.circuit(model, layer, head, circuit)?;
    Ok((
        factor(weights.src_embedding, tokens, &weights.src_weight)?,
        factor(weights.dst_embedding, tokens, &weights.dst_weight)?,
    ))
}

/// The first `tokens` rows of `embedding`, times `w` (decoded), as a
/// row-major `tokens × w.cols()` matrix, [`FACTOR_CHUNK`] rows at a time:
/// an encoded embedding is never decoded whole, and one held as f32 goes
/// through the same products, so both give the same bits.
fn factor(embedding: &Matrix, tokens: usize, w: &Matrix) -> Result<Vec<f32>> {
    let d_model = embedding.cols();
    let mut out = Vec::with_capacity(tokens * w.cols());
    let mut decoded = Vec::new();
    for first in (0..tokens).step_by(FACTOR_CHUNK) {
        let count = FACTOR_CHUNK.min(tokens - first);
        let rows = if embedding.values().is_some() {
            view(embedding).rows_range(first, count)
        } else {
            decoded.resize(count * d_model, 0f32);
            embedding.read_rows(first, count, &mut decoded)?;
            MatrixView::row_major(&decoded, count, d_model)
        };
        out.extend(product(rows, view(w)));
    }
    Ok(out)
}

/// Embedding rows multiplied at a time for a head's factors: every circuit
/// task decoding an encoded embedding holds one such chunk (8 MB at
/// d_model 1024, 32 MB at 4096).
const FACTOR_CHUNK: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_models_compute_fewer_circuits_at_once() {
        // Llama-3-8B: two 66 MB factors and a 32 MB chunk each.
        let llama = circuits_in_flight(128256, 128, 4096);
        assert_eq!(llama, 3);
        assert!(llama * 4 * (2 * 128256 * 128 + FACTOR_CHUNK * 4096) <= CIRCUIT_MEMORY);
        // sdadas/polish-gpt2-medium: 34 MB a circuit, 15 at once.
        assert_eq!(circuits_in_flight(51200, 64, 1024), 15);
        // Never none, however large.
        assert_eq!(circuits_in_flight(1 << 24, 1 << 10, 1 << 14), 1);
    }
}
