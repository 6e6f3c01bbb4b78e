//! Streaming top-k selection with a running threshold.

use std::cmp::Ordering;

/// A token and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Token id.
    pub token: u32,
    /// v · E[token].
    pub score: f32,
}

/// The extremes of one vector's scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extremes {
    /// Highest scores first; equal scores by ascending token id.
    pub top: Vec<Scored>,
    /// Lowest scores first; equal scores by ascending token id.
    pub bottom: Vec<Scored>,
}

/// Keeps the k best candidates seen so far under a total order.
///
/// Candidates arrive in increasing token order, so a strict comparison with
/// the k-th score keeps exactly the k best by (score, then lower id): a later
/// token that only ties the k-th has a higher id and ranks below it. NaN
/// scores fail every comparison and are never kept.
pub(crate) struct Reservoir {
    k: usize,
    /// Candidates, unordered; holds at most `capacity` entries.
    kept: Vec<Scored>,
    capacity: usize,
    /// A score must beat this (in the reservoir's direction) to enter.
    threshold: f32,
    /// `true` keeps the highest scores, `false` the lowest.
    highest: bool,
}

impl Reservoir {
    pub(crate) fn new(k: usize, highest: bool) -> Reservoir {
        let capacity = (2 * k).max(k + 64);
        Reservoir {
            k,
            kept: Vec::with_capacity(capacity),
            capacity,
            threshold: if highest {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            },
            highest,
        }
    }

    /// Offers a tile of scores for tokens `first_token..`.
    #[inline]
    pub(crate) fn offer(
        &mut self,
        scores: &[f32],
        first_token: usize,
        allows: impl Fn(usize) -> bool,
    ) {
        if self.highest {
            for (j, &score) in scores.iter().enumerate() {
                if score > self.threshold && allows(first_token + j) {
                    self.push(first_token + j, score);
                }
            }
        } else {
            for (j, &score) in scores.iter().enumerate() {
                if score < self.threshold && allows(first_token + j) {
                    self.push(first_token + j, score);
                }
            }
        }
    }

    #[inline]
    fn push(&mut self, token: usize, score: f32) {
        self.kept.push(Scored {
            token: token as u32,
            score,
        });
        if self.kept.len() == self.capacity {
            self.shrink();
        }
    }

    /// Keeps the k best and raises the threshold to the k-th score.
    fn shrink(&mut self) {
        let order = self.order();
        self.kept.select_nth_unstable_by(self.k - 1, order);
        // Element k-1 is now the k-th best: the weakest that stays.
        self.threshold = self.kept[self.k - 1].score;
        self.kept.truncate(self.k);
    }

    fn order(&self) -> impl Fn(&Scored, &Scored) -> Ordering {
        let highest = self.highest;
        move |a, b| {
            let by_score = if highest {
                b.score.total_cmp(&a.score)
            } else {
                a.score.total_cmp(&b.score)
            };
            by_score.then(a.token.cmp(&b.token))
        }
    }

    /// The k best, strongest first.
    pub(crate) fn finish(mut self) -> Vec<Scored> {
        let order = self.order();
        self.kept.sort_unstable_by(order);
        self.kept.truncate(self.k);
        self.kept
    }
}
