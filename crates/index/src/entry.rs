//! What goes into the index: one entry per token of one list.

use glossa_tables::{Polarity, Side, UnitKind};

/// One token at one rank of one unit's list: the unit of indexing.
///
/// A feed-forward neuron has four lists (key and value side, top and bottom end),
/// each holding its strongest tokens; every token of every list becomes one entry.
///
/// Attention heads will be described by a circuit and source/destination tokens
/// rather than by a [`Side`]; they will get fields of their own next to `side`,
/// selected by `kind`, and the index keeps one column per field so that neuron
/// entries are unaffected. Only neurons are indexed today.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// Whether the list belongs to a neuron or a head.
    pub kind: UnitKind,
    /// The layer, counted from 0.
    pub layer: u32,
    /// The neuron's index within its layer.
    pub unit: u32,
    /// Which weight vector of the neuron was projected.
    pub side: Side,
    /// Which end of the ranking the list holds.
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest token.
    pub rank: u32,
    /// The token's id in the model's vocabulary.
    pub token_id: u32,
    /// The token's display form: word-initial pieces bare (`dieta`), continuation
    /// pieces prefixed with `#` (`#owa`), undecodable bytes escaped (`<C5>`).
    pub token: &'a str,
    /// The projection score that earned the token its rank.
    pub score: f32,
}
