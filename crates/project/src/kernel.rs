//! The one place that calls the GEMM.

use crate::view::MatrixView;

/// `out = x · y`, with `out` row-major `x.rows × y.cols`, single-threaded
/// (callers parallelise over blocks, heads or layers).
///
/// gemm's AVX-512 kernels are chosen at run time where the CPU has them.
pub(crate) fn multiply<T: Element>(x: MatrixView<'_, T>, y: MatrixView<'_, T>, out: &mut [T]) {
    gemm_into(x, y, out, gemm::Parallelism::None);
}

/// [`multiply`] spread by the GEMM itself over the current rayon pool.
pub(crate) fn multiply_threaded<T: Element>(
    x: MatrixView<'_, T>,
    y: MatrixView<'_, T>,
    out: &mut [T],
) {
    gemm_into(
        x,
        y,
        out,
        gemm::Parallelism::Rayon(rayon::current_num_threads()),
    );
}

fn gemm_into<T: Element>(
    x: MatrixView<'_, T>,
    y: MatrixView<'_, T>,
    out: &mut [T],
    parallelism: gemm::Parallelism,
) {
    assert_eq!(x.cols, y.rows, "multiply: inner dimensions");
    assert_eq!(out.len(), x.rows * y.cols, "multiply: output size");
    assert!(
        x.in_bounds() && y.in_bounds(),
        "multiply: views out of bounds"
    );
    if out.is_empty() {
        return;
    }
    if x.cols == 0 {
        out.fill(T::ZERO);
        return;
    }
    // SAFETY: both views were checked to address only elements inside their
    // slices, and `out` holds exactly x.rows × y.cols elements, written
    // row-major (column stride 1, row stride y.cols).
    unsafe {
        gemm::gemm(
            x.rows,
            y.cols,
            x.cols,
            out.as_mut_ptr(),
            1,
            y.cols as isize,
            false,
            x.data.as_ptr(),
            x.col_stride as isize,
            x.row_stride as isize,
            y.data.as_ptr(),
            y.col_stride as isize,
            y.row_stride as isize,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The element types the projection multiplies.
pub(crate) trait Element: Copy + 'static {
    const ZERO: Self;
    const ONE: Self;
}

impl Element for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
}

impl Element for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
}
