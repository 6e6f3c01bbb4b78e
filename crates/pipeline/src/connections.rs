//! The connection stage: which neurons of other layers each neuron excites
//! or inhibits through the residual stream, read from the weights alone.
//!
//! Neuron i of layer l adds its value v_{l,i} to the residual stream; neuron
//! j of a later layer l′ reads the stream through its key k_{l′,j} (and, in
//! gated models, its gate g_{l′,j}). Their connection is the dot product
//! v_{l,i} · k_{l′,j}, as in OpenAI's neuron viewer's "related neurons". For
//! every neuron the stage keeps, exactly:
//!
//! - downstream, per read side (key, gate): the k most positive and k most
//!   negative v_{l,i} · k_{l′,j} over every neuron j of every layer l′ > l;
//! - upstream, per read side: the k most positive and most negative
//!   v_{l′,j} · k_{l,i} over every neuron j of every layer l′ < l.
//!
//! Each pair of layers is one run of the fused GEMM-and-select kernel
//! ([`project`]), the other layer's vectors taking the place of the
//! embedding's rows; the top k over all layers is the top k of the layers'
//! top k, merged, with equal scores ordered by (layer, neuron) as the kernel
//! orders equal scores by row. Keys and gates are read as the run reads them
//! (`--fold-norm` folds the pre-feed-forward gain into them); values are
//! read as they enter the residual stream, with no gain.

use glossa_load::Model;
use glossa_project::{project, Device, Embedding, Extremes, Projection, Tiling, TokenFilter};
use glossa_tables::{ConnectionEntry, Direction, Side};

use crate::error::Result;
use crate::readings::Reading;
use crate::views::view;

/// One neuron's lists of one direction and read side.
pub(crate) struct ConnectionLists {
    pub(crate) neuron: usize,
    pub(crate) direction: Direction,
    pub(crate) side: Side,
    /// Largest scores first.
    pub(crate) top: Vec<ConnectionEntry>,
    /// Most negative scores first.
    pub(crate) bottom: Vec<ConnectionEntry>,
}

/// The sides through which a neuron reads the residual stream: its key, and
/// its gate in gated models (gate first, as the neuron tables order sides).
pub(crate) fn read_sides(model: &Model) -> Vec<Side> {
    Reading::sides(model)
        .into_iter()
        .filter(|&side| side != Side::Value)
        .collect()
}

/// The connection lists of every neuron of `layer`, `k` at each end, in
/// table order: by neuron, then direction (downstream first), then side.
/// Calls `progress(n)` as n more neurons are scored against one layer.
pub(crate) fn layer_connections(
    model: &Model,
    layer: usize,
    k: usize,
    reading: Reading,
    device: Device,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<ConnectionLists>> {
    let sides = read_sides(model);
    let d_ff = model.shape.d_ff;
    let score = |vectors: &glossa_load::Matrix, others: &glossa_load::Matrix| {
        project(
            &Projection {
                vectors: view(vectors),
                embedding: Embedding::Dense(view(others)),
                tokens: others.rows(),
                k,
                filter: TokenFilter::all(),
                tiling: Tiling::default(),
                device,
            },
            progress,
        )
    };
    // Per direction and side, every neuron's candidates so far.
    let mut groups: Vec<(Direction, Side, Vec<Candidates>)> = Vec::new();
    if layer + 1 < model.shape.layers {
        let values = reading.residual_values(model, layer)?;
        let mut merged: Vec<Vec<Candidates>> = vec![vec![Candidates::default(); d_ff]; sides.len()];
        for later in layer + 1..model.shape.layers {
            for (side, merged) in sides.iter().zip(&mut merged) {
                let (keys, _) = reading.neuron_side(model, later, *side)?;
                add(merged, later, score(&values, &keys)?);
            }
        }
        groups.extend(
            sides
                .iter()
                .zip(merged)
                .map(|(&side, merged)| (Direction::Downstream, side, merged)),
        );
    }
    if layer > 0 {
        let keys = sides
            .iter()
            .map(|&side| Ok(reading.neuron_side(model, layer, side)?.0))
            .collect::<Result<Vec<_>>>()?;
        let mut merged: Vec<Vec<Candidates>> = vec![vec![Candidates::default(); d_ff]; sides.len()];
        for earlier in 0..layer {
            let values = reading.residual_values(model, earlier)?;
            for (keys, merged) in keys.iter().zip(&mut merged) {
                add(merged, earlier, score(keys, &values)?);
            }
        }
        groups.extend(
            sides
                .iter()
                .zip(merged)
                .map(|(&side, merged)| (Direction::Upstream, side, merged)),
        );
    }
    let mut lists = Vec::with_capacity(d_ff * groups.len());
    for neuron in 0..d_ff {
        for (direction, side, merged) in &groups {
            let (top, bottom) = merged[neuron].best(k);
            lists.push(ConnectionLists {
                neuron,
                direction: *direction,
                side: *side,
                top,
                bottom,
            });
        }
    }
    Ok(lists)
}

/// One neuron's top and bottom candidates from the layers scored so far.
#[derive(Debug, Clone, Default)]
struct Candidates {
    top: Vec<ConnectionEntry>,
    bottom: Vec<ConnectionEntry>,
}

/// Adds each neuron's extremes against the neurons of `other_layer`.
fn add(candidates: &mut [Candidates], other_layer: usize, extremes: Vec<Extremes>) {
    let entry = |scored: &glossa_project::Scored| ConnectionEntry {
        other_layer: other_layer as u32,
        other_neuron: scored.token,
        score: scored.score,
    };
    for (candidates, extremes) in candidates.iter_mut().zip(extremes) {
        candidates.top.extend(extremes.top.iter().map(entry));
        candidates.bottom.extend(extremes.bottom.iter().map(entry));
    }
}

impl Candidates {
    /// The k strongest at each end over every layer: the largest (most
    /// negative) scores first, equal scores by layer, then neuron.
    fn best(&self, k: usize) -> (Vec<ConnectionEntry>, Vec<ConnectionEntry>) {
        let order = |list: &[ConnectionEntry], descending: bool| {
            let mut list = list.to_vec();
            list.sort_by(|a, b| {
                let by_score = if descending {
                    b.score.total_cmp(&a.score)
                } else {
                    a.score.total_cmp(&b.score)
                };
                by_score
                    .then(a.other_layer.cmp(&b.other_layer))
                    .then(a.other_neuron.cmp(&b.other_neuron))
            });
            list.truncate(k);
            list
        };
        (order(&self.top, true), order(&self.bottom, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(other_layer: u32, other_neuron: u32, score: f32) -> ConnectionEntry {
        ConnectionEntry {
            other_layer,
            other_neuron,
            score,
        }
    }

    #[test]
    fn the_best_over_layers_are_the_best_of_each_layers_best() {
        let candidates = Candidates {
            top: vec![
                entry(2, 5, 3.0),
                entry(2, 1, 1.0),
                entry(1, 9, 3.0),
                entry(1, 0, 2.0),
            ],
            bottom: vec![entry(2, 0, -1.0), entry(1, 4, -4.0), entry(1, 3, -1.0)],
        };
        let (top, bottom) = candidates.best(3);
        assert_eq!(top, [entry(1, 9, 3.0), entry(2, 5, 3.0), entry(1, 0, 2.0)]);
        assert_eq!(
            bottom,
            [entry(1, 4, -4.0), entry(1, 3, -1.0), entry(2, 0, -1.0)]
        );
    }
}
