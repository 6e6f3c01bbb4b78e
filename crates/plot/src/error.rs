//! What can go wrong while embedding points or writing a figure.

use std::path::PathBuf;

/// The result of plotting operations.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;

/// An error while embedding points or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("t-SNE needs at least one point")]
    NoPoints,

    #[error("t-SNE needs vectors of one length: vector {index} has {found} elements, the first has {expected}")]
    RaggedVectors {
        index: usize,
        expected: usize,
        found: usize,
    },

    #[error("t-SNE needs finite vectors: vector {index} holds {value}")]
    NonFinite { index: usize, value: f32 },

    #[error("t-SNE embeds into 1, 2 or 3 dimensions, not {0}")]
    Dimensions(usize),

    #[error("the perplexity must be positive and finite, not {0}")]
    Perplexity(f64),

    #[error(
        "{path}: cannot tell the output format; name the file .html (interactive) or .svg (static)"
    )]
    UnknownFormat { path: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
