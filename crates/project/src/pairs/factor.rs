//! Row-norm bounds on the entries of A · Bᵀ, from the factors as given
//! (raw) and after the balanced refactorisation of FEXIPRO (Li et al.,
//! SIGMOD 2017).
//!
//! For any T_a, T_b with T_a T_bᵀ = I, A · Bᵀ = (A T_a)(B T_b)ᵀ, so
//! |a · b| ≤ ‖a T_a‖ ‖b T_b‖ (Cauchy–Schwarz). The raw bound ‖a‖ ‖b‖ is
//! loose when A and B spread their energy over different directions (a
//! direction where A is large and B small inflates ‖a‖ but adds little to
//! any product); the balanced T makes A T_a and B T_b share the same Gram
//! matrix, which removes that slack.
//!
//! Every bound here is an upper bound on the exact real number, including
//! the rounding of the arithmetic that produced it; see [`Balance`],
//! [`raw_norms`] and `transformed_norms` for the terms that cover it. The
//! GEMMs run in f32 (half the time of f64, and these passes over the
//! factors are most of the cost of a well-pruned search): their rounding is
//! covered by the same kind of margin.

use nalgebra::DMatrix;

use super::rows::Rows;

/// Rows per chunk when streaming a factor through a GEMM: the chunk and its
/// product stay in cache, and the f32 Gram of one chunk is accurate enough
/// before it is added up in f64.
const CHUNK: usize = 1024;

/// γ_n = n·u / (1 − n·u): the relative error bound of an n-term sum or dot
/// product in a precision with unit roundoff u (Higham, Accuracy and
/// Stability of Numerical Algorithms, §3.1), for any summation order and
/// with or without FMA.
pub(super) fn gamma(n: usize, unit: f64) -> f64 {
    let nu = n as f64 * unit;
    if nu < 0.5 {
        nu / (1.0 - nu)
    } else {
        f64::INFINITY
    }
}

/// The balanced bounds are used only when they shrink the mean squared
/// norm product by more than this factor (see `balance`).
const GAIN: f64 = 1.1;

/// Unit roundoff of f64.
pub(super) const U64: f64 = f64::EPSILON / 2.0;

/// Unit roundoff of f32.
pub(super) const U32: f64 = f32::EPSILON as f64 / 2.0;

/// Relative slack for every f64 quantity computed here from r-term sums
/// (norms, T products, and the few operations combining them): twice the
/// error bound of an (r² + r + 8)-term sum, far above what any of them can
/// accumulate and still ~1e-12 for r = 64.
fn slack(depth: usize) -> f64 {
    2.0 * gamma(depth * depth + depth + 8, U64)
}

/// ‖x‖ in f64. Eight partial sums let the loop vectorise; the order only
/// changes the last bits, which `slack` covers.
#[inline]
fn norm<T: Copy + Into<f64>>(x: &[T]) -> f64 {
    let mut acc = [0f64; 8];
    let lanes = x.chunks_exact(8);
    let tail = lanes.remainder();
    for lane in lanes {
        for (a, &v) in acc.iter_mut().zip(lane) {
            let v: f64 = v.into();
            *a += v * v;
        }
    }
    for &v in tail {
        let v: f64 = v.into();
        acc[0] += v * v;
    }
    acc.iter().sum::<f64>().sqrt()
}

/// Upper bounds on ‖x_i‖ for every row, in processing order, and the Gram
/// matrix XᵀX when `gram` is given (in the same pass over the rows).
///
/// The squares of f32 values are exact in f64 and their sum is off by at
/// most γ_r of itself; the square root and the final product add two more
/// roundings. NaN (from NaN inputs) becomes +∞ so that such rows are never
/// pruned.
pub(super) fn raw_norms(rows: &Rows<'_>, mut gram: Option<&mut Gram>) -> Vec<f64> {
    let depth = rows.depth();
    if depth == 0 {
        return vec![0.0; rows.len()];
    }
    let up = 1.0 + slack(depth);
    let mut out = Vec::with_capacity(rows.len());
    rows.for_chunks(CHUNK, |_, chunk| {
        out.extend(chunk.chunks_exact(depth).map(|row| not_nan(norm(row) * up)));
        if let Some(gram) = gram.as_deref_mut() {
            gram.add(chunk);
        }
    });
    out
}

/// NaN → +∞: an unknown bound must not prune anything.
#[inline]
pub(super) fn not_nan(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x
    }
}

/// Bounds from a balanced refactorisation.
///
/// With the T_a and T_b actually used (f32 matrices, so T_a T_bᵀ is not
/// exactly I), let E = T_a T_bᵀ − I. Then exactly
/// a · b = (a T_a) · (b T_b) − a E bᵀ, so
/// |a · b| ≤ ‖a T_a‖ ‖b T_b‖ + ‖E‖_F ‖a‖ ‖b‖.
/// `src` and `dst` bound the first factors, `e` bounds ‖E‖_F (about 1e-6:
/// f32 rounding of T), and `raw` norms bound the rest.
pub(super) struct Balance {
    /// ≥ ‖a_i T_a‖ for every row of A.
    pub(super) src: Vec<f64>,
    /// ≥ ‖b_j T_b‖ for every row of B.
    pub(super) dst: Vec<f64>,
    /// ≥ ‖T_a T_bᵀ − I‖_F.
    pub(super) e: f64,
}

