//! Exact t-SNE (van der Maaten and Hinton, 2008) for a few hundred points.
//!
//! The steps and constants follow scikit-learn's `TSNE(method="exact",
//! init="pca")`: conditional probabilities from squared Euclidean distances,
//! each row's precision found by bisection to match the perplexity, symmetrised
//! joint probabilities; a PCA initialisation scaled to a standard deviation of
//! 1e-4 along the first axis; gradient descent with momentum (0.5, then 0.8)
//! and per-coordinate gains, the first 250 iterations under early exaggeration
//! 12, and a learning rate of `max(n / 12 / 4, 50)`, capped so that no step
//! overshoots (see [`Tsne::embed`]).
//!
//! One departure keeps that cap from collapsing the layout. While the points
//! are far closer than the Student-t kernel's unit scale (as the 1e-4
//! initialisation puts them), the gradient is linear in the coordinates, and
//! under exaggeration with a step that cannot overshoot it contracts every
//! shape whenever the neighbour graph is well connected (no mode of P's
//! Laplacian with `12 λ < 1 / (n - 1)`): the layout shrinks by twenty to thirty
//! orders of magnitude in 250 iterations. Scikit-learn's uncapped rate escapes
//! by overshooting. Here the layout is kept centred and is never allowed to
//! shrink below its initial size: at that scale rescaling the points and their
//! momentum together changes only the size of what the gradient does, so the
//! shape evolves as it would, but at full precision, and the second phase
//! starts from the initial scale rather than from one it would take hundreds of
//! iterations to grow back from.
//!
//! Every pair is visited at every iteration: O(n²) time and memory, which is
//! what a plot of the k tokens of one list needs.

use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{PlotError, Result};

/// Settings of one t-SNE run; [`Tsne::default`] is the seed's: 2-D,
/// perplexity 3, PCA initialisation, 1000 iterations.
#[derive(Debug, Clone, PartialEq)]
pub struct Tsne {
    /// Output dimensions: 2 or 3 (1 works too).
    pub dims: usize,
    /// The effective number of neighbours each point keeps; lowered to
    /// `(n - 1) / 3` when there are too few points to reach it.
    pub perplexity: f64,
    /// Gradient-descent iterations, early exaggeration included.
    pub iterations: usize,
    /// Seeds the tiny jitter added to the PCA initialisation, which separates
    /// identical vectors; the same seed gives the same layout.
    pub seed: u64,
}

impl Default for Tsne {
    fn default() -> Tsne {
        Tsne {
            dims: 2,
            perplexity: 3.0,
            iterations: 1000,
            seed: 0,
        }
    }
}

/// Points placed by [`Tsne::embed`].
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// Output dimensions.
    pub dims: usize,
    /// Row-major coordinates, `dims` per point, in input order.
    pub coords: Vec<f64>,
    /// The perplexity actually used (see [`Tsne::perplexity`]).
    pub perplexity: f64,
    /// KL(P‖Q) of the final layout: lower is a more faithful picture.
    pub kl_divergence: f64,
}

impl Embedding {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.coords.len() / self.dims.max(1)
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The coordinates of point `i`.
    pub fn point(&self, i: usize) -> &[f64] {
        &self.coords[i * self.dims..(i + 1) * self.dims]
    }
}

const EXAGGERATION: f64 = 12.0;
const EXAGGERATION_ITERATIONS: usize = 250;
const MIN_GAIN: f64 = 0.01;
/// Floor of the joint probabilities, as in scikit-learn.
const MACHINE_EPSILON: f64 = f64::EPSILON;

impl Tsne {
    /// The 2-D default with another seed.
    pub fn with_seed(seed: u64) -> Tsne {
        Tsne {
            seed,
            ..Tsne::default()
        }
    }

