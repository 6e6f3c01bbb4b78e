//! What does a search find? A neuron's entry or a head's pair, each whole.

use std::fmt::Display;

use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use serde::{Serialize, Serializer};

use crate::PairSide;

/// One matching neuron entry or head pair.
///
/// Serialises as one flat object: `kind` (`"neuron"` or `"head"`), then the
/// fields of [`NeuronHit`] or [`HeadHit`] under their names below, the enums as
/// their table names (`"key"`, `"top"`, `"vo"`, `"src"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Hit {
    /// A token of a neuron's list.
    Neuron(NeuronHit),
    /// A pair of a head's list.
    Head(HeadHit),
}

/// A matching token of a neuron's list, with every field of the
/// [`NeuronEntry`](crate::NeuronEntry) it was indexed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeuronHit {
    /// The layer, counted from 0.
    pub layer: u32,
    /// The neuron's index within its layer.
    #[serde(rename = "unit")]
    pub neuron: u32,
    /// Which weight vector of the neuron was projected.
    #[serde(serialize_with = "as_name")]
    pub side: Side,
    /// Which end of the ranking the list holds.
    #[serde(serialize_with = "as_name")]
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest token.
    pub rank: u32,
    /// The token's id in the model's vocabulary.
    pub token_id: u32,
    /// The token's display form.
    pub token: String,
    /// The score that earned the token its rank.
    pub score: f32,
    /// How far the score stands out of the neuron side's selectable scores:
    /// (score − mean) / std.
    pub z: f32,
}

/// A matching pair of a head's list, with every field of the
/// [`HeadPairEntry`](crate::HeadPairEntry) it was indexed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadHit {
    /// The layer, counted from 0.
    pub layer: u32,
    /// The head's index within its layer.
    #[serde(rename = "unit")]
    pub head: u32,
    /// Which matrix of the head the list comes from.
    #[serde(serialize_with = "as_name")]
    pub circuit: Circuit,
    /// Which end of the ranking the list holds.
    #[serde(serialize_with = "as_name")]
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest pair.
    pub rank: u32,
    /// The circuit's score for the pair.
    pub score: f32,
    /// How far the score stands out of the circuit's selectable entries:
    /// (score − mean) / std.
    pub z: f32,
    /// The src token's id (VO: attended; QK: query).
    pub src_token_id: u32,
    /// The src token's display form.
    pub src_token: String,
    /// The dst token's id (VO: promoted; QK: key).
    pub dst_token_id: u32,
    /// The dst token's display form.
    pub dst_token: String,
    /// Which of the pair's tokens matched the search; [`PairSide::Both`] for
    /// every hit of a pair search.
    pub matched: PairSide,
}

impl Hit {
    /// Whether the list belongs to a neuron or a head.
    pub fn kind(&self) -> UnitKind {
        match self {
            Hit::Neuron(_) => UnitKind::Neuron,
            Hit::Head(_) => UnitKind::Head,
        }
    }

    /// The layer, counted from 0.
    pub fn layer(&self) -> u32 {
        match self {
            Hit::Neuron(hit) => hit.layer,
            Hit::Head(hit) => hit.layer,
        }
    }

    /// The neuron's or head's index within its layer.
    pub fn unit(&self) -> u32 {
        match self {
            Hit::Neuron(hit) => hit.neuron,
            Hit::Head(hit) => hit.head,
        }
    }

    /// Which end of the ranking the list holds.
    pub fn polarity(&self) -> Polarity {
        match self {
            Hit::Neuron(hit) => hit.polarity,
            Hit::Head(hit) => hit.polarity,
        }
    }

    /// The position in the list, 1 for the strongest token or pair.
    pub fn rank(&self) -> u32 {
        match self {
            Hit::Neuron(hit) => hit.rank,
            Hit::Head(hit) => hit.rank,
        }
    }

    /// The score that earned the token or pair its rank.
    pub fn score(&self) -> f32 {
        match self {
            Hit::Neuron(hit) => hit.score,
            Hit::Head(hit) => hit.score,
        }
    }

    /// How far the score stands out of its list's distribution.
    pub fn z(&self) -> f32 {
        match self {
            Hit::Neuron(hit) => hit.z,
            Hit::Head(hit) => hit.z,
        }
    }
}

/// Serialises a table enum as the name its `Display` (that is, `as_str`) gives.
fn as_name<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