/// The balanced factorisation of the allowed rows of A and B, or
/// `None` when a Gram matrix is singular, badly conditioned or not finite
/// (rank-deficient or non-finite factors), in which case the raw bounds
/// serve alone.
///
/// G_a = AᵀA = R_aᵀR_a and G_b = R_bᵀR_b (Cholesky); A R_a⁻¹ and B R_b⁻¹
/// have orthonormal columns, and with the SVD R_a R_bᵀ = U S Vᵀ the choice
/// T_a = R_a⁻¹ U S^½, T_b = R_b⁻¹ V S^½ gives T_a T_bᵀ = I and
/// (A T_a)ᵀ(A T_a) = (B T_b)ᵀ(B T_b) = S. None of this needs to be accurate:
/// `e` measures how far the T's used are from exact inverses, so accuracy
/// only affects tightness.
pub(super) fn balance(
    (a, gram_a, raw_a): (&Rows<'_>, Gram, &[f64]),
    (b, gram_b, raw_b): (&Rows<'_>, Gram, &[f64]),
) -> Option<Balance> {
    let depth = a.depth();
    if depth == 0 {
        return None;
    }
    let (g_a, g_b) = (gram_a.sum, gram_b.sum);
    let r_a = cholesky_upper(&g_a)?;
    let r_b = cholesky_upper(&g_b)?;
    let svd = (&r_a * r_b.transpose()).svd(true, true);
    // Σ_i ‖a_i‖² = tr G_a, and after balancing Σ_i ‖a_i T_a‖² = tr S (the
    // same for B). tr S ≤ √(tr G_a · tr G_b) always; near equality the two
    // bounds are about as tight, and the raw ones need no further pass over
    // the factors (nor the f32 rounding of T).
    let nuclear = svd.singular_values.sum();
    if g_a.trace() * g_b.trace() < GAIN * nuclear * nuclear {
        return None;
    }
    let (u, v_t) = (svd.u?, svd.v_t?);
    let root = DMatrix::from_diagonal(&svd.singular_values.map(f64::sqrt));
    // Rounded to f32 for the GEMMs; from here on these are the T's.
    let t_a = r_a.solve_upper_triangular(&(u * &root))?.map(|x| x as f32);
    let t_b = r_b
        .solve_upper_triangular(&(v_t.transpose() * &root))?
        .map(|x| x as f32);

    let slack = slack(depth);
    let wide = |t: &DMatrix<f32>| t.map(f64::from);
    let (wide_a, wide_b) = (wide(&t_a), wide(&t_b));
    let norm_a = wide_a.norm() * (1.0 + slack);
    let norm_b = wide_b.norm() * (1.0 + slack);
    let err = &wide_a * wide_b.transpose() - DMatrix::<f64>::identity(depth, depth);
    // The f64 product differs from T_a T_bᵀ by at most γ_r |T_a||T_b|ᵀ
    // entrywise, whose Frobenius norm is at most γ_r ‖T_a‖_F ‖T_b‖_F.
    let e = (err.norm() + slack * norm_a * norm_b) * (1.0 + slack);
    // A transform this far from exact comes from an ill-conditioned
    // factorisation: its bounds would be valid but useless.
    if !(e < 1e-3) {
        return None;
    }
    Some(Balance {
        src: transformed_norms(a, &t_a, norm_a, raw_a),
        dst: transformed_norms(b, &t_b, norm_b, raw_b),
        e,
    })
}

/// The upper-triangular R with G = RᵀR, or `None` when G is not positive
/// definite or its condition number exceeds about 10¹⁰ (a pivot below 10⁻⁵
/// of the largest): the factor is then (numerically) rank deficient, and
/// an f32 T could not be accurate.
fn cholesky_upper(g: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    if !g.iter().all(|x| x.is_finite()) {
        return None;
    }
    let l = g.clone().cholesky()?.unpack();
    let diagonal = l.diagonal();
    if !(diagonal.min() > 1e-5 * diagonal.max()) {
        return None;
    }
    Some(l.transpose())
}

/// XᵀX for a factor X, summed chunk by chunk: f32 GEMMs, added up in f64.
pub(super) struct Gram {
    depth: usize,
    sum: DMatrix<f64>,
    part: Vec<f32>,
}

impl Gram {
    pub(super) fn new(depth: usize) -> Gram {
        Gram {
            depth,
            sum: DMatrix::zeros(depth, depth),
            part: vec![0f32; depth * depth],
        }
    }

    /// Adds chunkᵀ chunk for a contiguous `count × depth` chunk.
    fn add(&mut self, chunk: &[f32]) {
        let depth = self.depth;
        let count = chunk.len() / depth;
        // SAFETY: `chunk` is count × depth row-major and `part` depth × depth;
        // the left operand is chunkᵀ (element (i, l) at l·depth + i), the
        // right one chunk itself.
        unsafe {
            gemm::gemm(
                depth,
                depth,
                count,
                self.part.as_mut_ptr(),
                1,
                depth as isize,
                false,
                chunk.as_ptr(),
                depth as isize,
                1,
                chunk.as_ptr(),
                1,
                depth as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        // Symmetric, so row- or column-major is the same.
        for (x, &y) in self.sum.iter_mut().zip(&self.part) {
            *x += f64::from(y);
        }
    }
}

/// Upper bounds on ‖x_i T‖ for every row.
///
/// The f32 GEMM gives y with |y − x T| ≤ γ_r(f32) |x| |T| entrywise (plus
/// r·2⁻¹⁴⁹ for underflow), so ‖x T‖ ≤ ‖y‖ + γ_r(f32) ‖x‖ ‖T‖_F + r²·2⁻¹⁴⁹;
/// `norm_t` ≥ ‖T‖_F and `raw[i]` ≥ ‖x_i‖. An overflowing y gives ∞.
fn transformed_norms(rows: &Rows<'_>, t: &DMatrix<f32>, norm_t: f64, raw: &[f64]) -> Vec<f64> {
    let depth = rows.depth();
    let slack = slack(depth);
    let rounding = gamma(depth, U32) * norm_t;
    let underflow = (depth * depth) as f64 * 2f64.powi(-149);
    let mut out = Vec::with_capacity(raw.len());
    let mut product = vec![0f32; CHUNK * depth];
    rows.for_chunks(CHUNK, |start, chunk| {
        let count = chunk.len() / depth;
        // SAFETY: `chunk` is count × depth and `product` holds at least
        // count × depth, both row-major; `t` is depth × depth column-major
        // (element (l, j) at j·depth + l).
        unsafe {
            gemm::gemm(
                count,
                depth,
                depth,
                product.as_mut_ptr(),
                1,
                depth as isize,
                false,
                chunk.as_ptr(),
                1,
                depth as isize,
                t.as_ptr(),
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
        for (y, &raw) in product[..count * depth]
            .chunks_exact(depth)
            .zip(&raw[start..start + count])
        {
            let bound = norm(y) * (1.0 + slack) + rounding * raw + underflow;
            out.push(not_nan(bound * (1.0 + slack)));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{MatrixView, TokenFilter};

    fn rows(data: &[f32], depth: usize) -> Rows<'_> {
        Rows::allowed(
            MatrixView::row_major(data, data.len() / depth, depth),
            TokenFilter::all(),
        )
    }

    fn balanced(a: &[f32], b: &[f32], depth: usize) -> Option<Balance> {
        let (a, b) = (rows(a, depth), rows(b, depth));
        let (mut gram_a, mut gram_b) = (Gram::new(depth), Gram::new(depth));
        let raw_a = raw_norms(&a, Some(&mut gram_a));
        let raw_b = raw_norms(&b, Some(&mut gram_b));
        balance((&a, gram_a, &raw_a), (&b, gram_b, &raw_b))
    }

    /// Rows whose columns have very different scales in A and in B.
    fn skewed(rows: usize, depth: usize, seed: u64, flip: bool) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..rows * depth)
            .map(|n| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let x = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                let c = n % depth;
                let scale = if (c < depth / 2) ^ flip { 30.0 } else { 0.1 };
                x * scale
            })
            .collect()
    }

    #[test]
    fn balanced_bounds_hold_and_are_tighter_on_skewed_factors() {
        let (n, d) = (300, 6);
        let a = skewed(n, d, 1, false);
        let b = skewed(n, d, 2, true);
        let bal = balanced(&a, &b, d).unwrap();
        let (raw_a, raw_b) = (raw_norms(&rows(&a, d), None), raw_norms(&rows(&b, d), None));
        assert!(bal.e < 1e-4, "e = {}", bal.e);
        let mut raw_sum = 0.0;
        let mut bal_sum = 0.0;
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..d)
                    .map(|c| f64::from(a[i * d + c]) * f64::from(b[j * d + c]))
                    .sum();
                let bound = bal.src[i] * bal.dst[j] + bal.e * raw_a[i] * raw_b[j];
                assert!(dot.abs() <= bound, "({i}, {j})");
                raw_sum += raw_a[i] * raw_b[j];
                bal_sum += bound;
            }
        }
        assert!(bal_sum < raw_sum / 10.0, "{bal_sum} vs {raw_sum}");
    }

    #[test]
    fn rank_deficient_factors_keep_raw_bounds() {
        let d = 4;
        // The last column repeats the first: AᵀA is singular.
        let mut a = skewed(50, d, 3, false);
        for row in a.chunks_exact_mut(d) {
            row[3] = row[0];
        }
        let b = skewed(50, d, 4, false);
        assert!(balanced(&a, &b, d).is_none());
    }
}
