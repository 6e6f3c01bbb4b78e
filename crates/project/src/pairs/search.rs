//! The tile loop: order, bound, score, screen, select.

use crate::kernel::multiply;
use crate::view::MatrixView;

use super::bounds::{Profile, Reach};
use super::lists::{Pair, PairExtremes, PairStats, Pruning};
use super::reservoir::PairReservoir;
use super::rows::Rows;

/// Rows of A and of B per tile.
///
/// A tile is one GEMM of up to `src × dst` entries. Smaller tiles follow the
/// boundary of the region that can matter more closely, larger ones run the
/// GEMM more efficiently at depth 64 and cost less bookkeeping. Since the
/// rows and columns of a tile that cannot matter are trimmed off anyway,
/// the share computed hardly depends on the shape (within 3% from 64 × 256
/// to 512 × 512 at n = 51,200, r = 64), and 256 × 1024 ran about 10%
/// faster than 128 × 512.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TileShape {
    pub(super) src: usize,
    pub(super) dst: usize,
}

impl Default for TileShape {
    fn default() -> TileShape {
        TileShape {
            src: 256,
            dst: 1024,
        }
    }
}

/// Positions 0..n grouped so that every run of `size` consecutive positions
/// (the blocks) spans a small box of (shift, key): a k-d tree on those two
/// coordinates whose leaves are blocks.
///
/// A tile's bound is, on each side, the block's largest shift plus the
/// product of the blocks' largest keys (see `bounds`). Sorting by key alone
/// leaves every block spanning nearly the whole range of shifts, and on
/// trained embeddings (a shared mean direction, narrow norm spread) the
/// shifts vary as much as the centred products: a tile's bound then sits
/// far above its entries. Each split halves the coordinate whose spread
/// moves the bound most, the key's scaled by `other_key` (the other side's
/// largest key, the most one unit of key can move a product). Only the
/// order depends on this; every bound holds for any grouping. Ties go by
/// position, so the order is fully determined.
fn grouped(reach: &[Reach], size: usize, other_key: f64) -> Vec<usize> {
    let size = size.max(1);
    let mut order: Vec<usize> = (0..reach.len()).collect();
    let mut keyed: Vec<(f64, usize)> = Vec::with_capacity(reach.len());
    let mut pending = vec![(0, order.len())];
    while let Some((start, end)) = pending.pop() {
        let len = end - start;
        if len <= size {
            // Within a block, the largest keys first: the rows that can
            // reach a list then mostly form a prefix, scored in place.
            order[start..end]
                .sort_unstable_by(|&x, &y| reach[y].key.total_cmp(&reach[x].key).then(x.cmp(&y)));
            continue;
        }
        let run = &mut order[start..end];
        let spread = |value: fn(&Reach) -> f64| {
            let (low, high) = run
                .iter()
                .map(|&i| value(&reach[i]))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), x| {
                    (low.min(x), high.max(x))
                });
            high - low
        };
        let shift: fn(&Reach) -> f64 = |r| r.high;
        let key: fn(&Reach) -> f64 = |r| r.key;
        // NaN (from infinite bounds) compares false: split on the key.
        let value = if spread(shift) >= spread(key) * other_key {
            shift
        } else {
            key
        };
        // Split on a block boundary, so that leaves are whole blocks. Only
        // which rows fall on each side matters, and the order (value, then
        // position) decides it: a partition, not a sort.
        let half = len.div_ceil(size) / 2 * size;
        keyed.clear();
        keyed.extend(run.iter().map(|&i| (value(&reach[i]), i)));
        keyed.select_nth_unstable_by(half, |x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for (slot, &(_, i)) in run.iter_mut().zip(&keyed) {
            *slot = i;
        }
        pending.push((start, start + half));
        pending.push((start + half, end));
    }
    order
}

/// The largest key that is a number, or 0.
fn largest_key(reach: &[Reach]) -> f64 {
    reach
        .iter()
        .map(|r| r.key)
        .filter(|k| k.is_finite())
        .fold(0.0, f64::max)
}

/// A run of consecutive rows of one side and bounds that cover them.
#[derive(Clone, Copy)]
struct Block {
    start: usize,
    len: usize,
    reach: Reach,
}

fn blocks(rows: &[Reach], size: usize) -> Vec<Block> {
    let size = size.max(1);
    (0..rows.len())
        .step_by(size)
        .map(|start| {
            let len = size.min(rows.len() - start);
            Block {
                start,
                len,
                reach: Reach::cover(&rows[start..start + len]),
            }
        })
        .collect()
}

