//! Project parameter vectors through the embedding and keep their extremes.
//!
//! For a set of vectors v (feed-forward keys or values) and the unembedding
//! E, every token t gets the score v · E[t]; [`project`] returns, for every
//! vector, the k highest and k lowest scoring tokens. It never forms the whole
//! vectors × vocabulary score matrix: blocks of vectors are scored against
//! tiles of the vocabulary with a GEMM, and each tile is filtered against the
//! running k-th score of every row before anything is kept ([`Tiling`]).
//! Each vector's selectable scores are summarised on the way
//! ([`ScoreStatistics`]): their [`Moments`], so that every kept score can be
//! read as a z against its own vector's, their kurtosis and the entropy of
//! their softmax.

pub use circuits::{copying_score, frobenius_norm, gram, pair_moments, product};
pub use device::{Device, UnknownDevice};
pub use error::{ProjectError, Result};
pub use moments::Moments;
pub use pairs::{top_pairs, Pair, PairExtremes, PairQuery, PairStats, Pruning};
pub use select::{Extremes, Scored};
pub use statistics::ScoreStatistics;
pub use view::{MatrixView, RowSource, TokenFilter};
pub use vocab_projection::{gemm_floor, project, Embedding, Projection, Tiling};

mod circuits;
#[cfg(feature = "cuda")]
mod cuda;
mod device;
mod error;
mod kernel;
mod moments;
mod pairs;
mod select;
mod statistics;
mod view;
mod vocab_projection;
