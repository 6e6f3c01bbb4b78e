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

    #[error("{path}: cannot tell how the tokenizer spells its pieces")]
    Scheme {
        path: PathBuf,
        #[source]
        source: UnknownScheme,
    },
}

/// A tokenizer whose parts match none of the spellings Glossa reads.
///
/// Refused rather than guessed: a wrong guess would silently mislabel which
/// pieces start words in every table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "model {model}, pre-tokenizer {pre_tokenizer}, decoder {decoder}: not byte-level BPE, \
     SentencePiece (▁ or byte fallback), WordPiece or word-level"
)]
pub struct UnknownScheme {
    /// The model's type in `tokenizer.json` (`BPE`, `Unigram`, …).
    pub model: String,
    /// The pre-tokenizer's type, or `none`.
    pub pre_tokenizer: String,
    /// The decoder's type, or `none`.
    pub decoder: String,
}
