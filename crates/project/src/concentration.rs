//! How concentrated a vector's scores over the vocabulary are: the excess
//! kurtosis of the scores and the entropy of their softmax, both gathered
//! in one streaming pass beside the lists.

/// The scores of one vector seen so far, summarised for its kurtosis and
/// entropy.
///
/// Kurtosis is read from power sums of the scores minus a shift, the first
/// score seen: a score lies within a few standard deviations of the mean,
/// so the fourth central moment does not cancel away in float64 even when
/// the mean is many standard deviations from zero. The softmax is kept as
/// in an online softmax: a running maximum M, Z = Σ e^(x−M) and
/// W = Σ e^(x−M)·(x−M), rescaled whenever M grows, so no exponential
/// overflows; the entropy is then ln Z − W/Z.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Concentration {
    count: u64,
    shift: f64,
    /// Σ (x − shift)^p for p = 1..4.
    powers: [f64; 4],
    max: f64,
    partition: f64,
    weighted: f64,
}

impl Concentration {
    /// Adds the scores of `row` that `allowed` (as long as `row`) lets
    /// through, or all of them. Rows must come in token order for the sums
    /// to be the same however the tokens are tiled.
    #[inline]
    pub fn add_row(&mut self, row: &[f32], allowed: Option<&[bool]>) {
        let keeps = |i: usize| allowed.is_none_or(|allowed| allowed[i]);
        let Some(row_max) = row
            .iter()
            .enumerate()
            .filter(|&(i, _)| keeps(i))
            .map(|(_, &x)| f64::from(x))
            .reduce(f64::max)
        else {
            return;
        };
        if self.count == 0 {
            self.shift = row
                .iter()
                .enumerate()
                .find(|&(i, _)| keeps(i))
                .map_or(0.0, |(_, &x)| f64::from(x));
            self.max = row_max;
        } else if row_max > self.max {
            let scale = (self.max - row_max).exp();
            self.weighted = scale * (self.weighted + (self.max - row_max) * self.partition);
            self.partition *= scale;
            self.max = row_max;
        }
        let (mut powers, mut partition, mut weighted) = ([0f64; 4], 0f64, 0f64);
        let mut count = 0u64;
        for (i, &x) in row.iter().enumerate() {
            if !keeps(i) {
                continue;
            }
            let x = f64::from(x);
            let y = x - self.shift;
            let y2 = y * y;
            powers[0] += y;
            powers[1] += y2;
            powers[2] += y2 * y;
            powers[3] += y2 * y2;
            // x − M ≤ 0: the exponential is at most 1 and computed in f32,
            // which is ample for a sum of positive terms.
            let offset = x - self.max;
            let e = f64::from((offset as f32).exp());
            partition += e;
            weighted += e * offset;
            count += 1;
        }
        self.count += count;
        for (total, part) in self.powers.iter_mut().zip(powers) {
            *total += part;
        }
        self.partition += partition;
        self.weighted += weighted;
    }

    /// How many scores were added.
    pub fn count(&self) -> u64 {
        self.count
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
            let mut c = Concentration::default();
            for (row, allowed) in row.chunks(split).zip(allowed.chunks(split)) {
                c.add_row(row, Some(allowed));
            }
            assert_eq!(c.count(), kept.len() as u64);
            let got = c.kurtosis().unwrap();
            assert!(
                (got - kurtosis).abs() < 1e-6 * kurtosis.abs().max(1.0),
                "{got} vs {kurtosis}"
            );
            assert!(
                (c.entropy() - entropy).abs() < 1e-5,
                "{} vs {entropy}",
                c.entropy()
            );
        }
    }

    #[test]
    fn constant_scores_have_no_kurtosis_and_the_most_entropy() {
        let mut c = Concentration::default();
        c.add_row(&[2.5; 64], None);
        assert_eq!(c.kurtosis(), None);
        assert!((c.entropy() - 64f64.ln()).abs() < 1e-9);
        assert_eq!(Concentration::default().kurtosis(), None);
        assert_eq!(Concentration::default().entropy(), 0.0);
    }

    #[test]
    fn one_dominant_score_has_near_zero_entropy() {
        let mut row = vec![0f32; 100];
        row[42] = 100.0;
        let mut c = Concentration::default();
        c.add_row(&row, None);
        assert!(c.entropy() < 1e-30 + 1e-9);
        assert!(c.kurtosis().unwrap() > 90.0);
    }
}
