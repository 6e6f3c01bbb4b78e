//! Loaded matrices as the projection's borrowed views.

use glossa_load::Matrix;
use glossa_project::MatrixView;

/// A loaded matrix as the projection's borrowed view: no copy, the strides
/// of a transposed or sliced matrix carried along.
pub fn view(matrix: &Matrix) -> MatrixView<'_> {
    MatrixView {
        data: matrix.data(),
        rows: matrix.rows(),
        cols: matrix.cols(),
        row_stride: matrix.row_stride(),
        col_stride: matrix.col_stride(),
    }
}
