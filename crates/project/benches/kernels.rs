//! Micro-benchmarks of the two kernels (`cargo bench -p glossa-project`, or
//! `make bench-kernels`): scoring with selection against the GEMM alone, and
//! the pruned pair search against its brute-force path.

use divan::Bencher;
use glossa_project::{
    gemm_floor, project, top_pairs, Device, Embedding, MatrixView, PairQuery, Projection, Pruning,
    ScoreStatistics, Tiling, TokenFilter,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn main() {
    divan::main();
}

const WIDTH: usize = 1024;
const VOCAB: usize = 8192;
const VECTORS: usize = 1024;
const K: usize = 50;

/// Rows with log-normally spread norms, as embedding rows are in trained models.
fn rows(count: usize, width: usize, sigma: f32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count * width);
    for _ in 0..count {
        let scale = (sigma * rng.sample::<f32, _>(StandardNormal)).exp();
        out.extend((0..width).map(|_| scale * rng.sample::<f32, _>(StandardNormal)));
    }
    out
}

/// `VECTORS` vectors against `VOCAB` tokens, top and bottom `K` of each.
#[divan::bench]
fn neurons_project(bencher: Bencher) {
    let vectors = rows(VECTORS, WIDTH, 0.0, 1);
    let embedding = rows(VOCAB, WIDTH, 0.3, 2);
    bencher.bench(|| {
        project(
            &Projection {
                vectors: MatrixView::row_major(&vectors, VECTORS, WIDTH),
                embedding: Embedding::Dense(MatrixView::row_major(&embedding, VOCAB, WIDTH)),
                tokens: VOCAB,
                k: K,
                filter: TokenFilter::all(),
                device: Device::Cpu,
                tiling: Tiling::default(),
            },
            &|_| {},
        )
    });
}

/// The same product with nothing selected: the floor of `neurons_project`.
#[divan::bench]
fn neurons_gemm_floor(bencher: Bencher) {
    let vectors = rows(VECTORS, WIDTH, 0.0, 1);
    let embedding = rows(VOCAB, WIDTH, 0.3, 2);
    bencher.bench(|| {
        gemm_floor(
            MatrixView::row_major(&vectors, VECTORS, WIDTH),
            MatrixView::row_major(&embedding, VOCAB, WIDTH),
            VOCAB,
        )
    });
}

/// What `neurons_project` spends per vector on its statistics (mean,
/// spread, kurtosis, softmax entropy), on one thread, over `VOCAB` scores
/// each of `VECTORS` vectors, a tile of 256 tokens at a time.
#[divan::bench]
fn row_statistics(bencher: Bencher) {
    let scores = rows(VECTORS, VOCAB, 0.3, 5);
    bencher.bench(|| {
        for row in scores.chunks_exact(VOCAB) {
            let mut statistics = ScoreStatistics::default();
            for tile in row.chunks(256) {
                statistics.add_row(tile, None);
            }
            divan::black_box(statistics);
        }
    });
}

/// Exact top and bottom pairs of one 8192 × 8192 matrix of rank 64.
#[divan::bench(args = ["bounds", "none"])]
fn head_pairs(bencher: Bencher, pruning: &str) {
    const TOKENS: usize = 8192;
    const RANK: usize = 64;
    let a = rows(TOKENS, RANK, 0.3, 3);
    let b = rows(TOKENS, RANK, 0.3, 4);
    let pruning = match pruning {
        "bounds" => Pruning::Bounds,
        _ => Pruning::None,
    };
    bencher.bench(|| {
        top_pairs(&PairQuery {
            a: MatrixView::row_major(&a, TOKENS, RANK),
            b: MatrixView::row_major(&b, TOKENS, RANK),
            k: 100,
            src_filter: TokenFilter::all(),
            dst_filter: TokenFilter::all(),
            exclude: None,
            pruning,
        })
    });
}
