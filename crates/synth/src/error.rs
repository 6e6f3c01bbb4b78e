use std::path::PathBuf;

/// Everything that can go wrong while generating or writing a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The tokenizers crate rejected a vocabulary, a training run or a tokenizer file.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] tokenizers::Error),
    /// A safetensors file could not be written.
    #[error("safetensors: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
    /// A JSON file could not be produced.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The model shape, file layout or a plant is inconsistent.
    #[error("invalid spec: {0}")]
    Spec(String),
    /// A text meant to name one planted token is not a single token of the tokenizer.
    #[error("{text:?} is not a single token: it encodes to ids {ids:?}")]
    NotSingleToken {
        /// The text that was looked up.
        text: String,
        /// The ids it encodes to.
        ids: Vec<u32>,
    },
    /// The corpus directory holds no `.txt` files.
    #[error("no .txt files in corpus directory {0}")]
    EmptyCorpus(PathBuf),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
