//! Blocked, parallel scoring of vectors against the vocabulary.

use rayon::prelude::*;

use crate::device::Device;
use crate::error::{ProjectError, Result};
use crate::kernel::{multiply, multiply_threaded};
use crate::select::{offer_extremes, Extremes, Reservoir};
use crate::statistics::ScoreStatistics;
use crate::view::{MatrixView, RowSource, TokenFilter};

/// Block sizes of the fused score-and-select loop.
///
/// One task scores `vectors` vectors against `tokens` tokens at a time: the
/// score tile (`vectors × tokens` f32) stays in cache while it is filtered,
/// and each pass over the embedding serves `vectors` vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Vectors per task.
    pub vectors: usize,
    /// Tokens per score tile.
    pub tokens: usize,
    /// f32 elements a chunk of a decoded embedding holds at most: the
    /// memory a decoded embedding takes instead of all of it.
    pub decoded_chunk: usize,
}

impl Default for Tiling {
    /// Measured on AVX-512 cores (`make bench`): the GEMM runs near its peak
    /// from about a thousand rows on, and an 8 MB score tile per task is
    /// scanned at a small fraction of the time it takes to compute.
    fn default() -> Tiling {
        Tiling {
            vectors: 1024,
            tokens: 2048,
            // 64 MB: enough tokens that every chunk serves thousands of
            // vectors, small beside the weights themselves.
            decoded_chunk: 16 << 20,
        }
    }
}

/// The token rows a projection scores against.
#[derive(Clone, Copy)]
pub enum Embedding<'a> {
    /// f32 rows in memory, read in place.
    Dense(MatrixView<'a>),
    /// Rows decoded a chunk at a time: half-precision or quantised weights
    /// too large to hold whole as f32.
    Decoded(&'a dyn RowSource),
}

impl Embedding<'_> {
    fn rows(&self) -> usize {
        match self {
            Embedding::Dense(view) => view.rows,
            Embedding::Decoded(source) => source.rows(),
        }
    }

    fn cols(&self) -> usize {
        match self {
            Embedding::Dense(view) => view.cols,
            Embedding::Decoded(source) => source.cols(),
        }
    }
}

/// What [`project`] scores, and how many tokens it keeps.
#[derive(Clone, Copy)]
pub struct Projection<'a> {
    /// One vector per row (`n × d`): feed-forward keys or values.
    pub vectors: MatrixView<'a>,
    /// One token per row (`vocab × d`): the embedding the scores are read through.
    pub embedding: Embedding<'a>,
    /// Rows of `embedding` that are tokens; rows from here on are padding
    /// beyond the tokenizer's vocabulary and are never scored.
    pub tokens: usize,
    /// Tokens kept at each end of every vector's list.
    pub k: usize,
    /// Tokens that may be kept.
    pub filter: TokenFilter<'a>,
    /// Block sizes of the fused loop.
    pub tiling: Tiling,
    /// Where the GEMM runs; selection is always on the CPU.
    pub device: Device,
}

