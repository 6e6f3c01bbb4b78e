//! Score blocks on an NVIDIA GPU (the `cuda` cargo feature): the vectors
//! are uploaded once, each chunk of the embedding once, and every block of
//! vectors times the chunk is one cuBLAS SGEMM whose scores come back to the
//! CPU threads that select from them. Full f32 precision: candle's reduced
//! precision (TF32) stays off, so lists match the CPU's up to the order of
//! the GEMM's sums.

use candle_core::{Device, Tensor};

use crate::error::{ProjectError, Result};
use crate::view::MatrixView;

/// One GPU holding a projection's vectors.
pub(crate) struct Gpu {
    device: Device,
    vectors: Tensor,
}

impl Gpu {
    /// Opens GPU `ordinal` and uploads `vectors`.
    pub(crate) fn open(ordinal: usize, vectors: MatrixView<'_>) -> Result<Gpu> {
        candle_core::cuda::set_gemm_reduced_precision_f32(false);
        let device = Device::new_cuda(ordinal).map_err(|source| ProjectError::Gpu {
            what: format!("opening CUDA device {ordinal}"),
            source: Box::new(source),
        })?;
        let vectors = upload(&device, vectors)?;
        Ok(Gpu { device, vectors })
    }

    /// A chunk of the embedding, on the device.
    pub(crate) fn upload(&self, chunk: MatrixView<'_>) -> Result<Tensor> {
        upload(&self.device, chunk)
    }

    /// Vectors `start..start + count` times `chunk`ᵀ, row-major on the host
    /// (`count × chunk rows`).
    pub(crate) fn scores(&self, start: usize, count: usize, chunk: &Tensor) -> Result<Vec<f32>> {
        self.vectors
            .narrow(0, start, count)
            .and_then(|block| block.matmul(&chunk.t()?))
            .and_then(|scores| scores.flatten_all())
            .and_then(|scores| scores.to_vec1::<f32>())
            .map_err(|source| ProjectError::Gpu {
                what: format!("scoring vectors {start}..{}", start + count),
                source: Box::new(source),
            })
    }
}

/// A strided view as a contiguous row-major tensor on `device`.
fn upload(device: &Device, view: MatrixView<'_>) -> Result<Tensor> {
    let mut data = Vec::with_capacity(view.rows * view.cols);
    for r in 0..view.rows {
        data.extend((0..view.cols).map(|c| view.get(r, c)));
    }
    Tensor::from_vec(data, (view.rows, view.cols), device).map_err(|source| ProjectError::Gpu {
        what: format!("uploading a {} × {} matrix", view.rows, view.cols),
        source: Box::new(source),
    })
}
