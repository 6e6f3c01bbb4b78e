//! Bounds on the entries of A · Bᵀ, for single rows and for blocks of rows.
//!
//! With a centre α for the rows of A and β for the rows of B, exactly
//!
//! a · b = (a − α) · (b − β) + a · β + α · b − α · β,
//!
//! and by Cauchy–Schwarz |(a − α) · (b − β)| is at most ‖a − α‖ ‖b − β‖,
//! or the balanced ‖(a − α) T_a‖ ‖(b − β) T_b‖ + ‖E‖_F ‖a − α‖ ‖b − β‖
//! (see `factor`). Each row therefore carries an interval for its *shift*
//! (a · β for a row of A, α · b for a row of B) and bounds on its centred
//! norms, and every entry lies in
//!
//! [shift_a + shift_b − α·β − W, shift_a + shift_b − α·β + W],
//!
//! W bounding the centred product, intersected with [−‖a‖ ‖b‖, ‖a‖ ‖b‖].
//! The centres are the mean rows. Centring matters when the factors share
//! a mean direction, as trained embeddings do: every entry then carries the
//! offset α·β, which norm bounds alone cannot see past (with a positive
//! offset even the lowest entries are positive, and no bound on |a · b| can
//! rule anything out for the bottom list).
//!
//! Every bound covers the rounding of the arithmetic that produced it and
//! is widened to bound the canonical score c, not just the exact product
//! (module docs of `pairs`).

use nalgebra::DMatrix;

use crate::kernel::multiply;
use crate::view::MatrixView;

use super::factor::{balance, gamma, norm, not_nan, slack, Moments, U32, U64};
use super::lists::Pruning;
use super::rows::Rows;

/// Rows per chunk when streaming a factor: the chunk and its product with T
/// stay in cache, and the f32 Gram of one chunk is accurate enough before it
/// is added up in f64.
const CHUNK: usize = 1024;

/// Relative slack on a bound evaluated in f64 from a handful of operations
/// (each within 2⁻⁵³ of its magnitude): orders of magnitude above their
/// rounding.
const EVAL: f64 = 1e-12;

/// Rows whose norm product reaches this could overflow f32 inside the GEMM,
/// where the screening margin does not hold; such tiles are rescored in full.
const GEMM_SAFE: f64 = 1e37;

/// What the bounds know about one row, or (covering them all) a block of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Reach {
    /// ≤ the row's shift.
    pub(super) low: f64,
    /// ≥ the row's shift.
    pub(super) high: f64,
    /// ≥ ‖(x − centre) T‖ when balanced, else ≥ ‖x − centre‖.
    pub(super) key: f64,
    /// ≥ ‖x − centre‖.
    pub(super) centred: f64,
    /// ≥ ‖x‖.
    pub(super) raw: f64,
}

impl Reach {
    /// Bounds that hold for every row in `rows` (all zero for none).
    pub(super) fn cover(rows: &[Reach]) -> Reach {
        let mut all = rows.first().copied().unwrap_or(Reach {
            low: 0.0,
            high: 0.0,
            key: 0.0,
            centred: 0.0,
            raw: 0.0,
        });
        for r in rows {
            all.low = all.low.min(r.low);
            all.high = all.high.max(r.high);
            all.key = all.key.max(r.key);
            all.centred = all.centred.max(r.centred);
            all.raw = all.raw.max(r.raw);
        }
        all
    }
}

/// Per-row bounds of both factors (in their current row order) and the
/// constants that combine them.
pub(super) struct Profile {
    pub(super) src: Vec<Reach>,
    pub(super) dst: Vec<Reach>,
    /// Whether the balanced transforms were used.
    pub(super) balanced: bool,
    /// ≥ ‖T_a T_bᵀ − I‖_F; 0 without balancing.
    e: f64,
    /// ≤ α · β.
    offset_low: f64,
    /// ≥ α · β.
    offset_high: f64,
    /// |c − t| ≤ `canonical` · ‖a‖ ‖b‖ + `tiny` (pairs module docs).
    canonical: f64,
    /// |g − c| ≤ `screen` · ‖a‖ ‖b‖ + 2 `tiny`.
    screen: f64,
    /// Covers underflow: (r + 1) · 2⁻¹⁴⁹, absolute.
    tiny: f64,
}

