//! Errors of a whole run: each stage's error, plus the run's own checks.

use std::path::PathBuf;

/// The result of pipeline operations.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// An error anywhere in a run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Load(#[from] glossa_load::LoadError),

    #[error(transparent)]
    Vocab(#[from] glossa_vocab::VocabError),

    #[error(transparent)]
    Project(#[from] glossa_project::ProjectError),

    #[error(transparent)]
    Table(#[from] glossa_tables::TableError),

    #[error(transparent)]
    Index(#[from] glossa_index::Error),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: invalid pipeline file: {message}")]
    PipelineFile { path: PathBuf, message: String },

    #[error("the tokenizer has {tokenizer} tokens but the embedding has only {embedding} rows; tokenizer.json does not belong to this checkpoint")]
    VocabularyMismatch { tokenizer: usize, embedding: usize },

    #[error("k = {k} is invalid: it must be between 1 and the {tokens} selectable tokens")]
    InvalidK { k: usize, tokens: usize },

    #[error("head k = {k} is invalid: it must be at least 1 and at most {pairs} token pairs")]
    InvalidHeadK { k: usize, pairs: u128 },

    #[error(transparent)]
    Corpus(#[from] glossa_corpus::CorpusError),

    #[error("invalid --filter: {0}")]
    InvalidFilter(String),

    #[error("--no-neurons and --no-heads together leave nothing to extract")]
    NothingToExtract,

    #[error("head {head} does not exist; layers have heads 0..{heads}")]
    NoSuchHead { head: u32, heads: usize },

    #[error(
        "no dataset in {root}: run `glossa extract` (or `make extract`) first, or pass --data DIR"
    )]
    NoDataset { root: PathBuf },

    #[error("several datasets in {root}: {}; pick one with --data DIR", names.join(", "))]
    SeveralDatasets { root: PathBuf, names: Vec<String> },

    #[error("{dir} is not a complete Glossa dataset (no manifest.json); rerun the extraction that produces it")]
    NotADataset { dir: PathBuf },

    #[error("layer {layer} does not exist; the model has layers 0..{layers}")]
    NoSuchLayer { layer: u32, layers: usize },

    #[error("neuron {neuron} does not exist; layers have neurons 0..{neurons}")]
    NoSuchNeuron { neuron: u32, neurons: usize },
}

impl PipelineError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> PipelineError {
        let path = path.into();
        move |source| PipelineError::Io { path, source }
    }
}
