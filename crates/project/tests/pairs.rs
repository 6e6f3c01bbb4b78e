//! `top_pairs` against a float64 brute force of the whole matrix, and the
//! pruned search against the unpruned one.

use std::time::Instant;

use glossa_project::{
    top_pairs, MatrixView, Pair, PairExtremes, PairQuery, PairStats, ProjectError, Pruning,
    TokenFilter,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A row-major `rows × cols` factor of N(0, 1) entries, each row scaled by
/// exp(σ·N(0, 1)) so that row norms spread log-normally like trained
/// embeddings do.
fn factor(rows: usize, cols: usize, sigma: f32, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        let scale = (sigma * rng.sample::<f32, _>(StandardNormal)).exp();
        out.extend((0..cols).map(|_| scale * rng.sample::<f32, _>(StandardNormal)));
    }
    out
}

/// One problem: factors and what may be selected.
struct Case<'a> {
    a: &'a [f32],
    b: &'a [f32],
    rows_a: usize,
    rows_b: usize,
    depth: usize,
    k: usize,
    allowed_a: Option<&'a [bool]>,
    allowed_b: Option<&'a [bool]>,
    exclude: Option<&'a (dyn Fn(u32, u32) -> bool + Sync)>,
}

impl<'a> Case<'a> {
    fn new(a: &'a [f32], b: &'a [f32], depth: usize, k: usize) -> Case<'a> {
        Case {
            a,
            b,
            rows_a: a.len() / depth,
            rows_b: b.len() / depth,
            depth,
            k,
            allowed_a: None,
            allowed_b: None,
            exclude: None,
        }
    }

    fn query(&self, pruning: Pruning) -> PairQuery<'a> {
        let filter =
            |allowed: Option<&'a [bool]>| allowed.map_or(TokenFilter::all(), TokenFilter::only);
        PairQuery {
            a: MatrixView::row_major(self.a, self.rows_a, self.depth),
            b: MatrixView::row_major(self.b, self.rows_b, self.depth),
            k: self.k,
            src_filter: filter(self.allowed_a),
            dst_filter: filter(self.allowed_b),
            exclude: self.exclude,
            pruning,
        }
    }

    fn run(&self, pruning: Pruning) -> (PairExtremes, PairStats) {
        top_pairs(&self.query(pruning)).unwrap()
    }

    /// The exact (f64) value of M[i, j].
    fn exact(&self, i: u32, j: u32) -> f64 {
        let d = self.depth;
        let (i, j) = (i as usize, j as usize);
        (0..d)
            .map(|c| f64::from(self.a[i * d + c]) * f64::from(self.b[j * d + c]))
            .sum()
    }

    /// Every selectable entry in f64, sorted by value descending then
    /// (src, dst): the k first and k last are the reference lists.
    fn brute_force(&self) -> Vec<(f64, u32, u32)> {
        let mut all = Vec::new();
        for i in 0..self.rows_a as u32 {
            if self.allowed_a.is_some_and(|a| !a[i as usize]) {
                continue;
            }
            for j in 0..self.rows_b as u32 {
                if self.allowed_b.is_some_and(|b| !b[j as usize])
                    || self.exclude.is_some_and(|e| e(i, j))
                {
                    continue;
                }
                let value = self.exact(i, j);
                if !value.is_nan() {
                    all.push((value, i, j));
                }
            }
        }
        all.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        all
    }

    /// Both pruning modes agree bitwise, and both match the f64 brute force:
    /// the same length, scores within f32 rounding of the exact value, and
    /// where a rank holds a different pair than the reference, the two exact
    /// values are a near-tie.
    fn check(&self) -> PairStats {
        let (pruned, stats) = self.run(Pruning::Bounds);
        let (brute, brute_stats) = self.run(Pruning::None);
        assert_identical(&pruned, &brute);
        assert_eq!(brute_stats.tiles_skipped, 0);
        assert!(stats.computed <= brute_stats.computed);

        let all = self.brute_force();
        let want = self.k.min(all.len());
        let reference_bottom: Vec<_> = all.iter().rev().take(want).copied().collect();
        for (list, reference, name) in [
            (&pruned.top, &all[..want], "top"),
            (&pruned.bottom, &reference_bottom[..], "bottom"),
        ] {
            assert_eq!(list.len(), want, "{name} length");
            for (rank, (pair, &(value, i, j))) in list.iter().zip(reference).enumerate() {
                let exact = self.exact(pair.src, pair.dst);
                let tolerance = 1e-5 * exact.abs().max(value.abs()) + 1e-12;
                assert!(
                    (f64::from(pair.score) - exact).abs() <= tolerance,
                    "{name} rank {rank}: score {} but exactly {exact}",
                    pair.score
                );
                if (pair.src, pair.dst) != (i, j) {
                    assert!(
                        (exact - value).abs() <= tolerance,
                        "{name} rank {rank}: {pair:?} (exactly {exact}) where the reference has ({i}, {j}) = {value}"
                    );
                }
            }
        }
        stats
    }
}

