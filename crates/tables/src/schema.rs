//! Column layouts of every table, defined once.
//!
//! Bump [`SCHEMA_VERSION`] whenever a column is added, removed or retyped.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// Version of the table layouts below, recorded in the manifest.
///
/// 4: every neuron and head list row has its `z`, the mean and spread it is
/// read against are in `neuron_summary/` and on `head_summary`.
pub const SCHEMA_VERSION: u32 = 4;

/// A schema of these fields, built once and shared.
macro_rules! schema {
    ($($field:expr),+ $(,)?) => {{
        static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
        SCHEMA
            .get_or_init(|| Arc::new(Schema::new(vec![$($field),+])))
            .clone()
    }};
}

/// `neurons/layer-NN.parquet`: one row per list entry.
pub fn neurons() -> SchemaRef {
    schema![
        Field::new("layer", DataType::UInt16, false),
        Field::new("neuron", DataType::UInt32, false),
        Field::new("side", DataType::Utf8, false),
        Field::new("polarity", DataType::Utf8, false),
        Field::new("rank", DataType::UInt16, false),
        Field::new("token_id", DataType::UInt32, false),
        Field::new("token", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
        Field::new("z", DataType::Float32, false),
    ]
}

/// `neuron_summary/layer-NN.parquet`: one row per neuron and side, the
/// scores its lists were chosen from.
pub fn neuron_summary() -> SchemaRef {
    schema![
        Field::new("layer", DataType::UInt16, false),
        Field::new("neuron", DataType::UInt32, false),
        Field::new("side", DataType::Utf8, false),
        Field::new("tokens", DataType::UInt32, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("std", DataType::Float64, false),
    ]
}

/// `tokens.parquet`: one row per token id of the tokenizer.
pub fn tokens() -> SchemaRef {
    schema![
        Field::new("token_id", DataType::UInt32, false),
        Field::new("piece", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("display", DataType::Utf8, false),
        Field::new("special", DataType::Boolean, false),
        Field::new("added", DataType::Boolean, false),
        Field::new("word_initial", DataType::Boolean, false),
        Field::new("fragment", DataType::Boolean, false),
        Field::new("normalized", DataType::Utf8, false),
        Field::new("chars", DataType::UInt32, false),
        Field::new("is_ascii", DataType::Boolean, false),
        Field::new("is_alnum", DataType::Boolean, false),
        Field::new("has_brackets", DataType::Boolean, false),
        Field::new("is_alpha", DataType::Boolean, false),
        Field::new("is_word", DataType::Boolean, false),
        Field::new("allowed", DataType::Boolean, false),
    ]
}

/// `token_list.parquet`: the tokens a corpus holds, most frequent first.
pub fn token_list() -> SchemaRef {
    schema![
        Field::new("token_id", DataType::UInt32, false),
        Field::new("count", DataType::UInt64, false),
    ]
}

/// `heads/layer-NN.parquet`: one row per token pair of a head's list.
pub fn heads() -> SchemaRef {
    schema![
        Field::new("layer", DataType::UInt16, false),
        Field::new("head", DataType::UInt16, false),
        Field::new("circuit", DataType::Utf8, false),
        Field::new("polarity", DataType::Utf8, false),
        Field::new("rank", DataType::UInt16, false),
        Field::new("src_token_id", DataType::UInt32, false),
        Field::new("dst_token_id", DataType::UInt32, false),
        Field::new("src_token", DataType::Utf8, false),
        Field::new("dst_token", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
        Field::new("z", DataType::Float32, false),
    ]
}

/// `head_summary.parquet`: one row per head and circuit.
pub fn head_summary() -> SchemaRef {
    schema![
        Field::new("layer", DataType::UInt16, false),
        Field::new("head", DataType::UInt16, false),
        Field::new("kv_head", DataType::UInt16, false),
        Field::new("circuit", DataType::Utf8, false),
        Field::new("frobenius_norm", DataType::Float64, false),
        Field::new("max_entry", DataType::Float32, false),
        Field::new("min_entry", DataType::Float32, false),
        Field::new("copying_score", DataType::Float64, true),
        Field::new("computed_share", DataType::Float64, false),
        Field::new("pairs", DataType::UInt64, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("std", DataType::Float64, false),
    ]
}
