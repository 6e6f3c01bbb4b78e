//! `manifest.json`: what produced a dataset, and what it holds.
//!
//! Every part is typed; the schema version is checked whenever a manifest is
//! read, so no command reads tables of a layout this build does not know.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TableError};
use crate::layout::{Layout, TableKind};
use crate::parquet_io::{write_atomically, FileRecord};
use crate::schema::SCHEMA_VERSION;

/// Everything needed to trust and reproduce a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub glossa_version: String,
    pub schema_version: u32,
    /// The model as the user named it (hub id or directory).
    pub model: String,
    /// Where a local model was, as an absolute path, so that commands run
    /// from elsewhere (`glossa plot`) find it again. `None` for hub models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_dir: Option<PathBuf>,
    /// Requested revision (hub models).
    pub revision: Option<String>,
    /// Commit the revision resolved to (hub models).
    pub commit: Option<String>,
    /// The architecture the checkpoint was read as (`gpt2`, ...).
    pub architecture: String,
    /// sha256 of every input file, by file name.
    pub inputs: BTreeMap<String, String>,
    /// Resolved dimensions.
    pub shape: Shape,
    /// Options of the run.
    pub options: Options,
    /// Embedding rows, tokenizer tokens, and how padding was treated.
    pub vocabulary: Vocabulary,
    /// Every table file, in order.
    pub tables: Vec<FileRecord>,
    /// Rows per table kind.
    pub row_counts: BTreeMap<TableKind, u64>,
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
}

/// The dimensions of the model, as extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Number of transformer blocks.
    pub layers: usize,
    /// Query heads per block.
    pub heads: usize,
    /// Key and value heads per block.
    pub kv_heads: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Width of each head.
    pub d_head: usize,
    /// Feed-forward neurons per block.
    pub d_ff: usize,
    /// Rows of the embedding matrix (may exceed the tokenizer's vocabulary).
    pub vocab: usize,
    /// Whether the output embedding is the input embedding.
    pub tied_embeddings: bool,
    /// Whether neurons have a gate beside their key and value.
    pub gated: bool,
}

impl std::fmt::Display for Shape {
    /// `4 layers, 4 heads, d_model 64, d_head 16, d_ff 256, vocab 3000, tied`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} layers, {} heads{}, d_model {}, d_head {}, d_ff {}{}, vocab {}, {}",
            self.layers,
            self.heads,
            if self.kv_heads == self.heads {
                String::new()
            } else {
                format!(" on {} key/value heads", self.kv_heads)
            },
            self.d_model,
            self.d_head,
            self.d_ff,
            if self.gated { " (gated)" } else { "" },
            self.vocab,
            if self.tied_embeddings {
                "tied embeddings"
            } else {
                "untied embeddings"
            }
        )
    }
}

/// How a run computed its tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Tokens kept at each end of every neuron list.
    pub k: usize,
    /// Whether neuron lists were extracted.
    pub neurons: bool,
    /// Whether head pair lists were extracted.
    pub heads: bool,
    /// Pairs kept at each end of every head circuit.
    pub head_k: usize,
    /// Head lists skip pairs of the same token.
    pub exclude_same: bool,
    /// Head lists skip pairs of near-identical forms.
    pub exclude_fuzzy: bool,
    /// The character filters every listed token passed.
    pub filters: Vec<String>,
    /// The corpus every listed token occurs in.
    pub token_list: Option<String>,
    /// The text field read from the corpus (with a token list only).
    pub text_column: Option<String>,
    /// How many of the corpus's most frequent tokens were kept (with a token list only).
    pub max_tokens: Option<usize>,
    /// How head lists were found.
    pub head_pruning: HeadPruning,
    /// Worker threads of the run.
    pub threads: usize,
    /// How the weights were stored (`safetensors`, `gguf`, ...).
    pub weights_format: String,
    /// The encodings the weights were stored in, with how many tensors use
    /// each (`bf16 (291)`; a quantised GGUF: `q4_1 (210), f32 (61), q8_0 (1)`).
    #[serde(default)]
    pub weights_encoding: String,
    /// Which embedding each side of a list was read through.
    pub embedding: EmbeddingChoice,
    /// Whether norm gains were folded into the weights.
    pub fold_norm: bool,
    /// The relative position (query minus key) the QK circuits of rotary
    /// models were computed at; 0 where the rotation cancels.
    pub qk_offset: i64,
    /// The Hunspell dictionary (a path without `.aff` / `.dic`) the search
    /// index reads word forms from, every time it is built; `None` when the
    /// index has none.
    pub word_forms: Option<PathBuf>,
}

/// Which embedding each side of a list is read through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingChoice {
    /// Read-side vectors (keys, gates, the source of VO, both sides of QK)
    /// through the input embedding; write-side vectors (values, the
    /// destination of VO) through the output embedding.
    #[default]
    ReadWrite,
    /// Everything through the output embedding, logit-lens style.
    Output,
}

/// How head lists were found; both give the same lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadPruning {
    /// Every entry of every circuit computed.
    None,
    /// Tiles skipped by their score bounds.
    Bounds,
}

/// The vocabulary the lists were drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Tokens of the tokenizer: rows of tokens.parquet.
    pub tokenizer_tokens: usize,
    /// Rows of the embedding matrix.
    pub embedding_rows: usize,
    /// Embedding rows beyond the tokenizer, never selected.
    pub padding_rows_excluded: usize,
    /// Tokens that passed the filters and token list: the candidates of every list.
    pub selectable_tokens: usize,
}

/// Only the version, read first so that a manifest of another layout is
/// refused by its version rather than by whichever field moved.
#[derive(Deserialize)]
struct VersionOnly {
    schema_version: u32,
}

impl Manifest {
    /// Writes the manifest atomically into the dataset of `layout`.
    pub fn write(&self, layout: &Layout) -> Result<()> {
        let path = layout.manifest();
        let text = serde_json::to_string_pretty(self)
            .expect("a manifest has string keys and finite numbers only");
        write_atomically(&path, (text + "\n").as_bytes())
    }

    /// Reads the manifest of the dataset of `layout`, refusing one whose
    /// tables follow another schema version than this build's.
    pub fn read(layout: &Layout) -> Result<Manifest> {
        let path = layout.manifest();
        let text = std::fs::read_to_string(&path).map_err(TableError::io(&path))?;
        let invalid = |source| TableError::Manifest {
            path: path.clone(),
            source,
        };
        let version: VersionOnly = serde_json::from_str(&text).map_err(invalid)?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(TableError::SchemaVersion {
                path,
                found: version.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        serde_json::from_str(&text).map_err(invalid)
    }

    /// The rows of one kind of table, 0 when there are none.
    pub fn rows(&self, kind: TableKind) -> u64 {
        self.row_counts.get(&kind).copied().unwrap_or(0)
    }

    /// Whether the manifest lists the table file `relative`.
    pub fn lists(&self, relative: &str) -> bool {
        self.tables.iter().any(|t| t.path == relative)
    }
}
