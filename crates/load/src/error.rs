//! What can go wrong while finding and reading a model.

use std::path::PathBuf;

/// The result of loading operations.
pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// An error while finding, downloading or reading a checkpoint.
///
/// Every message names the problem and, where there is one, what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "model {0:?} is neither an existing local directory nor a hub id of the form ORG/NAME"
    )]
    BadModelId(String),

    #[error("model directory {dir} has no {file}; a Hugging Face checkpoint needs config.json, tokenizer.json and model.safetensors (or pytorch_model.bin)")]
    MissingFile { dir: PathBuf, file: String },

    #[error("{path} holds no weights: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin")]
    NoWeights { path: PathBuf },

    #[error("hub repository {repo:?} was not found (or is private/gated and no token was given): check the id, or set HF_TOKEN to a token with access")]
    RepoNotFound { repo: String },

    #[error("hub repository {repo:?} has no revision {revision:?}")]
    RevisionNotFound { repo: String, revision: String },

    #[error("access to hub repository {repo:?} was refused (gated or private): accept its licence on huggingface.co and set HF_TOKEN")]
    AccessDenied { repo: String },

    #[error("could not reach the Hugging Face hub for {repo:?}: {message}; if the model is already in the cache, run with HF_HUB_OFFLINE=1")]
    HubUnreachable { repo: String, message: String },

    #[error("HF_HUB_OFFLINE is set and {file} of {repo:?} (revision {revision:?}) is not in the cache {cache}; run once online or unset HF_HUB_OFFLINE")]
    NotCached {
        repo: String,
        revision: String,
        file: String,
        cache: PathBuf,
    },

    #[error("download of {file} from {repo:?} failed: {message}")]
    Download {
        repo: String,
        file: String,
        message: String,
    },

    #[error("{path}: invalid config.json: {message}")]
    Config { path: PathBuf, message: String },

    #[error("unsupported architecture {found:?}; supported: {}", supported.join(", "))]
    UnsupportedArchitecture {
        found: String,
        supported: &'static [&'static str],
    },

    #[error("{path}: not a valid safetensors file ({message}); the file may be truncated or corrupted: delete it and download again")]
    Safetensors { path: PathBuf, message: String },

    #[error("{path}: could not read PyTorch checkpoint: {message}")]
    Pickle { path: PathBuf, message: String },

    #[error("{path}: invalid shard index: {message}")]
    ShardIndex { path: PathBuf, message: String },

    #[error("checkpoint has no tensor {name:?} (looked for {candidates}); is this really a {architecture} checkpoint?")]
    MissingTensor {
        name: String,
        candidates: String,
        architecture: &'static str,
    },

    #[error("tensor {name:?} has shape {found:?} but config.json implies {expected:?}")]
    ShapeMismatch {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },

    #[error("tensor {name:?} has dtype {dtype}; only F32, F16 and BF16 weights are supported")]
    UnsupportedDtype { name: String, dtype: String },

    #[error("tensor {name:?} holds a non-finite value ({value}) at element {position}; the checkpoint is corrupted")]
    NonFinite {
        name: String,
        value: f32,
        position: usize,
    },
}

impl LoadError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LoadError {
        let path = path.into();
        move |source| LoadError::Io { path, source }
    }
}