/// Scores every row of `query.vectors` against the tokens of
/// `query.embedding` and returns each row's `k` highest and `k` lowest tokens,
/// with the [`Moments`] of all its selectable scores (the same f32 scores the
/// lists hold, summed in float64 in token order).
///
/// Runs on the current rayon pool and calls `progress(n)` each time `n` more
/// vectors are done. A decoded embedding is read one chunk of tokens at a
/// time, every vector scored against a chunk before the next is decoded;
/// tokens still arrive in increasing order, so the lists are those of the
/// same embedding held whole.
pub fn project(query: &Projection<'_>, progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<Extremes>> {
    let Projection {
        vectors,
        embedding,
        tokens,
        k,
        filter,
        tiling,
        device,
    } = *query;
    if k == 0 {
        return Err(ProjectError::ZeroK);
    }
    if vectors.cols != embedding.cols() {
        return Err(ProjectError::DimensionMismatch {
            vectors: vectors.cols,
            embedding: embedding.cols(),
        });
    }
    let tokens = tokens.min(embedding.rows());
    if let Some(len) = filter.len() {
        if len < tokens {
            return Err(ProjectError::FilterLength {
                filter: len,
                tokens,
            });
        }
    }
    let selectable = filter.count(tokens);
    if k > selectable {
        return Err(ProjectError::KTooLarge {
            k,
            tokens: selectable,
        });
    }
    let dense_in_bounds = match embedding {
        Embedding::Dense(view) => view.in_bounds(),
        Embedding::Decoded(_) => true,
    };
    assert!(
        vectors.in_bounds() && dense_in_bounds,
        "matrix views must lie inside their data"
    );
    let tile = tiling.tokens.max(1);
    // Fewer vectors per task than the tiling asks when that is what it takes
    // to give every thread work.
    let block = tiling
        .vectors
        .min(vectors.rows.div_ceil(rayon::current_num_threads()))
        .max(1);
    let mut lists: Vec<Lists> = (0..vectors.rows)
        .map(|_| Lists {
            top: Reservoir::new(k, true),
            bottom: Reservoir::new(k, false),
            statistics: ScoreStatistics::default(),
        })
        .collect();
    let gpu: Option<Gpu> = match device {
        Device::Cpu => None,
        #[cfg(feature = "cuda")]
        Device::Cuda(ordinal) => Some(crate::cuda::Gpu::open(ordinal, vectors)?),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(_) => return Err(ProjectError::NoCuda),
    };
    let score_chunk = |lists: &mut [Lists], chunk: MatrixView<'_>, first, last| -> Result<()> {
        #[cfg(feature = "cuda")]
        if let Some(gpu) = &gpu {
            // One SGEMM per block of vectors against the whole chunk; the
            // CPU threads select from its rows.
            let on_device = gpu.upload(chunk)?;
            let flags = filter.flags(first, chunk.rows);
            for (index, lists) in lists.chunks_mut(tiling.vectors.max(1)).enumerate() {
                let start = index * tiling.vectors.max(1);
                let scores = gpu.scores(start, lists.len(), &on_device)?;
                lists
                    .par_iter_mut()
                    .zip(scores.par_chunks(chunk.rows.max(1)))
                    .for_each(|(lists, row)| offer_row(lists, row, first, filter, flags));
                if last {
                    progress(lists.len());
                }
            }
            return Ok(());
        }
        #[cfg(not(feature = "cuda"))]
        let _ = &gpu;
        lists
            .par_chunks_mut(block)
            .enumerate()
            .for_each(|(index, lists)| {
                let start = index * block;
                let rows = vectors.rows_range(start, lists.len());
                score_block(rows, chunk, first, filter, tile, lists);
                if last {
                    progress(lists.len());
                }
            });
        Ok(())
    };
    match embedding {
        Embedding::Dense(view) => score_chunk(&mut lists, view.rows_range(0, tokens), 0, true)?,
        Embedding::Decoded(source) => {
            let chunk = (tiling.decoded_chunk / embedding.cols().max(1) / tile).max(1) * tile;
            let mut buffer = vec![0f32; chunk.min(tokens) * embedding.cols()];
            for first in (0..tokens).step_by(chunk) {
                let count = chunk.min(tokens - first);
                let decoded = &mut buffer[..count * embedding.cols()];
                read_chunk(source, first, decoded)?;
                let view = MatrixView::row_major(decoded, count, embedding.cols());
                score_chunk(&mut lists, view, first, first + count == tokens)?;
            }
        }
    }
    Ok(lists
        .into_iter()
        .map(|lists| Extremes {
            top: lists.top.finish(),
            bottom: lists.bottom.finish(),
            moments: lists.statistics.moments(),
            statistics: lists.statistics,
        })
        .collect())
}

/// The GPU a projection runs on; builds without CUDA have none to open.
#[cfg(feature = "cuda")]
type Gpu = crate::cuda::Gpu;
#[cfg(not(feature = "cuda"))]
type Gpu = std::convert::Infallible;

/// What one vector gathers while its scores stream past.
struct Lists {
    top: Reservoir,
    bottom: Reservoir,
    statistics: ScoreStatistics,
}

