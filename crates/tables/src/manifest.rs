//! `manifest.json`: what produced a dataset, and what it holds.
//!
//! Every part is typed; the schema version is checked whenever a manifest is
//! read, so no command reads tables of a layout this build does not know.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::card::{write_card, CardRecord};
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
    /// The licence the model declares (its model card's `license`, or a
    /// GGUF file's `general.license`); `None` when it declares none.
    #[serde(default)]
    pub license: Option<String>,
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
    /// The dataset card, `README.md`, written just before the manifest from
    /// what it records; `None` in datasets written before cards were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardRecord>,
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
    /// Neurons kept at each end of every connection list; `None` (and
    /// absent from the JSON): no connections were computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<usize>,
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
    /// Where the neuron stage's GEMM ran (`cpu`, `cuda:0`).
    #[serde(default = "cpu")]
    pub device: String,
    /// Which embedding each side of a list was read through.
    pub embedding: EmbeddingChoice,
    /// Whether norm gains were folded into the weights.
    pub fold_norm: bool,
    /// The relative position (query minus key) the QK circuits of rotary
    /// models were computed at; 0 where the rotation cancels.
    pub qk_offset: i64,
    /// The layers of a shard: a run restricted to some layers holds only
    /// their per-layer tables. `None` (and absent from the JSON): every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerRange>,
    /// The Hunspell dictionary (a path without `.aff` / `.dic`) the search
    /// index reads word forms from, every time it is built; `None` when the
    /// index has none.
    pub word_forms: Option<PathBuf>,
}

/// The device of manifests written before devices were recorded.
fn cpu() -> String {
    "cpu".to_string()
}

/// A non-empty range of layers, `start..end` with `end` excluded, as in Rust.
///
/// Written as `A..B`, `A..=B` or a single layer `A` ([`FromStr`]); stored in
/// the manifest as `{"start": A, "end": B}`. Empty and reversed ranges cannot
/// be made, parsed or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "LayerBounds")]
pub struct LayerRange {
    start: usize,
    end: usize,
}

/// A layer range as stored, checked on the way in.
#[derive(Deserialize)]
struct LayerBounds {
    start: usize,
    end: usize,
}

impl TryFrom<LayerBounds> for LayerRange {
    type Error = InvalidLayerRange;

    fn try_from(bounds: LayerBounds) -> std::result::Result<LayerRange, InvalidLayerRange> {
        LayerRange::new(bounds.start, bounds.end)
    }
}

/// Why a text or pair of bounds is not a layer range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLayerRange {
    #[error("{text:?} is not a layer range: write A..B (layers A to B-1), A..=B (A to B) or one layer A")]
    Syntax { text: String },

    #[error("{text} holds no layer: the end of A..B is excluded, so layer {start} alone is {start}..{next} (or {start}..={start}, or {start})", next = start + 1)]
    Empty { text: String, start: usize },

    #[error("{text} runs backwards: a range goes from its first layer up to its last")]
    Reversed { text: String },
}

impl LayerRange {
    /// `start..end`; fails when it holds no layer.
    pub fn new(start: usize, end: usize) -> std::result::Result<LayerRange, InvalidLayerRange> {
        let text = format!("{start}..{end}");
        match start.cmp(&end) {
            std::cmp::Ordering::Less => Ok(LayerRange { start, end }),
            std::cmp::Ordering::Equal => Err(InvalidLayerRange::Empty { text, start }),
            std::cmp::Ordering::Greater => Err(InvalidLayerRange::Reversed { text }),
        }
    }

    /// The first layer.
    pub fn start(self) -> usize {
        self.start
    }

    /// One past the last layer.
    pub fn end(self) -> usize {
        self.end
    }

    /// The layers, as a range to iterate.
    pub fn layers(self) -> Range<usize> {
        self.start..self.end
    }

    /// How many layers it holds (at least one).
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Always false: a layer range holds at least one layer.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether it holds `layer`.
    pub fn contains(self, layer: usize) -> bool {
        self.layers().contains(&layer)
    }

    /// `layer 3` or `layers 0–1`, as people write them (the last included).
    pub fn describe(self) -> String {
        if self.len() == 1 {
            format!("layer {}", self.start)
        } else {
            format!("layers {}–{}", self.start, self.end - 1)
        }
    }
}

