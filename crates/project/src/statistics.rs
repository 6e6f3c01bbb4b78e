//! What a vector's scores over the vocabulary look like: their mean and
//! spread ([`Moments`], what z is read against), how concentrated they are
//! (the excess kurtosis of the scores and the entropy of their softmax), all
//! gathered in one streaming pass beside the lists.

use crate::moments::Moments;

/// The scores of one vector seen so far, summarised for their moments,
/// kurtosis and entropy.
///
/// Kurtosis is read from power sums of the scores minus a shift, the mean
/// of the first row of scores seen: close to the mean of all of them, so
/// the fourth central moment does not cancel away even when the mean is
/// many standard deviations from zero, and each term can be computed in
/// f32 (the sums are float64). The softmax is kept as in an online softmax:
/// a running maximum M, Z = Σ e^(x−M) and W = Σ e^(x−M)·(x−M), rescaled
/// whenever M grows, so no exponential overflows; the entropy is then
/// ln Z − W/Z.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreStatistics {
    count: u64,
    shift: f64,
    /// Σ (x − shift)^p for p = 1..4.
    powers: [f64; 4],
    max: f64,
    partition: f64,
    weighted: f64,
}

impl ScoreStatistics {
    /// Adds the scores of `row` that `allowed` (as long as `row`) lets
    /// through, or all of them. Rows must come in token order for the sums
    /// to be the same however the tokens are tiled.
    ///
    /// The portable build targets baseline x86-64 (SSE2): where the CPU has
    /// AVX-512 the same code is compiled for it and picked at run time, as
    /// the selection's is.
    #[inline]
    pub fn add_row(&mut self, row: &[f32], allowed: Option<&[bool]>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU was just checked for AVX-512F.
            return unsafe { self.add_row_avx512(row, allowed) };
        }
        self.add_row_portable(row, allowed);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn add_row_avx512(&mut self, row: &[f32], allowed: Option<&[bool]>) {
        self.add_row_portable(row, allowed);
    }

    #[inline(always)]
    fn add_row_portable(&mut self, row: &[f32], allowed: Option<&[bool]>) {
        let keeps = |i: usize| allowed.is_none_or(|allowed| allowed[i]);
        if !(0..row.len()).any(keeps) {
            return;
        }
        let row_max =
            match allowed {
                None => row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)),
                Some(allowed) => row.iter().zip(allowed).fold(
                    f32::NEG_INFINITY,
                    |m, (&x, &keep)| if keep { m.max(x) } else { m },
                ),
            };
        let row_max = f64::from(row_max);
        if self.count == 0 {
            // The mean of the first scores: close to the mean of them all,
            // so that the power sums hardly cancel (and the shift, an f32
            // like the scores, takes differences from them exactly or to one
            // rounding).
            let (sum, kept) = row
                .iter()
                .enumerate()
                .filter(|&(i, _)| keeps(i))
                .fold((0f64, 0u32), |(sum, kept), (_, &x)| {
                    (sum + f64::from(x), kept + 1)
                });
            self.shift = f64::from((sum / f64::from(kept)) as f32);
            self.max = row_max;
        } else if row_max > self.max {
            let scale = (self.max - row_max).exp();
            self.weighted = scale * (self.weighted + (self.max - row_max) * self.partition);
            self.partition *= scale;
            self.max = row_max;
        }
        let sums = match allowed {
            None => lane_sums(row, self.shift as f32, self.max as f32, |_| 1.0),
            Some(allowed) => lane_sums(row, self.shift as f32, self.max as f32, |i| {
                f32::from(u8::from(allowed[i]))
            }),
        };
        self.count += allowed.map_or(row.len(), |a| a.iter().filter(|&&k| k).count()) as u64;
        for (total, part) in self.powers.iter_mut().zip(&sums[..4]) {
            *total += part;
        }
        self.partition += sums[4];
        self.weighted += sums[5];
    }

    /// How many scores were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Their count, sum and sum of squares.
    pub fn moments(&self) -> Moments {
        let (n, shift) = (self.count as f64, self.shift);
        let [s1, s2, ..] = self.powers;
        Moments {
            count: self.count,
            sum: s1 + n * shift,
            sum_squares: s2 + 2.0 * shift * s1 + n * shift * shift,
        }
    }

    /// Excess kurtosis m₄/m₂² − 3 of the scores (0 for a normal
    /// distribution, large when a few tokens stand far out); `None` when
    /// the scores do not vary.
    pub fn kurtosis(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let n = self.count as f64;
        let [s1, s2, s3, s4] = self.powers.map(|s| s / n);
        let mean = s1;
        let m2 = s2 - mean * mean;
        let m4 = s4 - 4.0 * mean * s3 + 6.0 * mean * mean * s2 - 3.0 * mean.powi(4);
        // Rounding makes m₂ of constant scores a tiny number, not 0.
        (m2 > f64::EPSILON * s2.max(f64::MIN_POSITIVE)).then(|| m4.max(0.0) / (m2 * m2) - 3.0)
    }

    /// Entropy in nats of the softmax of the scores: 0 when one token takes
    /// all the mass, ln(count) when every score is equal.
    pub fn entropy(&self) -> f64 {
        if self.partition <= 0.0 {
            return 0.0;
        }
        (self.partition.ln() - self.weighted / self.partition).max(0.0)
    }
}

