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