/// One search over the allowed rows of A (`src`) and B (`dst`).
pub(super) fn run(
    mut src: Rows<'_>,
    mut dst: Rows<'_>,
    k: usize,
    exclude: Option<&(dyn Fn(u32, u32) -> bool + Sync)>,
    pruning: Pruning,
    shape: TileShape,
) -> (PairExtremes, PairStats) {
    let depth = src.depth();
    let mut profile = Profile::new(&src, &dst, pruning);
    if pruning == Pruning::Bounds {
        // Rows with similar bounds share blocks, which keeps tile bounds
        // close to their rows' own.
        let (key_a, key_b) = (largest_key(&profile.src), largest_key(&profile.dst));
        let order = grouped(&profile.src, shape.src, key_b);
        src.reorder(&order);
        profile.src = order.iter().map(|&i| profile.src[i]).collect();
        let order = grouped(&profile.dst, shape.dst, key_a);
        dst.reorder(&order);
        profile.dst = order.iter().map(|&i| profile.dst[i]).collect();
    }
    let blocks_a = blocks(&profile.src, shape.src);
    let blocks_b = blocks(&profile.dst, shape.dst);
    // Tile t pairs A block t / (B blocks) with B block t % (B blocks).
    let tile = |t: usize| (t / blocks_b.len(), t % blocks_b.len());
    let count = blocks_a.len() * blocks_b.len();
    let mut stats = PairStats {
        tiles: count as u64,
        balanced: profile.balanced,
        ..PairStats::default()
    };
    let mut scan = Scan {
        src: Side::new(&src, &blocks_a),
        dst: Side::new(&dst, &blocks_b),
        depth,
        exclude,
        top: PairReservoir::new(k, true),
        bottom: PairReservoir::new(k, false),
        scores: vec![0f32; shape.src.max(1) * shape.dst.max(1)],
        gathered: (Vec::new(), Vec::new()),
    };
    let mut done = 0u64;
    match pruning {
        Pruning::None => {
            let every: Vec<u32> = (0..shape.src.max(shape.dst) as u32).collect();
            for t in 0..count {
                let (i, j) = tile(t);
                let (ba, bb) = (blocks_a[i], blocks_b[j]);
                stats.computed += (ba.len * bb.len) as u64;
                let (rows, cols) = (&every[..ba.len], &every[..bb.len]);
                scan.tile(i, rows, j, cols, profile.screen(&ba.reach, &bb.reach));
            }
            done = count as u64;
        }
        Pruning::Bounds => {
            let ranges: Vec<(f64, f64)> = (0..count)
                .map(|t| {
                    let (i, j) = tile(t);
                    profile.range(&blocks_a[i].reach, &blocks_b[j].reach)
                })
                .collect();
            // One order per list, strongest bound first: the thresholds rise
            // fastest, and once a list's next tile cannot reach it no later
            // one in that order can.
            let mut by_upper: Vec<usize> = (0..count).collect();
            by_upper.sort_by(|&x, &y| ranges[y].1.total_cmp(&ranges[x].1).then(x.cmp(&y)));
            let mut by_lower: Vec<usize> = (0..count).collect();
            by_lower.sort_by(|&x, &y| ranges[x].0.total_cmp(&ranges[y].0).then(x.cmp(&y)));
            let mut computed = vec![false; count];
            let (mut next_top, mut next_bottom) = (0, 0);
            let mut top_turn = false;
            let (mut rows, mut cols) = (Vec::new(), Vec::new());
            loop {
                let (top, bottom) = scan.thresholds();
                while next_top < count && computed[by_upper[next_top]] {
                    next_top += 1;
                }
                while next_bottom < count && computed[by_lower[next_bottom]] {
                    next_bottom += 1;
                }
                let top_live = next_top < count && ranges[by_upper[next_top]].1 >= top;
                let bottom_live = next_bottom < count && ranges[by_lower[next_bottom]].0 <= bottom;
                // Both lists advance in turn while both can still gain.
                top_turn = !top_turn;
                let t = match (top_live, bottom_live) {
                    (false, false) => break,
                    (true, true) if top_turn => by_upper[next_top],
                    (true, false) => by_upper[next_top],
                    _ => by_lower[next_bottom],
                };
                computed[t] = true;
                let (i, j) = tile(t);
                let (ba, bb) = (blocks_a[i], blocks_b[j]);
                let matters = |(lower, upper): (f64, f64)| upper >= top || lower <= bottom;
                // Only the rows whose own range (against the whole other
                // block) can reach a list are scored.
                pick(&mut rows, ba.len, |r| {
                    matters(profile.range(&profile.src[ba.start + r], &bb.reach))
                });
                pick(&mut cols, bb.len, |c| {
                    matters(profile.range(&ba.reach, &profile.dst[bb.start + c]))
                });
                if !rows.is_empty() && !cols.is_empty() {
                    done += 1;
                    stats.computed += (rows.len() * cols.len()) as u64;
                    scan.tile(i, &rows, j, &cols, profile.screen(&ba.reach, &bb.reach));
                }
            }
        }
    }
    stats.tiles_skipped = stats.tiles - done;
    let extremes = PairExtremes {
        top: scan.top.finish(),
        bottom: scan.bottom.finish(),
    };
    (extremes, stats)
}

