//! Tensors left in their file's encoding (f16, bf16, GGML quantisations),
//! decoded to f32 a few rows at a time when they are read.
//!
//! Upcasting a whole half-precision checkpoint to f32 doubles it: an 8B
//! model stored in 16 GB of bf16 would need 32 GB. An [`EncodedTensor`]
//! instead keeps the file's bytes (memory-mapped) and decodes only the rows
//! a stage asks for, so a run holds in f32 no more than the matrices it is
//! working on.

use std::sync::Arc;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use half::{bf16, f16};
use memmap2::Mmap;

use crate::error::{candle_source, LoadError, Result};

/// How a tensor's elements are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Little-endian f32 (read through this path only when its rows are
    /// reordered or unaligned; aligned f32 is borrowed from the map).
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
    /// A GGML block quantisation (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, the K-quants).
    Quantized(GgmlDType),
}

impl Encoding {
    /// The GGML type of a GGUF tensor, as an encoding.
    pub(crate) fn from_ggml(dtype: GgmlDType) -> Encoding {
        match dtype {
            GgmlDType::F32 => Encoding::F32,
            GgmlDType::F16 => Encoding::F16,
            GgmlDType::BF16 => Encoding::Bf16,
            other => Encoding::Quantized(other),
        }
    }

    /// The name recorded in the manifest, as llama.cpp spells it (`bf16`,
    /// `q4_1`, `q6_k`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::F32 | Encoding::Quantized(GgmlDType::F32) => "f32",
            Encoding::F16 | Encoding::Quantized(GgmlDType::F16) => "f16",
            Encoding::Bf16 | Encoding::Quantized(GgmlDType::BF16) => "bf16",
            Encoding::Quantized(GgmlDType::Q4_0) => "q4_0",
            Encoding::Quantized(GgmlDType::Q4_1) => "q4_1",
            Encoding::Quantized(GgmlDType::Q5_0) => "q5_0",
            Encoding::Quantized(GgmlDType::Q5_1) => "q5_1",
            Encoding::Quantized(GgmlDType::Q8_0) => "q8_0",
            Encoding::Quantized(GgmlDType::Q8_1) => "q8_1",
            Encoding::Quantized(GgmlDType::Q2K) => "q2_k",
            Encoding::Quantized(GgmlDType::Q3K) => "q3_k",
            Encoding::Quantized(GgmlDType::Q4K) => "q4_k",
            Encoding::Quantized(GgmlDType::Q5K) => "q5_k",
            Encoding::Quantized(GgmlDType::Q6K) => "q6_k",
            Encoding::Quantized(GgmlDType::Q8K) => "q8_k",
        }
    }

    /// Elements per block: a quantised row is a whole number of blocks.
    fn block_elements(self) -> usize {
        match self {
            Encoding::Quantized(dtype) => dtype.block_size(),
            _ => 1,
        }
    }

    /// Bytes one row of `cols` elements takes, or `None` when `cols` is not
    /// a whole number of blocks.
    pub(crate) fn row_bytes(self, cols: usize) -> Option<usize> {
        match self {
            Encoding::F32 => Some(cols * 4),
            Encoding::F16 | Encoding::Bf16 => Some(cols * 2),
            Encoding::Quantized(dtype) => cols
                .is_multiple_of(self.block_elements())
                .then(|| cols / dtype.block_size() * dtype.type_size()),
        }
    }
}

/// Which stored row holds each row a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOrder {
    /// Row r is stored row r.
    Stored,
    /// llama.cpp's conversion of a LLaMA Q or K projection: within every
    /// head of `head_dim` rows it stores the rotary pairs interleaved
    /// (row 2i + half) where Hugging Face keeps the halves apart
    /// (row half · head_dim/2 + i). Reading through this order undoes it.
    InterleavedPairs { head_dim: usize },
}

impl RowOrder {
    /// The stored row of row `row`.
    fn stored(self, row: usize) -> usize {
        match self {
            RowOrder::Stored => row,
            RowOrder::InterleavedPairs { head_dim } => {
                let (head, within) = (row / head_dim, row % head_dim);
                let half_width = head_dim / 2;
                let (half, i) = (within / half_width, within % half_width);
                head * head_dim + 2 * i + half
            }
        }
    }
}

/// A `rows × cols` row-major tensor kept in its file's encoding.
pub(crate) struct EncodedTensor {
    /// The tensor's name, for errors.
    pub(crate) name: Arc<str>,
    map: Arc<Mmap>,
    byte_offset: usize,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) encoding: Encoding,
    order: RowOrder,
}

impl EncodedTensor {
    /// Describes a tensor whose bytes start at `byte_offset` in `map`,
    /// checking that they are all there.
    pub(crate) fn new(
        name: &str,
        map: Arc<Mmap>,
        byte_offset: usize,
        [rows, cols]: [usize; 2],
        encoding: Encoding,
        order: RowOrder,
    ) -> Result<EncodedTensor> {
        let bad = |problem: String| LoadError::BadTensorData {
            name: name.to_string(),
            problem,
        };
        let row_bytes = encoding.row_bytes(cols).ok_or_else(|| {
            bad(format!(
                "rows of {cols} elements are not a whole number of {}-element {} blocks",
                encoding.block_elements(),
                encoding.name()
            ))
        })?;
        let end = rows
            .checked_mul(row_bytes)
            .and_then(|bytes| bytes.checked_add(byte_offset));
        if end.is_none_or(|end| end > map.len()) {
            return Err(bad(format!(
                "{rows} rows of {row_bytes} bytes from byte {byte_offset} run past the end of the file ({} bytes)",
                map.len()
            )));
        }
        if let RowOrder::InterleavedPairs { head_dim } = order {
            if head_dim == 0 || head_dim % 2 != 0 || rows % head_dim != 0 {
                return Err(bad(format!(
                    "{rows} rows do not split into heads of {head_dim} rows with rotary pairs"
                )));
            }
        }
        Ok(EncodedTensor {
            name: Arc::from(name),
            map,
            byte_offset,
            rows,
            cols,
            encoding,
            order,
        })
    }

