//! Column layouts of every table, defined once.
//!
//! Bump [`SCHEMA_VERSION`] whenever a column is added, removed or retyped.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// Version of the table layouts below, recorded in the manifest.
pub const SCHEMA_VERSION: u32 = 1;

/// `neurons/layer-NN.parquet`: one row per list entry.
pub fn neurons() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("layer", DataType::UInt16, false),
                Field::new("neuron", DataType::UInt32, false),
                Field::new("side", DataType::Utf8, false),
                Field::new("polarity", DataType::Utf8, false),
                Field::new("rank", DataType::UInt16, false),
                Field::new("token_id", DataType::UInt32, false),
                Field::new("token", DataType::Utf8, false),
                Field::new("score", DataType::Float32, false),
            ]))
        })
        .clone()
}

/// `tokens.parquet`: one row per token id of the tokenizer.
pub fn tokens() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("token_id", DataType::UInt32, false),
                Field::new("piece", DataType::Utf8, false),
                Field::new("text", DataType::Utf8, false),
                Field::new("display", DataType::Utf8, false),
                Field::new("special", DataType::Boolean, false),
                Field::new("word_initial", DataType::Boolean, false),
            ]))
        })
        .clone()
}
