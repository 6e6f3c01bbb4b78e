//! The figures of `glossa plot`: a dataset's lists (and, for token plots, the
//! embedding rows of the model it came from) turned into the plain points
//! and values that glossa-plot draws.

use glossa_index::{Hit, Index, Matching, Search};
use glossa_load::{HubOptions, Matrix, Model, ModelSource};
use glossa_plot::{
    concept_map, Group, HeatMap, Marker, Match, Measure, Point, Scatter, StripPlot, Tsne,
};
use glossa_tables::{Circuit, HeadRow, Polarity, Side};

use crate::dataset::Dataset;
use crate::error::{PipelineError, Result};
use crate::extract::shape_record;
use crate::observer::Silent;

/// Tokens (or pairs) plotted when no count is asked for, if the list holds them.
const DEFAULT_ENTRIES: usize = 100;

/// The columns of the overview: neuron sides, then head circuits.
const COLUMNS: [&str; 4] = ["neuron key", "neuron value", "head VO", "head QK"];

/// How to draw one unit's list.
#[derive(Debug, Clone)]
pub struct UnitFigure {
    /// The top or the bottom list.
    pub polarity: Polarity,
    /// Entries to plot [default: 100, or the whole list when shorter].
    pub entries: Option<usize>,
    /// Scale embedding rows to unit length before t-SNE.
    pub normalized: bool,
    /// Label every point (not only on hover).
    pub labels: bool,
    /// The layout.
    pub tsne: Tsne,
}

impl UnitFigure {
    /// How many entries to plot out of a list of `held`.
    fn entries(&self, held: usize, what: &'static str) -> Result<usize> {
        match self.entries {
            Some(0) => Err(PipelineError::NoEntriesToPlot),
            Some(asked) if asked > held => Err(PipelineError::TooManyToPlot { asked, held, what }),
            Some(asked) => Ok(asked),
            None => Ok(held.min(DEFAULT_ENTRIES)),
        }
    }

    fn subtitle(&self, perplexity: f64, matrix: &str) -> String {
        format!(
            "t-SNE ({}-D, perplexity {}, PCA initialisation, seed {}) of the tokens' rows of {matrix}{}",
            self.tsne.dims,
            (perplexity * 1000.0).round() / 1000.0,
            self.tsne.seed,
            if self.normalized {
                ", scaled to unit length"
            } else {
                ""
            }
        )
    }

    /// Unit-length rows when asked for.
    fn prepare(&self, mut vectors: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
        if self.normalized {
            for v in &mut vectors {
                let norm = dot(v, v).sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
                }
            }
        }
        vectors
    }
}

impl Dataset {
    /// The model this dataset was extracted from: `model` when given (it has
    /// moved), else the one the manifest names (a hub model at the recorded
    /// commit, from the cache when offline; a local directory as given, or
    /// where it was when extracted).
    ///
    /// Refused when its shape is not the dataset's.
    pub fn model(&self, model: Option<&str>, hub: &HubOptions) -> Result<Model> {
        let manifest = self.manifest();
        let revision = manifest
            .commit
            .clone()
            .or_else(|| manifest.revision.clone())
            .unwrap_or_else(|| "main".to_string());
        let name = match (model, &manifest.model_dir) {
            (Some(model), _) => model.to_string(),
            (None, Some(dir)) if !std::path::Path::new(&manifest.model).is_dir() => {
                dir.display().to_string()
            }
            (None, _) => manifest.model.clone(),
        };
        let files = ModelSource::parse(&name, &revision)
            .and_then(|source| source.resolve(hub, &mut Silent))
            .map_err(|source| PipelineError::ModelOfDataset {
                name: name.clone(),
                source,
            })?;
        let loaded = Model::load(&files)?;
        let shape = shape_record(&loaded.shape);
        if shape != manifest.shape {
            return Err(PipelineError::NotTheDatasetsModel {
                name,
                dir: self.dir().to_path_buf(),
                found: shape.to_string(),
                expected: manifest.shape.to_string(),
            });
        }
        Ok(loaded)
    }
}

/// A neuron's list, its tokens placed by t-SNE of their unembedding rows.
pub fn neuron_figure(
    dataset: &Dataset,
    model: &Model,
    layer: u32,
    neuron: u32,
    side: Side,
    figure: &UnitFigure,
) -> Result<Scatter> {
    let polarity = figure.polarity;
    let list: Vec<_> = dataset
        .neuron(layer, neuron)?
        .into_iter()
        .filter(|r| r.side == side && r.polarity == polarity)
        .collect();
    let k = figure.entries(list.len(), "tokens")?;
    let list = &list[..k];
    let (weights, embedding) = dataset.reading().neuron_side(model, layer as usize, side)?;
    let vector = row(&weights, neuron as usize)?;
    let vectors: Vec<Vec<f32>> = list
        .iter()
        .map(|r| row(embedding, r.token_id as usize))
        .collect::<glossa_load::Result<_>>()?;
    let scores: Vec<(f64, f64)> = list
        .iter()
        .zip(&vectors)
        .map(|(r, e)| (r.score as f64, dot(&vector, e)))
        .collect();
    check_scores(dataset, &scores)?;
    let embedding = figure.tsne.embed(&figure.prepare(vectors))?;
    let points = list
        .iter()
        .enumerate()
        .map(|(i, r)| Point {
            label: r.token.clone(),
            score: r.score as f64,
            position: embedding.point(i).to_vec(),
            marker: Marker::Circle,
            detail: format!("rank {}, token id {}", r.rank, r.token_id),
        })
        .collect();
    Ok(Scatter {
        subtitle: figure.subtitle(embedding.perplexity, "the unembedding E"),
        labels: figure.labels,
        ..Scatter::new(
            format!("layer {layer}, neuron {neuron}: {side} vector, {polarity} {k} tokens"),
            points,
        )
    })
}