    /// Decodes rows `first..first + count` into `out` (`count × cols`,
    /// row-major), refusing NaN and infinity.
    pub(crate) fn decode_rows(&self, first: usize, count: usize, out: &mut [f32]) -> Result<()> {
        debug_assert!(first + count <= self.rows && out.len() == count * self.cols);
        match self.order {
            RowOrder::Stored => self.decode_stored(first, count, out)?,
            RowOrder::InterleavedPairs { .. } => {
                for (row, out) in (first..first + count).zip(out.chunks_exact_mut(self.cols)) {
                    self.decode_stored(self.order.stored(row), 1, out)?;
                }
            }
        }
        match out.iter().position(|v| !v.is_finite()) {
            Some(at) => Err(LoadError::NonFinite {
                name: self.name.to_string(),
                value: out[at],
                position: first * self.cols + at,
            }),
            None => Ok(()),
        }
    }

    /// The first NaN or infinity of the whole tensor, as (element in
    /// stored order, value). Half precision is checked on its bits, without
    /// decoding; quantised rows are decoded a block of rows at a time.
    pub(crate) fn first_non_finite(&self) -> Result<Option<(usize, f32)>> {
        let row_bytes = self
            .encoding
            .row_bytes(self.cols)
            .expect("checked on construction");
        let bytes = &self.map[self.byte_offset..self.byte_offset + self.rows * row_bytes];
        // An exponent of all ones is an infinity or a NaN.
        let half_bits = |exponent: u16, decode: fn([u8; 2]) -> f32| {
            bytes
                .chunks_exact(2)
                .position(|b| u16::from_le_bytes([b[0], b[1]]) & exponent == exponent)
                .map(|at| (at, decode([bytes[2 * at], bytes[2 * at + 1]])))
        };
        Ok(match self.encoding {
            Encoding::F16 => half_bits(0x7c00, |b| f16::from_le_bytes(b).to_f32()),
            Encoding::Bf16 => half_bits(0x7f80, |b| bf16::from_le_bytes(b).to_f32()),
            Encoding::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .enumerate()
                .find(|(_, v)| !v.is_finite()),
            Encoding::Quantized(_) => {
                let rows_per_pass = (1 << 20) / self.cols.max(1) + 1;
                let mut values = Vec::new();
                for first in (0..self.rows).step_by(rows_per_pass) {
                    let count = rows_per_pass.min(self.rows - first);
                    values.resize(count * self.cols, 0f32);
                    self.decode_stored(first, count, &mut values)?;
                    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                        return Ok(Some((first * self.cols + at, values[at])));
                    }
                }
                None
            }
        })
    }

    /// Decodes consecutive stored rows.
    fn decode_stored(&self, first: usize, count: usize, out: &mut [f32]) -> Result<()> {
        let row_bytes = self
            .encoding
            .row_bytes(self.cols)
            .expect("checked on construction");
        let start = self.byte_offset + first * row_bytes;
        let bytes = &self.map[start..start + count * row_bytes];
        match self.encoding {
            Encoding::F32 => {
                for (value, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            Encoding::F16 => match little_endian_bits(bytes) {
                Some(bits) => bits.reinterpret_cast::<f16>().convert_to_f32_slice(out),
                None => {
                    for (value, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                        *value = f16::from_le_bytes([b[0], b[1]]).to_f32();
                    }
                }
            },
            Encoding::Bf16 => match little_endian_bits(bytes) {
                Some(bits) => bits.reinterpret_cast::<bf16>().convert_to_f32_slice(out),
                None => {
                    for (value, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                        *value = bf16::from_le_bytes([b[0], b[1]]).to_f32();
                    }
                }
            },
            Encoding::Quantized(dtype) => {
                let cpu = candle_core::Device::Cpu;
                let values = qtensor_from_ggml(dtype, bytes, vec![count, self.cols], &cpu)
                    .and_then(|q| q.dequantize(&cpu))
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1::<f32>())
                    .map_err(|source| LoadError::Dequantize {
                        name: self.name.to_string(),
                        source: candle_source(source),
                    })?;
                out.copy_from_slice(&values);
            }
        }
        Ok(())
    }
}

/// `bytes` as 16-bit words when they are aligned and the machine reads
/// them in the file's (little-endian) byte order.
fn little_endian_bits(bytes: &[u8]) -> Option<&[u16]> {
    bytemuck::try_cast_slice(bytes)
        .ok()
        .filter(|_| cfg!(target_endian = "little"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_pairs_undo_llama_cpp_permutation() {
        // llama.cpp: w.reshape(heads, 2, dim/2, in).swapaxes(1, 2), i.e. HF
        // row h·dim + half·dim/2 + i is stored at h·dim + 2i + half.
        let order = RowOrder::InterleavedPairs { head_dim: 4 };
        let stored: Vec<usize> = (0..8).map(|r| order.stored(r)).collect();
        assert_eq!(stored, [0, 2, 1, 3, 4, 6, 5, 7]);
        let order = RowOrder::InterleavedPairs { head_dim: 6 };
        let stored: Vec<usize> = (0..6).map(|r| order.stored(r)).collect();
        assert_eq!(stored, [0, 2, 4, 1, 3, 5]);
    }
}