/// Sets `picked` to the positions 0..len for which `matters` holds, or to
/// the whole prefix up to the last of them when they fill most of it: a
/// prefix is scored in place, other picks are gathered first, which costs
/// more than the few entries they save.
fn pick(picked: &mut Vec<u32>, len: usize, matters: impl Fn(usize) -> bool) {
    picked.clear();
    picked.extend((0..len).filter(|&i| matters(i)).map(|i| i as u32));
    if let Some(&last) = picked.last() {
        let prefix = last as usize + 1;
        if 4 * picked.len() >= 3 * prefix {
            picked.clear();
            picked.extend(0..prefix as u32);
        }
    }
}

/// One factor's rows as the tile loop reads them: a block is copied
/// contiguous the first time a tile needs it.
struct Side<'r, 'a> {
    rows: &'r Rows<'a>,
    blocks: &'r [Block],
    /// Block b's rows, `blocks[b].len × depth`; empty until first needed.
    copies: Vec<Vec<f32>>,
}

impl<'r, 'a> Side<'r, 'a> {
    fn new(rows: &'r Rows<'a>, blocks: &'r [Block]) -> Side<'r, 'a> {
        Side {
            rows,
            blocks,
            copies: vec![Vec::new(); blocks.len()],
        }
    }

    /// Block `b`'s rows at positions `picked` (ascending, within the
    /// block), contiguous: the block's own copy when they are a prefix, else
    /// gathered into `gathered`.
    fn picked<'s>(
        &'s mut self,
        b: usize,
        picked: &[u32],
        depth: usize,
        gathered: &'s mut Vec<f32>,
    ) -> &'s [f32] {
        let Block { start, len, .. } = self.blocks[b];
        if self.copies[b].is_empty() && len > 0 {
            self.rows.copy(start, len, &mut self.copies[b]);
        }
        let copy = &self.copies[b];
        // A prefix (see `pick`) is read in place.
        if picked
            .last()
            .is_none_or(|&last| last as usize + 1 == picked.len())
        {
            return &copy[..picked.len() * depth];
        }
        gathered.clear();
        for &r in picked {
            let r = r as usize;
            gathered.extend_from_slice(&copy[r * depth..(r + 1) * depth]);
        }
        gathered
    }
}

/// The state of the score-and-select loop.
struct Scan<'r, 'a> {
    src: Side<'r, 'a>,
    dst: Side<'r, 'a>,
    depth: usize,
    exclude: Option<&'r (dyn Fn(u32, u32) -> bool + Sync)>,
    top: PairReservoir,
    bottom: PairReservoir,
    scores: Vec<f32>,
    /// Picked rows of the current tile's A and B blocks.
    gathered: (Vec<f32>, Vec<f32>),
}

impl Scan<'_, '_> {
    /// The current k-th highest and k-th lowest scores (∓∞ until k are
    /// kept): a tile can change the top list only if it may hold a score at
    /// or above the first (a tie may still rank higher on its indices), the
    /// bottom list only if at or below the second.
    fn thresholds(&mut self) -> (f64, f64) {
        self.top.tighten();
        self.bottom.tighten();
        (
            f64::from(self.top.threshold()),
            f64::from(self.bottom.threshold()),
        )
    }

