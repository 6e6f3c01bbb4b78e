//! What can go wrong in a projection.

/// The result of projection operations.
pub type Result<T, E = ProjectError> = std::result::Result<T, E>;

/// Inputs a projection cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("k must be at least 1")]
    ZeroK,

    #[error("k = {k} exceeds the {tokens} tokens that can be selected")]
    KTooLarge { k: usize, tokens: usize },

    #[error("vectors have {vectors} dimensions but embedding rows have {embedding}")]
    DimensionMismatch { vectors: usize, embedding: usize },

    #[error("the token filter covers {filter} tokens but {tokens} are scored")]
    FilterLength { filter: usize, tokens: usize },

    #[error("the source factor has {src} columns but the destination factor has {dst}")]
    FactorMismatch { src: usize, dst: usize },

    #[error("k = {k} exceeds the {pairs} pairs that can be selected")]
    TooFewPairs { k: usize, pairs: u64 },

    #[error("a matrix view addresses elements beyond its data")]
    ViewOutOfBounds,

    #[error("could not read embedding rows {first}..{}", first + count)]
    ReadRows {
        first: usize,
        count: usize,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("this glossa was built without CUDA; build it with `cargo build --release --features cuda` (nvcc on the PATH) to run on a GPU")]
    NoCuda,

    #[error("the GPU failed {what}")]
    Gpu {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{rows} rows do not fit u32 row ids")]
    TooManyRows { rows: usize },
}
