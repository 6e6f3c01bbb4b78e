//! Column layouts of every table, defined once, each column with what it
//! means.
//!
//! A column's description travels in its field's metadata
//! ([`DESCRIPTION`]), so the Parquet files describe themselves and the
//! dataset card (`README.md`, `card.rs`) documents every column from this one
//! definition. Bump [`SCHEMA_VERSION`] whenever a column is added, removed
//! or retyped.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// Version of the table layouts below, recorded in the manifest.
///
/// 4: every neuron and head list row has its `z`, the mean and spread it is
/// read against are in `neuron_summary/` and on `head_summary`; the
/// optional `connections/` tables came later without changing the others.
/// 5: `neuron_summary` gains each neuron side's `kurtosis`, `entropy` and
/// `value_overlap`.
pub const SCHEMA_VERSION: u32 = 5;

/// The field metadata key under which a column's description is stored.
pub const DESCRIPTION: &str = "description";

/// What the column `field` holds, as its definition here says.
pub fn description(field: &Field) -> &str {
    field.metadata().get(DESCRIPTION).map_or("", String::as_str)
}

/// A column that is never null.
fn column(name: &str, data_type: DataType, description: &str) -> Field {
    Field::new(name, data_type, false).with_metadata(HashMap::from([(
        DESCRIPTION.to_string(),
        description.to_string(),
    )]))
}

/// A column that may be null.
fn nullable(name: &str, data_type: DataType, description: &str) -> Field {
    column(name, data_type, description).with_nullable(true)
}

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
        column("layer", DataType::UInt16, "layer, from 0"),
        column("neuron", DataType::UInt32, "neuron index within the layer"),
        column("side", DataType::Utf8, "`key` (input weights), `value` (output weights), or `gate` (gated models)"),
        column("polarity", DataType::Utf8, "`top` (highest scores) or `bottom` (lowest)"),
        column("rank", DataType::UInt16, "1 = strongest"),
        column("token_id", DataType::UInt32, "token id (row of the embedding)"),
        column("token", DataType::Utf8, "display form of the token (`tokens.display`)"),
        column("score", DataType::Float32, "the vector's dot product with the token's embedding row"),
        column("z", DataType::Float32, "(score − mean) / std of the neuron side's scores over every selectable token (`neuron_summary`); 0 if they do not vary"),
    ]
}

/// `connections/layer-NN.parquet`: one row per entry of a neuron's
/// connection list (`--connections`).
pub fn connections() -> SchemaRef {
    schema![
        column("layer", DataType::UInt16, "layer of the neuron whose list this is, from 0"),
        column("neuron", DataType::UInt32, "that neuron's index within its layer"),
        column(
            "direction",
            DataType::Utf8,
            "`downstream`: its value against the key (or gate) of every neuron of later layers; `upstream`: its key (or gate) against the value of every neuron of earlier layers",
        ),
        column(
            "side",
            DataType::Utf8,
            "the read side of the pair: `key`, or `gate` in gated models (the later neuron's for downstream lists, this neuron's for upstream ones)",
        ),
        column(
            "polarity",
            DataType::Utf8,
            "`top` (largest dot products: excites) or `bottom` (most negative: inhibits)",
        ),
        column("rank", DataType::UInt16, "1 = strongest"),
        column("other_layer", DataType::UInt16, "layer of the connected neuron"),
        column("other_neuron", DataType::UInt32, "the connected neuron's index within its layer"),
        column(
            "score",
            DataType::Float32,
            "the earlier neuron's value · the later neuron's key (or gate), as the weights are read (`--fold-norm` folds the later layer's pre-feed-forward gain into the key)",
        ),
    ]
}

/// `neuron_summary/layer-NN.parquet`: one row per neuron and side, the
/// scores its lists were chosen from.
pub fn neuron_summary() -> SchemaRef {
    schema![
        column("layer", DataType::UInt16, "layer, from 0"),
        column("neuron", DataType::UInt32, "neuron index within the layer"),
        column("side", DataType::Utf8, "`key`, `value` or `gate`"),
        column(
            "tokens",
            DataType::UInt32,
            "selectable tokens: how many scores the statistics are over"
        ),
        column("mean", DataType::Float64, "mean score"),
        column(
            "std",
            DataType::Float64,
            "population standard deviation of the scores"
        ),
        nullable(
            "kurtosis",
            DataType::Float64,
            "excess kurtosis m₄/m₂² − 3 of the scores: 0 for normally spread scores, large when a few tokens stand far out; null if the scores do not vary",
        ),
        column(
            "entropy",
            DataType::Float64,
            "entropy in nats of the softmax of the scores (the side read at activation 1): 0 when one token takes all the mass, ln(tokens) when none stands out",
        ),
        nullable(
            "value_overlap",
            DataType::UInt16,
            "key and gate rows: how many tokens of this side's top list are also in the value's top list (the paper's key–value agreement); null on value rows",
        ),
    ]
}