    /// Scores rows `rows` (positions within the block) of A block `ia`
    /// against rows `cols` of B block `jb` and offers every entry that
    /// could be kept. `slack` ≥ |g − c| in the tile.
    fn tile(&mut self, ia: usize, rows: &[u32], jb: usize, cols: &[u32], slack: f64) {
        if rows.is_empty() || cols.is_empty() {
            return;
        }
        let depth = self.depth;
        let (mut gathered_a, mut gathered_b) = std::mem::take(&mut self.gathered);
        let mut scores = std::mem::take(&mut self.scores);
        let out = &mut scores[..rows.len() * cols.len()];
        score_tile(
            self.src.picked(ia, rows, depth, &mut gathered_a),
            self.dst.picked(jb, cols, depth, &mut gathered_b),
            depth,
            rows.len(),
            cols.len(),
            out,
        );
        for (&r, row) in rows.iter().zip(out.chunks_exact(cols.len())) {
            // An entry with c ≥ the k-th highest has g ≥ that − slack (and
            // likewise below), so everything else is safely passed over.
            let low = f32_at_most(f64::from(self.top.threshold()) - slack);
            let high = f32_at_least(f64::from(self.bottom.threshold()) + slack);
            // A candidate is outside (low, high); NaN (possible only if the
            // GEMM overflowed) counts as one and is rescored.
            let passes = |g: f32| !(g < low && g > high);
            let chunks = row.chunks_exact(16);
            let tail = chunks.remainder();
            for (c0, chunk) in chunks.enumerate() {
                // Branch-free test of a whole fixed-size chunk first, which
                // vectorises; almost every chunk has no candidate.
                if !chunk.iter().fold(false, |hit, &g| hit | passes(g)) {
                    continue;
                }
                for (c1, &g) in chunk.iter().enumerate() {
                    if passes(g) {
                        self.offer(ia, r, jb, cols[c0 * 16 + c1]);
                    }
                }
            }
            for (c1, &g) in tail.iter().enumerate() {
                if passes(g) {
                    self.offer(ia, r, jb, cols[cols.len() - tail.len() + c1]);
                }
            }
        }
        self.scores = scores;
        self.gathered = (gathered_a, gathered_b);
    }

    /// Rescores row `r` of A block `ia` against row `c` of B block `jb`
    /// canonically and offers it to both lists.
    #[inline(never)]
    fn offer(&mut self, ia: usize, r: u32, jb: usize, c: u32) {
        let (r, c) = (r as usize, c as usize);
        let src = self.src.rows.id(self.src.blocks[ia].start + r);
        let dst = self.dst.rows.id(self.dst.blocks[jb].start + c);
        if self.exclude.is_some_and(|exclude| exclude(src, dst)) {
            return;
        }
        let depth = self.depth;
        let score = canonical_dot(
            &self.src.copies[ia][r * depth..(r + 1) * depth],
            &self.dst.copies[jb][c * depth..(c + 1) * depth],
        );
        if score.is_nan() {
            return;
        }
        let pair = Pair { src, dst, score };
        self.top.offer(pair);
        self.bottom.offer(pair);
    }
}

/// The largest f32 not above `x` (−∞ for NaN, which only arises from
/// infinite thresholds and slack and must let everything through).
fn f32_at_most(x: f64) -> f32 {
    if x.is_nan() {
        return f32::NEG_INFINITY;
    }
    let y = x as f32;
    if f64::from(y) > x {
        y.next_down()
    } else {
        y
    }
}

/// The smallest f32 not below `x` (+∞ for NaN).
fn f32_at_least(x: f64) -> f32 {
    if x.is_nan() {
        return f32::INFINITY;
    }
    let y = x as f32;
    if f64::from(y) < x {
        y.next_up()
    } else {
        y
    }
}

/// The canonical score: products exact in f64, summed in a fixed order
/// (four interleaved partial sums, then the tail), rounded once to f32.
#[inline]
fn canonical_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_tail, b_tail) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    for (x, y) in a_tail.iter().zip(b_tail) {
        acc[0] += f64::from(*x) * f64::from(*y);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) as f32
}