/// Same pairs, same order, bitwise-equal scores.
fn assert_identical(x: &PairExtremes, y: &PairExtremes) {
    let key = |list: &[Pair]| -> Vec<(u32, u32, u32)> {
        list.iter()
            .map(|p| (p.src, p.dst, p.score.to_bits()))
            .collect()
    };
    assert_eq!(key(&x.top), key(&y.top), "top lists differ");
    assert_eq!(key(&x.bottom), key(&y.bottom), "bottom lists differ");
}

fn share(stats: &PairStats) -> f64 {
    stats.computed as f64 / stats.entries as f64
}

#[test]
fn rectangular_odd_sizes_match_brute_force() {
    // Neither n is a multiple of a tile side; r = 17 and 20 are not
    // multiples of any SIMD width.
    for (depth, seed) in [(17, 1), (20, 2)] {
        let a = factor(1001, depth, 0.0, seed);
        let b = factor(997, depth, 0.0, seed + 100);
        Case::new(&a, &b, depth, 25).check();
    }
}

#[test]
fn lognormal_norms_with_filters_and_exclusion() {
    let depth = 20;
    let a = factor(1200, depth, 0.5, 3);
    let b = factor(900, depth, 0.5, 4);
    let allowed_a: Vec<bool> = (0..1200).map(|i| i % 7 != 3).collect();
    let allowed_b: Vec<bool> = (0..900).map(|j| j % 5 != 1).collect();
    let exclude = |i: u32, j: u32| i == j || (i + j).is_multiple_of(11);
    let mut case = Case::new(&a, &b, depth, 40);
    case.allowed_a = Some(&allowed_a);
    case.allowed_b = Some(&allowed_b);
    case.exclude = Some(&exclude);
    case.check();
    // The filters and the exclusion really did remove winners.
    let (unfiltered, _) = Case::new(&a, &b, depth, 40).run(Pruning::Bounds);
    let (filtered, _) = case.run(Pruning::Bounds);
    assert_ne!(unfiltered.top, filtered.top);
    for pair in filtered.top.iter().chain(&filtered.bottom) {
        assert!(allowed_a[pair.src as usize] && allowed_b[pair.dst as usize]);
        assert!(!exclude(pair.src, pair.dst));
    }
}

#[test]
fn symmetric_matrix_breaks_exact_ties_by_indices() {
    // M = A·Aᵀ: M[i, j] and M[j, i] are the same real number, and the
    // canonical score makes them the same f32, so every off-diagonal winner
    // comes with its mirror image right behind it.
    let depth = 20;
    let a = factor(700, depth, 0.3, 5);
    let exclude = |i: u32, j: u32| i == j;
    let mut case = Case::new(&a, &a, depth, 30);
    case.exclude = Some(&exclude);
    case.check();
    let (extremes, _) = case.run(Pruning::Bounds);
    for list in [&extremes.top, &extremes.bottom] {
        for two in list[..list.len() / 2 * 2].chunks_exact(2) {
            assert_eq!(two[0].score.to_bits(), two[1].score.to_bits());
            assert_eq!((two[0].src, two[0].dst), (two[1].dst, two[1].src));
            assert!(two[0].src < two[0].dst, "{two:?}");
        }
    }
    // Without the exclusion the diagonal (squared norms) dominates the top.
    let (with_diagonal, _) = Case::new(&a, &a, depth, 30).run(Pruning::Bounds);
    assert!(with_diagonal.top[..5].iter().all(|p| p.src == p.dst));
    Case::new(&a, &a, depth, 30).check();
}

