//! The extreme entries of a vocabulary × vocabulary matrix given by factors.
//!
//! An attention head's QK or OV circuit read in token space is
//! M = A · Bᵀ with A and B of n × r (n the vocabulary, r = d_head). M has
//! n² entries (2.6 billion for a 51,200-token vocabulary) but only its k
//! highest and k lowest entries are wanted. [`top_pairs`] finds them exactly
//! without forming M:
//!
//! - every row gets bounds from which an interval for each entry of a block
//!   of rows against another follows (Cauchy–Schwarz on rows centred on the
//!   factors' mean directions, see `bounds`; on a balanced refactorisation
//!   of A · Bᵀ when that is tighter, FEXIPRO, Li et al., SIGMOD 2017, see
//!   `factor`);
//! - rows of both factors are grouped into blocks of similar bounds (a k-d
//!   split on each row's shift and centred norm, which on trained
//!   embeddings vary about equally, see `search`); a tile (block of A ×
//!   block of B) whose interval lies strictly between the running
//!   thresholds (the k-th highest and the k-th lowest score so far) cannot
//!   change either list (LEMP, Teflioudi et al., SIGMOD 2015), and in a
//!   tile that can, only the rows and columns whose own intervals can are
//!   scored. Tiles
//!   are visited from the strongest bound down, in one order per list,
//!   which moves the thresholds quickly, and the search stops once neither
//!   list's next tile can reach its threshold;
//! - the tiles left are scored with an f32 GEMM that only screens: every
//!   entry that could enter a list is rescored canonically (below), so
//!   rounding in the GEMM never decides a place.
//!
//! # Exactness
//!
//! The score reported for (i, j) is the *canonical* score: the dot product of
//! row i of A and row j of B, both f32 as given, accumulated in f64 in a
//! fixed order and rounded once to f32. It depends only on the two rows, not
//! on tiling, sorting or pruning, so [`Pruning::None`] and [`Pruning::Bounds`]
//! report bitwise identical lists. Let t be the exact product and
//! Σ = Σ_l |a_l b_l| ≤ ‖a‖ ‖b‖:
//!
//! - the f32 GEMM value g satisfies |g − t| ≤ γ_r(f32) Σ (plus r·2⁻¹⁴⁹ for
//!   underflow), whatever its summation order or use of FMA
//!   (γ_r = r·u / (1 − r·u), u the unit roundoff);
//! - the products of f32 values are exact in f64, so the canonical c
//!   satisfies |c − t| ≤ (2⁻²⁴ + 2γ_r(f64)) Σ + 2⁻¹⁵⁰.
//!
//! A tile is skipped only if its interval for t, widened by the second
//! margin (from the rows' norms), is strictly between the thresholds; an
//! entry is rescored if its g is within the sum of both margins of a
//! threshold. Tiles whose norms could overflow f32 in the GEMM are not
//! screened at all. Every bound also covers the rounding of the f64 (and
//! f32) arithmetic that computed it.

use std::fmt;

use self::rows::Rows;
use crate::error::{ProjectError, Result};
use crate::view::{MatrixView, TokenFilter};

pub use self::lists::{Pair, PairExtremes, PairStats, Pruning};

mod bounds;
mod factor;
mod lists;
mod reservoir;
mod rows;
mod search;

/// One search: the extremes of `a · bᵀ`.
#[derive(Clone, Copy)]
pub struct PairQuery<'a> {
    /// n_src × r.
    pub a: MatrixView<'a>,
    /// n_dst × r.
    pub b: MatrixView<'a>,
    /// Length of each list.
    pub k: usize,
    /// Rows of A that may be selected.
    pub src_filter: TokenFilter<'a>,
    /// Rows of B that may be selected.
    pub dst_filter: TokenFilter<'a>,
    /// `exclude(src, dst) == true` keeps that pair out of both lists; it is
    /// asked only about pairs that would otherwise be kept, so it may be slow.
    pub exclude: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
    /// Whether to prune; both settings give identical results.
    pub pruning: Pruning,
}

impl fmt::Debug for PairQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairQuery")
            .field("a", &self.a)
            .field("b", &self.b)
            .field("k", &self.k)
            .field("src_filter", &self.src_filter)
            .field("dst_filter", &self.dst_filter)
            .field("exclude", &self.exclude.map(|_| ".."))
            .field("pruning", &self.pruning)
            .finish()
    }
}

/// The k highest and k lowest entries of `query.a · query.bᵀ` over allowed
/// rows, with pairs that `exclude` rejects and NaN entries left out.
///
/// Lists are shorter than k only when exclusions and NaN leave fewer pairs.
/// Runs on the calling thread: callers parallelise over matrices.
///
/// # Errors
///
/// k = 0; k above allowed rows of A × allowed rows of B (the count before
/// `exclude`); factors of different widths; a view reaching outside its data;
/// a filter shorter than its factor; more than `u32::MAX` rows.
pub fn top_pairs(query: &PairQuery<'_>) -> Result<(PairExtremes, PairStats)> {
    let (a, b) = (query.a, query.b);
    if query.k == 0 {
        return Err(ProjectError::ZeroK);
    }
    if a.cols != b.cols {
        return Err(ProjectError::FactorMismatch {
            src: a.cols,
            dst: b.cols,
        });
    }
    if !a.in_bounds() || !b.in_bounds() {
        return Err(ProjectError::ViewOutOfBounds);
    }
    for (filter, rows) in [(query.src_filter, a.rows), (query.dst_filter, b.rows)] {
        if let Some(len) = filter.len() {
            if len < rows {
                return Err(ProjectError::FilterLength {
                    filter: len,
                    tokens: rows,
                });
            }
        }
        // Row ids are u32 and u32::MAX stays free (no row has it).
        if rows >= u32::MAX as usize {
            return Err(ProjectError::TooManyRows { rows });
        }
    }
    let pairs = query.src_filter.count(a.rows) as u64 * query.dst_filter.count(b.rows) as u64;
    if query.k as u64 > pairs {
        return Err(ProjectError::TooFewPairs { k: query.k, pairs });
    }
    let (extremes, mut stats) = search::run(
        Rows::allowed(a, query.src_filter),
        Rows::allowed(b, query.dst_filter),
        query.k,
        query.exclude,
        query.pruning,
        search::TileShape::default(),
    );
    stats.entries = a.rows as u64 * b.rows as u64;
    Ok((extremes, stats))
}
