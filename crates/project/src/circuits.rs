//! Statistics of a vocab × vocab matrix M = A·Bᵀ, computed in factored form.
//!
//! With A and B of shape n × r (r = d_head ≪ n), every quantity below goes
//! through r × r products, so M itself is never formed.

use nalgebra::DMatrix;

use crate::kernel::multiply;
use crate::view::MatrixView;

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
    let (n, p, q) = (x.rows, x.cols, y.cols);
    let widen = |m: MatrixView<'_>| -> Vec<f64> {
        let mut out = Vec::with_capacity(m.rows * m.cols);
        for r in 0..m.rows {
            for c in 0..m.cols {
                out.push(m.get(r, c) as f64);
            }
        }
        out
    };
    let (xs, ys) = (widen(x), widen(y));
    let mut out = vec![0f64; p * q];
    multiply(
        MatrixView::row_major(&xs, n, p).transposed(),
        MatrixView::row_major(&ys, n, q),
        &mut out,
    );
    out
}

/// ‖A·Bᵀ‖_F = sqrt(trace(AᵀA · BᵀB)).
pub fn frobenius_norm(a: MatrixView<'_>, b: MatrixView<'_>) -> f64 {
    let r = a.cols;
    let (ga, gb) = (gram(a, a), gram(b, b));
    let trace: f64 = (0..r)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| ga[i * r + j] * gb[j * r + i])
        .sum();
    trace.max(0.0).sqrt()
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
