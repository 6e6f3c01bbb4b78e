//! Errors of a whole run: each stage's error, plus the run's own checks.
//!
//! Messages say what is wrong in the library's terms; what to type about it
//! is the command line's business (the binary adds those hints).

use std::path::PathBuf;

use glossa_tables::LayerRange;

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

    #[error("could not start the threads of the head stage")]
    ThreadPool {
        #[source]
        source: rayon::ThreadPoolBuildError,
    },

    #[error("cannot read the word-form dictionary {path} (.aff and .dic) the search index is built with")]
    WordForms {
        path: PathBuf,
        #[source]
        source: glossa_forms::Error,
    },

    #[error(transparent)]
    Corpus(#[from] glossa_corpus::CorpusError),

    #[error(transparent)]
    Plot(#[from] glossa_plot::PlotError),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: invalid pipeline file")]
    PipelineFile {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },

    #[error("no pipeline file {name:?}: it is not a file, and {searched} holds no {name}.toml")]
    NoPipelineFile { name: String, searched: PathBuf },

    #[error("the tokenizer has {tokenizer} tokens but the embedding has only {embedding} rows; tokenizer.json does not belong to this checkpoint")]
    VocabularyMismatch { tokenizer: usize, embedding: usize },

    #[error(
        "{list} lists of {k} entries are not possible: a list holds between 1 and {max} entries"
    )]
    InvalidListLength {
        list: &'static str,
        k: usize,
        max: usize,
    },

    #[error("no token is left to list: {why}")]
    NoSelectableTokens { why: String },

    #[error("neuron lists of {k} tokens need at least {k} tokens to choose from, but only {tokens} pass the filters and the token list")]
    InvalidK { k: usize, tokens: usize },

    #[error("connection lists of {k} neurons need at least {k} neurons in every layer, but the model's layers have {d_ff}")]
    InvalidConnectionsK { k: usize, d_ff: usize },

    #[error("head lists of {k} pairs need at least {k} pairs to choose from, but only {pairs} pairs of tokens pass the filters and the token list")]
    InvalidHeadK { k: usize, pairs: u128 },

    #[error("invalid character filter: {0}")]
    InvalidFilter(String),

    #[error("the configuration extracts neither neurons nor heads: nothing to do")]
    NothingToExtract,

    #[error("{option} applies only to a corpus token list, and none is given")]
    WithoutTokenList { option: &'static str },

    #[error("{path} is a file, not a directory: a dataset needs a directory of its own")]
    OutputIsAFile { path: PathBuf },

    #[error("{dir} is not empty and holds no Glossa dataset: the tables would land beside files that are not theirs")]
    OutputNotEmpty { dir: PathBuf },

    #[error("no dataset in {root}")]
    NoDataset { root: PathBuf },

    #[error("several datasets in {root}: {}", names.join(", "))]
    SeveralDatasets { root: PathBuf, names: Vec<String> },

    #[error("{dir} is not a directory")]
    NotADirectory { dir: PathBuf },

    #[error("{dir} is not a complete Glossa dataset (no manifest.json)")]
    NotADataset { dir: PathBuf },

    #[error("{dir} is in use by another extraction ({}); wait for it to finish, or stop it first", holder.as_deref().unwrap_or("its pid could not be read"))]
    Locked {
        dir: PathBuf,
        holder: Option<String>,
    },

    #[error("{dir} holds an extraction that is still running ({holder}); wait for it to finish")]
    StillRunning { dir: PathBuf, holder: String },

    #[error("{dir} holds an interrupted extraction, not a finished dataset (no manifest.json); the same extraction run again resumes it")]
    Interrupted { dir: PathBuf },

    #[error("{dir} holds an interrupted merge, not a finished dataset (no manifest.json); the same merge run again resumes it")]
    InterruptedMerge { dir: PathBuf },

    #[error("a plot needs at least one entry")]
    NoEntriesToPlot,

    #[error("{asked} {what} asked for, but the dataset's lists hold {held}; plot at most {held}, or extract again with longer lists")]
    TooManyToPlot {
        asked: usize,
        held: usize,
        what: &'static str,
    },

    #[error("the plot needs the embedding of the model the dataset was extracted from ({name}), and it cannot be found there")]
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

    #[error("the model does not reproduce the dataset's scores ({table} in the table, {model} from {name}): it is not the model this dataset was extracted from")]
    ScoresDiffer {
        name: String,
        table: f64,
        model: f64,
    },

    #[error("a QK offset only changes models with rotary position embeddings, and {architecture} has none")]
    NoRotary { architecture: &'static str },

    #[error("{dir} holds no head lists: its extraction skipped the heads")]
    NoHeads { dir: PathBuf },

    #[error("{dir} holds no neuron lists: its extraction skipped the neurons")]
    NoNeurons { dir: PathBuf },

    #[error("layer {layer} does not exist; the model has layers {}", range(*layers))]
    NoSuchLayer { layer: u32, layers: usize },

    #[error("neuron {neuron} does not exist; layers have neurons {}", range(*neurons))]
    NoSuchNeuron { neuron: u32, neurons: usize },

    #[error("head {head} does not exist; layers have heads {}", range(*heads))]
    NoSuchHead { head: u32, heads: usize },

    #[error("layers {asked} reach past the model's last layer: it has {layers} layers ({})", range(*layers))]
    LayersOutOfRange { asked: LayerRange, layers: usize },

    #[error("layer {layer} is not in this shard: it holds {} of the model's {layers}", shard.describe())]
    LayerNotInShard {
        layer: u32,
        shard: LayerRange,
        layers: usize,
    },

    #[error("no shards to merge")]
    NoShards,

    #[error("cannot merge {dir}")]
    MergeInput {
        dir: PathBuf,
        #[source]
        source: Box<PipelineError>,
    },

    #[error("{other} and {first} are not shards of one extraction: their {what} differ ({}); shards merge only when one glossa extracted them from the same model files with the same options, apart from the layers", differences.join("; "))]
    ShardsDiffer {
        first: PathBuf,
        other: PathBuf,
        what: &'static str,
        differences: Vec<String>,
    },

    #[error("{} of the model's {layers} layers {} in no shard; the shards hold {}", runs(missing), if missing.len() == 1 && missing[0].len() == 1 { "is" } else { "are" }, holdings(shards))]
    LayersMissing {
        missing: Vec<LayerRange>,
        layers: usize,
        shards: Vec<(PathBuf, LayerRange)>,
    },

    #[error("{} {} in more than one shard: {}", runs(overlap), if overlap.len() == 1 && overlap[0].len() == 1 { "is" } else { "are" }, holdings(shards))]
    LayersOverlap {
        overlap: Vec<LayerRange>,
        shards: Vec<(PathBuf, LayerRange)>,
    },

    #[error("{shard} cannot be trusted as a shard: {problem}")]
    ShardDamaged { shard: PathBuf, problem: String },

    #[error(
        "{out} is one of the shards being merged: the merged dataset needs a directory of its own"
    )]
    MergeIntoShard { out: PathBuf },

    #[error("{path} holds rows of layer {found}, not of layer {layer}: the file was replaced or moved; the dataset cannot be trusted as it is")]
    WrongLayer {
        path: PathBuf,
        layer: u32,
        found: u32,
    },
}

impl PipelineError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> PipelineError {
        let path = path.into();
        move |source| PipelineError::Io { path, source }
    }
}

/// `layer 2, layers 4–5`: runs of layers as people write them.
fn runs(runs: &[LayerRange]) -> String {
    let parts: Vec<String> = runs.iter().map(|r| r.describe()).collect();
    parts.join(", ")
}

/// `a (layers 0–1), b (layer 2)`: which shard holds what.
fn holdings(shards: &[(PathBuf, LayerRange)]) -> String {
    let parts: Vec<String> = shards
        .iter()
        .map(|(dir, range)| format!("{} ({})", dir.display(), range.describe()))
        .collect();
    parts.join(", ")
}

/// `0–3` for 4 items, as people write ranges; `none` for 0.
pub(crate) fn range(count: usize) -> String {
    match count {
        0 => "none".to_string(),
        1 => "0".to_string(),
        n => format!("0–{}", n - 1),
    }
}
