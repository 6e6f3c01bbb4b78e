//! Streaming top-k selection with a running threshold.

use std::cmp::Ordering;

use crate::moments::Moments;
use crate::statistics::ScoreStatistics;

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
    /// Every selectable score of the vector, summarised: what z is read against.
    pub moments: Moments,
    /// The same scores' kurtosis and softmax entropy (and their moments).
    pub statistics: ScoreStatistics,
}

/// Offers a tile row to a top and a bottom reservoir in one pass.
///
/// Almost every score of a long row misses both thresholds once they have
/// settled, so the row is read in blocks whose minimum and maximum are
/// computed branch-free (the compiler turns these into SIMD min/max), and only
/// a block that reaches a threshold is offered element by element. NaN loses
/// every comparison, so it can neither open a block nor enter a reservoir.
///
/// The portable build targets baseline x86-64 (SSE2): where the CPU has
/// AVX-512 the same code is compiled for it and picked at run time.
#[inline]
pub(crate) fn offer_extremes(
    top: &mut Reservoir,
    bottom: &mut Reservoir,
    scores: &[f32],
    first_token: usize,
    allows: impl Fn(usize) -> bool,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU was just checked for AVX-512F.
        return unsafe { offer_extremes_avx512(top, bottom, scores, first_token, allows) };
    }
    offer_extremes_portable(top, bottom, scores, first_token, allows)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn offer_extremes_avx512(
    top: &mut Reservoir,
    bottom: &mut Reservoir,
    scores: &[f32],
    first_token: usize,
    allows: impl Fn(usize) -> bool,
) {
    offer_extremes_portable(top, bottom, scores, first_token, allows)
}

#[inline(always)]
fn offer_extremes_portable(
    top: &mut Reservoir,
    bottom: &mut Reservoir,
    scores: &[f32],
    first_token: usize,
    allows: impl Fn(usize) -> bool,
) {
    const LANES: usize = 16;
    const BLOCK: usize = 4 * LANES;
    let mut start = 0;
    for block in scores.chunks(BLOCK) {
        let (low, high) = if block.len() == BLOCK {
            let mut low = [f32::INFINITY; LANES];
            let mut high = [f32::NEG_INFINITY; LANES];
            for part in block.chunks_exact(LANES) {
                for lane in 0..LANES {
                    let x = part[lane];
                    low[lane] = if x < low[lane] { x } else { low[lane] };
                    high[lane] = if x > high[lane] { x } else { high[lane] };
                }
            }
            lane_extremes(&low, &high)
        } else {
            lane_extremes(block, block)
        };
        if high > top.threshold {
            top.offer(block, first_token + start, &allows);
        }
        if low < bottom.threshold {
            bottom.offer(block, first_token + start, &allows);
        }
        start += block.len();
    }
}

/// The minimum of `low` and the maximum of `high`, ignoring NaN.
#[inline(always)]
fn lane_extremes(low: &[f32], high: &[f32]) -> (f32, f32) {
    let min = low
        .iter()
        .fold(f32::INFINITY, |m, &x| if x < m { x } else { m });
    let max = high
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    (min, max)
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
    #[inline(always)]
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