impl fmt::Display for LayerRange {
    /// `0..2`, the syntax it is parsed from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for LayerRange {
    type Err = InvalidLayerRange;

    /// `A..B` (B excluded), `A..=B` (B included) or a single layer `A`.
    fn from_str(text: &str) -> std::result::Result<LayerRange, InvalidLayerRange> {
        let syntax = || InvalidLayerRange::Syntax {
            text: text.to_string(),
        };
        let number = |s: &str| -> std::result::Result<usize, InvalidLayerRange> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        let (start, end) = match text.split_once("..") {
            None => {
                let layer = number(text)?;
                (layer, layer.checked_add(1).ok_or_else(syntax)?)
            }
            Some((start, rest)) => match rest.strip_prefix('=') {
                Some(last) => (
                    number(start)?,
                    number(last)?.checked_add(1).ok_or_else(syntax)?,
                ),
                None => (number(start)?, number(rest)?),
            },
        };
        LayerRange::new(start, end).map_err(|error| match error {
            InvalidLayerRange::Empty { start, .. } => InvalidLayerRange::Empty {
                text: text.trim().to_string(),
                start,
            },
            InvalidLayerRange::Reversed { .. } => InvalidLayerRange::Reversed {
                text: text.trim().to_string(),
            },
            other => other,
        })
    }
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
    /// Writes the dataset card (recording it here) and then the manifest,
    /// last, atomically into the dataset of `layout`.
    pub fn write_with_card(&mut self, layout: &Layout) -> Result<()> {
        self.card = Some(write_card(layout, self)?);
        self.write(layout)
    }

    /// Writes the manifest atomically into the dataset of `layout`.
    fn write(&self, layout: &Layout) -> Result<()> {
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

    /// The layers whose tables the dataset holds: a shard's range, else every layer.
    pub fn layers(&self) -> Range<usize> {
        self.options
            .layers
            .map_or(0..self.shape.layers, LayerRange::layers)
    }

    /// Whether the dataset is a shard: a run restricted to some of the layers.
    pub fn is_shard(&self) -> bool {
        self.options.layers.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_ranges_parse_as_rust_ranges() {
        let range = |start, end| LayerRange::new(start, end).unwrap();
        assert_eq!("0..2".parse(), Ok(range(0, 2)));
        assert_eq!("3..=5".parse(), Ok(range(3, 6)));
        assert_eq!("7".parse(), Ok(range(7, 8)));
        assert_eq!(" 1 .. 4 ".trim().parse(), Ok(range(1, 4)));
        assert_eq!(range(3, 6).to_string(), "3..6");
        assert_eq!(range(3, 6).describe(), "layers 3–5");
        assert_eq!(range(3, 4).describe(), "layer 3");
        assert_eq!(range(3, 6).layers(), 3..6);
        assert!(range(3, 6).contains(5) && !range(3, 6).contains(6));
    }

    #[test]
    fn empty_reversed_and_malformed_ranges_are_refused() {
        let error = |text: &str| text.parse::<LayerRange>().unwrap_err();
        assert!(matches!(
            error("3..3"),
            InvalidLayerRange::Empty { start: 3, .. }
        ));
        assert!(
            error("3..3").to_string().contains("3..4"),
            "{}",
            error("3..3")
        );
        assert!(matches!(error("5..2"), InvalidLayerRange::Reversed { .. }));
        assert!(matches!(error("5..=3"), InvalidLayerRange::Reversed { .. }));
        assert!(
            error("5..=3").to_string().starts_with("5..=3 "),
            "{}",
            error("5..=3")
        );
        for text in [
            "", "..", "a..b", "1..", "..3", "-1..2", "1...3", "1,2", "0x1",
        ] {
            assert!(
                matches!(error(text), InvalidLayerRange::Syntax { .. }),
                "{text:?}"
            );
        }
        assert!(LayerRange::new(4, 4).is_err());
    }

    #[test]
    fn a_stored_range_is_checked_when_read() {
        let stored: LayerRange = serde_json::from_str(r#"{"start":1,"end":3}"#).unwrap();
        assert_eq!(stored, LayerRange::new(1, 3).unwrap());
        assert_eq!(
            serde_json::to_string(&stored).unwrap(),
            r#"{"start":1,"end":3}"#
        );
        assert!(serde_json::from_str::<LayerRange>(r#"{"start":3,"end":1}"#).is_err());
    }
}