    /// Places `vectors` (all the same length, finite) in [`Tsne::dims`]
    /// dimensions so that near vectors stay near.
    pub fn embed(&self, vectors: &[Vec<f32>]) -> Result<Embedding> {
        if !(1..=3).contains(&self.dims) {
            return Err(PlotError::Dimensions(self.dims));
        }
        if !(self.perplexity.is_finite() && self.perplexity > 0.0) {
            return Err(PlotError::Perplexity(self.perplexity));
        }
        let n = vectors.len();
        let Some(first) = vectors.first() else {
            return Err(PlotError::NoPoints);
        };
        for (index, vector) in vectors.iter().enumerate() {
            if vector.len() != first.len() {
                return Err(PlotError::RaggedVectors {
                    index,
                    expected: first.len(),
                    found: vector.len(),
                });
            }
            if let Some(&value) = vector.iter().find(|v| !v.is_finite()) {
                return Err(PlotError::NonFinite { index, value });
            }
        }
        let dims = self.dims;
        let perplexity = self.perplexity.min((n.saturating_sub(1)) as f64 / 3.0);
        if n < 3 || perplexity < 1.0 {
            // Too few points for neighbourhoods: the PCA layout is the picture.
            let coords = pca(vectors, dims);
            return Ok(Embedding {
                dims,
                coords,
                perplexity: 0.0,
                kl_divergence: 0.0,
            });
        }
        let p = joint_probabilities(&squared_distances(vectors), n, perplexity);

        let mut y = pca(vectors, dims);
        let spread = std_dev(&y, dims, 0);
        let scale = if spread > 0.0 { 1e-4 / spread } else { 1.0 };
        let mut random = SplitMix64(self.seed);
        for value in &mut y {
            *value = *value * scale + 1e-6 * random.symmetric();
        }
        let initial_radius = centre(&mut y, dims);

        // scikit-learn's automatic rate, capped so that the step a point takes
        // towards its neighbours under exaggeration cannot overshoot them: with
        // few points (or near duplicates) a row of P is heavy, and a rate of 50
        // would throw close pairs apart for good.
        let heaviest_row = (0..n)
            .map(|i| p[i * n..(i + 1) * n].iter().sum::<f64>())
            .fold(0.0, f64::max);
        let learning_rate = (n as f64 / EXAGGERATION / 4.0)
            .max(50.0)
            .min(1.0 / (4.0 * EXAGGERATION * heaviest_row));
        let mut update = vec![0.0; n * dims];
        let mut gains = vec![1.0; n * dims];
        let mut gradient = vec![0.0; n * dims];
        let mut q = vec![0.0; n * n];
        for iteration in 0..self.iterations {
            let (exaggeration, momentum) = if iteration < EXAGGERATION_ITERATIONS {
                (EXAGGERATION, 0.5)
            } else {
                (1.0, 0.8)
            };
            kl_gradient(&p, &y, dims, exaggeration, &mut q, &mut gradient);
            for i in 0..n * dims {
                if update[i] * gradient[i] < 0.0 {
                    gains[i] += 0.2;
                } else {
                    gains[i] *= 0.8;
                }
                gains[i] = f64::max(gains[i], MIN_GAIN);
                update[i] = momentum * update[i] - learning_rate * gains[i] * gradient[i];
                y[i] += update[i];
            }
            // The gradient conserves the centroid, so a common offset would
            // only cost the differences their precision: once the spread fell
            // below the offset's last bit, every point became the same point
            // and the gradient exactly zero, for good. Below the initial size
            // the gradient is linear in the layout, so scaling it back up (and
            // the momentum with it) keeps its shape and its course (see the
            // module doc).
            let radius = centre(&mut y, dims);
            if radius > 0.0 && radius < initial_radius {
                let grow = initial_radius / radius;
                y.iter_mut().for_each(|v| *v *= grow);
                update.iter_mut().for_each(|v| *v *= grow);
            }
        }
        let kl_divergence = kl_gradient(&p, &y, dims, 1.0, &mut q, &mut gradient);
        Ok(Embedding {
            dims,
            coords: y,
            perplexity,
            kl_divergence,
        })
    }
}

/// Squared Euclidean distances, `n × n`, in f64.
fn squared_distances(vectors: &[Vec<f32>]) -> Vec<f64> {
    let n = vectors.len();
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s: f64 = vectors[i]
                .iter()
                .zip(&vectors[j])
                .map(|(&a, &b)| {
                    let x = a as f64 - b as f64;
                    x * x
                })
                .sum();
            d[i * n + j] = s;
            d[j * n + i] = s;
        }
    }
    d
}

