//! What a run records: the hashes of its inputs, the description that
//! decides whether an interrupted run may be resumed, and the manifest.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use glossa_load::{ModelFiles, ModelShape, ModelSource};
use glossa_tables::schema::SCHEMA_VERSION;
use glossa_tables::{
    sha256_file, sha256_hex, FileRecord, HeadPruning, Manifest, Options, Shape, Table, Vocabulary,
};
use glossa_vocab::CharFilter;

use super::ledger::Closed;
use super::stages::{heads_done, neurons_done};
use crate::config::ExtractConfig;
use crate::error::Result;

/// sha256 of every input file, keyed by file name.
pub(super) fn hash_inputs(files: &ModelFiles) -> Result<BTreeMap<String, String>> {
    files
        .all()
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, sha256_file(path)?.0))
        })
        .collect()
}

/// What the tables of a run depend on, as JSON: two runs with equal
/// descriptions write byte-identical tables. The output directory and the
/// thread count are not part of it (the tables do not depend on them).
pub(super) fn run_description(
    config: &ExtractConfig,
    files: &ModelFiles,
    inputs: &BTreeMap<String, String>,
    allowed: Option<&[bool]>,
    corpus: Option<&[(u32, u64)]>,
) -> serde_json::Value {
    let mut options = serde_json::to_value(config).unwrap_or_default();
    if let Some(options) = options.as_object_mut() {
        options.remove("out");
        options.remove("threads");
    }
    let allowed = allowed.map(|a| sha256_hex(&a.iter().map(|&x| x as u8).collect::<Vec<_>>()));
    let corpus = corpus.map(|list| {
        let bytes: Vec<u8> = list
            .iter()
            .flat_map(|&(id, count)| id.to_le_bytes().into_iter().chain(count.to_le_bytes()))
            .collect();
        sha256_hex(&bytes)
    });
    serde_json::json!({
        "glossa_version": env!("CARGO_PKG_VERSION"),
        "schema_version": SCHEMA_VERSION,
        "commit": files.commit,
        "inputs": inputs,
        "options": options,
        "allowed_tokens_sha256": allowed,
        "token_list_sha256": corpus,
    })
}

/// `resuming the interrupted run in DIR: 2 of 4 neuron layers, 0 of 4 head layers already done`
/// (and the connection layers, with `--connections`);
/// `layers` are those the run writes (a shard's, or all).
pub(super) fn resume_note(
    dir: &Path,
    done: &BTreeMap<String, FileRecord>,
    config: &ExtractConfig,
    layers: Range<usize>,
) -> String {
    let is_done = |path: &str| done.contains_key(path);
    let count = layers.len();
    let mut parts = Vec::new();
    if config.neurons {
        let neurons = layers.clone().filter(|&l| neurons_done(is_done, l)).count();
        parts.push(format!("{neurons} of {count} neuron layers"));
    }
    if config.connections.is_some() {
        let connections = layers
            .clone()
            .filter(|&l| is_done(&Table::Connections(l).path()))
            .count();
        parts.push(format!("{connections} of {count} connection layers"));
    }
    if config.heads {
        let heads = layers.filter(|&l| heads_done(is_done, l)).count();
        parts.push(format!("{heads} of {count} head layers"));
    }
    format!(
        "resuming the interrupted run in {}: {} already done",
        dir.display(),
        parts.join(", ")
    )
}

/// The manifest's record of the model's dimensions.
pub(crate) fn shape_record(shape: &ModelShape) -> Shape {
    Shape {
        layers: shape.layers,
        heads: shape.heads,
        kv_heads: shape.kv_heads,
        d_model: shape.d_model,
        d_head: shape.d_head,
        d_ff: shape.d_ff,
        vocab: shape.vocab,
        tied_embeddings: shape.tied_embeddings,
        gated: shape.gated,
    }
}

/// Everything the manifest of a finished run records.
pub(super) struct Record<'a> {
    pub(super) config: &'a ExtractConfig,
    pub(super) source: &'a ModelSource,
    pub(super) files: &'a ModelFiles,
    pub(super) architecture: String,
    /// The dictionary the index was built with.
    pub(super) word_forms: Option<std::path::PathBuf>,
    /// How the weights were encoded, as the manifest records it.
    pub(super) weights_encoding: &'a str,
    pub(super) shape: &'a ModelShape,
    pub(super) inputs: BTreeMap<String, String>,
    pub(super) filters: &'a [CharFilter],
    pub(super) tokens: usize,
    pub(super) selectable: usize,
}

impl Record<'_> {
    /// The manifest of the run whose books are `books`.
    pub(super) fn manifest(self, books: &mut Closed) -> Manifest {
        let config = self.config;
        let with_list = config.token_list.is_some();
        Manifest {
            glossa_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version: SCHEMA_VERSION,
            model: config.model.clone(),
            model_dir: match self.source {
                ModelSource::Local { path } => path.canonicalize().ok(),
                ModelSource::Hub { .. } => None,
            },
            revision: matches!(self.source, ModelSource::Hub { .. })
                .then(|| config.revision.clone()),
            commit: self.files.commit.clone(),
            license: self.files.license(),
            architecture: self.architecture,
            inputs: self.inputs,
            shape: shape_record(self.shape),
            options: Options {
                k: config.k,
                neurons: config.neurons,
                heads: config.heads,
                head_k: config.head_k,
                exclude_same: config.exclude_same,
                exclude_fuzzy: config.exclude_fuzzy,
                filters: self.filters.iter().map(|f| f.to_string()).collect(),
                token_list: config.token_list.clone(),
                text_column: with_list.then(|| config.text_column().to_string()),
                max_tokens: config.max_tokens,
                connections: config.connections,
                head_pruning: if config.brute_force_heads {
                    HeadPruning::None
                } else {
                    HeadPruning::Bounds
                },
                threads: rayon::current_num_threads(),
                weights_format: self.files.weights_format.as_str().to_string(),
                weights_encoding: self.weights_encoding.to_string(),
                device: config.device.to_string(),
                embedding: config.embedding,
                fold_norm: config.fold_norm,
                qk_offset: config.qk_offset,
                layers: config.layers,
                word_forms: self.word_forms.clone(),
            },
            vocabulary: Vocabulary {
                tokenizer_tokens: self.tokens,
                embedding_rows: self.shape.vocab,
                padding_rows_excluded: self.shape.vocab - self.tokens,
                selectable_tokens: self.selectable,
            },
            tables: std::mem::take(&mut books.tables),
            card: None,
            row_counts: std::mem::take(&mut books.row_counts),
            timings: std::mem::take(&mut books.timings),
        }
    }
}
