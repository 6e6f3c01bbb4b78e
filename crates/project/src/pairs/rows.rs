//! The allowed rows of one factor, read in a chosen order.

use crate::view::{MatrixView, TokenFilter};

/// A factor's allowed rows: indices into the caller's view, in processing
/// order. Rows are copied out only in small pieces (a chunk for a pass over
/// the factor, a block for a tile), so a search that touches few rows never
/// pays for copying, or first touching the memory of, the whole factor.
pub(super) struct Rows<'a> {
    view: MatrixView<'a>,
    ids: Vec<u32>,
}

impl<'a> Rows<'a> {
    /// The rows `filter` allows, in index order. The view must lie inside
    /// its data and have fewer than `u32::MAX` rows.
    pub(super) fn allowed(view: MatrixView<'a>, filter: TokenFilter<'_>) -> Rows<'a> {
        let ids = (0..view.rows)
            .filter(|&i| filter.allows(i))
            .map(|i| i as u32)
            .collect();
        Rows { view, ids }
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    pub(super) fn depth(&self) -> usize {
        self.view.cols
    }

    /// The original index of row `i` (in processing order).
    #[inline]
    pub(super) fn id(&self, i: usize) -> u32 {
        self.ids[i]
    }

    /// Appends rows `start..start + count` (processing order) to `out`,
    /// contiguous row-major.
    pub(super) fn copy(&self, start: usize, count: usize, out: &mut Vec<f32>) {
        let (view, cols) = (self.view, self.view.cols);
        out.reserve(count * cols);
        for &i in &self.ids[start..start + count] {
            let first = i as usize * view.row_stride;
            if view.col_stride == 1 {
                // The usual layout: one slice copy per row.
                out.extend_from_slice(&view.data[first..first + cols]);
            } else {
                out.extend((0..cols).map(|c| view.data[first + c * view.col_stride]));
            }
        }
    }

    /// Calls `f(start, rows)` for consecutive chunks of at most `size` rows,
    /// each copied contiguous into one reused buffer.
    pub(super) fn for_chunks(&self, size: usize, mut f: impl FnMut(usize, &[f32])) {
        let mut buffer = Vec::with_capacity(size * self.depth());
        for start in (0..self.len()).step_by(size.max(1)) {
            let count = size.max(1).min(self.len() - start);
            buffer.clear();
            self.copy(start, count, &mut buffer);
            f(start, &buffer);
        }
    }

    /// Puts the rows in the order `order[0], order[1], …` (positions in the
    /// current order).
    pub(super) fn reorder(&mut self, order: &[usize]) {
        self.ids = order.iter().map(|&i| self.ids[i]).collect();
    }
}