/// Symmetric joint probabilities P, `n × n`, from the distances: each row's
/// conditional distribution has the given perplexity.
fn joint_probabilities(distances: &[f64], n: usize, perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let mut conditional = vec![0.0; n * n];
    for i in 0..n {
        let row = &distances[i * n..(i + 1) * n];
        // Shifting by the nearest distance leaves the distribution unchanged and
        // keeps exp() from underflowing for far-apart inputs.
        let nearest = (0..n)
            .filter(|&j| j != i)
            .map(|j| row[j])
            .fold(f64::INFINITY, f64::min);
        let (mut beta, mut low, mut high) = (1.0 / row_scale(row, i), 0.0, f64::INFINITY);
        let out = &mut conditional[i * n..(i + 1) * n];
        for _ in 0..200 {
            let mut sum = 0.0;
            let mut weighted = 0.0;
            for j in 0..n {
                if j == i {
                    out[j] = 0.0;
                    continue;
                }
                let shifted = row[j] - nearest;
                let value = (-shifted * beta).exp();
                out[j] = value;
                sum += value;
                weighted += shifted * value;
            }
            let entropy = sum.ln() + beta * weighted / sum;
            let difference = entropy - target;
            if difference.abs() < 1e-6 {
                break;
            }
            if difference > 0.0 {
                low = beta;
                beta = if high.is_finite() {
                    (beta + high) / 2.0
                } else {
                    beta * 2.0
                };
            } else {
                high = beta;
                beta = (beta + low) / 2.0;
            }
        }
        let sum: f64 = out.iter().sum();
        out.iter_mut().for_each(|v| *v /= sum);
    }
    let mut joint = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                joint[i * n + j] = ((conditional[i * n + j] + conditional[j * n + i])
                    / (2.0 * n as f64))
                    .max(MACHINE_EPSILON);
            }
        }
    }
    joint
}

/// A typical distance of row `i`, so the bisection starts near its answer.
fn row_scale(row: &[f64], i: usize) -> f64 {
    let (sum, count) = row
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .fold((0.0, 0usize), |(s, c), (_, &d)| (s + d, c + 1));
    let mean = sum / count.max(1) as f64;
    if mean > 0.0 {
        mean
    } else {
        1.0
    }
}

/// Writes the gradient of KL(P‖Q) into `gradient` and returns the divergence.
fn kl_gradient(
    p: &[f64],
    y: &[f64],
    dims: usize,
    exaggeration: f64,
    q: &mut [f64],
    gradient: &mut [f64],
) -> f64 {
    let n = y.len() / dims;
    let mut total = 0.0;
    for i in 0..n {
        q[i * n + i] = 0.0;
        for j in i + 1..n {
            let d2: f64 = (0..dims)
                .map(|c| {
                    let x = y[i * dims + c] - y[j * dims + c];
                    x * x
                })
                .sum();
            let kernel = 1.0 / (1.0 + d2);
            q[i * n + j] = kernel;
            q[j * n + i] = kernel;
            total += 2.0 * kernel;
        }
    }
    gradient.iter_mut().for_each(|g| *g = 0.0);
    let mut kl = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let kernel = q[i * n + j];
            let qij = (kernel / total).max(MACHINE_EPSILON);
            let pij = p[i * n + j] * exaggeration;
            kl += p[i * n + j] * (p[i * n + j] / qij).ln();
            let force = 4.0 * (pij - qij) * kernel;
            for c in 0..dims {
                gradient[i * dims + c] += force * (y[i * dims + c] - y[j * dims + c]);
            }
        }
    }
    kl
}

