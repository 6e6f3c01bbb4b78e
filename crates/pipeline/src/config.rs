//! Run configuration: one struct, filled from a pipeline file and then flags.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use glossa_project::Device;
use glossa_tables::{EmbeddingChoice, LayerRange, MAX_LIST_LEN};
use glossa_vocab::CharFilter;

use crate::error::{PipelineError, Result};
use crate::readings::Reading;

/// The text field of JSONL, CSV and Parquet corpora when none is named.
pub(crate) const DEFAULT_TEXT_COLUMN: &str = "text";

/// Everything an extraction needs to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractConfig {
    /// Hub id (`ORG/NAME`) or local directory in Hugging Face layout.
    pub model: String,
    /// Hub revision: branch, tag or commit.
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Output directory; default `data/<model slug>`.
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Tokens kept at each end of every neuron list.
    #[serde(default = "default_k")]
    pub k: usize,
    /// Worker threads; default: all cores.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Project feed-forward neurons.
    #[serde(default = "yes")]
    pub neurons: bool,
    /// Extract attention heads' VO and QK pair lists.
    #[serde(default = "yes")]
    pub heads: bool,
    /// Pairs kept at each end of every head circuit.
    #[serde(default = "default_head_k")]
    pub head_k: usize,
    /// Head lists skip pairs of the same token (or the same text ignoring case
    /// and the word-initial marker).
    #[serde(default)]
    pub exclude_same: bool,
    /// Head lists skip pairs of near-identical forms (see the README).
    #[serde(default)]
    pub exclude_fuzzy: bool,
    /// Character filters (`ascii`, `alnum`, `no-brackets`, `alpha`, `word`,
    /// `no-special`, `min-len=N`): tokens failing any never enter a list.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Keep only tokens that occur in this corpus: a text file or directory, a
    /// JSONL/CSV/Parquet file, `hf://datasets/ORG/NAME[@REV][/PATTERN]`, or a
    /// saved `token_list.parquet`.
    #[serde(default)]
    pub token_list: Option<String>,
    /// The text field of JSONL, CSV and Parquet corpora [default: `text`];
    /// only with a token list.
    #[serde(default)]
    pub text_column: Option<String>,
    /// Keep only the N most frequent corpus tokens.
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Compute every entry of every head matrix instead of pruning with
    /// bounds; slow, for checking the pruned path.
    #[serde(default)]
    pub brute_force_heads: bool,
    /// Neuron-to-neuron connection lists of this many neurons at each end
    /// (every value against the keys and gates of later layers, every key
    /// and gate against the values of earlier ones); `None`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<usize>,
    /// Which embedding each side of a list is read through.
    #[serde(default)]
    pub embedding: EmbeddingChoice,
    /// Fold norm gains into the weights (pre-attention into W_Q, W_K, W_V,
    /// pre-feed-forward into keys and gates, final into the output embedding).
    #[serde(default)]
    pub fold_norm: bool,
    /// Compute the QK circuits of rotary models at this query-minus-key
    /// position instead of 0, where the rotation cancels.
    #[serde(default)]
    pub qk_offset: i64,
    /// Extract only these layers' tables: a shard, to be merged with the
    /// shards of the other layers. `None`: every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerRange>,
    /// Where the search index finds word forms: a Hunspell dictionary.
    #[serde(default)]
    pub word_forms: WordForms,
    /// Where the neuron stage's GEMM runs (`cpu`, `cuda`, `cuda:N`).
    #[serde(default, with = "device_name")]
    pub device: Device,
    /// Start over even if the output directory holds an interrupted run of
    /// the same configuration (which is otherwise resumed). A flag of one
    /// invocation, never read from a pipeline file.
    #[serde(skip)]
    pub force: bool,
}

/// Which Hunspell dictionary gives the search index its word forms.
///
/// In a pipeline file: `word_forms = "auto"`, `"off"`, or a dictionary's
/// path without its `.aff` / `.dic` extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WordForms {
    /// Debian's Polish dictionary ([`glossa_forms::DEBIAN_POLISH`]) where it
    /// is installed, none (with a note) where it is not.
    #[default]
    Auto,
    /// None: tokens match as typed, diacritics folded.
    Off,
    /// This dictionary, which must be there.
    Dictionary(PathBuf),
}

impl WordForms {
    /// `auto`, `off`, or a path.
    pub fn parse(text: &str) -> WordForms {
        match text {
            "auto" => WordForms::Auto,
            "off" | "none" => WordForms::Off,
            path => WordForms::Dictionary(PathBuf::from(path)),
        }
    }

    /// The dictionary to read, if any: `Auto` finds Debian's Polish one
    /// only if its word list is there.
    pub(crate) fn resolve(&self) -> Option<PathBuf> {
        match self {
            WordForms::Auto => {
                let debian = PathBuf::from(glossa_forms::DEBIAN_POLISH);
                debian.with_extension("dic").is_file().then_some(debian)
            }
            WordForms::Off => None,
            WordForms::Dictionary(path) => Some(path.clone()),
        }
    }
}

impl Serialize for WordForms {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            WordForms::Auto => serializer.serialize_str("auto"),
            WordForms::Off => serializer.serialize_str("off"),
            WordForms::Dictionary(path) => path.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WordForms {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| WordForms::parse(&text))
    }
}

fn yes() -> bool {
    true
}

fn default_head_k() -> usize {
    100
}

fn default_revision() -> String {
    "main".to_string()
}

