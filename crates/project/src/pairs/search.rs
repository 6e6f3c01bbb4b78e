//! The tile loop: order, bound, score, screen, select.

use super::factor::{self, gamma, not_nan, Gram, U32, U64};
use super::reservoir::PairReservoir;
use super::rows::Rows;
use super::{Pair, PairExtremes, PairStats, Pruning};

/// Rows of A and of B per tile.
///
/// A tile is one GEMM of `src × dst` entries. Smaller tiles follow the
/// boundary of the region that can matter more closely (skipping more) but
/// run the GEMM less efficiently at depth 64; within a tile the rows and
/// columns that cannot matter are trimmed off the end anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TileShape {
    pub(super) src: usize,
    pub(super) dst: usize,
}

impl Default for TileShape {
    fn default() -> TileShape {
        TileShape { src: 128, dst: 512 }
    }
}

/// Positions 0..n sorted by `key` descending, equal keys by position (so
/// the order is fully determined).
fn descending(key: &[f64]) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = key.iter().copied().zip(0..).collect();
    keyed.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn permuted(values: &[f64], order: &[usize]) -> Vec<f64> {
    order.iter().map(|&i| values[i]).collect()
}

/// Per-row upper bounds of one side, in processing order.
struct Bounds {
    /// ≥ ‖x_i T‖ (balanced) or ≥ ‖x_i‖ (raw); rows are sorted by it.
    key: Vec<f64>,
    /// ≥ ‖x_i‖.
    raw: Vec<f64>,
}

/// The error margins of the module docs, for depth r.
#[derive(Clone, Copy)]
struct Margins {
    /// ≥ ‖T_a T_bᵀ − I‖_F; 0 for raw keys.
    e: f64,
    /// |c − t| ≤ `canonical` · ‖a‖‖b‖ + `tiny`.
    canonical: f64,
    /// |g − c| ≤ `screen` · ‖a‖‖b‖ + `tiny`.
    screen: f64,
    /// Covers underflow: (r + 1) · 2⁻¹⁴⁹, absolute.
    tiny: f64,
}

/// Relative slack on a bound evaluated in f64 from a handful of operations
/// (each within 2⁻⁵³): orders of magnitude above their rounding.
const EVAL: f64 = 1.0 + 1e-12;

/// Rows whose norm product reaches this could overflow f32 inside the GEMM,
/// where the margins do not hold; such tiles are rescored in full.
const GEMM_SAFE: f64 = 1e37;

impl Margins {
    fn new(depth: usize, e: f64) -> Margins {
        let canonical = U32 + 2.0 * gamma(depth, U64);
        Margins {
            e,
            canonical,
            screen: gamma(depth, U32) + canonical,
            tiny: (depth as f64 + 1.0) * 2f64.powi(-149),
        }
    }

    /// ≥ |c| for rows with bounds (key_a, raw_a) and (key_b, raw_b): the
    /// smaller of the balanced and the raw Cauchy–Schwarz bounds on |t|,
    /// plus the canonical rounding margin.
    #[inline]
    fn bound(&self, key_a: f64, raw_a: f64, key_b: f64, raw_b: f64) -> f64 {
        let raw = raw_a * raw_b;
        let balanced = key_a * key_b + self.e * raw;
        not_nan((balanced.min(raw) + self.canonical * raw + self.tiny) * EVAL)
    }

    /// The largest |g − c| in a tile whose raw row norms are at most `raw_a`
    /// and `raw_b`; ∞ where the GEMM might overflow.
    fn screen(&self, raw_a: f64, raw_b: f64) -> f64 {
        let raw = raw_a * raw_b;
        if raw.is_nan() || raw >= GEMM_SAFE {
            return f64::INFINITY;
        }
        (self.screen * raw + 2.0 * self.tiny) * EVAL
    }
}

/// A run of consecutive rows of one side with the maxima of their bounds.
#[derive(Clone, Copy)]
struct Block {
    start: usize,
    len: usize,
    key: f64,
    raw: f64,
}

fn blocks(bounds: &Bounds, size: usize) -> Vec<Block> {
    let n = bounds.key.len();
    (0..n)
        .step_by(size.max(1))
        .map(|start| {
            let len = size.max(1).min(n - start);
            let range = start..start + len;
            Block {
                start,
                len,
                key: bounds.key[range.clone()]
                    .iter()
                    .copied()
                    .fold(0.0, f64::max),
                raw: bounds.raw[range].iter().copied().fold(0.0, f64::max),
            }
        })
        .collect()
}

