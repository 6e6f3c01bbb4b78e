//! t-SNE on constructed examples whose right answer is known.

use glossa_plot::{PlotError, Tsne};

/// A fixed pseudo-random sequence (an LCG), so the examples never change.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn vector(&mut self, d: usize, scale: f32) -> Vec<f32> {
        (0..d).map(|_| self.next() * scale).collect()
    }
}

/// `clusters` tight groups of `size` points around centres far apart, in `d` dimensions.
fn clustered(clusters: usize, size: usize, d: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut random = Lcg(7);
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| random.vector(d, 10.0)).collect();
    let mut vectors = Vec::new();
    let mut labels = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        for _ in 0..size {
            let noise = random.vector(d, 0.05);
            vectors.push(centre.iter().zip(&noise).map(|(a, b)| a + b).collect());
            labels.push(c);
        }
    }
    (vectors, labels)
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The indices of the `k` nearest other points to point `i`.
fn nearest(points: &[&[f64]], i: usize, k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).filter(|&j| j != i).collect();
    order.sort_by(|&a, &b| {
        distance(points[i], points[a]).total_cmp(&distance(points[i], points[b]))
    });
    order.truncate(k);
    order
}

#[test]
fn tight_clusters_stay_together_in_2d_and_3d() {
    let (vectors, labels) = clustered(3, 12, 48);
    for dims in [2, 3] {
        let tsne = Tsne {
            dims,
            ..Tsne::default()
        };
        let embedding = tsne.embed(&vectors).unwrap();
        assert_eq!(embedding.len(), vectors.len());
        assert_eq!(embedding.perplexity, 3.0);
        let points: Vec<&[f64]> = (0..embedding.len()).map(|i| embedding.point(i)).collect();
        for i in 0..points.len() {
            // Every neighbour within the cluster's size is from the same cluster.
            for j in nearest(&points, i, 11) {
                assert_eq!(
                    labels[j], labels[i],
                    "{dims}-D: point {i}'s near neighbour {j} is in another cluster"
                );
            }
        }
        // And the clusters are well apart: the closest pair across clusters is
        // farther than the widest pair within one.
        let mut within = 0f64;
        let mut across = f64::INFINITY;
        for i in 0..points.len() {
            for j in i + 1..points.len() {
                let d = distance(points[i], points[j]);
                if labels[i] == labels[j] {
                    within = within.max(d);
                } else {
                    across = across.min(d);
                }
            }
        }
        assert!(
            across > within,
            "{dims}-D: clusters overlap ({across} vs {within})"
        );
    }
}