#[test]
fn integer_factors_tie_everywhere_and_rank_by_indices() {
    // Small integers: every score is exact, and thousands of pairs share
    // each value, so the lists are decided by (src, dst) alone across many
    // tiles visited out of index order. They must equal the reference
    // exactly, not just up to near-ties.
    let depth = 5;
    let mut rng = StdRng::seed_from_u64(30);
    let mut ints = |rows: usize| -> Vec<f32> {
        (0..rows * depth)
            .map(|_| rng.random_range(-2i32..=2) as f32)
            .collect()
    };
    let (a, b) = (ints(1300), ints(1100));
    for k in [1, 100, 700] {
        assert_exact_lists(&Case::new(&a, &b, depth, k));
    }
}

/// `case.check()`, and, for factors whose every score is exact in f32,
/// lists equal to the reference pair for pair, ties included.
fn assert_exact_lists(case: &Case<'_>) {
    case.check();
    let k = case.k;
    let (extremes, _) = case.run(Pruning::Bounds);
    let all = case.brute_force();
    let want = |list: &mut dyn Iterator<Item = &(f64, u32, u32)>| -> Vec<(u32, u32, f32)> {
        list.take(k).map(|&(v, i, j)| (i, j, v as f32)).collect()
    };
    let got = |list: &[Pair]| -> Vec<(u32, u32, f32)> {
        list.iter().map(|p| (p.src, p.dst, p.score)).collect()
    };
    assert_eq!(got(&extremes.top), want(&mut all.iter()));
    // The reference sorts ties by ascending (src, dst) at both ends.
    let mut bottom: Vec<_> = all.clone();
    bottom.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    assert_eq!(got(&extremes.bottom), want(&mut bottom.iter()));
}

/// Factors shaped like a trained head's, E·W_a and E·W_b: the embedding E
/// (`rows × width`) has one mean direction shared by every row (about as
/// much energy as the rest, as trained embeddings have), a decaying
/// spectrum (a few dominant directions) and row norms that spread little.
/// Random factors flatter the pruning: there the norms alone sort entries.
fn anisotropic(rows: usize, width: usize, depth: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mean = factor(1, width, 0.0, seed + 1);
    let decay: Vec<f32> = (0..width).map(|c| 0.85f32.powi(c as i32)).collect();
    let mut embedding = Vec::with_capacity(rows * width);
    for _ in 0..rows {
        let scale = (0.1 * rng.sample::<f32, _>(StandardNormal)).exp();
        embedding
            .extend((0..width).map(|c| {
                scale * (mean[c] + 1.5 * decay[c] * rng.sample::<f32, _>(StandardNormal))
            }));
    }
    let project = |w: &[f32]| -> Vec<f32> {
        embedding
            .chunks_exact(width)
            .flat_map(|e| {
                (0..depth).map(move |j| (0..width).map(|c| e[c] * w[c * depth + j]).sum::<f32>())
            })
            .collect()
    };
    let w_a = factor(width, depth, 0.0, seed + 2);
    let w_b = factor(width, depth, 0.0, seed + 3);
    (project(&w_a), project(&w_b))
}

#[test]
fn anisotropic_factors_match_brute_force_and_still_prune() {
    // Both sides from one embedding, as a QK circuit is: the shared mean
    // gives every row a shift that varies as much as the centred products,
    // so tiles must group rows by shift as well as by norm.
    let (n, width, depth, k) = (2500, 48, 16, 30);
    let (a, b) = anisotropic(n, width, depth, 40);
    let stats = Case::new(&a, &b, depth, k).check();
    println!(
        "anisotropic: computed {:.4} of the entries ({stats:?})",
        share(&stats)
    );
    assert!(stats.balanced, "{stats:?}");
    // 0.057 with blocks grouped by shift and norm; blocks cut from rows
    // sorted by norm alone computed 0.097.
    assert!(share(&stats) < 0.08, "{stats:?}");
    // Filters and an exclusion on the same factors.
    let allowed: Vec<bool> = (0..n).map(|i| i % 6 != 1).collect();
    let exclude = |i: u32, j: u32| i == j;
    let mut case = Case::new(&a, &b, depth, k);
    case.allowed_a = Some(&allowed);
    case.allowed_b = Some(&allowed);
    case.exclude = Some(&exclude);
    case.check();
}