impl Profile {
    /// The bounds for a search. [`Pruning::None`] only needs ‖x‖ (for the
    /// screening margin), so it skips centring and balancing.
    pub(super) fn new(a: &Rows<'_>, b: &Rows<'_>, pruning: Pruning) -> Profile {
        let depth = a.depth();
        let canonical = U32 + 2.0 * gamma(depth, U64);
        let mut profile = Profile {
            src: Vec::new(),
            dst: Vec::new(),
            balanced: false,
            e: 0.0,
            offset_low: 0.0,
            offset_high: 0.0,
            canonical,
            screen: gamma(depth, U32) + canonical,
            tiny: (depth as f64 + 1.0) * 2f64.powi(-149),
        };
        if pruning == Pruning::None || depth == 0 {
            profile.src = plain_reaches(a);
            profile.dst = plain_reaches(b);
            return profile;
        }
        let (alpha, beta) = (centre(a), centre(b));
        let (mut moments_a, mut moments_b) = (Moments::new(depth), Moments::new(depth));
        profile.src = reaches(a, &alpha, &beta, &mut moments_a);
        profile.dst = reaches(b, &beta, &alpha, &mut moments_b);
        if let Some(t) = balance(
            &moments_a.centred_gram(&alpha),
            &moments_b.centred_gram(&beta),
        ) {
            balanced_keys(a, &alpha, &t.t_a, t.norm_a, &mut profile.src);
            balanced_keys(b, &beta, &t.t_b, t.norm_b, &mut profile.dst);
            profile.balanced = true;
            profile.e = t.e;
        }
        // Products of f32 values are exact in f64; the sum is within γ_r of
        // Σ |α_l β_l| ≤ ‖α‖ ‖β‖.
        let offset = dot(&alpha, &beta);
        let error = slack(depth) * norm(&alpha) * norm(&beta);
        (profile.offset_low, profile.offset_high) = (offset - error, offset + error);
        profile
    }

    /// [lower, upper] containing the canonical score of every pair of a row
    /// that `a` covers (of A) and a row that `b` covers (of B); ±∞ where a
    /// bound is unknown (NaN or infinite inputs).
    #[inline]
    pub(super) fn range(&self, a: &Reach, b: &Reach) -> (f64, f64) {
        let plain = a.raw * b.raw;
        let centred = a.centred * b.centred;
        // Each is a valid bound on |(a − α) · (b − β)| on its own; `min`
        // keeps the other if one is NaN.
        let w = (a.key * b.key + self.e * centred).min(centred);
        let upper = plain.min(a.high + b.high - self.offset_low + w);
        let lower = (-plain).max(a.low + b.low - self.offset_high - w);
        let magnitudes = a.low.abs()
            + a.high.abs()
            + b.low.abs()
            + b.high.abs()
            + self.offset_low.abs()
            + self.offset_high.abs()
            + w
            + plain;
        let margin = self.canonical * plain + self.tiny + EVAL * magnitudes;
        let (lower, upper) = (lower - margin, upper + margin);
        (
            if lower.is_nan() {
                f64::NEG_INFINITY
            } else {
                lower
            },
            not_nan(upper),
        )
    }

    /// ≥ |g − c| for every pair that `a` and `b` cover: how far the f32 GEMM
    /// can be from the canonical score. ∞ where the GEMM might overflow.
    #[inline]
    pub(super) fn screen(&self, a: &Reach, b: &Reach) -> f64 {
        let plain = a.raw * b.raw;
        if plain.is_nan() || plain >= GEMM_SAFE {
            return f64::INFINITY;
        }
        (self.screen * plain + 2.0 * self.tiny) * (1.0 + EVAL)
    }
}

