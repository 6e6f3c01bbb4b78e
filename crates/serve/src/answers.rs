//! What the JSON API (and the MCP tools) answer: the questions as typed
//! parameters, the answers as serialisable types, and the functions between.
//!
//! Each function reads the dataset synchronously (tantivy, Parquet); callers
//! on the async side run it on the blocking pool.

use std::collections::BTreeMap;

use glossa_index::{Hit, LayerCount, Matching, Search, Sort};
use glossa_tables::{Circuit, HeadRow, Manifest, NeuronRow, Polarity, Side, UnitKind};
use rmcp::schemars;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Served};
use crate::error::ApiError;

/// Longest query (in bytes) a search accepts: no token is near it, and
/// longer ones would only make the term automata slow.
pub const MAX_QUERY: usize = 1000;

/// Most hits one search returns.
pub const MAX_LIMIT: usize = 1000;

/// Hits a search returns unless told.
const DEFAULT_LIMIT: usize = 20;

/// A search, as the API's query string and the MCP tool take it.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Tokens to look for, separated by spaces (any of them): `dieta`, a
    /// prefix `diet*`, a fuzzy match `dieta~1`, a continuation piece `#owa`;
    /// or a head pair `dieta -> zdrowie`. Case, diacritics and the
    /// word-initial marker are ignored.
    pub q: String,
    /// Only neurons or only heads.
    pub kind: Option<KindParam>,
    /// Only this layer (from 0).
    pub layer: Option<u32>,
    /// Only gate, key or value lists (neurons; gates where the model has them).
    pub side: Option<SideParam>,
    /// Only VO or only QK lists (heads).
    pub circuit: Option<CircuitParam>,
    /// Only top or only bottom lists.
    pub polarity: Option<PolarityParam>,
    /// Match diacritics and word forms exactly (by default `dieta` also
    /// finds `dietą` and `diecie`).
    pub exact: Option<bool>,
    /// At most this many hits (default 20, at most 1000).
    pub limit: Option<usize>,
    /// The order of the hits: `z` (default: how far each score stands out of
    /// its own list), `rank` or `score`.
    pub sort: Option<SortParam>,
}

/// The order of a search's hits.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortParam {
    Z,
    Rank,
    Score,
}

/// Which kind of unit.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindParam {
    Neuron,
    Head,
}

/// Which side of a neuron.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SideParam {
    Gate,
    Key,
    Value,
}

/// Which circuit of a head.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CircuitParam {
    Vo,
    Qk,
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolarityParam {
    Top,
    Bottom,
}

impl SearchParams {
    /// The index search these parameters ask for.
    fn search(&self) -> Result<Search, ApiError> {
        check_query(&self.q)?;
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit > MAX_LIMIT {
            return Err(ApiError::bad_request(format!(
                "a limit of {limit} is too many; at most {MAX_LIMIT} hits are returned"
            )));
        }
        let words: Vec<&str> = self.q.split_whitespace().collect();
        let search = Search::parse_terms(&words).map_err(glossa_pipeline::PipelineError::from)?;
        let search = Search {
            kind: self.kind.map(|k| match k {
                KindParam::Neuron => UnitKind::Neuron,
                KindParam::Head => UnitKind::Head,
            }),
            layer: self.layer,
            side: self.side.map(|s| match s {
                SideParam::Gate => Side::Gate,
                SideParam::Key => Side::Key,
                SideParam::Value => Side::Value,
            }),
            circuit: self.circuit.map(|c| match c {
                CircuitParam::Vo => Circuit::Vo,
                CircuitParam::Qk => Circuit::Qk,
            }),
            polarity: self.polarity.map(|p| match p {
                PolarityParam::Top => Polarity::Top,
                PolarityParam::Bottom => Polarity::Bottom,
            }),
            matching: matching(self.exact.unwrap_or(false)),
            sort: match self.sort {
                None | Some(SortParam::Z) => Sort::Z,
                Some(SortParam::Rank) => Sort::Rank,
                Some(SortParam::Score) => Sort::Score,
            },
            limit,
            ..search
        };
        search
            .validate()
            .map_err(glossa_pipeline::PipelineError::from)?;
        Ok(search)
    }
}

fn matching(exact: bool) -> Matching {
    if exact {
        Matching::Exact
    } else {
        Matching::Folded
    }
}

