//! What is a document? The schema, its field handles, and how values are coded.
//!
//! A document holds every entry of one token, for one kind of unit, from one block
//! of the build (see [`build`](crate::build)): with a model's whole output in one
//! block, that is one document per token and kind. One document per entry would be
//! the textbook layout, but tantivy spends a few microseconds on every document, and
//! a store offset and a posting on top of the columns; for ~20 million entries that
//! meant a minute of indexing and twice the size on disk.
//!
//! Per document: the two match terms and the token's word forms are indexed (as single raw terms, without
//! frequencies, positions or field norms, since ranking never uses BM25), as is
//! the continuation flag, and the display form, token id and unit kind are single-valued columns. Per entry:
//! layer, unit, polarity, rank, score and z are multi-valued columns, one value per
//! entry of either kind, written in the same order in every column, so that value
//! `i` of every entry column belongs to the same entry. Each kind adds columns of
//! its own, written only by its documents and so holding one value per entry of
//! that kind: `side` for neurons; `circuit`, `role` and `partner` for heads.
//! A document's values in a kind's own columns are found through that column's
//! own row index, and line up with its values in the shared ones.
//!
//! A head's pair is indexed twice, once in the document of each of its tokens (once
//! only when both are the same token): `role` says which of the pair's tokens the
//! document's token is, `partner` holds the id of the other one.
//!
//! Nothing is stored: a search reads only columns, which answer random access far
//! faster than the document store.

use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED,
};

use crate::PairSide;

/// The normalised term of the token (see [`normalize`](crate::normalize)).
pub(crate) const TERM: &str = "term";
/// The normalised term folded to ASCII (see [`fold`](crate::fold)).
pub(crate) const FOLDED: &str = "folded";
/// Every form of the token's lemmas, folded (see [`fold`](crate::fold)),
/// when a dictionary knows the token as a word: `diecie` is found by
/// `dieta`, `diety`, `dietami`. Empty for pieces that are not words.
pub(crate) const FORMS: &str = "forms";
/// 1 if the token is a continuation piece (its display form is `#` followed by
/// something), 0 otherwise; indexed, so that `#owa` can ask for continuations.
pub(crate) const CONTINUATION: &str = "continuation";
/// The display form, as a dictionary-encoded string column: one per document.
pub(crate) const TOKEN: &str = "token";
/// One per document.
pub(crate) const TOKEN_ID: &str = "token_id";
/// One per document: a document never mixes kinds, so that each kind's own
/// entry columns hold no gaps for the other kind's entries.
pub(crate) const KIND: &str = "kind";
/// One per entry of either kind, as are the ones up to `score`.
pub(crate) const LAYER: &str = "layer";
/// The neuron's or the head's index within its layer.
pub(crate) const UNIT: &str = "unit";
pub(crate) const POLARITY: &str = "polarity";
pub(crate) const RANK: &str = "rank";
/// The score's `f32` bit pattern in a `u64` column. An `f64` column would keep the
/// same value in twice the bits: its order-preserving encoding spreads positive and
/// negative scores over the whole 64-bit range, so bit packing saves nothing.
pub(crate) const SCORE: &str = "score";
/// The z's `f32` bit pattern, as the score's.
pub(crate) const Z: &str = "z";
/// One per neuron entry.
pub(crate) const SIDE: &str = "side";
/// One per head entry, as are `role` and `partner`.
pub(crate) const CIRCUIT: &str = "circuit";
/// Which of the pair's tokens the document's token is, as a [`PairSide`].
pub(crate) const ROLE: &str = "role";
/// The token id of the pair's other token (the document's own for a pair whose
/// tokens are the same).
pub(crate) const PARTNER: &str = "partner";

/// Handles to every field, obtained once from the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub term: Field,
    pub folded: Field,
    pub forms: Field,
    pub continuation: Field,
    pub token: Field,
    pub token_id: Field,
    pub kind: Field,
    pub layer: Field,
    pub unit: Field,
    pub polarity: Field,
    pub rank: Field,
    pub score: Field,
    pub z: Field,
    pub side: Field,
    pub circuit: Field,
    pub role: Field,
    pub partner: Field,
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
        folded: builder.add_text_field(FOLDED, matched.clone()),
        forms: builder.add_text_field(FORMS, matched),
        continuation: builder.add_u64_field(CONTINUATION, INDEXED),
        token: builder.add_text_field(TOKEN, TextOptions::default().set_fast("raw")),
        token_id: builder.add_u64_field(TOKEN_ID, FAST),
        kind: builder.add_u64_field(KIND, FAST),
        layer: builder.add_u64_field(LAYER, FAST),
        unit: builder.add_u64_field(UNIT, FAST),
        polarity: builder.add_u64_field(POLARITY, FAST),
        rank: builder.add_u64_field(RANK, FAST),
        score: builder.add_u64_field(SCORE, FAST),
        z: builder.add_u64_field(Z, FAST),
        side: builder.add_u64_field(SIDE, FAST),
        circuit: builder.add_u64_field(CIRCUIT, FAST),
        role: builder.add_u64_field(ROLE, FAST),
        partner: builder.add_u64_field(PARTNER, FAST),
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
            // After the first two, so that indexes of models without gates
            // keep their codes.
            Side::Gate => 2,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Side::Key),
            1 => Some(Side::Value),
            2 => Some(Side::Gate),
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

impl Code for Circuit {
    fn code(self) -> u64 {
        match self {
            Circuit::Vo => 0,
            Circuit::Qk => 1,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Circuit::Vo),
            1 => Some(Circuit::Qk),
            _ => None,
        }
    }
}

impl Code for PairSide {
    fn code(self) -> u64 {
        match self {
            PairSide::Src => 0,
            PairSide::Dst => 1,
            PairSide::Both => 2,
        }
    }
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(PairSide::Src),
            1 => Some(PairSide::Dst),
            2 => Some(PairSide::Both),
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
        round_trips(Circuit::ALL);
        round_trips(&[PairSide::Src, PairSide::Dst, PairSide::Both]);
    }
}