/// One search over the allowed rows of A (`src`) and B (`dst`).
pub(super) fn run(
    mut src: Rows<'_>,
    mut dst: Rows<'_>,
    k: usize,
    exclude: Option<&(dyn Fn(u32, u32) -> bool + Sync)>,
    pruning: Pruning,
    shape: TileShape,
) -> (PairExtremes, PairStats) {
    let depth = src.depth();
    let (mut raw_a, mut raw_b, balance) = match pruning {
        Pruning::None => (
            factor::raw_norms(&src, None),
            factor::raw_norms(&dst, None),
            None,
        ),
        Pruning::Bounds => {
            let (mut gram_a, mut gram_b) = (Gram::new(depth), Gram::new(depth));
            let raw_a = factor::raw_norms(&src, Some(&mut gram_a));
            let raw_b = factor::raw_norms(&dst, Some(&mut gram_b));
            let balance = factor::balance((&src, gram_a, &raw_a), (&dst, gram_b, &raw_b));
            (raw_a, raw_b, balance)
        }
    };
    let mut stats = PairStats {
        balanced: balance.is_some(),
        ..PairStats::default()
    };
    let (mut key_a, mut key_b, e) = match balance {
        Some(balance) => (balance.src, balance.dst, balance.e),
        None => (raw_a.clone(), raw_b.clone(), 0.0),
    };
    if pruning == Pruning::Bounds {
        let order = descending(&key_a);
        src.reorder(&order);
        (key_a, raw_a) = (permuted(&key_a, &order), permuted(&raw_a, &order));
        let order = descending(&key_b);
        dst.reorder(&order);
        (key_b, raw_b) = (permuted(&key_b, &order), permuted(&raw_b, &order));
    }
    let bounds_a = Bounds {
        key: key_a,
        raw: raw_a,
    };
    let bounds_b = Bounds {
        key: key_b,
        raw: raw_b,
    };
    let margins = Margins::new(depth, e);
    let blocks_a = blocks(&bounds_a, shape.src);
    let blocks_b = blocks(&bounds_b, shape.dst);
    let mut tiles: Vec<(f64, usize, usize)> = Vec::with_capacity(blocks_a.len() * blocks_b.len());
    for (i, ba) in blocks_a.iter().enumerate() {
        for (j, bb) in blocks_b.iter().enumerate() {
            tiles.push((margins.bound(ba.key, ba.raw, bb.key, bb.raw), i, j));
        }
    }
    if pruning == Pruning::Bounds {
        // Largest bound first: the thresholds rise fastest, and once one
        // tile cannot matter no later one can.
        tiles.sort_by(|x, y| y.0.total_cmp(&x.0));
    }
    stats.tiles = tiles.len() as u64;

    let mut scan = Scan {
        src: Side::new(&src, &blocks_a),
        dst: Side::new(&dst, &blocks_b),
        depth,
        exclude,
        top: PairReservoir::new(k, true),
        bottom: PairReservoir::new(k, false),
        scores: vec![0f32; shape.src.max(1) * shape.dst.max(1)],
    };
    let mut done = 0u64;
    for &(bound, i, j) in &tiles {
        let (ba, bb) = (blocks_a[i], blocks_b[j]);
        let (rows, cols) = match pruning {
            Pruning::None => (ba.len, bb.len),
            Pruning::Bounds => {
                let theta = scan.theta();
                if bound < theta {
                    break;
                }
                // Rows whose own bound (against the whole B block) reaches
                // θ; they need not be a prefix, so keep up to the last one.
                let rows = (0..ba.len)
                    .rposition(|r| {
                        let x = ba.start + r;
                        margins.bound(bounds_a.key[x], bounds_a.raw[x], bb.key, bb.raw) >= theta
                    })
                    .map_or(0, |r| r + 1);
                let cols = (0..bb.len)
                    .rposition(|c| {
                        let y = bb.start + c;
                        margins.bound(ba.key, ba.raw, bounds_b.key[y], bounds_b.raw[y]) >= theta
                    })
                    .map_or(0, |c| c + 1);
                (rows, cols)
            }
        };
        done += 1;
        stats.computed += (rows * cols) as u64;
        scan.tile(i, rows, j, cols, margins.screen(ba.raw, bb.raw));
    }
    stats.tiles_skipped = stats.tiles - done;
    let extremes = PairExtremes {
        top: scan.top.finish(),
        bottom: scan.bottom.finish(),
    };
    (extremes, stats)
}

/// One factor's rows as the tile loop reads them: a block is copied
/// contiguous the first time a tile needs it.
struct Side<'r, 'a> {
    rows: &'r Rows<'a>,
    blocks: &'r [Block],
    /// Block b's rows, `blocks[b].len × depth`; empty until first needed.
    copies: Vec<Vec<f32>>,
}

