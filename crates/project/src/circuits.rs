//! Statistics of a vocab × vocab matrix M = A·Bᵀ, computed in factored form.
//!
//! With A and B of shape n × r (r = d_head ≪ n), every quantity below goes
//! through r × r products, so M itself is never formed.

use nalgebra::DMatrix;

use crate::kernel::multiply;
use crate::moments::Moments;
use crate::view::{MatrixView, TokenFilter};

/// X·Y in f32 as a row-major `x.rows × y.cols` matrix (single-threaded:
/// callers parallelise over heads).
pub fn product(x: MatrixView<'_>, y: MatrixView<'_>) -> Vec<f32> {
    let mut out = vec![0f32; x.rows * y.cols];
    multiply(x, y, &mut out);
    out
}

/// XᵀY in float64 (`x.cols × y.cols`, row-major), for X, Y with the same rows.
pub fn gram(x: MatrixView<'_>, y: MatrixView<'_>) -> Vec<f64> {
    assert_eq!(x.rows, y.rows, "gram: factors must have the same rows");
    let all = TokenFilter::all();
    let (rows, xs) = widen(x, all);
    let (_, ys) = widen(y, all);
    gram_of(&xs, &ys, rows, x.cols, y.cols)
}

/// The rows of `m` that `filter` allows, in float64, row-major, and how many.
fn widen(m: MatrixView<'_>, filter: TokenFilter<'_>) -> (usize, Vec<f64>) {
    let mut out = Vec::with_capacity(m.rows * m.cols);
    let mut rows = 0;
    for r in (0..m.rows).filter(|&r| filter.allows(r)) {
        out.extend((0..m.cols).map(|c| f64::from(m.get(r, c))));
        rows += 1;
    }
    (rows, out)
}

/// XᵀY of row-major `n × p` and `n × q` float64 matrices.
fn gram_of(xs: &[f64], ys: &[f64], n: usize, p: usize, q: usize) -> Vec<f64> {
    let mut out = vec![0f64; p * q];
    multiply(
        MatrixView::row_major(xs, n, p).transposed(),
        MatrixView::row_major(ys, n, q),
        &mut out,
    );
    out
}

/// trace(X·Y) of two r × r row-major matrices.
fn trace_of_product(x: &[f64], y: &[f64], r: usize) -> f64 {
    (0..r)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| x[i * r + j] * y[j * r + i])
        .sum()
}

/// ‖A·Bᵀ‖_F = sqrt(trace(AᵀA · BᵀB)).
pub fn frobenius_norm(a: MatrixView<'_>, b: MatrixView<'_>) -> f64 {
    let (ga, gb) = (gram(a, a), gram(b, b));
    trace_of_product(&ga, &gb, a.cols).max(0.0).sqrt()
}

/// The [`Moments`] of the entries of M = A·Bᵀ over the rows of A that
/// `src_filter` allows × the rows of B that `dst_filter` allows, less the
/// pairs in `excluded` (each listed once, both of its rows allowed), with no
/// vocab² work:
///
/// - Σ M[i, j] = (Σᵢ aᵢ) · (Σⱼ bⱼ);
/// - Σ M[i, j]² = trace((AᵀA)(BᵀB)), with A and B restricted to the
///   allowed rows;
/// - the excluded pairs' own entries are then taken out, each as the exact
///   float64 dot product of its two f32 rows.
///
/// Everything is float64 over the f32 factors, so the moments are those of
/// the exact entries, not of their f32 roundings (the lists' scores); the
/// two differ by far less than a list's spread.
pub fn pair_moments(
    a: MatrixView<'_>,
    b: MatrixView<'_>,
    src_filter: TokenFilter<'_>,
    dst_filter: TokenFilter<'_>,
    excluded: &[(u32, u32)],
) -> Moments {
    assert_eq!(a.cols, b.cols, "pair_moments: factors of different widths");
    let r = a.cols;
    let (na, wa) = widen(a, src_filter);
    let (nb, wb) = widen(b, dst_filter);
    let column_sums = |w: &[f64]| -> Vec<f64> {
        let mut sums = vec![0f64; r];
        for row in w.chunks_exact(r.max(1)) {
            sums.iter_mut().zip(row).for_each(|(s, x)| *s += x);
        }
        sums
    };
    let (sa, sb) = (column_sums(&wa), column_sums(&wb));
    let mut moments = Moments {
        count: na as u64 * nb as u64,
        sum: sa.iter().zip(&sb).map(|(x, y)| x * y).sum(),
        sum_squares: trace_of_product(
            &gram_of(&wa, &wa, na, r, r),
            &gram_of(&wb, &wb, nb, r, r),
            r,
        ),
    };
    let mut left_out = Moments::default();
    for &(src, dst) in excluded {
        let entry: f64 = (0..r)
            .map(|c| f64::from(a.get(src as usize, c)) * f64::from(b.get(dst as usize, c)))
            .sum();
        left_out.count += 1;
        left_out.sum += entry;
        left_out.sum_squares += entry * entry;
    }
    moments.remove(&left_out);
    moments
}