/// `tokens.parquet`: one row per token id of the tokenizer.
pub fn tokens() -> SchemaRef {
    schema![
        column("token_id", DataType::UInt32, "token id"),
        column(
            "piece",
            DataType::Utf8,
            "the piece as the tokenizer stores it (`ĠdietÄħ`)"
        ),
        column(
            "text",
            DataType::Utf8,
            "decoded UTF-8 (` dietą`); bytes of a partial character as `<C5>`"
        ),
        column(
            "display",
            DataType::Utf8,
            "`dietą` for a word-initial piece, `#ą` for a continuation, specials as is"
        ),
        column(
            "special",
            DataType::Boolean,
            "a special token such as `<|endoftext|>`, `[CLS]`, or a reserved slot"
        ),
        column(
            "added",
            DataType::Boolean,
            "listed among the tokenizer's added tokens, special or not"
        ),
        column(
            "word_initial",
            DataType::Boolean,
            "the text starts with a space"
        ),
        column(
            "fragment",
            DataType::Boolean,
            "holds part of a multi-byte character"
        ),
        column(
            "normalized",
            DataType::Utf8,
            "the form search matches: lowercase, without the word-initial marker"
        ),
        column(
            "chars",
            DataType::UInt32,
            "characters after the word-initial space"
        ),
        column(
            "is_ascii",
            DataType::Boolean,
            "only ASCII characters (filter `ascii`)"
        ),
        column(
            "is_alnum",
            DataType::Boolean,
            "only letters and digits (filter `alnum`)"
        ),
        column(
            "has_brackets",
            DataType::Boolean,
            "holds a bracket (filter `no-brackets`)"
        ),
        column(
            "is_alpha",
            DataType::Boolean,
            "only letters (filter `alpha`)"
        ),
        column(
            "is_word",
            DataType::Boolean,
            "a word in any script (filter `word`)"
        ),
        column(
            "allowed",
            DataType::Boolean,
            "passed the run's filters: may appear in lists"
        ),
    ]
}

/// `token_list.parquet`: the tokens a corpus holds, most frequent first.
pub fn token_list() -> SchemaRef {
    schema![
        column("token_id", DataType::UInt32, "token id"),
        column("count", DataType::UInt64, "occurrences in the corpus"),
    ]
}

/// `heads/layer-NN.parquet`: one row per token pair of a head's list.
pub fn heads() -> SchemaRef {
    schema![
        column("layer", DataType::UInt16, "layer, from 0"),
        column(
            "head",
            DataType::UInt16,
            "query head index within the layer"
        ),
        column(
            "circuit",
            DataType::Utf8,
            "`vo` (what the head writes for what it attends to) or `qk` (what it attends to)"
        ),
        column(
            "polarity",
            DataType::Utf8,
            "`top` (largest entries) or `bottom` (most negative)"
        ),
        column("rank", DataType::UInt16, "1 = strongest"),
        column(
            "src_token_id",
            DataType::UInt32,
            "VO: the attended token; QK: the query token"
        ),
        column(
            "dst_token_id",
            DataType::UInt32,
            "VO: the promoted token; QK: the key token"
        ),
        column(
            "src_token",
            DataType::Utf8,
            "display form of `src_token_id`"
        ),
        column(
            "dst_token",
            DataType::Utf8,
            "display form of `dst_token_id`"
        ),
        column("score", DataType::Float32, "the circuit matrix's entry"),
        column(
            "z",
            DataType::Float32,
            "(score − mean) / std of the circuit's selectable entries (`head_summary`)"
        ),
    ]
}

/// `head_summary.parquet`: one row per head and circuit.
pub fn head_summary() -> SchemaRef {
    schema![
        column("layer", DataType::UInt16, "layer, from 0"),
        column("head", DataType::UInt16, "query head index within the layer"),
        column("kv_head", DataType::UInt16, "the key/value head the query head reads (itself without grouped-query attention)"),
        column("circuit", DataType::Utf8, "`vo` or `qk`"),
        column("frobenius_norm", DataType::Float64, "Frobenius norm of the circuit matrix, from trace(AᵀA·BᵀB)"),
        column("max_entry", DataType::Float32, "largest selectable entry (rank 1 of the top list)"),
        column("min_entry", DataType::Float32, "smallest selectable entry (rank 1 of the bottom list)"),
        nullable("copying_score", DataType::Float64, "VO only: Σλ / Σ|λ| over the eigenvalues of the VO matrix (positive: the head copies what it attends to); null for QK"),
        column("computed_share", DataType::Float64, "share of the matrix's entries actually computed; the rest were pruned by bounds"),
        column("pairs", DataType::UInt64, "selectable pairs: allowed src × allowed dst, less excluded pairs"),
        column("mean", DataType::Float64, "mean entry over those pairs"),
        column("std", DataType::Float64, "population standard deviation of the entries over those pairs"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TableKind;

    #[test]
    fn every_column_says_what_it_holds() {
        for kind in TableKind::ALL {
            for field in kind.schema().fields() {
                assert!(
                    !description(field).is_empty(),
                    "{kind}.{} has no description",
                    field.name()
                );
            }
        }
    }
}
