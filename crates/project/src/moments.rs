//! How unusual is a score? The mean and spread of every score a list was
//! chosen from.
//!
//! A list keeps a unit's k most extreme scores, but scores of different
//! units live on scales 30× apart: rank 1 of one list can be an ordinary
//! value of another. Each list's scores are therefore summarised by their
//! count, sum and sum of squares over every selectable token (or pair), in
//! float64, so that an entry's z, (score − mean) / std, says how far it
//! stands out of its own unit's distribution. A neuron's come from its
//! [`crate::ScoreStatistics`], a head circuit's from its factors
//! ([`crate::pair_moments`]).

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
    fn mean_std_and_z() {
        // 1, 2, 3, 4, 5.
        let moments = Moments {
            count: 5,
            sum: 15.0,
            sum_squares: 55.0,
        };
        assert_eq!(moments.mean(), 3.0);
        assert!((moments.std() - 2f64.sqrt()).abs() < 1e-12);
        assert!((moments.z(5.0) - 2.0 / 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn constant_and_empty_scores_have_no_spread() {
        // Seven times 0.25.
        let moments = Moments {
            count: 7,
            sum: 1.75,
            sum_squares: 0.4375,
        };
        assert_eq!(moments.std(), 0.0);
        assert_eq!(moments.z(0.25), 0.0);
        assert_eq!(Moments::default().z(3.0), 0.0);
    }
}