/// Refuses an empty or overlong query before it reaches the index.
fn check_query(q: &str) -> Result<(), ApiError> {
    if q.len() > MAX_QUERY {
        return Err(ApiError::new(
            axum::http::StatusCode::URI_TOO_LONG,
            format!(
                "a query of {} bytes is too long; at most {MAX_QUERY}",
                q.len()
            ),
        ));
    }
    if q.trim().is_empty() {
        return Err(ApiError::bad_request("the query is empty: give q=TOKEN"));
    }
    Ok(())
}

/// A served dataset, in a list of them.
#[derive(Debug, Serialize)]
pub struct DatasetEntry {
    pub name: String,
    pub model: String,
    pub architecture: String,
    pub layers: usize,
    pub heads: usize,
    pub neurons_per_layer: usize,
}

/// `GET /api/v1/datasets`.
pub fn datasets(catalog: &Catalog) -> Vec<DatasetEntry> {
    catalog
        .datasets()
        .iter()
        .map(|served| {
            let manifest = served.dataset.manifest();
            DatasetEntry {
                name: served.name.clone(),
                model: manifest.model.clone(),
                architecture: manifest.architecture.clone(),
                layers: manifest.shape.layers,
                heads: manifest.shape.heads,
                neurons_per_layer: manifest.shape.d_ff,
            }
        })
        .collect()
}

/// `GET /api/v1/datasets/NAME`: the manifest as written.
#[derive(Debug, Serialize)]
pub struct InfoAnswer<'a> {
    pub dataset: &'a str,
    pub manifest: &'a Manifest,
}

pub fn info(served: &Served) -> InfoAnswer<'_> {
    InfoAnswer {
        dataset: &served.name,
        manifest: served.dataset.manifest(),
    }
}

/// The hits of a search, strongest first (by |z| unless told otherwise).
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    pub dataset: String,
    pub query: String,
    pub hits: Vec<Hit>,
    /// Every matching entry, however many hits the limit kept.
    pub total: usize,
}

pub fn search(served: &Served, params: &SearchParams) -> Result<SearchAnswer, ApiError> {
    let search = params.search()?;
    let page = served.dataset.page(&served.index, &search)?;
    Ok(SearchAnswer {
        dataset: served.name.clone(),
        query: params.q.clone(),
        hits: page.hits,
        total: page.total,
    })
}

/// One entry of a neuron's list.
#[derive(Debug, Clone, Serialize)]
pub struct TokenEntry {
    pub rank: u32,
    pub token_id: u32,
    pub token: String,
    pub score: f32,
}

/// The two ends of one list.
#[derive(Debug, Serialize)]
pub struct Ends<T> {
    pub top: Vec<T>,
    pub bottom: Vec<T>,
}

impl<T> Default for Ends<T> {
    fn default() -> Ends<T> {
        Ends {
            top: Vec::new(),
            bottom: Vec::new(),
        }
    }
}

impl<T> Ends<T> {
    fn push(&mut self, polarity: Polarity, entry: T) {
        match polarity {
            Polarity::Top => self.top.push(entry),
            Polarity::Bottom => self.bottom.push(entry),
        }
    }
}

/// A neuron's key and value lists (and gate list, where the model has
/// one), both ends, strongest first.
#[derive(Debug, Serialize)]
pub struct NeuronAnswer {
    pub dataset: String,
    pub layer: u32,
    pub neuron: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<Ends<TokenEntry>>,
    pub key: Ends<TokenEntry>,
    pub value: Ends<TokenEntry>,
}

pub fn neuron(served: &Served, layer: u32, neuron: u32) -> Result<NeuronAnswer, ApiError> {
    let rows: Vec<NeuronRow> = served.dataset.neuron(layer, neuron)?;
    let mut answer = NeuronAnswer {
        dataset: served.name.clone(),
        layer,
        neuron,
        gate: None,
        key: Ends::default(),
        value: Ends::default(),
    };
    for r in rows {
        let list = match r.side {
            Side::Gate => answer.gate.get_or_insert_with(Ends::default),
            Side::Key => &mut answer.key,
            Side::Value => &mut answer.value,
        };
        list.push(
            r.polarity,
            TokenEntry {
                rank: r.rank,
                token_id: r.token_id,
                token: r.token,
                score: r.score,
            },
        );
    }
    Ok(answer)
}

