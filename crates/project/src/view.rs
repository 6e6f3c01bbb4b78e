//! Borrowed inputs of a projection.

/// A borrowed `rows × cols` matrix (f32 unless said otherwise) with
/// arbitrary strides (in elements).
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a, T = f32> {
    /// Elements, addressed as `data[r * row_stride + c * col_stride]`.
    pub data: &'a [T],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a, T: Copy> MatrixView<'a, T> {
    /// A dense row-major view.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> MatrixView<'a, T> {
        assert!(data.len() >= rows * cols, "row-major view out of bounds");
        MatrixView {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Element `(row, col)`.
    pub fn get(&self, row: usize, col: usize) -> T {
        self.data[row * self.row_stride + col * self.col_stride]
    }

    /// Rows `start..start + count`.
    pub fn rows_range(&self, start: usize, count: usize) -> MatrixView<'a, T> {
        assert!(start + count <= self.rows, "row range out of bounds");
        MatrixView {
            data: &self.data[(start * self.row_stride).min(self.data.len())..],
            rows: count,
            ..*self
        }
    }

    /// The same elements viewed as the transpose.
    pub fn transposed(&self) -> MatrixView<'a, T> {
        MatrixView {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Checks that every addressed element lies inside `data`.
    pub(crate) fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// Rows of a matrix too large to hold whole as f32 (a half-precision or
/// quantised embedding), handed out a few at a time.
pub trait RowSource: Sync {
    /// Number of rows.
    fn rows(&self) -> usize;
    /// Elements per row.
    fn cols(&self) -> usize;
    /// Writes rows `first..first + out.len() / cols` into `out`, row-major.
    fn read_rows(
        &self,
        first: usize,
        out: &mut [f32],
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Which tokens may be selected: `allowed[t]` for token t.
///
/// Excluded tokens are skipped before selection, so they never take a place
/// in a list and lists stay k long while enough tokens remain.
#[derive(Debug, Clone, Copy)]
pub struct TokenFilter<'a> {
    allowed: Option<&'a [bool]>,
}

impl<'a> TokenFilter<'a> {
    /// Every token may be selected.
    pub fn all() -> TokenFilter<'static> {
        TokenFilter { allowed: None }
    }

    /// Only tokens with `allowed[t] == true`.
    pub fn only(allowed: &'a [bool]) -> TokenFilter<'a> {
        TokenFilter {
            allowed: Some(allowed),
        }
    }

    /// Whether token `t` may be selected.
    #[inline]
    pub fn allows(&self, t: usize) -> bool {
        self.allowed.is_none_or(|a| a[t])
    }

    /// How many of the first `tokens` tokens may be selected.
    pub fn count(&self, tokens: usize) -> usize {
        match self.allowed {
            None => tokens,
            Some(a) => a[..tokens].iter().filter(|&&x| x).count(),
        }
    }

    /// The flags of tokens `first..first + count`, or `None` when every
    /// token may be selected.
    #[inline]
    pub(crate) fn flags(&self, first: usize, count: usize) -> Option<&'a [bool]> {
        self.allowed.map(|a| &a[first..first + count])
    }

    pub(crate) fn len(&self) -> Option<usize> {
        self.allowed.map(<[bool]>::len)
    }
}
