//! Top-k selection of pairs under the full key (score, src, dst).

use std::cmp::Ordering;

use super::lists::Pair;

/// Keeps the k best pairs seen so far.
///
/// Unlike [`crate::select`]'s reservoir, candidates arrive in no particular
/// index order (tiles are visited by bound, rows are sorted by norm), so a
/// candidate that ties the k-th score may still rank above it: every entry
/// test compares the whole key, not just the score. Scores compare with
/// `partial_cmp`, so −0 and +0 tie and fall back to the indices like any
/// other tie; NaN is never offered.
pub(super) struct PairReservoir {
    k: usize,
    /// Candidates, unordered; shrunk back to k when it reaches `capacity`.
    kept: Vec<Pair>,
    capacity: usize,
    /// The k-th best once k have been kept: a candidate must rank above it.
    worst: Option<Pair>,
    /// `true` keeps the highest scores, `false` the lowest.
    highest: bool,
}

impl PairReservoir {
    pub(super) fn new(k: usize, highest: bool) -> PairReservoir {
        PairReservoir {
            k,
            // Grown on demand: k comes from the caller and may be large.
            kept: Vec::new(),
            capacity: (2 * k).max(k + 64),
            worst: None,
            highest,
        }
    }

    /// The score a candidate must at least reach to have a chance (ties may
    /// still enter on their indices); ∓∞ until k candidates have been kept.
    #[inline]
    pub(super) fn threshold(&self) -> f32 {
        match self.worst {
            Some(pair) => pair.score,
            None if self.highest => f32::NEG_INFINITY,
            None => f32::INFINITY,
        }
    }

    /// Keeps `pair` if it ranks above the current k-th. `pair.score` is not NaN.
    #[inline]
    pub(super) fn offer(&mut self, pair: Pair) {
        if let Some(worst) = &self.worst {
            if rank(self.highest, &pair, worst) != Ordering::Less {
                return;
            }
        }
        self.kept.push(pair);
        if self.kept.len() >= self.capacity {
            self.shrink();
        }
    }

    /// Brings the threshold up to date: between shrinks it lags behind the
    /// true k-th best, which costs nothing while scanning a tile but would
    /// let whole tiles through that the current k-th best rules out.
    pub(super) fn tighten(&mut self) {
        if self.kept.len() > self.k || (self.worst.is_none() && self.kept.len() == self.k) {
            self.shrink();
        }
    }

    /// Keeps the k best and remembers the k-th.
    fn shrink(&mut self) {
        let highest = self.highest;
        self.kept
            .select_nth_unstable_by(self.k - 1, |a, b| rank(highest, a, b));
        self.worst = Some(self.kept[self.k - 1]);
        self.kept.truncate(self.k);
    }

    /// The k best (fewer if fewer were offered), strongest first.
    pub(super) fn finish(mut self) -> Vec<Pair> {
        let highest = self.highest;
        self.kept.sort_unstable_by(|a, b| rank(highest, a, b));
        self.kept.truncate(self.k);
        self.kept
    }
}

/// `Less` when `a` ranks above `b`: stronger score, then lower (src, dst).
#[inline]
fn rank(highest: bool, a: &Pair, b: &Pair) -> Ordering {
    let by_score = if highest {
        b.score.partial_cmp(&a.score)
    } else {
        a.score.partial_cmp(&b.score)
    };
    by_score
        .unwrap_or(Ordering::Equal)
        .then(a.src.cmp(&b.src))
        .then(a.dst.cmp(&b.dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(src: u32, dst: u32, score: f32) -> Pair {
        Pair { src, dst, score }
    }

    #[test]
    fn ties_rank_by_indices_whatever_the_arrival_order() {
        let mut top = PairReservoir::new(2, true);
        let mut bottom = PairReservoir::new(2, false);
        // Enough offers to force shrinks, with the winning ties arriving last.
        for i in (0..200u32).rev() {
            for p in [pair(i, 5, 1.0), pair(i, 3, 1.0), pair(i, 4, -0.0)] {
                top.offer(p);
                bottom.offer(p);
            }
        }
        top.offer(pair(0, 0, -0.0));
        assert_eq!(top.finish(), vec![pair(0, 3, 1.0), pair(0, 5, 1.0)]);
        // −0 and +0 tie: (0, 0) has the lowest indices.
        bottom.offer(pair(0, 0, 0.0));
        assert_eq!(bottom.finish(), vec![pair(0, 0, 0.0), pair(0, 4, -0.0)]);
    }
}