/// Where a token appears in a head's pairs.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Src,
    Dst,
    Both,
}

/// A token of a head figure: each token once, in order of its strongest pair.
struct PairToken {
    id: u32,
    text: String,
    role: Role,
    score: f64,
    detail: String,
}

/// A head circuit's pairs: their tokens placed by t-SNE of their input
/// embedding rows, src and dst marked apart, each pair joined by a line.
pub fn head_figure(
    dataset: &Dataset,
    model: &Model,
    layer: u32,
    head: u32,
    circuit: Circuit,
    figure: &UnitFigure,
) -> Result<Scatter> {
    let polarity = figure.polarity;
    let list: Vec<HeadRow> = dataset
        .head(layer, head)?
        .into_iter()
        .filter(|r| r.circuit == circuit && r.polarity == polarity)
        .collect();
    let k = figure.entries(list.len(), "pairs")?;
    let list = &list[..k];
    let weights = dataset
        .reading()
        .circuit(model, layer as usize, head as usize, circuit)?;
    // The same scores as the tables: (E_src·W_src)·(E_dst·W_dst).
    let (src_weight, dst_weight) = (
        weights.src_weight.to_row_major()?,
        weights.dst_weight.to_row_major()?,
    );
    let scores: Vec<(f64, f64)> = list
        .iter()
        .map(|r| {
            let src = times(
                &row(weights.src_embedding, r.src_token_id as usize)?,
                &src_weight,
            );
            let dst = times(
                &row(weights.dst_embedding, r.dst_token_id as usize)?,
                &dst_weight,
            );
            Ok((r.score as f64, dot(&src, &dst)))
        })
        .collect::<glossa_load::Result<_>>()?;
    check_scores(dataset, &scores)?;

    let mut tokens: Vec<PairToken> = Vec::new();
    let mut links = Vec::new();
    let mut index_of = |id: u32, text: &str, role: Role, r: &HeadRow| -> usize {
        if let Some(i) = tokens.iter().position(|t| t.id == id) {
            if tokens[i].role != role {
                tokens[i].role = Role::Both;
            }
            return i;
        }
        tokens.push(PairToken {
            id,
            text: text.to_string(),
            role,
            score: r.score as f64,
            detail: format!(
                "first in pair {}: {} -> {}",
                r.rank, r.src_token, r.dst_token
            ),
        });
        tokens.len() - 1
    };
    for r in list {
        let a = index_of(r.src_token_id, &r.src_token, Role::Src, r);
        let b = index_of(r.dst_token_id, &r.dst_token, Role::Dst, r);
        if a != b {
            links.push((a, b));
        }
    }
    let vectors = tokens
        .iter()
        .map(|t| row(&model.embedding, t.id as usize))
        .collect::<glossa_load::Result<_>>()?;
    let embedding = figure.tsne.embed(&figure.prepare(vectors))?;
    let (src, dst) = match circuit {
        Circuit::Vo => ("attended (src)", "promoted (dst)"),
        Circuit::Qk => ("query (src)", "key (dst)"),
    };
    let points = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| Point {
            label: t.text.clone(),
            score: t.score,
            position: embedding.point(i).to_vec(),
            marker: match t.role {
                Role::Src => Marker::Circle,
                Role::Dst => Marker::Square,
                Role::Both => Marker::Diamond,
            },
            detail: format!("{}\ntoken id {}", t.detail, t.id),
        })
        .collect();
    Ok(Scatter {
        subtitle: figure.subtitle(embedding.perplexity, "the input embedding wte"),
        labels: figure.labels,
        links,
        markers: vec![
            (Marker::Circle, src.to_string()),
            (Marker::Square, dst.to_string()),
            (Marker::Diamond, "both".to_string()),
        ],
        score_label: "best pair score".to_string(),
        ..Scatter::new(
            format!(
                "layer {layer}, head {head}: {} circuit, {polarity} {k} pairs",
                circuit.as_str().to_uppercase()
            ),
            points,
        )
    })
}

