//! Matrices that borrow from a memory map when they can, and decode what
//! is stored in another encoding only when it is read.

use std::sync::Arc;

use memmap2::Mmap;

use crate::encoding::EncodedTensor;
use crate::error::Result;

/// Where a matrix's elements live.
#[derive(Clone)]
enum Storage {
    /// Little-endian, aligned f32 data inside a mapped file: no copy.
    Mapped {
        map: Arc<Mmap>,
        byte_offset: usize,
        len: usize,
    },
    /// Converted data (decoded, unaligned, or read from a pickle).
    Owned(Arc<[f32]>),
    /// Rows in the file's encoding (f16, bf16, quantised), decoded on read.
    Encoded(Arc<EncodedTensor>),
}

/// A `rows × cols` view of a tensor's elements with arbitrary strides.
///
/// Strides let a checkpoint's layout be read without transposing: a GPT-2
/// Conv1D weight stored `[in, out]` is viewed as `out × in` by swapping them.
///
/// The elements are f32 in memory ([`Matrix::values`]) or still in the
/// file's encoding; [`Matrix::decode`] turns the part a view covers into f32,
/// and [`Matrix::read_rows`] reads a few rows at a time.
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

    /// A view of a whole tensor kept in its file's encoding.
    pub(crate) fn encoded(tensor: EncodedTensor) -> Matrix {
        let (rows, cols) = (tensor.rows, tensor.cols);
        Matrix {
            storage: Storage::Encoded(Arc::new(tensor)),
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

    /// Whether the elements are still in the file's encoding, to be decoded
    /// when read.
    pub fn is_encoded(&self) -> bool {
        matches!(self.storage, Storage::Encoded(_))
    }

    /// The underlying f32 elements, addressed with [`Self::row_stride`] and
    /// [`Self::col_stride`]; `None` while they are still encoded
    /// ([`Self::decode`] first).
    pub fn values(&self) -> Option<&[f32]> {
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
            Storage::Encoded(_) => return None,
        };
        Some(&all[self.origin..])
    }

    /// The same view over f32 elements: a cheap copy when they already are,
    /// otherwise the stored rows the view covers, decoded (and checked to be
    /// finite) into memory of their own.
    pub fn decode(&self) -> Result<Matrix> {
        let Storage::Encoded(tensor) = &self.storage else {
            return Ok(self.clone());
        };
        if self.rows == 0 || self.cols == 0 {
            return Ok(Matrix::from_vec(Vec::new(), self.rows, self.cols));
        }
        let last =
            self.origin + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        let (first_row, last_row) = (self.origin / tensor.cols, last / tensor.cols);
        let count = last_row - first_row + 1;
        let mut data = vec![0f32; count * tensor.cols];
        tensor.decode_rows(first_row, count, &mut data)?;
        Ok(Matrix {
            storage: Storage::Owned(data.into()),
            origin: self.origin - first_row * tensor.cols,
            ..*self
        })
    }

    /// Rows `first..first + count` of the view, row-major, into `out`
    /// (`count × cols`): how a large encoded matrix, an embedding, is read a
    /// slice at a time without decoding all of it.
    pub fn read_rows(&self, first: usize, count: usize, out: &mut [f32]) -> Result<()> {
        assert!(
            first + count <= self.rows && out.len() == count * self.cols,
            "read_rows out of bounds"
        );
        if let Storage::Encoded(tensor) = &self.storage {
            // A whole-row, row-major view decodes straight into `out`.
            let whole_rows = self.col_stride == 1
                && self.row_stride == tensor.cols
                && self.cols == tensor.cols
                && self.origin.is_multiple_of(tensor.cols);
            if whole_rows {
                return tensor.decode_rows(self.origin / tensor.cols + first, count, out);
            }
        }
        let part = self.row_range(first, count).decode()?;
        let values = part.values().expect("a decoded matrix holds f32");
        for (r, row) in out.chunks_exact_mut(self.cols.max(1)).enumerate() {
            for (c, value) in row.iter_mut().enumerate() {
                *value = values[r * part.row_stride + c * part.col_stride];
            }
        }
        Ok(())
    }

    /// Every element, row-major, as f32 of its own.
    pub fn to_row_major(&self) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.rows * self.cols];
        self.read_rows(0, self.rows, &mut out)?;
        Ok(out)
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

    /// Element `(row, col)`; an encoded matrix decodes the row that holds it.
    pub fn get(&self, row: usize, col: usize) -> Result<f32> {
        match self.values() {
            Some(values) => Ok(values[row * self.row_stride + col * self.col_stride]),
            None => self.row_range(row, 1).columns(col, 1).decode()?.get(0, 0),
        }
    }

    /// Checks that the whole tensor an encoded matrix views is finite
    /// (f32 tensors are checked when they are loaded), naming it if not.
    pub fn check_encoded_finite(&self) -> Result<()> {
        let Storage::Encoded(tensor) = &self.storage else {
            return Ok(());
        };
        match tensor.first_non_finite()? {
            Some((position, value)) => Err(crate::error::LoadError::NonFinite {
                name: tensor.name.to_string(),
                value,
                position,
            }),
            None => Ok(()),
        }
    }

    /// Whether two matrices view the same stored tensor.
    pub fn shares_storage(&self, other: &Matrix) -> bool {
        match (&self.storage, &other.storage) {
            (Storage::Encoded(a), Storage::Encoded(b)) => Arc::ptr_eq(a, b),
            (Storage::Owned(a), Storage::Owned(b)) => Arc::ptr_eq(a, b),
            (
                Storage::Mapped {
                    map: a,
                    byte_offset: x,
                    ..
                },
                Storage::Mapped {
                    map: b,
                    byte_offset: y,
                    ..
                },
            ) => Arc::ptr_eq(a, b) && x == y,
            _ => false,
        }
    }

    /// The first non-finite element of an f32 matrix, as (index in row-major
    /// order, value); encoded matrices are checked as they are decoded.
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        let data = self.values()?;
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
            .field("encoded", &self.is_encoded())
            .finish()
    }
}