fn default_k() -> usize {
    50
}

impl ExtractConfig {
    /// The defaults for `model`.
    pub fn new(model: impl Into<String>) -> ExtractConfig {
        ExtractConfig {
            model: model.into(),
            revision: default_revision(),
            out: None,
            k: default_k(),
            threads: None,
            neurons: true,
            heads: true,
            head_k: default_head_k(),
            exclude_same: false,
            exclude_fuzzy: false,
            filters: Vec::new(),
            token_list: None,
            text_column: None,
            max_tokens: None,
            brute_force_heads: false,
            connections: None,
            embedding: EmbeddingChoice::default(),
            fold_norm: false,
            qk_offset: 0,
            layers: None,
            word_forms: WordForms::default(),
            device: Device::Cpu,
            force: false,
        }
    }

    /// Checks what can be checked before the model is read, and parses the
    /// character filters.
    pub(crate) fn check(&self) -> Result<Vec<CharFilter>> {
        if !self.neurons && !self.heads && self.connections.is_none() {
            return Err(PipelineError::NothingToExtract);
        }
        if matches!(self.device, Device::Cuda(_)) && !Device::CUDA_BUILT {
            return Err(glossa_project::ProjectError::NoCuda.into());
        }
        if self.token_list.is_none() {
            let unused = [
                (
                    "a maximum number of corpus tokens",
                    self.max_tokens.is_some(),
                ),
                ("a corpus text column", self.text_column.is_some()),
            ];
            if let Some((option, _)) = unused.iter().find(|(_, given)| *given) {
                return Err(PipelineError::WithoutTokenList { option });
            }
        }
        for (list, k, wanted) in [
            ("neuron", self.k, self.neurons),
            ("head", self.head_k, self.heads),
            (
                "connection",
                self.connections.unwrap_or(0),
                self.connections.is_some(),
            ),
        ] {
            if wanted && (k == 0 || k > MAX_LIST_LEN) {
                return Err(PipelineError::InvalidListLength {
                    list,
                    k,
                    max: MAX_LIST_LEN,
                });
            }
        }
        self.filters
            .iter()
            .flat_map(|f| f.split(','))
            .map(|f| {
                f.trim()
                    .parse::<CharFilter>()
                    .map_err(PipelineError::InvalidFilter)
            })
            .collect()
    }

    /// The shard this run writes of a model with `layers` layers: `None`
    /// when it writes every layer (also when its range names them all).
    /// Fails when the range reaches past the model's last layer.
    pub(crate) fn shard(&self, layers: usize) -> Result<Option<LayerRange>> {
        match self.layers {
            Some(asked) if asked.end() > layers => {
                Err(PipelineError::LayersOutOfRange { asked, layers })
            }
            Some(range) if range.layers() == (0..layers) => Ok(None),
            shard => Ok(shard),
        }
    }

    /// How the weights are read.
    pub(crate) fn reading(&self) -> Reading {
        Reading {
            embedding: self.embedding,
            fold_norm: self.fold_norm,
            qk_offset: self.qk_offset,
        }
    }

    /// The text field read from a corpus.
    pub(crate) fn text_column(&self) -> &str {
        self.text_column.as_deref().unwrap_or(DEFAULT_TEXT_COLUMN)
    }
}

/// A named run configuration under `pipelines/`.
///
/// ```toml
/// name = "polish-gpt2-medium"
/// description = "…"
/// [extract]
/// model = "sdadas/polish-gpt2-medium"
/// revision = "main"
/// k = 50
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Short name of the run.
    pub name: String,
    /// What the run is for.
    #[serde(default)]
    pub description: String,
    /// The extraction settings; flags given on the command line override them.
    pub extract: ExtractConfig,
}

impl PipelineFile {
    /// Reads a pipeline TOML file. A model named by a relative path is
    /// taken relative to the file's own directory, so that the file works
    /// from any working directory.
    pub fn read(path: &Path) -> Result<PipelineFile> {
        let text = std::fs::read_to_string(path).map_err(PipelineError::io(path))?;
        let mut file: PipelineFile =
            toml::from_str(&text).map_err(|source| PipelineError::PipelineFile {
                path: path.to_path_buf(),
                source,
            })?;
        let beside = path
            .parent()
            .unwrap_or(Path::new(""))
            .join(&file.extract.model);
        if Path::new(&file.extract.model).is_relative() && beside.is_dir() {
            file.extract.model = beside.to_string_lossy().into_owned();
        }
        Ok(file)
    }

    /// The pipeline file `name` stands for: a path to a file, else
    /// `NAME.toml` (or `NAME`) in `pipelines`.
    pub fn find(name: &str, pipelines: &Path) -> Result<PathBuf> {
        let given = Path::new(name);
        if given.is_file() {
            return Ok(given.to_path_buf());
        }
        let candidates = [pipelines.join(format!("{name}.toml")), pipelines.join(name)];
        candidates
            .iter()
            .find(|c| c.is_file())
            .cloned()
            .ok_or_else(|| PipelineError::NoPipelineFile {
                name: name.to_string(),
                searched: pipelines.to_path_buf(),
            })
    }
}

/// A device by its name (`cuda:0`) in pipeline files and run descriptions.
mod device_name {
    use glossa_project::Device;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(device: &Device, out: S) -> Result<S::Ok, S::Error> {
        out.collect_str(device)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Device, D::Error> {
        String::deserialize(input)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}