/// Σλ / Σ|λ| over the eigenvalues λ of A·Bᵀ (square: A and B have the same rows).
///
/// The nonzero eigenvalues of A·Bᵀ are those of the r × r matrix Bᵀ·A, so the
/// score of a vocab × vocab circuit costs one small eigenvalue problem.
/// Positive values mean the circuit mostly copies (maps tokens to themselves).
/// `None` when every eigenvalue is zero.
pub fn copying_score(a: MatrixView<'_>, b: MatrixView<'_>) -> Option<f64> {
    let r = a.cols;
    let small = DMatrix::from_row_slice(r, r, &gram(b, a));
    let eigenvalues = small.complex_eigenvalues();
    let sum: f64 = eigenvalues.iter().map(|l| l.re).sum();
    let magnitude: f64 = eigenvalues.iter().map(|l| l.norm()).sum();
    (magnitude > 0.0).then(|| sum / magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(a: &[f32], b: &[f32], n: usize, r: usize) -> Vec<f64> {
        let mut m = vec![0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                m[i * n + j] = (0..r)
                    .map(|p| a[i * r + p] as f64 * b[j * r + p] as f64)
                    .sum();
            }
        }
        m
    }

    fn factors(n: usize, r: usize, seed: u32) -> Vec<f32> {
        (0..n * r)
            .map(|i| {
                (((i as u32).wrapping_mul(2654435761).wrapping_add(seed)) >> 8) as f32
                    / (1 << 24) as f32
                    - 0.5
            })
            .collect()
    }

    #[test]
    fn frobenius_matches_dense() {
        let (n, r) = (40, 5);
        let (a, b) = (factors(n, r, 1), factors(n, r, 7));
        let m = dense(&a, &b, n, r);
        let expected = m.iter().map(|x| x * x).sum::<f64>().sqrt();
        let got = frobenius_norm(
            MatrixView::row_major(&a, n, r),
            MatrixView::row_major(&b, n, r),
        );
        assert!((got - expected).abs() < 1e-9 * expected);
    }

    #[test]
    fn pair_moments_match_dense_over_allowed_pairs() {
        let (n, r) = (37, 4);
        let (a, b) = (factors(n, r, 2), factors(n, r, 9));
        let m = dense(&a, &b, n, r);
        let src: Vec<bool> = (0..n).map(|i| i % 4 != 1).collect();
        let dst: Vec<bool> = (0..n).map(|j| j % 5 != 2).collect();
        let excluded: Vec<(u32, u32)> = (0..n as u32)
            .filter(|&i| src[i as usize] && dst[i as usize])
            .map(|i| (i, i))
            .chain([(0, 3), (3, 0)])
            .collect();
        let entries: Vec<f64> = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|&(i, j)| src[i] && dst[j] && !excluded.contains(&(i as u32, j as u32)))
            .map(|(i, j)| m[i * n + j])
            .collect();
        let mean = entries.iter().sum::<f64>() / entries.len() as f64;
        let var = entries.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / entries.len() as f64;
        let got = pair_moments(
            MatrixView::row_major(&a, n, r),
            MatrixView::row_major(&b, n, r),
            TokenFilter::only(&src),
            TokenFilter::only(&dst),
            &excluded,
        );
        assert_eq!(got.count, entries.len() as u64);
        assert!(
            (got.mean() - mean).abs() < 1e-12,
            "{} vs {mean}",
            got.mean()
        );
        assert!(
            (got.std() - var.sqrt()).abs() < 1e-12,
            "{} vs {}",
            got.std(),
            var.sqrt()
        );
    }

    #[test]
    fn copying_score_matches_dense_eigenvalues() {
        let (n, r) = (30, 4);
        let (a, b) = (factors(n, r, 3), factors(n, r, 11));
        let m = DMatrix::from_row_slice(n, n, &dense(&a, &b, n, r));
        let eig = m.complex_eigenvalues();
        let expected =
            eig.iter().map(|l| l.re).sum::<f64>() / eig.iter().map(|l| l.norm()).sum::<f64>();
        let got = copying_score(
            MatrixView::row_major(&a, n, r),
            MatrixView::row_major(&b, n, r),
        )
        .unwrap();
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn a_pure_copying_circuit_scores_one() {
        // B = A: M = A·Aᵀ is positive semi-definite, every eigenvalue ≥ 0.
        let (n, r) = (25, 3);
        let a = factors(n, r, 5);
        let got = copying_score(
            MatrixView::row_major(&a, n, r),
            MatrixView::row_major(&a, n, r),
        )
        .unwrap();
        assert!((got - 1.0).abs() < 1e-9);
    }
}
