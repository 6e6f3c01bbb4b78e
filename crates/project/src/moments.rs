//! How unusual is a score? The mean and spread of every score a list was
//! chosen from.
//!
//! A list keeps a unit's k most extreme scores, but scores of different
//! units live on scales 30× apart: rank 1 of one list can be an ordinary
//! value of another. Each list's scores are therefore summarised by their
//! count, sum and sum of squares over every selectable token (or pair), in
//! float64, so that an entry's z, (score − mean) / std, says how far it
//! stands out of its own unit's distribution.

/// Count, sum and sum of squares of a set of scores, in float64.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// How many scores: selectable tokens, or selectable pairs.
    pub count: u64,
    /// Σ score.
    pub sum: f64,
    /// Σ score².
    pub sum_squares: f64,
}

impl Moments {
    /// Adds the scores of `row`, which belong to tokens `first..`, that
    /// `allowed` (indexed from `first`, as long as `row`) lets through, or
    /// all of them.
    #[inline]
    pub fn add_row(&mut self, row: &[f32], allowed: Option<&[bool]>) {
        // Four partial sums each: the loop vectorises, and the order of the
        // additions depends only on the row, never on how rows are tiled.
        let (mut sum, mut squares) = ([0f64; 4], [0f64; 4]);
        let mut count = 0u64;
        match allowed {
            None => {
                for (lane, &score) in row.iter().enumerate() {
                    let x = f64::from(score);
                    sum[lane % 4] += x;
                    squares[lane % 4] += x * x;
                }
                count = row.len() as u64;
            }
            Some(allowed) => {
                for (lane, (&score, &keep)) in row.iter().zip(allowed).enumerate() {
                    let x = if keep { f64::from(score) } else { 0.0 };
                    sum[lane % 4] += x;
                    squares[lane % 4] += x * x;
                    count += u64::from(keep);
                }
            }
        }
        self.count += count;
        self.sum += (sum[0] + sum[1]) + (sum[2] + sum[3]);
        self.sum_squares += (squares[0] + squares[1]) + (squares[2] + squares[3]);
    }

    /// The mean score; 0 for no scores.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum / self.count as f64
    }

    /// The population standard deviation (the scores are all of them, not a
    /// sample); 0 for no scores. Rounding can leave E[x²] − E[x]² a hair
    /// below zero for constant scores: that is read as 0.
    pub fn std(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.mean();
        (self.sum_squares / self.count as f64 - mean * mean)
            .max(0.0)
            .sqrt()
    }

    /// How many standard deviations `score` lies from the mean; 0 when the
    /// scores do not vary (no score stands out of a constant list).
    pub fn z(&self, score: f32) -> f64 {
        let std = self.std();
        if std > 0.0 {
            (f64::from(score) - self.mean()) / std
        } else {
            0.0
        }
    }

    /// Takes out the scores of `other`, a subset of these.
    pub(crate) fn remove(&mut self, other: &Moments) {
        self.count -= other.count;
        self.sum -= other.sum;
        self.sum_squares -= other.sum_squares;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_and_z_of_a_filtered_row() {
        let row = [1.0, 2.0, 100.0, 3.0, 4.0, 5.0];
        let allowed = [true, true, false, true, true, true];
        let mut moments = Moments::default();
        moments.add_row(&row, Some(&allowed));
        assert_eq!(moments.count, 5);
        assert_eq!(moments.mean(), 3.0);
        assert!((moments.std() - 2f64.sqrt()).abs() < 1e-12);
        assert!((moments.z(5.0) - 2.0 / 2f64.sqrt()).abs() < 1e-12);
        let mut all = Moments::default();
        all.add_row(&row, None);
        assert_eq!(all.count, 6);
        assert_eq!(all.sum, 115.0);
    }

    #[test]
    fn constant_and_empty_scores_have_no_spread() {
        let mut moments = Moments::default();
        moments.add_row(&[0.25; 7], None);
        assert_eq!(moments.std(), 0.0);
        assert_eq!(moments.z(0.25), 0.0);
        assert_eq!(Moments::default().z(3.0), 0.0);
    }
}
