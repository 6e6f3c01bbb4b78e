//! What can go wrong in a projection.

/// The result of projection operations.
pub type Result<T, E = ProjectError> = std::result::Result<T, E>;

/// Inputs a projection cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error("k must be at least 1")]
    ZeroK,

    #[error("k = {k} exceeds the {tokens} tokens that can be selected")]
    KTooLarge { k: usize, tokens: usize },

    #[error("vectors have {vectors} dimensions but embedding rows have {embedding}")]
    DimensionMismatch { vectors: usize, embedding: usize },

    #[error("the token filter covers {filter} tokens but {tokens} are scored")]
    FilterLength { filter: usize, tokens: usize },
}