/// Rows averaged for a centre: enough to find a shared mean direction.
const SAMPLE: usize = 1024;

/// A side is centred only if its mean carries at least this share of the
/// rows' mean squared norm: below it, centring on a sampled mean would add
/// the sample's noise to every bound and gain nothing.
const CENTRE: f64 = 0.01;

/// The mean of up to [`SAMPLE`] evenly spaced rows, rounded to f32, or
/// zeros (no centring) when the rows share no mean direction or it is not
/// finite. Any centre gives valid bounds, so an estimate does, and it is
/// known before the one pass that needs it.
fn centre(rows: &Rows<'_>) -> Vec<f32> {
    let depth = rows.depth();
    let step = rows.len().div_ceil(SAMPLE).max(1);
    let mut sum = vec![0f64; depth];
    let (mut count, mut squares) = (0usize, 0f64);
    let mut row = Vec::with_capacity(depth);
    for i in (0..rows.len()).step_by(step) {
        row.clear();
        rows.copy(i, 1, &mut row);
        for (s, &x) in sum.iter_mut().zip(&row) {
            *s += f64::from(x);
        }
        squares += norm(&row).powi(2);
        count += 1;
    }
    let n = count.max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let shared = norm(&mean).powi(2);
    // Written so that NaN (non-finite rows) fails too.
    if shared >= CENTRE * squares / n && mean.iter().all(|x| x.is_finite()) {
        mean
    } else {
        vec![0.0; depth]
    }
}

/// ‖x_i‖ bounds for every row, in processing order, for searches that need
/// nothing else: centres at 0, so no shift and the centred norm is ‖x‖.
fn plain_reaches(rows: &Rows<'_>) -> Vec<Reach> {
    let depth = rows.depth();
    let up = 1.0 + slack(depth);
    let mut out = Vec::with_capacity(rows.len());
    rows.for_chunks(CHUNK, |_, chunk| {
        out.extend(chunk.chunks_exact(depth.max(1)).map(|row| {
            let raw = not_nan(norm(row) * up);
            Reach {
                low: 0.0,
                high: 0.0,
                key: raw,
                centred: raw,
                raw,
            }
        }));
    });
    // Zero-width rows: every chunk is empty.
    out.resize(rows.len(), Reach::cover(&[]));
    out
}

/// Σ x_l y_l in f64 (exact products, rounded sum), eight partial sums.
#[inline]
fn dot(x: &[f32], y: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let (xs, ys) = (x.chunks_exact(8), y.chunks_exact(8));
    for (&u, &v) in xs.remainder().iter().zip(ys.remainder()) {
        acc[0] += f64::from(u) * f64::from(v);
    }
    for (u, v) in xs.zip(ys) {
        for l in 0..8 {
            acc[l] += f64::from(u[l]) * f64::from(v[l]);
        }
    }
    acc.iter().sum()
}

/// (‖x‖², ‖x − c‖², x · y) in f64, in one pass over x: the squares of f32
/// values, their differences (exact in f64 unless the exponents are far
/// apart, and then within 2⁻⁵³ of themselves) and the products are summed
/// in eight partial sums each, so the loop vectorises; the order only
/// changes the last bits, which `slack` covers.
#[inline]
fn row_sums(x: &[f32], c: &[f32], y: &[f32]) -> (f64, f64, f64) {
    let (mut squares, mut centred, mut products) = ([0f64; 8], [0f64; 8], [0f64; 8]);
    let (xs, cs, ys) = (x.chunks_exact(8), c.chunks_exact(8), y.chunks_exact(8));
    let tails = xs
        .remainder()
        .iter()
        .zip(cs.remainder())
        .zip(ys.remainder());
    for ((&u, &v), &w) in tails {
        let (u, d) = (f64::from(u), f64::from(u) - f64::from(v));
        squares[0] += u * u;
        centred[0] += d * d;
        products[0] += u * f64::from(w);
    }
    for ((u, v), w) in xs.zip(cs).zip(ys) {
        for l in 0..8 {
            let (x, d) = (f64::from(u[l]), f64::from(u[l]) - f64::from(v[l]));
            squares[l] += x * x;
            centred[l] += d * d;
            products[l] += x * f64::from(w[l]);
        }
    }
    let sum = |acc: [f64; 8]| acc.iter().sum::<f64>();
    (sum(squares), sum(centred), sum(products))
}

