//! The tables of a Glossa dataset: schemas, Parquet files, and the manifest.
//!
//! A dataset directory holds `tokens.parquet`, `neurons/layer-NNN.parquet`,
//! `neuron_summary/layer-NNN.parquet` and `heads/layer-NNN.parquet` (one
//! file per layer), `head_summary.parquet`, with `--connections`
//! `connections/layer-NNN.parquet`, the search index, the dataset
//! card `README.md` (a Hugging Face dataset's configs and every
//! column's meaning), and `manifest.json`, written last, which records what
//! produced the tables and every file's hash and row count ([`Manifest`],
//! typed throughout, its schema version checked at every read).
//! [`Layout`] owns every path of a dataset, [`Table`] and [`TableKind`]
//! name its tables; schemas are defined once, here, as code ([`schema`]);
//! every file is written atomically ([`write_table`]): readers never see a
//! partial file.

pub use arrow_array::RecordBatch;
pub use arrow_schema::SchemaRef;
pub use card::CardRecord;
pub use columns::MAX_LIST_LEN;
pub use connections::{
    read_connection_rows, ConnectionEntry, ConnectionRow, ConnectionTableBuilder,
};
pub use error::{Result, TableError};
pub use heads::{
    head_summary_batch, read_head_rows, read_head_summary, HeadRow, HeadSummaryRow,
    HeadTableBuilder, PairEntry,
};
pub use kinds::{Circuit, Direction, Polarity, Side, UnitKind, UnknownName};
pub use layout::{Layout, Table, TableKind};
pub use manifest::{
    EmbeddingChoice, HeadPruning, InvalidLayerRange, LayerRange, Manifest, Options, Shape,
    Vocabulary,
};
pub use neurons::{
    neuron_summary_batch, read_neuron_rows, read_neuron_summary, NeuronRow, NeuronSummaryRow,
    NeuronTableBuilder, TokenEntry,
};
pub use parquet_io::{
    copy_atomically, first_non_finite_score, parquet_rows, read_list_scores, sha256_file,
    sha256_hex, write_atomically, write_table, FileRecord, ListScore, TableOptions,
};
pub use tokens::{
    is_token_list, read_token_list, read_tokens, token_list_batch, tokens_batch, TokenRow,
};

mod card;
pub mod schema;

mod columns;
mod connections;
mod error;
mod heads;
mod kinds;
mod layout;
mod manifest;
mod neurons;
mod parquet_io;
mod tokens;
