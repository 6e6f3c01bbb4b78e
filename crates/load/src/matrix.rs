//! Dense f32 matrices that borrow from a memory map when they can.

use std::sync::Arc;

use memmap2::Mmap;

/// Where a matrix's elements live.
#[derive(Clone)]
enum Storage {
    /// Little-endian, aligned f32 data inside a mapped file: no copy.
    Mapped {
        map: Arc<Mmap>,
        byte_offset: usize,
        len: usize,
    },
    /// Converted data (upcast from f16/bf16, unaligned, or read from a pickle).
    Owned(Arc<[f32]>),
}

/// A `rows × cols` view of f32 elements with arbitrary strides.
///
/// Strides let a checkpoint's layout be read without transposing: a GPT-2
/// Conv1D weight stored `[in, out]` is viewed as `out × in` by swapping them.
#[derive(Clone)]
pub struct Matrix {
    storage: Storage,
    /// Index of element (0, 0) within the storage.
    origin: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl Matrix {
    /// A row-major matrix over owned data.
    pub fn from_vec(data: Vec<f32>, rows: usize, cols: usize) -> Matrix {
        assert_eq!(data.len(), rows * cols, "matrix data length");
        Matrix {
            storage: Storage::Owned(data.into()),
            origin: 0,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A row-major matrix over f32 data inside a memory map.
    ///
    /// The caller guarantees `byte_offset` is 4-aligned and the range is in bounds.
    pub(crate) fn mapped(map: Arc<Mmap>, byte_offset: usize, rows: usize, cols: usize) -> Matrix {
        debug_assert!(byte_offset.is_multiple_of(4) && byte_offset + rows * cols * 4 <= map.len());
        Matrix {
            storage: Storage::Mapped {
                map,
                byte_offset,
                len: rows * cols,
            },
            origin: 0,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Distance in elements between consecutive rows.
    pub fn row_stride(&self) -> usize {
        self.row_stride
    }

    /// Distance in elements between consecutive columns.
    pub fn col_stride(&self) -> usize {
        self.col_stride
    }

    /// Whether the data is borrowed from a memory map rather than copied.
    pub fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }

    /// The underlying elements, addressed with [`Self::row_stride`] and [`Self::col_stride`].
    pub fn data(&self) -> &[f32] {
        let all: &[f32] = match &self.storage {
            Storage::Owned(data) => data,
            Storage::Mapped {
                map,
                byte_offset,
                len,
            } => {
                let bytes = &map[*byte_offset..*byte_offset + len * 4];
                // Construction checked alignment and bounds; f32 has no invalid bit patterns.
                bytemuck::cast_slice(bytes)
            }
        };
        &all[self.origin..]
    }

    /// Element `(row, col)`.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        self.data()[row * self.row_stride + col * self.col_stride]
    }

    /// The same elements viewed as the transpose.
    pub fn transposed(&self) -> Matrix {
        Matrix {
            storage: self.storage.clone(),
            origin: self.origin,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// The sub-matrix of columns `start..start + count`.
    pub fn columns(&self, start: usize, count: usize) -> Matrix {
        assert!(start + count <= self.cols, "column range out of bounds");
        let mut view = self.clone();
        view.cols = count;
        view.origin += start * self.col_stride;
        view
    }

    /// The sub-matrix of rows `start..start + count`.
    pub fn row_range(&self, start: usize, count: usize) -> Matrix {
        assert!(start + count <= self.rows, "row range out of bounds");
        let mut view = self.clone();
        view.rows = count;
        view.origin += start * self.row_stride;
        view
    }

    /// The first non-finite element, as (index in row-major order, value).
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        let data = self.data();
        (0..self.rows).find_map(|r| {
            (0..self.cols).find_map(|c| {
                let v = data[r * self.row_stride + c * self.col_stride];
                (!v.is_finite()).then_some((r * self.cols + c, v))
            })
        })
    }
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("row_stride", &self.row_stride)
            .field("col_stride", &self.col_stride)
            .field("mapped", &self.is_mapped())
            .finish()
    }
}