/// Decodes the rows of one chunk in parallel, into `out`.
fn read_chunk(source: &dyn RowSource, first: usize, out: &mut [f32]) -> Result<()> {
    const ROWS_PER_TASK: usize = 256;
    let cols = source.cols().max(1);
    out.par_chunks_mut(ROWS_PER_TASK * cols)
        .enumerate()
        .try_for_each(|(index, part)| {
            let start = first + index * ROWS_PER_TASK;
            source
                .read_rows(start, part)
                .map_err(|source| ProjectError::ReadRows {
                    first: start,
                    count: part.len() / cols,
                    source,
                })
        })
}

/// The arithmetic floor of [`project`]: the same vectors × vocabulary
/// product, computed by the GEMM alone (large blocks, the GEMM's own
/// threading over the current rayon pool) with nothing selected.
///
/// Benchmarks time it beside [`project`] to show what selection costs.
pub fn gemm_floor(vectors: MatrixView<'_>, embedding: MatrixView<'_>, tokens: usize) {
    const TOKENS_PER_BLOCK: usize = 2048;
    assert_eq!(vectors.cols, embedding.cols, "gemm_floor: widths differ");
    let tokens = tokens.min(embedding.rows);
    let mut scores = vec![0f32; vectors.rows * TOKENS_PER_BLOCK];
    for first in (0..tokens).step_by(TOKENS_PER_BLOCK) {
        let width = TOKENS_PER_BLOCK.min(tokens - first);
        let tile = embedding.rows_range(first, width).transposed();
        multiply_threaded(vectors, tile, &mut scores[..vectors.rows * width]);
    }
    std::hint::black_box(&scores);
}

/// One task: a block of vectors against one chunk of tokens (starting at
/// token `first`), tile by tile, offered to the vectors' reservoirs and
/// added to their moments.
fn score_block(
    vectors: MatrixView<'_>,
    chunk: MatrixView<'_>,
    first: usize,
    filter: TokenFilter<'_>,
    tile: usize,
    lists: &mut [Lists],
) {
    let rows = vectors.rows;
    let mut scores = vec![0f32; rows * tile.min(chunk.rows)];
    for start in (0..chunk.rows).step_by(tile) {
        let width = tile.min(chunk.rows - start);
        let tile_scores = &mut scores[..rows * width];
        score_tile(vectors, chunk, start, width, tile_scores);
        let flags = filter.flags(first + start, width);
        for (r, lists) in lists.iter_mut().enumerate() {
            let row = &tile_scores[r * width..(r + 1) * width];
            offer_row(lists, row, first + start, filter, flags);
        }
    }
}

/// One vector's scores of tokens `first..first + row.len()`, added to its
/// moments and offered to its reservoirs.
fn offer_row(
    lists: &mut Lists,
    row: &[f32],
    first: usize,
    filter: TokenFilter<'_>,
    flags: Option<&[bool]>,
) {
    // The scores are still in cache: summing them costs a few flops and one
    // exponential per score beside the d of the GEMM.
    lists.statistics.add_row(row, flags);
    offer_extremes(&mut lists.top, &mut lists.bottom, row, first, |t| {
        filter.allows(t)
    });
}