/// `out[r, c] = a[r] · b[c]` for contiguous row-major `a` (rows × depth) and
/// `b` (cols × depth), row-major `rows × cols`.
fn score_tile(a: &[f32], b: &[f32], depth: usize, rows: usize, cols: usize, out: &mut [f32]) {
    debug_assert_eq!(out.len(), rows * cols);
    if depth == 0 {
        out.fill(0.0);
        return;
    }
    // The right-hand side is b transposed: element (d, c) is b[c · depth + d].
    multiply(
        MatrixView::row_major(a, rows, depth),
        MatrixView::row_major(b, cols, depth).transposed(),
        out,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{MatrixView, TokenFilter};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    fn factor(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(rows * cols);
        for _ in 0..rows {
            let scale = (0.5 * rng.sample::<f32, _>(StandardNormal)).exp();
            out.extend((0..cols).map(|_| scale * rng.sample::<f32, _>(StandardNormal)));
        }
        out
    }

    fn search(
        a: &[f32],
        b: &[f32],
        depth: usize,
        pruning: Pruning,
        shape: TileShape,
    ) -> (PairExtremes, PairStats) {
        let rows = |x: &[f32]| x.len() / depth;
        let exclude = |i: u32, j: u32| (i + 2 * j).is_multiple_of(9);
        run(
            Rows::allowed(MatrixView::row_major(a, rows(a), depth), TokenFilter::all()),
            Rows::allowed(MatrixView::row_major(b, rows(b), depth), TokenFilter::all()),
            17,
            Some(&exclude),
            pruning,
            shape,
        )
    }

    #[test]
    fn results_do_not_depend_on_tiles_or_pruning() {
        // Tiles of 7 × 13 end mid-way through both factors and exercise the
        // trimming of rows and columns inside tiles.
        let depth = 11;
        let a = factor(301, depth, 1);
        let b = factor(257, depth, 2);
        let small = TileShape { src: 7, dst: 13 };
        let (reference, _) = search(&a, &b, depth, Pruning::None, TileShape::default());
        let bits = |e: &PairExtremes| -> Vec<(u32, u32, u32)> {
            e.top
                .iter()
                .chain(&e.bottom)
                .map(|p| (p.src, p.dst, p.score.to_bits()))
                .collect()
        };
        for (pruning, shape) in [
            (Pruning::None, small),
            (Pruning::Bounds, small),
            (Pruning::Bounds, TileShape::default()),
            (Pruning::Bounds, TileShape { src: 1, dst: 1 }),
        ] {
            let (extremes, stats) = search(&a, &b, depth, pruning, shape);
            assert_eq!(bits(&extremes), bits(&reference), "{pruning:?} {shape:?}");
            if pruning == Pruning::Bounds && shape == small {
                assert!(stats.tiles_skipped > stats.tiles / 2, "{stats:?}");
                assert!(stats.computed < 301 * 257 / 4, "{stats:?}");
            }
        }
    }

    #[test]
    fn blocks_group_rows_by_shift_and_key() {
        // Shifts and keys independent and equally important (other key 1):
        // each block of 16 spans about a quarter of both ranges, where
        // sorting by key alone would leave every block the whole shift range.
        let reach: Vec<Reach> = (0..256)
            .map(|i| {
                let shift = f64::from((i * 37) % 256);
                Reach {
                    low: shift,
                    high: shift,
                    key: f64::from(i),
                    centred: 0.0,
                    raw: 0.0,
                }
            })
            .collect();
        let order = grouped(&reach, 16, 1.0);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..256).collect::<Vec<_>>());
        for block in order.chunks(16) {
            let rows: Vec<Reach> = block.iter().map(|&i| reach[i]).collect();
            let cover = Reach::cover(&rows);
            let keys = rows.iter().map(|r| r.key).fold(f64::INFINITY, f64::min);
            assert!(cover.high - cover.low <= 64.0, "{block:?}");
            assert!(cover.key - keys <= 64.0, "{block:?}");
            // Largest keys first within a block.
            assert!(rows.windows(2).all(|w| w[0].key >= w[1].key));
        }
    }

    #[test]
    fn picks_are_a_prefix_when_they_fill_most_of_it() {
        let mut picked = Vec::new();
        pick(&mut picked, 10, |i| i != 2 && i < 6);
        assert_eq!(picked, vec![0, 1, 2, 3, 4, 5]);
        pick(&mut picked, 10, |i| i == 1 || i == 8);
        assert_eq!(picked, vec![1, 8]);
        pick(&mut picked, 10, |_| false);
        assert!(picked.is_empty());
    }

    #[test]
    fn f32_rounding_goes_outward() {
        let x = 0.1f64;
        assert!(f64::from(f32_at_most(x)) <= x && f64::from(f32_at_least(x)) >= x);
        assert_eq!(f32_at_most(f64::MAX), f32::MAX);
        assert_eq!(f32_at_least(-f64::MAX), -f32::MAX);
        assert_eq!(f32_at_most(f64::NAN), f32::NEG_INFINITY);
        assert_eq!(f32_at_least(f64::NAN), f32::INFINITY);
        assert_eq!(f32_at_most(1.0), 1.0);
    }

    #[test]
    fn canonical_dot_is_the_rounded_f64_sum() {
        let a = [1e8f32, 1.0, -1e8, 0.5, 3.0];
        let b = [1.0f32, 1.0, 1.0, 1.0, 2.0];
        // f32 accumulation in order would lose the 1.0 and 0.5 against 1e8.
        assert_eq!(canonical_dot(&a, &b), 7.5);
        assert_eq!(canonical_dot(&[], &[]), 0.0);
    }
}