/// Scores whose terms are computed together, then summed.
const BLOCK: usize = 128;

/// Σy, Σy², Σy³, Σy⁴ with y = x − shift, Σe and Σe·(x − max) with
/// e = e^(x − max), over the scores of `row` whose weight (1 kept, 0 not)
/// is 1.
///
/// A block of scores at a time: one element-wise loop computes every term
/// in f32 (x and the shift or maximum are f32 values, so a difference is
/// exact or off by one rounding of itself), then each term is summed in
/// `LANES` f32 partial sums over the block, and the blocks' sums in
/// float64. Both loops are plain enough for the compiler to vectorise; the
/// order of the additions depends only on the row.
#[inline(always)]
fn lane_sums(row: &[f32], shift: f32, max: f32, weight: impl Fn(usize) -> f32) -> [f64; 6] {
    let mut totals = [0f64; 6];
    let mut terms = [[0f32; BLOCK]; 6];
    for (b, block) in row.chunks(BLOCK).enumerate() {
        let n = block.len();
        let [ys, y2s, y3s, y4s, es, eos] = &mut terms;
        for i in 0..n {
            let (x, w) = (block[i], weight(b * BLOCK + i));
            let y = (x - shift) * w;
            let y2 = y * y;
            ys[i] = y;
            y2s[i] = y2;
            y3s[i] = y2 * y;
            y4s[i] = y2 * y2;
            // A score left out may exceed the maximum of those kept.
            let offset = (x - max).min(0.0);
            let e = exp_nonpositive(offset) * w;
            es[i] = e;
            eos[i] = e * offset;
        }
        for (total, term) in totals.iter_mut().zip(&terms) {
            *total += lane_sum(&term[..n]);
        }
    }
    totals
}

/// Partial sums per lane of a sum, enough to fill a vector register of f32.
const LANES: usize = 16;

