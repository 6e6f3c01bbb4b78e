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

    #[error("{dir} is in use by another `glossa extract` ({}); wait for it to finish, or stop it first", holder.as_deref().unwrap_or("its pid could not be read"))]
    Locked {
        dir: PathBuf,
        holder: Option<String>,
    },

    #[error("{dir} holds an extraction that is still running ({holder}); wait for it to finish")]
    StillRunning { dir: PathBuf, holder: String },

    #[error("{dir} holds an interrupted extraction, not a finished dataset (no manifest.json); rerun the same `glossa extract` command to resume it, or add --force to start over")]
    Interrupted { dir: PathBuf },

    #[error(transparent)]
    Plot(#[from] glossa_plot::PlotError),

    #[error("--k must be at least 1")]
    NoEntriesToPlot,

    #[error("--k {asked} asks for more {what} than the dataset holds: its lists have {held}; plot at most {held}, or extract again with a larger --k (neurons) or --head-k (heads)")]
    TooManyToPlot {
        asked: usize,
        held: usize,
        what: &'static str,
    },

    #[error("the plot needs the embedding of the model the dataset was extracted from ({name}); name where it is now with --model DIR or --model ORG/NAME")]
    ModelOfDataset {
        name: String,
        #[source]
        source: glossa_load::LoadError,
    },

    #[error("{name} is not the model of the dataset in {dir}: its shape is {found}, the dataset's {expected}")]
    NotTheDatasetsModel {
        name: String,
        dir: PathBuf,
        found: String,
        expected: String,
    },

    #[error("the model does not reproduce the dataset's scores ({table} in the table, {model} from {name}): it is not the model this dataset was extracted from; name the right one with --model")]
    ScoresDiffer {
        name: String,
        table: f64,
        model: f64,
    },

    #[error("{dir} has no head_summary.parquet: the extraction skipped the heads (--no-heads)")]
    NoHeads { dir: PathBuf },

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
