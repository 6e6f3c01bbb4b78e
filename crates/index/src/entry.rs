//! What goes into the index: one entry per token of a neuron's list, one pair
//! entry per pair of a head's list.

use std::fmt;

use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use serde::Serialize;

/// One token at one rank of one neuron's list: what a search finds and ranks.
///
/// A feed-forward neuron has four lists (key and value side, top and bottom end),
/// each holding its strongest tokens; every token of every list becomes one entry.
/// Attention heads list pairs of tokens instead: see [`HeadPairEntry`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeuronEntry<'a> {
    /// Whether the list belongs to a neuron or a head; always
    /// [`UnitKind::Neuron`], since a head's entries are [`HeadPairEntry`]s.
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
    /// (score − mean) / std over the neuron side's selectable scores: how far
    /// the score stands out of its own list's distribution.
    pub z: f32,
}

/// One pair of tokens at one rank of one attention head's list.
///
/// A head has four lists (VO and QK circuit, top and bottom end), each holding its
/// strongest (src, dst) pairs. A pair is found by either of its tokens: a search
/// for `dieta` finds the pairs that have it as src, as dst, or as both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadPairEntry<'a> {
    /// The layer, counted from 0.
    pub layer: u32,
    /// The head's index within its layer.
    pub head: u32,
    /// Which vocab × vocab matrix of the head the list comes from.
    pub circuit: Circuit,
    /// Which end of the ranking the list holds.
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest pair.
    pub rank: u32,
    /// VO: the attended token; QK: the query token.
    pub src_token_id: u32,
    /// The src token's display form (as [`NeuronEntry::token`]).
    pub src_token: &'a str,
    /// VO: the promoted token; QK: the key token.
    pub dst_token_id: u32,
    /// The dst token's display form (as [`NeuronEntry::token`]).
    pub dst_token: &'a str,
    /// The circuit's score for the pair.
    pub score: f32,
    /// (score − mean) / std over the circuit's selectable entries.
    pub z: f32,
}

/// Which token or tokens of a pair: in a [`Hit`](crate::Hit), the ones that
/// matched the search.
///
/// Serialises as `"src"`, `"dst"` or `"both"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairSide {
    /// The src token only.
    Src,
    /// The dst token only.
    Dst,
    /// Both tokens: a pair search, or a term that matches src and dst alike.
    Both,
}

impl PairSide {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            PairSide::Src => "src",
            PairSide::Dst => "dst",
            PairSide::Both => "both",
        }
    }
}

impl fmt::Display for PairSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