/// `out[r, j] = vectors[r] · embedding[first + j]`, row-major `rows × width`.
fn score_tile(
    vectors: MatrixView<'_>,
    embedding: MatrixView<'_>,
    first: usize,
    width: usize,
    out: &mut [f32],
) {
    // The right-hand side is the tile transposed: element (d, j) is E[first + j, d].
    let tile = embedding.rows_range(first, width).transposed();
    multiply(vectors, tile, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Scored;

    /// A small deterministic pseudo-random matrix.
    fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..rows * cols)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    /// Float64 brute force: every score, sorted.
    fn reference(
        v: &[f32],
        e: &[f32],
        d: usize,
        tokens: usize,
        k: usize,
        allowed: &[bool],
    ) -> (Vec<u32>, Vec<u32>) {
        let mut scored: Vec<(f64, u32)> = (0..tokens)
            .filter(|&t| allowed[t])
            .map(|t| {
                let s: f64 = (0..d).map(|i| v[i] as f64 * e[t * d + i] as f64).sum();
                (s, t as u32)
            })
            .collect();
        // Equal scores rank by ascending token id at both ends.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let top = scored.iter().take(k).map(|x| x.1).collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let bottom = scored.iter().take(k).map(|x| x.1).collect();
        (top, bottom)
    }

    fn ids(list: &[Scored]) -> Vec<u32> {
        list.iter().map(|s| s.token).collect()
    }

    #[test]
    fn matches_brute_force_across_tile_edges() {
        // Sizes chosen so blocks and tiles end mid-way.
        let (n, d, vocab, k) = (37, 19, 1001, 7);
        let v = matrix(n, d, 1);
        let e = matrix(vocab, d, 2);
        let allowed: Vec<bool> = (0..vocab).map(|t| t % 5 != 3).collect();
        let tiling = Tiling {
            vectors: 8,
            tokens: 100,
            ..Tiling::default()
        };
        let out = project(
            &Projection {
                vectors: MatrixView::row_major(&v, n, d),
                embedding: Embedding::Dense(MatrixView::row_major(&e, vocab, d)),
                tokens: vocab,
                k,
                filter: TokenFilter::only(&allowed),
                device: Device::Cpu,
                tiling,
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(out.len(), n);
        for (r, extremes) in out.iter().enumerate() {
            let (top, bottom) = reference(&v[r * d..(r + 1) * d], &e, d, vocab, k, &allowed);
            assert_eq!(ids(&extremes.top), top, "row {r} top");
            assert_eq!(ids(&extremes.bottom), bottom, "row {r} bottom");
            // Mean and spread over the allowed tokens only, in float64.
            let scores: Vec<f64> = (0..vocab)
                .filter(|&t| allowed[t])
                .map(|t| {
                    (0..d)
                        .map(|i| v[r * d + i] as f64 * e[t * d + i] as f64)
                        .sum()
                })
                .collect();
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / scores.len() as f64;
            let moments = extremes.moments;
            assert_eq!(moments.count, scores.len() as u64);
            assert!((moments.mean() - mean).abs() < 1e-6, "row {r} mean");
            assert!((moments.std() - var.sqrt()).abs() < 1e-6, "row {r} std");
        }
    }

    /// An embedding handed out a few rows at a time, as a decoded one is.
    struct Rows<'a> {
        data: &'a [f32],
        cols: usize,
    }

    impl RowSource for Rows<'_> {
        fn rows(&self) -> usize {
            self.data.len() / self.cols
        }
        fn cols(&self) -> usize {
            self.cols
        }
        fn read_rows(
            &self,
            first: usize,
            out: &mut [f32],
        ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
            out.copy_from_slice(&self.data[first * self.cols..first * self.cols + out.len()]);
            Ok(())
        }
    }

    #[test]
    fn decoded_chunks_give_the_dense_lists() {
        // Chunks of 3 tiles of 40 tokens; the vocabulary ends mid-chunk and
        // the last rows are padding.
        let (n, d, vocab, tokens, k) = (23, 11, 517, 505, 6);
        let v = matrix(n, d, 5);
        let e = matrix(vocab, d, 6);
        let allowed: Vec<bool> = (0..tokens).map(|t| t % 7 != 2).collect();
        let tiling = Tiling {
            vectors: 4,
            tokens: 40,
            decoded_chunk: 120 * d,
        };
        let rows = Rows { data: &e, cols: d };
        let run = |embedding| {
            project(
                &Projection {
                    vectors: MatrixView::row_major(&v, n, d),
                    embedding,
                    tokens,
                    k,
                    filter: TokenFilter::only(&allowed),
                    device: Device::Cpu,
                    tiling,
                },
                &|_| {},
            )
            .unwrap()
        };
        let decoded = run(Embedding::Decoded(&rows));
        assert_eq!(
            decoded,
            run(Embedding::Dense(MatrixView::row_major(&e, vocab, d)))
        );
        for (r, extremes) in decoded.iter().enumerate() {
            let (top, bottom) = reference(&v[r * d..(r + 1) * d], &e, d, tokens, k, &allowed);
            assert_eq!(ids(&extremes.top), top, "row {r} top");
            assert_eq!(ids(&extremes.bottom), bottom, "row {r} bottom");
        }
    }

    #[test]
    fn strided_vectors_read_columns() {
        // Vectors stored as columns of a d × n matrix (Conv1D layout).
        let (n, d, vocab, k) = (5, 4, 50, 3);
        let stored = matrix(d, n, 3);
        let e = matrix(vocab, d, 4);
        let view = MatrixView {
            data: &stored,
            rows: n,
            cols: d,
            row_stride: 1,
            col_stride: n,
        };
        let out = project(
            &Projection {
                vectors: view,
                embedding: Embedding::Dense(MatrixView::row_major(&e, vocab, d)),
                tokens: vocab,
                k,
                filter: TokenFilter::all(),
                device: Device::Cpu,
                tiling: Tiling::default(),
            },
            &|_| {},
        )
        .unwrap();
        for r in 0..n {
            let column: Vec<f32> = (0..d).map(|i| stored[i * n + r]).collect();
            let (top, _) = reference(&column, &e, d, vocab, k, &vec![true; vocab]);
            assert_eq!(ids(&out[r].top), top);
        }
    }

    #[test]
    fn ties_break_by_token_id_and_nan_is_never_selected() {
        let e = vec![1.0, 1.0, f32::NAN, 1.0, 2.0, -1.0];
        let v = vec![1.0];
        let out = project(
            &Projection {
                vectors: MatrixView::row_major(&v, 1, 1),
                embedding: Embedding::Dense(MatrixView::row_major(&e, 6, 1)),
                tokens: 6,
                k: 3,
                filter: TokenFilter::all(),
                device: Device::Cpu,
                tiling: Tiling {
                    vectors: 1,
                    tokens: 2,
                    ..Tiling::default()
                },
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(ids(&out[0].top), vec![4, 0, 1]);
        assert_eq!(ids(&out[0].bottom), vec![5, 0, 1]);
    }

    #[test]
    fn nan_inside_a_block_neither_opens_it_nor_enters() {
        // 200 tokens: three full blocks of 64 and a remainder, NaN in each.
        let e: Vec<f32> = (0..200)
            .map(|t| {
                if t % 50 == 7 {
                    f32::NAN
                } else {
                    ((t * 37) % 101) as f32
                }
            })
            .collect();
        let v = vec![1.0];
        let out = project(
            &Projection {
                vectors: MatrixView::row_major(&v, 1, 1),
                embedding: Embedding::Dense(MatrixView::row_major(&e, 200, 1)),
                tokens: 200,
                k: 5,
                filter: TokenFilter::all(),
                device: Device::Cpu,
                tiling: Tiling {
                    vectors: 1,
                    tokens: 200,
                    ..Tiling::default()
                },
            },
            &|_| {},
        )
        .unwrap();
        let allowed: Vec<bool> = e.iter().map(|s| !s.is_nan()).collect();
        let (top, bottom) = reference(&v, &e, 1, 200, 5, &allowed);
        assert_eq!(ids(&out[0].top), top);
        assert_eq!(ids(&out[0].bottom), bottom);
    }

    #[test]
    fn padded_rows_are_not_scored() {
        let e = vec![1.0, 2.0, 9.0];
        let v = vec![1.0];
        let out = project(
            &Projection {
                vectors: MatrixView::row_major(&v, 1, 1),
                embedding: Embedding::Dense(MatrixView::row_major(&e, 3, 1)),
                tokens: 2,
                k: 1,
                filter: TokenFilter::all(),
                device: Device::Cpu,
                tiling: Tiling::default(),
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(ids(&out[0].top), vec![1]);
    }

    #[test]
    fn bad_k_is_an_error() {
        let e = vec![1.0, 2.0];
        let v = vec![1.0];
        let run = |k| {
            project(
                &Projection {
                    vectors: MatrixView::row_major(&v, 1, 1),
                    embedding: Embedding::Dense(MatrixView::row_major(&e, 2, 1)),
                    tokens: 2,
                    k,
                    filter: TokenFilter::all(),
                    device: Device::Cpu,
                    tiling: Tiling::default(),
                },
                &|_| {},
            )
        };
        assert!(matches!(run(0), Err(ProjectError::ZeroK)));
        assert!(matches!(
            run(3),
            Err(ProjectError::KTooLarge { k: 3, tokens: 2 })
        ));
    }
}