#[test]
fn anisotropic_quantised_factors_tie_and_rank_by_indices() {
    // Quarter-integer factors with a shared offset: every score is exact,
    // most of them tie with thousands of others, and the winners' ties
    // span tiles of different shift and norm groups.
    let depth = 6;
    let mut rng = StdRng::seed_from_u64(41);
    let offset = [3.0f32, -2.0, 1.0, 0.0, 2.0, 1.0];
    let mut quantised = |rows: usize| -> Vec<f32> {
        (0..rows * depth)
            .map(|n| offset[n % depth] + rng.random_range(-4i32..=4) as f32 / 4.0)
            .collect()
    };
    let (a, b) = (quantised(1400), quantised(1200));
    for k in [1, 60, 500] {
        assert_exact_lists(&Case::new(&a, &b, depth, k));
    }
}

#[test]
fn planted_entries_come_first() {
    let (n, depth) = (1500, 24);
    let mut a = factor(n, depth, 0.3, 6);
    let mut b = factor(n, depth, 0.3, 7);
    // Pairs sharing one strong direction, positive and negative; the
    // sources sit in rows with ordinary norms elsewhere.
    let plants = [
        (10u32, 1400u32, 6.0f32),
        (700, 3, 5.0),
        (20, 30, -6.0),
        (1499, 0, -5.5),
    ];
    for (c, &(i, j, strength)) in plants.iter().enumerate() {
        let (i, j) = (i as usize, j as usize);
        a[i * depth + c] = strength.abs() * 3.0;
        b[j * depth + c] = strength.signum() * 3.0 * strength.abs();
    }
    let stats = Case::new(&a, &b, depth, 10).check();
    let (extremes, _) = Case::new(&a, &b, depth, 10).run(Pruning::Bounds);
    let ids = |list: &[Pair]| {
        list.iter()
            .map(|p| (p.src, p.dst))
            .take(2)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&extremes.top), vec![(10, 1400), (700, 3)]);
    assert_eq!(ids(&extremes.bottom), vec![(20, 30), (1499, 0)]);
    println!("planted: computed {:.4} of the entries", share(&stats));
}

#[test]
fn skewed_factors_use_the_balanced_bounds() {
    // A and B put their energy in different directions (like W_Q and W_K
    // with different spectra): raw norms are dominated by directions whose
    // products are small, the balanced factorisation removes that.
    let (n, depth) = (3000, 32);
    let mut a = factor(n, depth, 0.3, 8);
    let mut b = factor(n, depth, 0.3, 9);
    for (x, y) in a.chunks_exact_mut(depth).zip(b.chunks_exact_mut(depth)) {
        for c in 0..depth {
            let s = (c as f32 - depth as f32 / 2.0) / 4.0;
            x[c] *= s.exp();
            y[c] *= (-s).exp();
        }
    }
    let stats = Case::new(&a, &b, depth, 20).check();
    println!(
        "skewed: computed {:.4} of the entries ({stats:?})",
        share(&stats)
    );
    assert!(stats.balanced);
    assert!(share(&stats) < 0.5, "{stats:?}");
}