/// Layer × unit kind: how strongly the `polarity` lists hold tokens matching
/// `terms` (search syntax), by `measure`.
pub fn overview_figure(
    dataset: &Dataset,
    index: &Index,
    terms: &[String],
    matching: Matching,
    polarity: Polarity,
    measure: Measure,
) -> Result<HeatMap> {
    let manifest = dataset.manifest();
    let layers = manifest.shape.layers;
    let search = Search {
        polarity: Some(polarity),
        limit: usize::MAX,
        matching,
        ..Search::parse_terms(terms)?
    };
    let matches: Vec<Match> = dataset
        .search(index, &search)?
        .into_iter()
        .map(|hit| {
            let (column, what) = match &hit {
                Hit::Neuron(neuron) => (
                    if neuron.side == Side::Key { 0 } else { 1 },
                    format!("neuron {} {}: {}", neuron.neuron, neuron.side, neuron.token),
                ),
                Hit::Head(head) => (
                    if head.circuit == Circuit::Vo { 2 } else { 3 },
                    format!(
                        "head {}: {} -> {}",
                        head.head, head.src_token, head.dst_token
                    ),
                ),
            };
            Match {
                layer: hit.layer() as usize,
                column,
                // Lists of a cell are told apart by unit: one polarity is plotted.
                list: hit.unit() as u64,
                rank: hit.rank(),
                score: hit.score() as f64,
                z: hit.z() as f64,
                what,
            }
        })
        .collect();

    // Which columns have lists at all: a cell of one without a match is 0.
    let options = &manifest.options;
    let extracted = [
        options.neurons,
        options.neurons,
        options.heads,
        options.heads,
    ];
    let explained = match measure {
        Measure::Peak => {
            "colour: the largest |z| of a matching entry, how many standard deviations it stands out of its own list's scores"
        }
        Measure::Lists => "colour: the number of lists (units) holding a matching token",
    };
    Ok(concept_map(
        format!(
            "where {} lives in {}: {polarity} lists",
            terms.join(" "),
            model_name(dataset)
        ),
        explained,
        layers,
        COLUMNS.iter().map(|c| c.to_string()).collect(),
        &matches,
        &extracted,
        measure,
    ))
}

/// Per layer, the copying scores of the heads' VO circuits.
pub fn copying_figure(dataset: &Dataset) -> Result<StripPlot> {
    let summaries = dataset
        .head_summaries()?
        .ok_or_else(|| PipelineError::NoHeads {
            dir: dataset.dir().to_path_buf(),
        })?;
    let mut groups: Vec<Group> = (0..dataset.manifest().shape.layers)
        .map(|l| Group {
            name: l.to_string(),
            values: Vec::new(),
        })
        .collect();
    for r in summaries {
        if let (Some(score), Some(group)) = (r.copying_score, groups.get_mut(r.layer as usize)) {
            group
                .values
                .push((score, format!("layer {} head {}", r.layer, r.head)));
        }
    }
    Ok(StripPlot {
        title: format!(
            "copying scores of the heads of {}, per layer",
            model_name(dataset)
        ),
        subtitle: "Σλ / Σ|λ| over the eigenvalues of each VO matrix: 1 copies, −1 suppresses"
            .to_string(),
        group_label: "layer".to_string(),
        value_label: "copying score".to_string(),
        groups,
        range: Some((-1.0, 1.0)),
    })
}

/// The model as a title names it: a hub id, or a local directory's name.
fn model_name(dataset: &Dataset) -> String {
    let manifest = dataset.manifest();
    let name = std::path::Path::new(&manifest.model);
    match (&manifest.model_dir, name.file_name()) {
        (Some(_), Some(last)) => last.to_string_lossy().into_owned(),
        _ => manifest.model.clone(),
    }
}

/// Fails unless the model reproduces the table's scores: a plot must place
/// the tokens of the model the lists came from.
fn check_scores(dataset: &Dataset, scores: &[(f64, f64)]) -> Result<()> {
    let scale = scores.iter().map(|p| p.0.abs()).fold(0.0, f64::max);
    match scores
        .iter()
        .find(|(table, model)| (table - model).abs() > 1e-3 * scale + 1e-6)
    {
        Some(&(table, model)) => Err(PipelineError::ScoresDiffer {
            name: dataset.manifest().model.clone(),
            table,
            model,
        }),
        None => Ok(()),
    }
}

/// Row `i` of `m`.
/// Row `i` of `m`, decoded.
fn row(m: &Matrix, i: usize) -> glossa_load::Result<Vec<f32>> {
    let mut out = vec![0f32; m.cols()];
    m.read_rows(i, 1, &mut out)?;
    Ok(out)
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// `v · M` for a row vector `v` and a row-major `v.len() × cols` matrix `M`.
fn times(v: &[f32], m: &[f32]) -> Vec<f32> {
    let cols = m.len() / v.len().max(1);
    (0..cols)
        .map(|c| {
            v.iter()
                .enumerate()
                .map(|(r, &x)| x as f64 * m[r * cols + c] as f64)
                .sum::<f64>() as f32
        })
        .collect()
}
