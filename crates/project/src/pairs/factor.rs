//! The balanced refactorisation of FEXIPRO (Li et al., SIGMOD 2017), and
//! the numeric helpers the bounds are built from.
//!
//! For any T_a, T_b with T_a T_bᵀ = I, A · Bᵀ = (A T_a)(B T_b)ᵀ, so
//! |a · b| ≤ ‖a T_a‖ ‖b T_b‖ (Cauchy–Schwarz). The plain bound ‖a‖ ‖b‖ is
//! loose when A and B spread their energy over different directions (a
//! direction where A is large and B small inflates ‖a‖ but adds little to
//! any product); the balanced T makes A T_a and B T_b share the same Gram
//! matrix, which removes that slack.

use nalgebra::DMatrix;

use crate::kernel::multiply;
use crate::view::MatrixView;

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
pub(super) fn slack(depth: usize) -> f64 {
    2.0 * gamma(depth * depth + depth + 8, U64)
}

/// ‖x‖ in f64: the squares of f32 values are exact, and eight partial sums
/// let the loop vectorise; the order only changes the last bits, which
/// `slack` covers.
#[inline]
pub(super) fn norm(x: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let lanes = x.chunks_exact(8);
    let tail = lanes.remainder();
    for lane in lanes {
        for (a, &v) in acc.iter_mut().zip(lane) {
            *a += f64::from(v) * f64::from(v);
        }
    }
    for &v in tail {
        acc[0] += f64::from(v) * f64::from(v);
    }
    acc.iter().sum::<f64>().sqrt()
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

/// A balanced pair of transforms, as used: f32 matrices, so T_a T_bᵀ is
/// not exactly I. With E = T_a T_bᵀ − I, exactly
/// x · y = (x T_a) · (y T_b) − x E yᵀ, so
/// |x · y| ≤ ‖x T_a‖ ‖y T_b‖ + ‖E‖_F ‖x‖ ‖y‖.
pub(super) struct Balance {
    /// T_a, depth × depth, column-major.
    pub(super) t_a: DMatrix<f32>,
    /// T_b, depth × depth, column-major.
    pub(super) t_b: DMatrix<f32>,
    /// ≥ ‖T_a‖_F.
    pub(super) norm_a: f64,
    /// ≥ ‖T_b‖_F.
    pub(super) norm_b: f64,
    /// ≥ ‖T_a T_bᵀ − I‖_F (about 1e-6: the f32 rounding of the T's).
    pub(super) e: f64,
}

/// The balanced transforms for factors with Gram matrices `g_a` and `g_b`,
/// or `None` when one is singular, badly conditioned or not finite (rank
/// deficient or non-finite factors), or when balancing would hardly tighten
/// the bounds (then the plain norms serve, saving a GEMM pass per factor).
///
/// G_a = R_aᵀR_a and G_b = R_bᵀR_b (Cholesky); X R_a⁻¹ and Y R_b⁻¹ have
/// orthonormal columns, and with the SVD R_a R_bᵀ = U S Vᵀ the choice
/// T_a = R_a⁻¹ U S^½, T_b = R_b⁻¹ V S^½ gives T_a T_bᵀ = I and equal Gram
/// matrices S on both sides. None of this needs to be accurate: `e`
/// measures how far the T's used are from exact inverses.
pub(super) fn balance(g_a: &DMatrix<f64>, g_b: &DMatrix<f64>) -> Option<Balance> {
    let depth = g_a.nrows();
    if depth == 0 {
        return None;
    }
    let r_a = cholesky_upper(g_a)?;
    let r_b = cholesky_upper(g_b)?;
    let svd = (&r_a * r_b.transpose()).svd(true, true);
    // Σ_i ‖x_i‖² = tr G_a, and after balancing Σ_i ‖x_i T_a‖² = tr S (the
    // same for B). tr S ≤ √(tr G_a · tr G_b) always; near equality the two
    // bounds are about as tight.
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
    if e.is_nan() || e >= 1e-3 {
        return None;
    }
    Some(Balance {
        t_a,
        t_b,
        norm_a,
        norm_b,
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
    let (smallest, largest) = (diagonal.min(), diagonal.max());
    if smallest.is_nan() || smallest <= 1e-5 * largest {
        return None;
    }
    Some(l.transpose())
}

/// The first and second moments of a factor X's rows: Σ x_i and XᵀX,
/// summed chunk by chunk (f32 GEMMs, added up in f64).
pub(super) struct Moments {
    depth: usize,
    count: usize,
    sum: Vec<f64>,
    gram: DMatrix<f64>,
    part: Vec<f32>,
}

impl Moments {
    pub(super) fn new(depth: usize) -> Moments {
        Moments {
            depth,
            count: 0,
            sum: vec![0.0; depth],
            gram: DMatrix::zeros(depth, depth),
            part: vec![0f32; depth * depth],
        }
    }

    /// Adds the rows of a contiguous `count × depth` chunk.
    pub(super) fn add(&mut self, chunk: &[f32]) {
        let depth = self.depth;
        let count = chunk.len() / depth;
        self.count += count;
        for row in chunk.chunks_exact(depth) {
            for (s, &x) in self.sum.iter_mut().zip(row) {
                *s += f64::from(x);
            }
        }
        // chunkᵀ · chunk: the left operand is the chunk transposed.
        let chunk_view = MatrixView::row_major(chunk, count, depth);
        multiply(chunk_view.transposed(), chunk_view, &mut self.part);
        // Symmetric, so row- or column-major is the same.
        for (x, &y) in self.gram.iter_mut().zip(&self.part) {
            *x += f64::from(y);
        }
    }

    /// Σ (x_i − c)ᵀ(x_i − c) = XᵀX − c sᵀ − s cᵀ + n c cᵀ, with s = Σ x_i.
    /// Only the balance depends on it, not the validity of any bound.
    pub(super) fn centred_gram(&self, centre: &[f32]) -> DMatrix<f64> {
        let n = self.count as f64;
        let c = |i: usize| f64::from(centre[i]);
        let mut g = self.gram.clone();
        for i in 0..self.depth {
            for j in 0..self.depth {
                g[(i, j)] += -c(i) * self.sum[j] - self.sum[i] * c(j) + n * c(i) * c(j);
            }
        }
        g
    }
}