#[test]
fn a_shared_mean_direction_does_not_defeat_pruning() {
    // Both factors share one mean vector (as embeddings multiplied by W_Q
    // and W_K, or tied embeddings on both sides, can): every entry carries
    // the same large positive offset, so even the lowest entries are
    // positive and a bound on |a · b| alone could skip nothing.
    let (n, depth) = (4000, 32);
    let mut a = factor(n, depth, 0.3, 31);
    let mut b = factor(n, depth, 0.3, 32);
    let shared = factor(1, depth, 0.0, 33);
    for row in a.chunks_exact_mut(depth).chain(b.chunks_exact_mut(depth)) {
        for (x, s) in row.iter_mut().zip(&shared) {
            *x += 4.0 * s;
        }
    }
    let case = Case::new(&a, &b, depth, 20);
    let stats = case.check();
    let (extremes, _) = case.run(Pruning::Bounds);
    assert!(extremes.bottom[0].score > 0.0, "{:?}", extremes.bottom[0]);
    println!(
        "shared mean: computed {:.4} of the entries ({stats:?})",
        share(&stats)
    );
    assert!(share(&stats) < 0.3, "{stats:?}");
}

#[test]
fn rank_deficient_factors_fall_back_to_raw_bounds() {
    // r = 20 columns spanning 5 dimensions: the Gram matrices are singular.
    let (n, depth, rank) = (800, 20, 5);
    let low_a = factor(n, rank, 0.5, 10);
    let low_b = factor(n, rank, 0.5, 11);
    let mix = factor(rank, depth, 0.0, 12);
    let expand = |low: &[f32]| -> Vec<f32> {
        low.chunks_exact(rank)
            .flat_map(|row| {
                (0..depth).map(|c| (0..rank).map(|l| row[l] * mix[l * depth + c]).sum::<f32>())
            })
            .collect()
    };
    let (a, b) = (expand(&low_a), expand(&low_b));
    let stats = Case::new(&a, &b, depth, 15).check();
    assert!(!stats.balanced);
}

#[test]
fn strided_views_read_the_same_matrix() {
    // A stored column-major (r × n, like a Conv1D weight): same results.
    let (n, depth) = (300, 9);
    let a = factor(n, depth, 0.3, 13);
    let b = factor(n, depth, 0.3, 14);
    let transposed: Vec<f32> = (0..depth)
        .flat_map(|c| (0..n).map(move |i| (i, c)))
        .map(|(i, c)| a[i * depth + c])
        .collect();
    let case = Case::new(&a, &b, depth, 12);
    let mut query = case.query(Pruning::Bounds);
    query.a = MatrixView {
        data: &transposed,
        rows: n,
        cols: depth,
        row_stride: 1,
        col_stride: n,
    };
    let (strided, _) = top_pairs(&query).unwrap();
    assert_identical(&strided, &case.run(Pruning::Bounds).0);
}

#[test]
fn nan_is_never_selected_and_exclusion_shortens_lists() {
    let depth = 3;
    let mut a = factor(40, depth, 0.0, 15);
    let b = factor(30, depth, 0.0, 16);
    a[5 * depth + 1] = f32::NAN;
    let case = Case::new(&a, &b, depth, 50);
    case.check();
    let (extremes, _) = case.run(Pruning::Bounds);
    assert!(extremes
        .top
        .iter()
        .chain(&extremes.bottom)
        .all(|p| p.src != 5));

    // 2 × 3 pairs, of which the exclusion leaves 4: lists of 4, not an error.
    let small_a = factor(2, depth, 0.0, 17);
    let small_b = factor(3, depth, 0.0, 18);
    let exclude = |i: u32, j: u32| i == 0 && j < 2;
    let mut case = Case::new(&small_a, &small_b, depth, 6);
    case.exclude = Some(&exclude);
    for pruning in [Pruning::None, Pruning::Bounds] {
        let (extremes, _) = case.run(pruning);
        assert_eq!(extremes.top.len(), 4);
        assert_eq!(extremes.bottom.len(), 4);
    }
    case.check();
}

#[test]
fn products_that_overflow_f32_are_rescored() {
    // M[0, 0] = 1e40 − 1e40 = 0 exactly, but an f32 GEMM overflows both
    // products and gets ∞ − ∞ = NaN; the rows are never screened by it.
    let a = [1e20f32, 1e20, 1.0, 2.0];
    let b = [1e20f32, -1e20, 3.0, 4.0];
    let case = Case::new(&a, &b, 2, 4);
    case.check();
    let (extremes, _) = case.run(Pruning::Bounds);
    let top: Vec<_> = extremes
        .top
        .iter()
        .map(|p| (p.src, p.dst, p.score))
        .collect();
    assert_eq!(
        top,
        vec![(0, 1, 7e20), (1, 1, 11.0), (0, 0, 0.0), (1, 0, -1e20)]
    );
}