/// Σ `values` in `LANES` f32 partial sums, added in float64.
#[inline(always)]
fn lane_sum(values: &[f32]) -> f64 {
    let mut lanes = [0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(rest) {
        *lane += v;
    }
    lanes.iter().map(|&l| f64::from(l)).sum()
}

/// e^x for x ≤ 0, within 5 × 10⁻⁷ relative (a few f32 ulps), and 0 below
/// −87 (where e^x leaves f32's normal range). Plain arithmetic, so that the
/// loop calling it vectorises: std's `exp` is a library call.
///
/// e^x = 2ⁿ · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2; e^r by its
/// Taylor series to r⁶ (error under r⁷/7! ≈ 1.2 × 10⁻⁷ there), 2ⁿ built in
/// the exponent bits.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that n · ln 2 is subtracted without rounding.
    const LN2_HIGH: f32 = 0.693_145_75;
    const LN2_LOW: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 · 2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let clamped = x.max(-87.0);
    let rounded = clamped * LOG2_E + ROUND;
    let n = rounded - ROUND;
    // n, read from the low bits of `rounded` rather than by a conversion.
    let exponent = rounded
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let r = (clamped - n * LN2_HIGH) - n * LN2_LOW;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(exponent << 23);
    if x < -87.0 {
        0.0
    } else {
        scale * p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kurtosis and entropy straight from their definitions, in float64.
    fn reference(scores: &[f64]) -> (f64, f64) {
        let n = scores.len() as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let m2 = scores.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let m4 = scores.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
        let max = scores.iter().copied().fold(f64::MIN, f64::max);
        let z: f64 = scores.iter().map(|x| (x - max).exp()).sum();
        let entropy = -scores
            .iter()
            .map(|x| {
                let p = (x - max).exp() / z;
                p * p.ln()
            })
            .sum::<f64>();
        (m4 / (m2 * m2) - 3.0, entropy)
    }

    #[test]
    fn matches_the_definitions_however_the_row_is_split() {
        // Far from zero and rising, so the running maximum is rescaled.
        let row: Vec<f32> = (0..1000)
            .map(|i| 500.0 + ((i * 37 % 101) as f32) * 0.05 + if i == 900 { 8.0 } else { 0.0 })
            .collect();
        let allowed: Vec<bool> = (0..row.len()).map(|i| i % 7 != 3).collect();
        let kept: Vec<f64> = row
            .iter()
            .zip(&allowed)
            .filter(|(_, &keep)| keep)
            .map(|(&x, _)| f64::from(x))
            .collect();
        let (kurtosis, entropy) = reference(&kept);
        for split in [1, 13, 250, 1000] {
            let mut c = ScoreStatistics::default();
            for (row, allowed) in row.chunks(split).zip(allowed.chunks(split)) {
                c.add_row(row, Some(allowed));
            }
            assert_eq!(c.count(), kept.len() as u64);
            let n = kept.len() as f64;
            let mean = kept.iter().sum::<f64>() / n;
            let std = (kept.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            let moments = c.moments();
            assert!(
                (moments.mean() - mean).abs() < 1e-9 * mean.abs(),
                "{moments:?}"
            );
            assert!(
                (moments.std() - std).abs() < 1e-4 * std,
                "{} vs {std}",
                moments.std()
            );
            assert_close(&c, (kurtosis, entropy), 1e-6 * kurtosis.abs().max(1.0));
        }
    }

    /// Kurtosis within `tolerance` of the reference, entropy within 10⁻⁵.
    #[track_caller]
    fn assert_close(c: &ScoreStatistics, (kurtosis, entropy): (f64, f64), tolerance: f64) {
        let got = c.kurtosis().unwrap();
        assert!((got - kurtosis).abs() < tolerance, "{got} vs {kurtosis}");
        assert!(
            (c.entropy() - entropy).abs() < 1e-5,
            "{} vs {entropy}",
            c.entropy()
        );
    }

    #[test]
    fn an_outlying_first_score_does_not_cost_precision() {
        let mut row: Vec<f32> = (0..4096)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 250.0)
            .collect();
        row[0] = 40.0;
        let kept: Vec<f64> = row.iter().map(|&x| f64::from(x)).collect();
        let (kurtosis, entropy) = reference(&kept);
        let mut c = ScoreStatistics::default();
        for part in row.chunks(256) {
            c.add_row(part, None);
        }
        assert_close(&c, (kurtosis, entropy), 1e-5 * kurtosis.abs());
    }

    #[test]
    fn the_exponential_is_within_its_bound() {
        let mut x = 0f32;
        while x > -100.0 {
            let (got, want) = (f64::from(exp_nonpositive(x)), f64::from(x).exp());
            if x >= -87.0 {
                assert!((got - want).abs() <= 5e-7 * want, "e^{x}: {got} vs {want}");
            } else {
                assert_eq!(got, 0.0);
            }
            x -= 0.013;
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
    }

    #[test]
    fn constant_scores_have_no_kurtosis_and_the_most_entropy() {
        let mut c = ScoreStatistics::default();
        c.add_row(&[2.5; 64], None);
        assert_eq!(c.kurtosis(), None);
        assert!((c.entropy() - 64f64.ln()).abs() < 1e-9);
        assert_eq!(ScoreStatistics::default().kurtosis(), None);
        assert_eq!(ScoreStatistics::default().entropy(), 0.0);
    }

    #[test]
    fn one_dominant_score_has_near_zero_entropy() {
        let mut row = vec![0f32; 100];
        row[42] = 100.0;
        let mut c = ScoreStatistics::default();
        c.add_row(&row, None);
        assert!(c.entropy() < 1e-30 + 1e-9);
        assert!(c.kurtosis().unwrap() > 90.0);
    }
}
