//! Measures `top_pairs` on random factors with log-normally spread row
//! norms: share of the matrix evaluated and time, pruned against brute force.
//!
//! cargo run --release -p glossa-project --example pairs_probe -- [n] [r] [sigma] [k] [brute] [mean]
//!
//! `brute` = 0 skips the brute-force run (about 3 s per 51,200² matrix).
//! `mean` adds one shared vector, of `mean` times a typical row's norm, to
//! every row of both factors (as tied embeddings on both sides of a circuit
//! would): every entry then carries the same positive offset.

use std::time::Instant;

use glossa_project::{top_pairs, MatrixView, PairQuery, Pruning, TokenFilter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn factor(rows: usize, cols: usize, sigma: f32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        let scale = (sigma * rng.sample::<f32, _>(StandardNormal)).exp();
        out.extend((0..cols).map(|_| scale * rng.sample::<f32, _>(StandardNormal)));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| -> f64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let (n, depth, sigma, k) = (
        arg(0, 51200.0) as usize,
        arg(1, 64.0) as usize,
        arg(2, 0.3) as f32,
        arg(3, 50.0) as usize,
    );
    let brute = arg(4, 1.0) != 0.0;
    let mean = arg(5, 0.0) as f32;
    let mut a = factor(n, depth, sigma, 1);
    let mut b = factor(n, depth, sigma, 2);
    // A typical row has norm about √r, the shared vector mean·√r.
    let shared = factor(1, depth, 0.0, 3);
    for x in [&mut a, &mut b] {
        for row in x.chunks_exact_mut(depth) {
            for (v, s) in row.iter_mut().zip(&shared) {
                *v += mean * s;
            }
        }
    }
    let query = |pruning| PairQuery {
        a: MatrixView::row_major(&a, n, depth),
        b: MatrixView::row_major(&b, n, depth),
        k,
        src_filter: TokenFilter::all(),
        dst_filter: TokenFilter::all(),
        exclude: None,
        pruning,
    };
    let start = Instant::now();
    let (pruned, stats) = top_pairs(&query(Pruning::Bounds)).expect("valid query");
    let pruned_time = start.elapsed();
    println!(
        "n = {n}, r = {depth}, sigma = {sigma}, k = {k}: pruned {pruned_time:.3?}, computed {:.5} of the entries, {} of {} tiles skipped, balanced = {}",
        stats.computed as f64 / stats.entries as f64,
        stats.tiles_skipped,
        stats.tiles,
        stats.balanced
    );
    // How many pairs the final thresholds leave at all, by raw norms: the
    // share no tiling could go below with Cauchy–Schwarz bounds.
    let theta = f64::from(pruned.top[k - 1].score).min(-f64::from(pruned.bottom[k - 1].score));
    let norms = |x: &[f32]| -> Vec<f64> {
        let mut v: Vec<f64> = x
            .chunks_exact(depth)
            .map(|r| {
                r.iter()
                    .map(|&v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        v.sort_by(|x, y| y.total_cmp(x));
        v
    };
    let (na, nb) = (norms(&a), norms(&b));
    let mut j = nb.len();
    let mut needed = 0u64;
    for x in &na {
        while j > 0 && x * nb[j - 1] < theta {
            j -= 1;
        }
        needed += j as u64;
    }
    println!(
        "theta = {theta:.3}; pairs whose norm bound reaches it: {:.5} of the entries",
        needed as f64 / stats.entries as f64
    );
    if brute {
        let start = Instant::now();
        let (reference, _) = top_pairs(&query(Pruning::None)).expect("valid query");
        let brute_time = start.elapsed();
        println!(
            "brute force {brute_time:.3?} ({:.1}x); identical: {}",
            brute_time.as_secs_f64() / pruned_time.as_secs_f64(),
            reference == pruned
        );
    }
}