impl<'r, 'a> Side<'r, 'a> {
    fn new(rows: &'r Rows<'a>, blocks: &'r [Block]) -> Side<'r, 'a> {
        Side {
            rows,
            blocks,
            copies: vec![Vec::new(); blocks.len()],
        }
    }

    /// Block `b`'s rows, copied on first use.
    fn block(&mut self, b: usize) -> &[f32] {
        let Block { start, len, .. } = self.blocks[b];
        if self.copies[b].is_empty() && len > 0 {
            self.rows.copy(start, len, &mut self.copies[b]);
        }
        &self.copies[b]
    }
}

/// The state of the score-and-select loop.
struct Scan<'r, 'a> {
    src: Side<'r, 'a>,
    dst: Side<'r, 'a>,
    depth: usize,
    exclude: Option<&'r (dyn Fn(u32, u32) -> bool + Sync)>,
    top: PairReservoir,
    bottom: PairReservoir,
    scores: Vec<f32>,
}

impl Scan<'_, '_> {
    /// A tile can change a list only if its bound on |c| reaches the k-th
    /// highest score, or its negation reaches the k-th lowest.
    fn theta(&mut self) -> f64 {
        self.top.tighten();
        self.bottom.tighten();
        f64::from(self.top.threshold()).min(-f64::from(self.bottom.threshold()))
    }

    /// Scores the first `rows` rows of A block `ia` against the first `cols`
    /// rows of B block `jb` and offers every entry that could be kept.
    /// `slack` ≥ |g − c| in the tile.
    fn tile(&mut self, ia: usize, rows: usize, jb: usize, cols: usize, slack: f64) {
        if rows == 0 || cols == 0 {
            return;
        }
        let depth = self.depth;
        self.src.block(ia);
        self.dst.block(jb);
        let mut scores = std::mem::take(&mut self.scores);
        let out = &mut scores[..rows * cols];
        score_tile(
            &self.src.copies[ia][..rows * depth],
            &self.dst.copies[jb][..cols * depth],
            depth,
            rows,
            cols,
            out,
        );
        for (r, row) in out.chunks_exact(cols).enumerate() {
            // An entry with c ≥ the k-th highest has g ≥ that − slack (and
            // likewise below), so everything else is safely passed over.
            let low = f32_at_most(f64::from(self.top.threshold()) - slack);
            let high = f32_at_least(f64::from(self.bottom.threshold()) + slack);
            // A candidate is outside (low, high); NaN (possible only if the
            // GEMM overflowed) counts as one and is rescored.
            let passes = |g: f32| !(g < low && g > high);
            let chunks = row.chunks_exact(16);
            let tail = chunks.remainder();
            for (c0, chunk) in chunks.enumerate() {
                // Branch-free test of a whole fixed-size chunk first, which
                // vectorises; almost every chunk has no candidate.
                if !chunk.iter().fold(false, |hit, &g| hit | passes(g)) {
                    continue;
                }
                for (c1, &g) in chunk.iter().enumerate() {
                    if passes(g) {
                        self.offer(ia, r, jb, c0 * 16 + c1);
                    }
                }
            }
            for (c1, &g) in tail.iter().enumerate() {
                if passes(g) {
                    self.offer(ia, r, jb, cols - tail.len() + c1);
                }
            }
        }
        self.scores = scores;
    }

    /// Rescores row `r` of A block `ia` against row `c` of B block `jb`
    /// canonically and offers it to both lists.
    #[inline(never)]
    fn offer(&mut self, ia: usize, r: usize, jb: usize, c: usize) {
        let src = self.src.rows.id(self.src.blocks[ia].start + r);
        let dst = self.dst.rows.id(self.dst.blocks[jb].start + c);
        if self.exclude.is_some_and(|exclude| exclude(src, dst)) {
            return;
        }
        let depth = self.depth;
        let score = canonical_dot(
            &self.src.copies[ia][r * depth..(r + 1) * depth],
            &self.dst.copies[jb][c * depth..(c + 1) * depth],
        );
        if score.is_nan() {
            return;
        }
        let pair = Pair { src, dst, score };
        self.top.offer(pair);
        self.bottom.offer(pair);
    }
}

/// The largest f32 not above `x` (−∞ for NaN, which only arises from
/// infinite thresholds and slack and must let everything through).
fn f32_at_most(x: f64) -> f32 {
    if x.is_nan() {
        return f32::NEG_INFINITY;
    }
    let y = x as f32;
    if f64::from(y) > x {
        y.next_down()
    } else {
        y
    }
}

/// The smallest f32 not below `x` (+∞ for NaN).
fn f32_at_least(x: f64) -> f32 {
    if x.is_nan() {
        return f32::INFINITY;
    }
    let y = x as f32;
    if f64::from(y) < x {
        y.next_up()
    } else {
        y
    }
}