/// The [`Reach`] of every row of one factor with centre `centre` and the
/// other factor's centre `other`, keyed by the centred norm; adds the rows
/// to `moments` in the same pass.
///
/// ‖x‖ and ‖x − centre‖: the squares (of f32 values, or of their differences,
/// exact in f64 unless the exponents are far apart) sum to within γ_r of
/// themselves, and the square root adds a rounding. The shift x · other: the
/// products are exact in f64, the sum within γ_r Σ |x_l other_l| ≤
/// γ_r ‖x‖ ‖other‖. NaN (from NaN inputs) turns into unbounded values, so
/// that such rows are never pruned.
fn reaches(rows: &Rows<'_>, centre: &[f32], other: &[f32], moments: &mut Moments) -> Vec<Reach> {
    let depth = rows.depth();
    let slack = slack(depth);
    let other_norm = norm(other) * (1.0 + slack);
    let mut out = Vec::with_capacity(rows.len());
    rows.for_chunks(CHUNK, |_, chunk| {
        moments.add(chunk);
        out.extend(chunk.chunks_exact(depth).map(|row| {
            let (squares, centred, shift) = row_sums(row, centre, other);
            let raw = not_nan(squares.sqrt() * (1.0 + slack));
            let centred = not_nan(centred.sqrt() * (1.0 + slack));
            let error = slack * raw * other_norm;
            let (low, high) = if shift.is_nan() || error.is_nan() {
                (f64::NEG_INFINITY, f64::INFINITY)
            } else {
                (shift - error, shift + error)
            };
            Reach {
                low,
                high,
                key: centred,
                centred,
                raw,
            }
        }));
    });
    out
}