/// The first `dims` principal-component scores of the vectors, row-major.
///
/// Signs are fixed (each component's largest score is positive) so the result
/// does not depend on the eigen solver's choice.
pub(crate) fn pca(vectors: &[Vec<f32>], dims: usize) -> Vec<f64> {
    let n = vectors.len();
    let d = vectors.first().map_or(0, Vec::len);
    let mut centred = DMatrix::<f64>::zeros(n, d);
    for c in 0..d {
        let mean = vectors.iter().map(|v| v[c] as f64).sum::<f64>() / n as f64;
        for (r, v) in vectors.iter().enumerate() {
            centred[(r, c)] = v[c] as f64 - mean;
        }
    }
    // Scores are the eigenvectors of the n × n Gram matrix scaled by the root of
    // their eigenvalues; with more points than dimensions, project onto the
    // eigenvectors of the d × d scatter matrix instead (same scores, smaller solve).
    let mut scores = DMatrix::<f64>::zeros(n, dims);
    if n <= d {
        let gram = &centred * centred.transpose();
        let eigen = SymmetricEigen::new(gram);
        for (c, &k) in descending(&eigen.eigenvalues).iter().take(dims).enumerate() {
            let root = eigen.eigenvalues[k].max(0.0).sqrt();
            for r in 0..n {
                scores[(r, c)] = eigen.eigenvectors[(r, k)] * root;
            }
        }
    } else {
        let scatter = centred.transpose() * &centred;
        let eigen = SymmetricEigen::new(scatter);
        for (c, &k) in descending(&eigen.eigenvalues).iter().take(dims).enumerate() {
            let axis = eigen.eigenvectors.column(k);
            for r in 0..n {
                scores[(r, c)] = centred.row(r).dot(&axis.transpose());
            }
        }
    }
    for c in 0..dims {
        let strongest = (0..n).fold(0.0f64, |best, r| {
            let v = scores[(r, c)];
            if v.abs() > best.abs() + 1e-12 {
                v
            } else {
                best
            }
        });
        if strongest < 0.0 {
            for r in 0..n {
                scores[(r, c)] = -scores[(r, c)];
            }
        }
    }
    (0..n)
        .flat_map(|r| (0..dims).map(move |c| (r, c)))
        .map(|(r, c)| scores[(r, c)])
        .collect()
}

/// Indices of `values`, largest first (ties by index).
fn descending(values: &nalgebra::DVector<f64>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order
}

/// Moves the centroid of a row-major `? × dims` layout to the origin and
/// returns the root-mean-square distance of its points from it.
fn centre(values: &mut [f64], dims: usize) -> f64 {
    let n = values.len() / dims;
    if n == 0 {
        return 0.0;
    }
    for c in 0..dims {
        let mean = (0..n).map(|r| values[r * dims + c]).sum::<f64>() / n as f64;
        (0..n).for_each(|r| values[r * dims + c] -= mean);
    }
    (values.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt()
}

/// Standard deviation of column `c` of a row-major `? × dims` array.
fn std_dev(values: &[f64], dims: usize, c: usize) -> f64 {
    let n = values.len() / dims;
    if n == 0 {
        return 0.0;
    }
    let mean = (0..n).map(|r| values[r * dims + c]).sum::<f64>() / n as f64;
    let variance = (0..n)
        .map(|r| (values[r * dims + c] - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    variance.sqrt()
}

/// A small, fixed pseudo-random generator (SplitMix64): the same numbers on
/// every platform and release, which a reproducible figure needs.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub(crate) fn symmetric(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_recovers_the_main_axis() {
        // Points on a line along (1, 1, 0) with a little noise off it.
        let vectors: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let t = i as f32;
                vec![t, t, if i % 2 == 0 { 0.01 } else { -0.01 }]
            })
            .collect();
        let scores = pca(&vectors, 2);
        // The first component is monotone in t; the second is tiny.
        for i in 1..20 {
            let (a, b) = (scores[(i - 1) * 2], scores[i * 2]);
            assert!((b - a).abs() > 1.0, "first component steps with t");
        }
        assert!(scores.chunks(2).all(|s| s[1].abs() < 0.1));
    }

    #[test]
    fn perplexity_is_matched() {
        let vectors: Vec<Vec<f32>> = (0..30)
            .map(|i| {
                vec![
                    (i as f32 * 0.7).sin() * 3.0,
                    (i as f32 * 1.3).cos(),
                    i as f32,
                ]
            })
            .collect();
        let n = vectors.len();
        let d = squared_distances(&vectors);
        let p = joint_probabilities(&d, n, 5.0);
        let total: f64 = p.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "P sums to one, got {total}");
        for i in 0..n {
            for j in 0..n {
                assert_eq!(p[i * n + j], p[j * n + i], "P is symmetric");
            }
        }
    }
}