#[test]
fn near_duplicates_are_each_others_nearest_neighbours() {
    let mut random = Lcg(11);
    let mut vectors = Vec::new();
    for _ in 0..25 {
        let v = random.vector(32, 1.0);
        let twin: Vec<f32> = v.iter().map(|x| x + random.next() * 1e-3).collect();
        vectors.push(v);
        vectors.push(twin);
    }
    let embedding = Tsne::default().embed(&vectors).unwrap();
    let points: Vec<&[f64]> = (0..embedding.len()).map(|i| embedding.point(i)).collect();
    for i in 0..points.len() {
        assert_eq!(
            nearest(&points, i, 1),
            vec![i ^ 1],
            "point {i} is not next to its near duplicate"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_layout() {
    let (vectors, _) = clustered(4, 8, 16);
    let a = Tsne::with_seed(42).embed(&vectors).unwrap();
    let b = Tsne::with_seed(42).embed(&vectors).unwrap();
    assert_eq!(a, b, "bit-identical for one seed");
    let c = Tsne::with_seed(43).embed(&vectors).unwrap();
    assert_ne!(a.coords, c.coords, "the seed is used");
    assert!(a.kl_divergence.is_finite() && a.kl_divergence >= 0.0);
}

#[test]
fn identical_vectors_are_separated_but_kept_together() {
    let mut vectors = vec![vec![1.0f32, 2.0, 3.0]; 4];
    vectors.extend(vec![vec![-5.0f32, 0.0, 9.0]; 4]);
    let embedding = Tsne::default().embed(&vectors).unwrap();
    let points: Vec<&[f64]> = (0..8).map(|i| embedding.point(i)).collect();
    for i in 0..8 {
        for j in i + 1..8 {
            assert!(distance(points[i], points[j]) > 0.0, "{i} and {j} coincide");
        }
        for j in nearest(&points, i, 3) {
            assert_eq!(j / 4, i / 4, "copies of one vector stay together");
        }
    }
}

#[test]
fn few_points_still_get_a_layout() {
    for n in 1..=4 {
        let vectors: Vec<Vec<f32>> = (0..n).map(|i| vec![i as f32, (i * i) as f32]).collect();
        let embedding = Tsne::default().embed(&vectors).unwrap();
        assert_eq!(embedding.len(), n);
        assert!(embedding.coords.iter().all(|c| c.is_finite()));
    }
}

#[test]
fn bad_input_is_refused() {
    assert!(matches!(
        Tsne::default().embed(&[]),
        Err(PlotError::NoPoints)
    ));
    assert!(matches!(
        Tsne::default().embed(&[vec![1.0, 2.0], vec![1.0]]),
        Err(PlotError::RaggedVectors { index: 1, .. })
    ));
    assert!(matches!(
        Tsne::default().embed(&[vec![1.0, f32::NAN]]),
        Err(PlotError::NonFinite { index: 0, .. })
    ));
    let four_d = Tsne {
        dims: 4,
        ..Tsne::default()
    };
    assert!(matches!(
        four_d.embed(&[vec![1.0]]),
        Err(PlotError::Dimensions(4))
    ));
}

/// A list shaped like the embedding rows of a neuron's top tokens: `n` vectors
/// of `d` roughly Gaussian coordinates, each with its own length (within a
/// factor of two of the others, so short vectors near the centre become the
/// nearest neighbour of many), the first `outlier` times longer than it would
/// be, and the last `copies` exact copies of vectors 1, 2, ….
///
/// Such lists have no clusters: their neighbour graph is well connected, the
/// case in which early exaggeration shrinks the whole layout.
fn token_like(seed: u64, n: usize, d: usize, outlier: f32, copies: usize) -> Vec<Vec<f32>> {
    let mut random = Lcg(seed);
    let mut vectors: Vec<Vec<f32>> = (0..n)
        .map(|_| {
            let length = (random.next() * 0.7).exp() * 0.03;
            (0..d)
                .map(|_| (0..4).map(|_| random.next()).sum::<f32>() * length)
                .collect()
        })
        .collect();
    vectors[0].iter_mut().for_each(|x| *x *= outlier);
    for k in 0..copies {
        vectors[n - 1 - k] = vectors[1 + k].clone();
    }
    vectors
}

/// Asserts that `tsne` spreads `vectors` out: finite coordinates and KL; a KL
/// well below that of the starting layout (where every point is about equally
/// near every other, which is also the KL of a collapsed layout); a layout
/// spanning units of the Student-t kernel; distinct vectors at distinct places;
/// copies of one vector each other's nearest neighbours.
fn assert_spread(vectors: &[Vec<f32>], tsne: &Tsne, case: &str) {
    let embedding = tsne.embed(vectors).unwrap();
    let start = Tsne {
        iterations: 0,
        ..tsne.clone()
    }
    .embed(vectors)
    .unwrap();
    let n = vectors.len();
    assert!(
        embedding.coords.iter().all(|c| c.is_finite()),
        "{case}: non-finite coordinates"
    );
    let kl = embedding.kl_divergence;
    assert!(kl.is_finite() && kl >= 0.0, "{case}: KL {kl}");
    assert!(
        kl < 0.8 * start.kl_divergence,
        "{case}: KL {kl} is hardly below the starting layout's {}",
        start.kl_divergence
    );

    let points: Vec<&[f64]> = (0..n).map(|i| embedding.point(i)).collect();
    let centroid: Vec<f64> = (0..tsne.dims)
        .map(|c| points.iter().map(|p| p[c]).sum::<f64>() / n as f64)
        .collect();
    let radius = (points
        .iter()
        .map(|p| distance(p, &centroid).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    assert!(radius > 1.0, "{case}: the layout's radius is {radius:e}");
    for i in 0..n {
        for j in i + 1..n {
            let d = distance(points[i], points[j]);
            if vectors[i] != vectors[j] {
                assert!(
                    d > 1e-3 * radius,
                    "{case}: distinct vectors {i} and {j} are {d:e} apart in a layout of radius {radius:e}"
                );
            } else {
                assert_eq!(
                    nearest(&points, i, 1),
                    vec![j],
                    "{case}: copies {i} and {j} are not each other's nearest neighbours"
                );
            }
        }
    }
}

#[test]
fn lists_without_clusters_spread_out_whatever_their_outliers() {
    for n in [5, 7, 10, 16, 25, 40, 50, 64] {
        for outlier in [1.0, 5.0, 30.0, 100.0] {
            for copies in [0, n / 5] {
                let seed = n as u64 * 1000 + outlier as u64 * 10 + copies as u64;
                let vectors = token_like(seed, n, 64, outlier, copies);
                let tsne = Tsne::with_seed(seed % 4);
                let case = format!("n {n}, outlier ×{outlier}, {copies} copies, seed {seed}");
                assert_spread(&vectors, &tsne, &case);
            }
        }
    }
}

#[test]
fn large_lists_spread_out_in_2d_and_3d() {
    for (n, dims) in [(100, 2), (150, 3), (200, 2)] {
        for (outlier, copies) in [(1.0, 0), (50.0, n / 10)] {
            let seed = n as u64 + copies as u64;
            let vectors = token_like(seed, n, 64, outlier, copies);
            let tsne = Tsne {
                dims,
                seed,
                ..Tsne::default()
            };
            let case = format!("n {n}, {dims}-D, outlier ×{outlier}, {copies} copies");
            assert_spread(&vectors, &tsne, &case);
        }
    }
}

#[test]
fn a_connected_list_keeps_its_shape_through_early_exaggeration() {
    // After the 250 exaggerated iterations alone, the points are still apart:
    // the layout has not shrunk past the precision of its coordinates.
    let vectors = token_like(3, 50, 64, 20.0, 0);
    let exaggerated_only = Tsne {
        iterations: 250,
        ..Tsne::default()
    };
    let embedding = exaggerated_only.embed(&vectors).unwrap();
    let points: Vec<&[f64]> = (0..50).map(|i| embedding.point(i)).collect();
    let widest = (0..50)
        .flat_map(|i| (i + 1..50).map(move |j| (i, j)))
        .map(|(i, j)| distance(points[i], points[j]))
        .fold(0.0, f64::max);
    for i in 0..50 {
        for j in i + 1..50 {
            let d = distance(points[i], points[j]);
            assert!(
                d > 1e-6 * widest,
                "points {i} and {j} are {d:e} apart, the widest pair {widest:e}"
            );
        }
    }
}
