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

    #[error("{path} holds no weights: expected model.safetensors, model.safetensors.index.json, pytorch_model.bin or one .gguf file")]
    NoWeights { path: PathBuf },

    #[error("hub repository {repo:?} was not found (or is private/gated and no token was given): check the id, or set HF_TOKEN to a token with access")]
    RepoNotFound { repo: String },

    #[error("hub repository {repo:?} has no revision {revision:?}")]
    RevisionNotFound { repo: String, revision: String },

    #[error("access to hub repository {repo:?} was refused (gated or private): accept its licence on huggingface.co and set HF_TOKEN")]
    AccessDenied { repo: String },

    #[error("could not reach the Hugging Face hub for {repo:?}; if the model is already in the cache, set HF_HUB_OFFLINE=1 to use it without the network")]
    HubUnreachable {
        repo: String,
        #[source]
        source: hf_hub::api::sync::ApiError,
    },

    #[error("HF_HUB_OFFLINE is set and {file} of {repo:?} (revision {revision:?}) is not in the cache {cache}; run once online or unset HF_HUB_OFFLINE")]
    NotCached {
        repo: String,
        revision: String,
        file: String,
        cache: PathBuf,
    },

    #[error("download of {file} from {repo:?} failed: the file is not in the repository")]
    Download { repo: String, file: String },

    /// config.json is not JSON, or its fields have the wrong types.
    #[error("{path}: invalid config.json")]
    Config {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// config.json parses, but its values are impossible (a zero or absurd
    /// dimension, widths that do not divide).
    #[error("{path}: invalid config.json: {problem}")]
    ConfigValue { path: PathBuf, problem: String },

    #[error("unsupported architecture {found:?}; supported: {}", supported.join(", "))]
    UnsupportedArchitecture {
        found: String,
        supported: Vec<&'static str>,
    },

    #[error("{path}: not a valid safetensors file; the file may be truncated or corrupted: delete it and download again")]
    Safetensors {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },

    #[error("{path}: could not read PyTorch checkpoint")]
    Pickle {
        path: PathBuf,
        /// Boxed: candle's error is several times the size of every other variant.
        #[source]
        source: Box<candle_core::Error>,
    },

    #[error("{path}: could not read tensor {name:?} of the PyTorch checkpoint")]
    PickleTensor {
        path: PathBuf,
        name: String,
        /// Boxed: candle's error is several times the size of every other variant.
        #[source]
        source: Box<candle_core::Error>,
    },

    /// The shard index is not JSON.
    #[error("{path}: invalid shard index")]
    ShardIndexJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The shard index is JSON but does not name shards the way it must.
    #[error("{path}: invalid shard index: {problem}")]
    ShardIndex { path: PathBuf, problem: String },

    /// A tensor asked of the checkpoint by name that it does not hold.
    #[error("checkpoint has no tensor {name:?}")]
    NoSuchTensor { name: String },

    /// A tensor an architecture needs, under none of the names it may have.
    #[error("checkpoint has no tensor {name:?} (looked for {candidates}); is this really a {architecture} checkpoint?")]
    MissingTensor {
        name: String,
        candidates: String,
        architecture: &'static str,
    },

    /// Tensors of blocks beyond the count config.json declares: reading only
    /// the declared ones would silently drop the rest of the model.
    #[error("the checkpoint holds {} but config.json declares {key} = {declared}; the config does not belong to these weights", layers(stored, block))]
    UndeclaredLayers {
        /// Block indices that have tensors, ascending.
        stored: Vec<usize>,
        /// The name prefix of a block's tensors, without its index (`h` for `h.3.…`).
        block: &'static str,
        /// The config.json key of the layer count (`n_layer`).
        key: &'static str,
        declared: usize,
    },

    #[error("tensor {name:?} has shape {found:?} but config.json implies {expected:?}")]
    ShapeMismatch {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },

    #[error("tensor {name:?} has dtype {dtype}; only F32, F16 and BF16 weights are supported")]
    UnsupportedDtype { name: String, dtype: String },

    #[error("tensor {name:?} cannot be read: {problem}; the checkpoint is truncated or corrupted")]
    BadTensorData { name: String, problem: String },

    #[error("tensor {name:?} could not be dequantised; the GGUF file is corrupted or uses a block layout this version does not know")]
    Dequantize {
        name: String,
        #[source]
        source: Box<candle_core::Error>,
    },

    #[error("{} is a file but not a model: name a directory in Hugging Face layout (config.json, tokenizer.json, weights), a .gguf file, or a hub id such as ORG/NAME", path.display())]
    NotAModel { path: PathBuf },

    #[error("{} holds several GGUF files ({}); name the one to read, e.g. --model {}", dir.display(), files.join(", "), dir.join(&files[0]).display())]
    SeveralGguf { dir: PathBuf, files: Vec<String> },

    #[error("could not read the tokenizer {}; is it a tokenizer.json written by Hugging Face tokenizers?", path.display())]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{} is not a GGUF file Glossa can read; is it complete? (a download may have been cut short)", path.display())]
    Gguf {
        path: PathBuf,
        #[source]
        source: Box<candle_core::Error>,
    },

    #[error("GGUF metadata key {key:?} of {} {problem}; the file is not a complete model export", path.display())]
    GgufMetadata {
        path: PathBuf,
        key: String,
        problem: String,
    },

    #[error("{} holds a {found:?} model; Glossa reads GGUF files of the architectures {}; for others, use the model's Hugging Face checkpoint (config.json and safetensors)", path.display(), supported.join(", "))]
    UnsupportedGgufArchitecture {
        path: PathBuf,
        found: String,
        supported: Vec<&'static str>,
    },

    #[error("the tokenizer of {} is of kind {kind:?} (tokenizer.ggml.model), which Glossa cannot rebuild from GGUF metadata (it rebuilds byte-level BPE, \"gpt2\"); put the model's tokenizer.json beside the GGUF file", path.display())]
    GgufTokenizerKind { path: PathBuf, kind: String },

    #[error("the tokenizer in the metadata of {} could not be rebuilt; put the model's tokenizer.json beside the GGUF file", path.display())]
    GgufTokenizer {
        path: PathBuf,
        #[source]
        source: Box<candle_core::Error>,
    },

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

/// `layers 0–5 (h.0 … h.5)`: block indices as inclusive runs, with the names
/// of the first and last block; `layer 3 (h.3)` for a single one.
fn layers(indices: &[usize], block: &str) -> String {
    let (Some(first), Some(last)) = (indices.first(), indices.last()) else {
        return "no layers".to_string();
    };
    let mut runs: Vec<String> = Vec::new();
    let mut run_start = *first;
    for (i, &index) in indices.iter().enumerate() {
        let run_ends = indices.get(i + 1) != Some(&(index + 1));
        if run_ends {
            runs.push(if run_start == index {
                index.to_string()
            } else {
                format!("{run_start}–{index}")
            });
            if let Some(&next) = indices.get(i + 1) {
                run_start = next;
            }
        }
    }
    if first == last {
        format!("layer {first} ({block}.{first})")
    } else {
        format!(
            "layers {} ({block}.{first} … {block}.{last})",
            runs.join(", ")
        )
    }
}

/// candle's error as a source, without the backtrace candle captures into
/// it when `RUST_BACKTRACE` is set: its `Display` would print the whole
/// stack inside the one line that names the problem.
pub(crate) fn candle_source(error: candle_core::Error) -> Box<candle_core::Error> {
    match error {
        candle_core::Error::WithBacktrace { inner, .. } => candle_source(*inner),
        candle_core::Error::WithPath { inner, path } => Box::new(candle_core::Error::WithPath {
            inner: candle_source(*inner),
            path,
        }),
        error => Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::{layers, LoadError};

    /// Callers put the error into `anyhow`, across threads: every kept source
    /// must stay `Send + Sync`.
    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<LoadError>();
    }

    #[test]
    fn layer_sets_read_as_inclusive_runs() {
        assert_eq!(layers(&[0, 1, 2, 3, 4, 5], "h"), "layers 0–5 (h.0 … h.5)");
        assert_eq!(layers(&[0, 1, 2, 3, 7], "h"), "layers 0–3, 7 (h.0 … h.7)");
        assert_eq!(layers(&[2, 4, 5], "h"), "layers 2, 4–5 (h.2 … h.5)");
        assert_eq!(layers(&[5], "h"), "layer 5 (h.5)");
    }
}
