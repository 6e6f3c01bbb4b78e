//! What is a document? The schema, its field handles, and how values are coded.
//!
//! A document holds every entry of one token, for one kind of unit, from one block
//! of the build (see [`build`](crate::build)): with a model's whole output in one
//! block, that is one document per token and kind. One document per entry would be
//! the textbook layout, but tantivy spends a few microseconds on every document, and
//! a store offset and a posting on top of the columns; for ~20 million entries that
//! meant a minute of indexing and twice the size on disk.
//!
//! Per document: the two match terms are indexed (as single raw terms, without
//! frequencies, positions or field norms, since ranking never uses BM25), and the
//! display form, token id and unit kind are single-valued columns. Per entry: layer,
//! unit, side, polarity, rank and score are multi-valued columns, one value per
//! entry, written in the same order in every column, so that value `i` of every
//! entry column belongs to the same entry. Nothing is stored: a search reads only
//! columns, which answer random access far faster than the document store.

use glossa_tables::{Polarity, Side, UnitKind};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};

/// The normalised term of the token (see [`normalize`](crate::normalize)).
pub(crate) const TERM: &str = "term";
/// The normalised term folded to ASCII (see [`fold`](crate::fold)).
pub(crate) const FOLDED: &str = "folded";
/// The display form, as a dictionary-encoded string column: one per document.
pub(crate) const TOKEN: &str = "token";
/// One per document.
pub(crate) const TOKEN_ID: &str = "token_id";
/// One per document: a document never mixes kinds, so that heads can later add
/// entry columns of their own without leaving gaps in the neurons' ones.
pub(crate) const KIND: &str = "kind";
/// One per entry, as are the rest.
pub(crate) const LAYER: &str = "layer";
pub(crate) const UNIT: &str = "unit";
pub(crate) const SIDE: &str = "side";
pub(crate) const POLARITY: &str = "polarity";
pub(crate) const RANK: &str = "rank";
/// The score's `f32` bit pattern in a `u64` column. An `f64` column would keep the
/// same value in twice the bits: its order-preserving encoding spreads positive and
/// negative scores over the whole 64-bit range, so bit packing saves nothing.
pub(crate) const SCORE: &str = "score";

/// Handles to every field, obtained once from the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub term: Field,
    pub folded: Field,
    pub token: Field,
    pub token_id: Field,
    pub kind: Field,
    pub layer: Field,
    pub unit: Field,
    pub side: Field,
    pub polarity: Field,
    pub rank: Field,
    pub score: Field,
}

/// The schema every index is written with, and the handles to its fields.
pub(crate) fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let matched = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            // The term is normalised before it reaches tantivy; "raw" keeps it whole.
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        term: builder.add_text_field(TERM, matched.clone()),
        folded: builder.add_text_field(FOLDED, matched),
        token: builder.add_text_field(TOKEN, TextOptions::default().set_fast("raw")),
        token_id: builder.add_u64_field(TOKEN_ID, FAST),
        kind: builder.add_u64_field(KIND, FAST),
        layer: builder.add_u64_field(LAYER, FAST),
        unit: builder.add_u64_field(UNIT, FAST),
        side: builder.add_u64_field(SIDE, FAST),
        polarity: builder.add_u64_field(POLARITY, FAST),
        rank: builder.add_u64_field(RANK, FAST),
        score: builder.add_u64_field(SCORE, FAST),
    };
    (builder.build(), fields)
}

/// A closed set of names stored as small integers in a column.
///
/// The codes are spelled out rather than taken from positions in `ALL`, so that
/// reordering or extending an enum in glossa-tables cannot silently change what
/// an existing index means.
pub(crate) trait Code: Sized {
    fn code(self) -> u64;
    fn from_code(code: u64) -> Option<Self>;
}

impl Code for UnitKind {
    fn code(self) -> u64 {
        match self {
            UnitKind::Neuron => 0,
            UnitKind::Head => 1,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(UnitKind::Neuron),
            1 => Some(UnitKind::Head),
            _ => None,
        }
    }
}

impl Code for Side {
    fn code(self) -> u64 {
        match self {
            Side::Key => 0,
            Side::Value => 1,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Side::Key),
            1 => Some(Side::Value),
            _ => None,
        }
    }
}

impl Code for Polarity {
    fn code(self) -> u64 {
        match self {
            Polarity::Top => 0,
            Polarity::Bottom => 1,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Polarity::Top),
            1 => Some(Polarity::Bottom),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Code + Copy + PartialEq + std::fmt::Debug>(all: &[T]) {
        for &value in all {
            assert_eq!(T::from_code(value.code()), Some(value));
        }
        assert_eq!(T::from_code(all.len() as u64), None);
    }

    #[test]
    fn codes_round_trip() {
        round_trips(UnitKind::ALL);
        round_trips(Side::ALL);
        round_trips(Polarity::ALL);
    }
}