/// One pair of a head's list: VO src is attended and dst promoted; QK src
/// is the query and dst the key.
#[derive(Debug, Clone, Serialize)]
pub struct PairEntry {
    pub rank: u32,
    pub src_token_id: u32,
    pub src_token: String,
    pub dst_token_id: u32,
    pub dst_token: String,
    pub score: f32,
}

/// One circuit of a head: its summary row and its pair lists.
#[derive(Debug, Default, Serialize)]
pub struct CircuitAnswer {
    /// ‖E·W·Eᵀ‖_F of the vocab × vocab matrix.
    pub frobenius_norm: Option<f64>,
    pub max_entry: Option<f32>,
    pub min_entry: Option<f32>,
    /// Σλ / Σ|λ| over the eigenvalues (VO only): 1 copies, −1 suppresses.
    pub copying_score: Option<f64>,
    /// Share of the matrix's entries computed (the rest were pruned).
    pub computed_share: Option<f64>,
    pub pairs: Ends<PairEntry>,
}

/// A head's VO and QK circuits.
#[derive(Debug, Serialize)]
pub struct HeadAnswer {
    pub dataset: String,
    pub layer: u32,
    pub head: u32,
    pub vo: CircuitAnswer,
    pub qk: CircuitAnswer,
}

pub fn head(served: &Served, layer: u32, head: u32) -> Result<HeadAnswer, ApiError> {
    let rows: Vec<HeadRow> = served.dataset.head(layer, head)?;
    let summary = served.dataset.head_summary(layer, head)?;
    let mut answer = HeadAnswer {
        dataset: served.name.clone(),
        layer,
        head,
        vo: CircuitAnswer::default(),
        qk: CircuitAnswer::default(),
    };
    for s in summary {
        let circuit = match s.circuit {
            Circuit::Vo => &mut answer.vo,
            Circuit::Qk => &mut answer.qk,
        };
        circuit.frobenius_norm = Some(s.frobenius_norm);
        circuit.max_entry = Some(s.max_entry);
        circuit.min_entry = Some(s.min_entry);
        circuit.copying_score = s.copying_score;
        circuit.computed_share = Some(s.computed_share);
    }
    for r in rows {
        let circuit = match r.circuit {
            Circuit::Vo => &mut answer.vo,
            Circuit::Qk => &mut answer.qk,
        };
        circuit.pairs.push(
            r.polarity,
            PairEntry {
                rank: r.rank,
                src_token_id: r.src_token_id,
                src_token: r.src_token,
                dst_token_id: r.dst_token_id,
                dst_token: r.dst_token,
                score: r.score,
            },
        );
    }
    Ok(answer)
}

/// Every list that holds one token (case and the word-initial marker
/// ignored, diacritics kept), by layer.
#[derive(Debug, Serialize)]
pub struct TokenAnswer {
    pub dataset: String,
    pub token: String,
    /// Per layer and kind, how many neurons and heads hold it, and the
    /// strongest of their entries (by |z|).
    pub by_layer: Vec<LayerCount>,
    /// Per layer, the lists that hold it, strongest (by |z|) first.
    pub layers: BTreeMap<u32, Vec<Hit>>,
}

pub fn token(served: &Served, token: &str) -> Result<TokenAnswer, ApiError> {
    let search = token_search(token)?;
    let hits = served.dataset.search(&served.index, &search)?;
    let counts = served.dataset.count_by_layer(&served.index, &search)?;
    let mut layers: BTreeMap<u32, Vec<Hit>> = BTreeMap::new();
    for hit in hits {
        layers.entry(hit.layer()).or_default().push(hit);
    }
    Ok(TokenAnswer {
        dataset: served.name.clone(),
        token: token.to_string(),
        by_layer: counts,
        layers,
    })
}

/// The search of a token page: that token whole, diacritics kept.
pub fn token_search(token: &str) -> Result<Search, ApiError> {
    check_query(token)?;
    Ok(Search {
        matching: Matching::Exact,
        limit: MAX_LIMIT,
        ..Search::parse_terms(&[token.trim()]).map_err(glossa_pipeline::PipelineError::from)?
    })
}
