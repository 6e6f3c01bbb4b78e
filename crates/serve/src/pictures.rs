//! The t-SNE scatters of the unit pages, drawn once per unit and list and
//! kept (within the catalog's bound) for the next visitor.

use std::sync::Arc;

use glossa_pipeline::{head_figure, neuron_figure, UnitFigure};
use glossa_plot::{Figure, Tsne};
use glossa_tables::{Circuit, Polarity, Side};

use crate::catalog::Served;
use crate::error::ApiError;

/// Entries a page's scatter shows at most: few enough that every label can
/// be drawn and read.
const ENTRIES: usize = 40;

/// Every scatter of a page is drawn the same way: top entries, labelled.
fn figure(held: usize) -> UnitFigure {
    UnitFigure {
        polarity: Polarity::Top,
        entries: Some(held.min(ENTRIES)),
        normalized: false,
        labels: true,
        tsne: Tsne::default(),
    }
}

/// The top tokens of a neuron's `side`, placed by t-SNE.
pub fn neuron_tsne(
    served: &Served,
    layer: u32,
    neuron: u32,
    side: Side,
) -> Result<Arc<str>, ApiError> {
    let dataset = &served.dataset;
    // The list must exist before the model is worth loading.
    if !dataset
        .neuron(layer, neuron)?
        .iter()
        .any(|r| r.side == side)
    {
        return Err(ApiError::not_found(format!(
            "layer {layer}, neuron {neuron} has no {side} list: the model has no gated feed-forward layers"
        )));
    }
    served.picture(format!("neuron {layer} {neuron} {side}"), || {
        let model = served.model()?;
        let held = dataset.manifest().options.k;
        Ok(neuron_figure(dataset, &model, layer, neuron, side, &figure(held))?.svg())
    })
}

/// The tokens of a head circuit's top pairs, placed by t-SNE.
pub fn head_tsne(
    served: &Served,
    layer: u32,
    head: u32,
    circuit: Circuit,
) -> Result<Arc<str>, ApiError> {
    let dataset = &served.dataset;
    dataset.head_summary(layer, head)?;
    served.picture(format!("head {layer} {head} {circuit}"), || {
        let model = served.model()?;
        let held = dataset.manifest().options.head_k;
        Ok(head_figure(dataset, &model, layer, head, circuit, &figure(held))?.svg())
    })
}