/// Replaces each row's key by a bound on ‖(x − centre) T‖, for the balanced
/// transform T (≥ ‖T‖_F is `norm_t`).
///
/// The f32 GEMM gives y with |y − x T| ≤ γ_r(f32) |x| |T| entrywise (plus
/// r·2⁻¹⁴⁹ for underflow), and z = centre · T in f64 is within
/// γ_r(f64) |centre| |T|, so
/// ‖(x − centre) T‖ ≤ ‖y − z‖ + (γ_r(f32) ‖x‖ + γ_r(f64) ‖centre‖) ‖T‖_F + r²·2⁻¹⁴⁹.
fn balanced_keys(
    rows: &Rows<'_>,
    centre: &[f32],
    t: &DMatrix<f32>,
    norm_t: f64,
    reach: &mut [Reach],
) {
    let depth = rows.depth();
    let slack = slack(depth);
    let centre_norm = norm(centre) * (1.0 + slack);
    let underflow = (depth * depth) as f64 * 2f64.powi(-149);
    let z: Vec<f64> = (0..depth)
        .map(|j| {
            (0..depth)
                .map(|l| f64::from(centre[l]) * f64::from(t[(l, j)]))
                .sum()
        })
        .collect();
    let mut product = vec![0f32; CHUNK * depth];
    rows.for_chunks(CHUNK, |start, chunk| {
        let count = chunk.len() / depth;
        // `t` is depth × depth column-major (element (l, j) at j·depth + l).
        multiply(
            MatrixView::row_major(chunk, count, depth),
            MatrixView::row_major(t.as_slice(), depth, depth).transposed(),
            &mut product[..count * depth],
        );
        let rows = product[..count * depth].chunks_exact(depth);
        for (y, r) in rows.zip(&mut reach[start..start + count]) {
            let moved = y
                .iter()
                .zip(&z)
                .map(|(&y, z)| (f64::from(y) - z) * (f64::from(y) - z))
                .sum::<f64>()
                .sqrt();
            let rounding =
                (gamma(depth, U32) * r.raw + gamma(depth, U64) * centre_norm) * norm_t + underflow;
            r.key = not_nan((moved * (1.0 + slack) + rounding) * (1.0 + slack));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{MatrixView, TokenFilter};

    /// Pseudo-random rows whose columns have very different scales, plus a
    /// shared offset.
    fn skewed(rows: usize, depth: usize, seed: u64, flip: bool, offset: f32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..rows * depth)
            .map(|n| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let x = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                let c = n % depth;
                let scale = if (c < depth / 2) ^ flip { 30.0 } else { 0.1 };
                x * scale + offset
            })
            .collect()
    }

    fn profile(a: &[f32], b: &[f32], depth: usize) -> Profile {
        let rows = |x| {
            Rows::allowed(
                MatrixView::row_major(x, x.len() / depth, depth),
                TokenFilter::all(),
            )
        };
        Profile::new(&rows(a), &rows(b), Pruning::Bounds)
    }

    /// Every entry inside its pairwise range; returns the mean width of the
    /// ranges against that of the plain ±‖a‖ ‖b‖.
    fn check_ranges(a: &[f32], b: &[f32], depth: usize) -> (Profile, f64) {
        let p = profile(a, b, depth);
        let (mut width, mut plain) = (0.0, 0.0);
        for (i, ra) in p.src.iter().enumerate() {
            for (j, rb) in p.dst.iter().enumerate() {
                let x = &a[i * depth..(i + 1) * depth];
                let y = &b[j * depth..(j + 1) * depth];
                let t = dot(x, y);
                let (lower, upper) = p.range(ra, rb);
                assert!(
                    lower <= t && t <= upper,
                    "({i}, {j}): {t} outside [{lower}, {upper}]"
                );
                width += upper - lower;
                plain += 2.0 * ra.raw * rb.raw;
            }
        }
        (p, width / plain)
    }

    #[test]
    fn balanced_ranges_hold_and_are_tighter_on_skewed_factors() {
        let d = 6;
        let (p, ratio) = check_ranges(
            &skewed(300, d, 1, false, 0.0),
            &skewed(300, d, 2, true, 0.0),
            d,
        );
        assert!(p.balanced);
        assert!(p.e < 1e-4, "e = {}", p.e);
        assert!(ratio < 0.1, "{ratio}");
    }

    #[test]
    fn centring_sees_past_a_shared_offset() {
        // Every entry is about 6 · 40² = 9600 (the offsets' product) give
        // or take much less: a plain bound spans ±‖a‖ ‖b‖, the centred one
        // little more than the spread.
        let d = 6;
        let a = skewed(200, d, 3, false, 40.0);
        let b = skewed(200, d, 4, false, 40.0);
        let (p, ratio) = check_ranges(&a, &b, d);
        assert!(ratio < 0.2, "{ratio}");
        let (lower, _) = p.range(&Reach::cover(&p.src), &Reach::cover(&p.dst));
        assert!(lower > 0.0, "{lower}");
    }

    #[test]
    fn rank_deficient_factors_are_not_balanced() {
        let d = 4;
        // The last column repeats the first: the Gram matrix is singular.
        let mut a = skewed(50, d, 5, false, 0.0);
        for row in a.chunks_exact_mut(d) {
            row[3] = row[0];
        }
        let (p, _) = check_ranges(&a, &skewed(50, d, 6, true, 0.0), d);
        assert!(!p.balanced);
    }
}