/// The canonical score: products exact in f64, summed in a fixed order
/// (four interleaved partial sums, then the tail), rounded once to f32.
#[inline]
fn canonical_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_tail, b_tail) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    for (x, y) in a_tail.iter().zip(b_tail) {
        acc[0] += f64::from(*x) * f64::from(*y);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) as f32
}

/// `out[r, c] = a[r] · b[c]` for contiguous row-major `a` (rows × depth) and
/// `b` (cols × depth), row-major `rows × cols`.
fn score_tile(a: &[f32], b: &[f32], depth: usize, rows: usize, cols: usize, out: &mut [f32]) {
    debug_assert_eq!(out.len(), rows * cols);
    if depth == 0 {
        out.fill(0.0);
        return;
    }
    // SAFETY: `a` holds rows × depth and `b` cols × depth elements (slices
    // taken by the caller) and `out` rows × cols. The right-hand side is b
    // transposed: element (d, c) is b[c · depth + d].
    unsafe {
        gemm::gemm(
            rows,
            cols,
            depth,
            out.as_mut_ptr(),
            1,
            cols as isize,
            false,
            a.as_ptr(),
            1,
            depth as isize,
            b.as_ptr(),
            depth as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{MatrixView, TokenFilter};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    fn factor(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(rows * cols);
        for _ in 0..rows {
            let scale = (0.5 * rng.sample::<f32, _>(StandardNormal)).exp();
            out.extend((0..cols).map(|_| scale * rng.sample::<f32, _>(StandardNormal)));
        }
        out
    }

    fn search(
        a: &[f32],
        b: &[f32],
        depth: usize,
        pruning: Pruning,
        shape: TileShape,
    ) -> (PairExtremes, PairStats) {
        let rows = |x: &[f32]| x.len() / depth;
        let exclude = |i: u32, j: u32| (i + 2 * j).is_multiple_of(9);
        run(
            Rows::allowed(MatrixView::row_major(a, rows(a), depth), TokenFilter::all()),
            Rows::allowed(MatrixView::row_major(b, rows(b), depth), TokenFilter::all()),
            17,
            Some(&exclude),
            pruning,
            shape,
        )
    }

    #[test]
    fn results_do_not_depend_on_tiles_or_pruning() {
        // Tiles of 7 × 13 end mid-way through both factors and exercise the
        // trimming of rows and columns inside tiles.
        let depth = 11;
        let a = factor(301, depth, 1);
        let b = factor(257, depth, 2);
        let small = TileShape { src: 7, dst: 13 };
        let (reference, _) = search(&a, &b, depth, Pruning::None, TileShape::default());
        let bits = |e: &PairExtremes| -> Vec<(u32, u32, u32)> {
            e.top
                .iter()
                .chain(&e.bottom)
                .map(|p| (p.src, p.dst, p.score.to_bits()))
                .collect()
        };
        for (pruning, shape) in [
            (Pruning::None, small),
            (Pruning::Bounds, small),
            (Pruning::Bounds, TileShape::default()),
            (Pruning::Bounds, TileShape { src: 1, dst: 1 }),
        ] {
            let (extremes, stats) = search(&a, &b, depth, pruning, shape);
            assert_eq!(bits(&extremes), bits(&reference), "{pruning:?} {shape:?}");
            if pruning == Pruning::Bounds && shape == small {
                assert!(stats.tiles_skipped > stats.tiles / 2, "{stats:?}");
                assert!(stats.computed < 301 * 257 / 4, "{stats:?}");
            }
        }
    }

    #[test]
    fn f32_rounding_goes_outward() {
        let x = 0.1f64;
        assert!(f64::from(f32_at_most(x)) <= x && f64::from(f32_at_least(x)) >= x);
        assert_eq!(f32_at_most(f64::MAX), f32::MAX);
        assert_eq!(f32_at_least(-f64::MAX), -f32::MAX);
        assert_eq!(f32_at_most(f64::NAN), f32::NEG_INFINITY);
        assert_eq!(f32_at_least(f64::NAN), f32::INFINITY);
        assert_eq!(f32_at_most(1.0), 1.0);
    }

    #[test]
    fn canonical_dot_is_the_rounded_f64_sum() {
        let a = [1e8f32, 1.0, -1e8, 0.5, 3.0];
        let b = [1.0f32, 1.0, 1.0, 1.0, 2.0];
        // f32 accumulation in order would lose the 1.0 and 0.5 against 1e8.
        assert_eq!(canonical_dot(&a, &b), 7.5);
        assert_eq!(canonical_dot(&[], &[]), 0.0);
    }
}