#[test]
fn zero_width_factors_score_zero() {
    let empty: [f32; 0] = [];
    let query = PairQuery {
        a: MatrixView::row_major(&empty, 3, 0),
        b: MatrixView::row_major(&empty, 2, 0),
        k: 3,
        src_filter: TokenFilter::all(),
        dst_filter: TokenFilter::all(),
        exclude: None,
        pruning: Pruning::Bounds,
    };
    let (extremes, _) = top_pairs(&query).unwrap();
    let ids: Vec<_> = extremes
        .top
        .iter()
        .map(|p| (p.src, p.dst, p.score))
        .collect();
    assert_eq!(ids, vec![(0, 0, 0.0), (0, 1, 0.0), (1, 0, 0.0)]);
}

#[test]
fn bad_queries_are_errors() {
    let a = factor(4, 3, 0.0, 19);
    let b = factor(5, 3, 0.0, 20);
    let short = [true; 3];
    let some = [true, false, true, false];
    let case = Case::new(&a, &b, 3, 2);
    let base = case.query(Pruning::Bounds);
    // Errors compared by what they say: they carry no equality of their own.
    let run = |query: PairQuery<'_>| top_pairs(&query).map(|_| ()).map_err(|e| e.to_string());
    assert_eq!(
        run(PairQuery { k: 0, ..base }),
        Err(ProjectError::ZeroK.to_string())
    );
    assert_eq!(
        run(PairQuery { k: 21, ..base }),
        Err(ProjectError::TooFewPairs { k: 21, pairs: 20 }.to_string())
    );
    assert_eq!(
        run(PairQuery {
            k: 11,
            src_filter: TokenFilter::only(&some),
            ..base
        }),
        Err(ProjectError::TooFewPairs { k: 11, pairs: 10 }.to_string())
    );
    let narrow = MatrixView { cols: 2, ..base.b };
    assert_eq!(
        run(PairQuery { b: narrow, ..base }),
        Err(ProjectError::FactorMismatch { src: 3, dst: 2 }.to_string())
    );
    assert_eq!(
        run(PairQuery {
            src_filter: TokenFilter::only(&short),
            ..base
        }),
        Err(ProjectError::FilterLength {
            filter: 3,
            tokens: 4
        }
        .to_string())
    );
    let overlong = MatrixView { rows: 5, ..base.a };
    assert_eq!(
        run(PairQuery {
            a: overlong,
            ..base
        }),
        Err(ProjectError::ViewOutOfBounds.to_string())
    );
}

#[test]
fn pruning_skips_most_tiles_on_lognormal_norms() {
    // The size of one GPT-2 head's factors at a sixth of the vocabulary;
    // prints what share of the matrix each mode evaluated
    // (cargo test -p glossa-project --test pairs -- --nocapture).
    let (n, depth, k) = (8192, 64, 50);
    for (sigma, seed) in [(0.3, 21), (0.5, 23)] {
        let a = factor(n, depth, sigma, seed);
        let b = factor(n, depth, sigma, seed + 1);
        let case = Case::new(&a, &b, depth, k);
        let start = Instant::now();
        let (pruned, stats) = case.run(Pruning::Bounds);
        let pruned_time = start.elapsed();
        let start = Instant::now();
        let (brute, _) = case.run(Pruning::None);
        let brute_time = start.elapsed();
        assert_identical(&pruned, &brute);
        println!(
            "n = {n}, r = {depth}, sigma = {sigma}: computed {:.5} of the entries, \
             {} of {} tiles skipped, balanced = {}; {pruned_time:.2?} pruned vs {brute_time:.2?} brute force",
            share(&stats),
            stats.tiles_skipped,
            stats.tiles,
            stats.balanced,
        );
        assert!(share(&stats) < 0.1, "{stats:?}");
    }
}
