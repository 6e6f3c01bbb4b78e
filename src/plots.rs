//! `glossa plot`: flags to figures (built by glossa-pipeline from the
//! dataset), written where asked.

use std::path::{Path, PathBuf};

use anyhow::Result;
use glossa_load::HubOptions;
use glossa_pipeline::{
    copying_figure, head_figure, neuron_figure, overview_figure, Dataset, UnitFigure,
};
use glossa_plot::{Figure, Format, Measure, Tsne};
use glossa_tables::{write_atomically, Circuit, Polarity, Side};

use crate::args::{MeasureArg, PlotArgs, PlotWhat, UnitPlotArgs};
use crate::resolve::{matching, note_rebuild, open_dataset};

pub fn run(args: PlotArgs) -> Result<()> {
    match args.what {
        PlotWhat::Neuron {
            layer,
            neuron,
            side,
            common,
        } => {
            let (dataset, figure) = unit(&common)?;
            let model = dataset.model(common.model.as_deref(), &HubOptions::from_env())?;
            let side = Side::from(side);
            let scatter = neuron_figure(&dataset, &model, layer, neuron, side, &figure)?;
            let stem = format!("neuron-{layer}-{neuron}-{side}-{}", figure.polarity);
            write(&scatter, &unit_out(&common, stem))
        }
        PlotWhat::Head {
            layer,
            head,
            circuit,
            common,
        } => {
            let (dataset, figure) = unit(&common)?;
            let model = dataset.model(common.model.as_deref(), &HubOptions::from_env())?;
            let circuit = Circuit::from(circuit);
            let scatter = head_figure(&dataset, &model, layer, head, circuit, &figure)?;
            let stem = format!(
                "head-{layer}-{head}-{}-{}",
                circuit.as_str(),
                figure.polarity
            );
            write(&scatter, &unit_out(&common, stem))
        }
        PlotWhat::Overview {
            terms,
            exact,
            measure,
            bottom,
            out,
            data,
        } => {
            let dataset = open_dataset(&data)?;
            let measure = match measure {
                MeasureArg::Peak => Measure::Peak,
                MeasureArg::Lists => Measure::Lists,
            };
            let index = dataset.index(&note_rebuild)?;
            let heat_map = overview_figure(
                &dataset,
                &index,
                &terms,
                matching(exact),
                polarity(bottom),
                measure,
            )?;
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!("overview-{}.html", file_safe(&terms.join("-"))))
            });
            write(&heat_map, &out)
        }
        PlotWhat::Copying { out, data } => {
            let strip = copying_figure(&open_dataset(&data)?)?;
            write(
                &strip,
                &out.unwrap_or_else(|| PathBuf::from("copying.html")),
            )
        }
    }
}

/// The dataset and the drawing options of a unit plot.
fn unit(common: &UnitPlotArgs) -> Result<(Dataset, UnitFigure)> {
    let figure = UnitFigure {
        polarity: polarity(common.bottom),
        entries: common.k,
        normalized: common.normalized,
        labels: common.labels,
        tsne: Tsne {
            dims: if common.three_d { 3 } else { 2 },
            seed: common.seed,
            ..Tsne::default()
        },
    };
    Ok((open_dataset(&common.data)?, figure))
}

fn polarity(bottom: bool) -> Polarity {
    if bottom {
        Polarity::Bottom
    } else {
        Polarity::Top
    }
}

fn unit_out(common: &UnitPlotArgs, stem: String) -> PathBuf {
    common
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{stem}.html")))
}

/// Writes `figure` in the format `out`'s extension names, atomically: a
/// failed write (a full disk) leaves no truncated page behind.
fn write(figure: &dyn Figure, out: &Path) -> Result<()> {
    let format = Format::from_path(out)?;
    write_atomically(out, format.render(figure).as_bytes())?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// A query turned into part of a file name.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect()
}
