//! Loaded matrices as the projection's borrowed views.

use glossa_load::Matrix;
use glossa_project::{Embedding, MatrixView, RowSource};

/// A decoded matrix as the projection's borrowed view: no copy, the strides
/// of a transposed or sliced matrix carried along.
///
/// The stages decode every matrix they view (`Matrix::decode`, a cheap copy
/// of one held as f32); only an embedding is read encoded, through
/// [`TokenRows`].
pub fn view(matrix: &Matrix) -> MatrixView<'_> {
    MatrixView {
        data: matrix
            .values()
            .expect("matrices are decoded before they are viewed"),
        rows: matrix.rows(),
        cols: matrix.cols(),
        row_stride: matrix.row_stride(),
        col_stride: matrix.col_stride(),
    }
}

/// An embedding as the projection reads it: in place when it is held as
/// f32, otherwise decoded a chunk of tokens at a time, so that a bf16 or
/// quantised embedding is never upcast whole (2 GB for a 128k × 4096 one).
pub struct TokenRows<'m>(pub &'m Matrix);

impl TokenRows<'_> {
    /// The embedding as a projection input.
    pub fn embedding(&self) -> Embedding<'_> {
        match self.0.values() {
            Some(_) => Embedding::Dense(view(self.0)),
            None => Embedding::Decoded(self),
        }
    }
}

impl RowSource for TokenRows<'_> {
    fn rows(&self) -> usize {
        self.0.rows()
    }

    fn cols(&self) -> usize {
        self.0.cols()
    }

    fn read_rows(
        &self,
        first: usize,
        out: &mut [f32],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let count = out.len() / self.0.cols().max(1);
        Ok(self.0.read_rows(first, count, out)?)
    }
}
