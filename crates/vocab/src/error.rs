//! What can go wrong while reading a tokenizer.

use std::path::PathBuf;

/// The result of vocabulary operations.
pub type Result<T, E = VocabError> = std::result::Result<T, E>;

/// An error while reading a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("{path}: not a valid tokenizer.json; re-download it or check the model directory")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: tokenizers::Error,
    },

    #[error("{path}: the tokenizer has no tokens")]
    Empty { path: PathBuf },
}
