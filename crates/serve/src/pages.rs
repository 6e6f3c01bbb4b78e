//! The HTML pages: datasets, search, neuron, head, token and layer pages,
//! each at a stable URL, linked to one another. Lists are rendered here;
//! search results and t-SNE scatters are filled in by the page's script from
//! the JSON API.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use glossa_index::{Hit, Matching};
use glossa_pipeline::{copying_figure, overview_figure};
use glossa_plot::{Figure, Measure};
use glossa_tables::{HeadSummaryRow, Manifest, Polarity};

use crate::answers::{self, Ends, PairEntry, SearchParams};
use crate::api::{blocking, path};
use crate::catalog::{Catalog, Served};
use crate::error::ApiError;
use crate::html::{
    base, escape, head_url, layer_url, maybe_link, neuron_url, page, score_cell, token_label,
    token_link, url_part, SCRIPT, STYLE,
};

pub fn routes() -> Router<Arc<Catalog>> {
    Router::new()
        .route("/", get(home))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .route("/d/{dataset}", get(dataset_page))
        .route("/d/{dataset}/search", get(search_page))
        .route("/d/{dataset}/neuron/{layer}/{neuron}", get(neuron_page))
        .route("/d/{dataset}/head/{layer}/{head}", get(head_page))
        .route("/d/{dataset}/layer/{layer}", get(layer_page))
        .route("/d/{dataset}/token/{token}", get(token_page))
}

type PageResult = Result<Response, PageError>;

/// An error shown as a page, with its status.
pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

pub fn error_page(error: ApiError) -> Response {
    let body = format!(
        r#"<h1>{} {}</h1><p class="error">{}</p><p><a href="/">All datasets</a></p>"#,
        error.status.as_u16(),
        escape(error.status.canonical_reason().unwrap_or("")),
        escape(&error.message)
    );
    let title = error.status.as_str().to_string();
    (error.status, page(&title, None, &body)).into_response()
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn home(State(catalog): State<Arc<Catalog>>) -> PageResult {
    let mut body = String::from("<h1>Datasets</h1><ul class=\"datasets\">");
    for entry in answers::datasets(&catalog) {
        let _ = write!(
            body,
            r#"<li><a href="{}">{}</a> <span class="muted">{} · {} layers × {} heads, {} neurons per layer</span></li>"#,
            base(&entry.name),
            escape(&entry.name),
            escape(&entry.model),
            entry.layers,
            entry.heads,
            entry.neurons_per_layer
        );
    }
    body.push_str("</ul>");
    Ok(page("Datasets", None, &body).into_response())
}

/// The dataset `name`, shared with a blocking task.
fn served(catalog: &Catalog, name: Result<String, ApiError>) -> Result<Arc<Served>, ApiError> {
    Ok(catalog.get(&name?)?.clone())
}

async fn dataset_page(
    State(catalog): State<Arc<Catalog>>,
    name: Result<Path<String>, PathRejection>,
) -> PageResult {
    let served = served(&catalog, path(name))?;
    let name = served.name.clone();
    let body = blocking(move || {
        let manifest = served.dataset.manifest();
        let mut body = format!(
            "<h1>{}</h1><p class=\"lead\">{}</p>",
            escape(&served.name),
            escape(&manifest.model)
        );
        let _ = write!(
            body,
            r#"<form class="big-search" action="{}/search" method="get"><input name="q" placeholder="a token: dieta, diet*, dieta~1, dieta -> zdrowie" aria-label="search"> <button>Search</button></form>"#,
            base(&served.name)
        );
        body.push_str("<h2>Layers</h2><p class=\"layers\">");
        // A shard holds some layers only.
        for layer in manifest.layers() {
            let layer = layer as u32;
            let _ = write!(
                body,
                r#"<a href="{}">layer {layer}</a> "#,
                layer_url(&served.name, layer)
            );
        }
        body.push_str("</p><h2>Manifest</h2>");
        body.push_str(&manifest_html(manifest));
        if manifest.options.heads {
            let picture = served.picture("copying".to_string(), || {
                Ok(copying_figure(&served.dataset)?.svg())
            });
            body.push_str("<h2>Copying heads</h2>");
            body.push_str(&figure_html(picture));
        }
        Ok(body)
    })
    .await?;
    Ok(page(&name, Some(&name), &body).into_response())
}

/// A picture inline, or why it cannot be shown.
fn figure_html(picture: Result<Arc<str>, ApiError>) -> String {
    match picture {
        Ok(svg) => format!(r#"<div class="figure">{svg}</div>"#),
        Err(error) => format!(
            r#"<p class="note">No picture: {}</p>"#,
            escape(&error.message)
        ),
    }
}

/// The manifest in readable form: what was extracted, from what, and how.
fn manifest_html(manifest: &Manifest) -> String {
    let options = &manifest.options;
    let vocabulary = &manifest.vocabulary;
    let mut rows: Vec<(&str, String)> = vec![("model", escape(&manifest.model))];
    if let Some(revision) = &manifest.revision {
        rows.push((
            "revision",
            format!(
                "{} ({})",
                escape(revision),
                escape(manifest.commit.as_deref().unwrap_or("?"))
            ),
        ));
    }
    let shape = &manifest.shape;
    rows.push(("architecture", escape(&manifest.architecture)));
    if let Some(shard) = options.layers {
        rows.push((
            "shard",
            format!(
                "{} of {}; the other layers are in other shards",
                shard.describe(),
                manifest.shape.layers
            ),
        ));
    }
    rows.push((
        "shape",
        format!(
            "{} layers, {} heads of width {}, d_model {}, {} neurons per layer, {} embedding rows",
            shape.layers, shape.heads, shape.d_head, shape.d_model, shape.d_ff, shape.vocab
        ),
    ));
    rows.push((
        "neurons",
        if options.neurons {
            format!(
                "{} tokens at each end of every key and value list",
                options.k
            )
        } else {
            "not extracted".to_string()
        },
    ));
    rows.push((
        "heads",
        if options.heads {
            format!(
                "{} pairs at each end of every VO and QK list",
                options.head_k
            )
        } else {
            "not extracted".to_string()
        },
    ));
    let mut excluded = Vec::new();
    if options.exclude_same {
        excluded.push("same-token");
    }
    if options.exclude_fuzzy {
        excluded.push("near-identical");
    }
    if !excluded.is_empty() {
        rows.push((
            "pairs",
            format!("excluding {} pairs", excluded.join(" and ")),
        ));
    }
    rows.push((
        "filters",
        if options.filters.is_empty() {
            "none".to_string()
        } else {
            escape(&options.filters.join(", "))
        },
    ));
    if let Some(list) = &options.token_list {
        rows.push(("corpus", escape(list)));
    }
    rows.push((
        "tokens",
        format!(
            "{} selectable of {} in the tokenizer ({} padding rows excluded)",
            vocabulary.selectable_tokens,
            vocabulary.tokenizer_tokens,
            vocabulary.padding_rows_excluded
        ),
    ));
    let counts: Vec<String> = manifest
        .row_counts
        .iter()
        .map(|(table, rows)| format!("{table}: {rows}"))
        .collect();
    rows.push(("rows", escape(&counts.join(", "))));
    let total: f64 = manifest.timings.values().sum();
    rows.push(("extraction", format!("{total:.1} s")));
    rows.push((
        "glossa",
        format!(
            "{} (schema {})",
            escape(&manifest.glossa_version),
            manifest.schema_version
        ),
    ));
    let mut out = String::from("<dl class=\"manifest\">");
    for (name, value) in rows {
        let _ = write!(out, "<dt>{name}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>");
    out
}

async fn search_page(
    State(catalog): State<Arc<Catalog>>,
    name: Result<Path<String>, PathRejection>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> PageResult {
    let served = served(&catalog, path(name))?;
    // A page with no query yet is a search box.
    let params = match params {
        Ok(Query(params)) => params,
        Err(_) => SearchParams::default(),
    };
    let choice = |name: &str, label: &str, values: &[&str], chosen: Option<String>| {
        let mut out =
            format!(r#"<label>{label} <select name="{name}"><option value="">any</option>"#);
        for value in values {
            let selected = if chosen.as_deref() == Some(value) {
                " selected"
            } else {
                ""
            };
            let _ = write!(out, r#"<option{selected}>{value}</option>"#);
        }
        out.push_str("</select></label>");
        out
    };
    // A shard is searched in its own layers.
    let layers: Vec<String> = served
        .dataset
        .manifest()
        .layers()
        .map(|l| l.to_string())
        .collect();
    let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
    let lower = |v: Option<String>| v.map(|s| s.to_lowercase());
    let body = format!(
        r#"<h1>Search</h1>
<form id="search" class="search" action="{base}/search" method="get" data-dataset="{dataset}">
<input id="q" name="q" value="{q}" placeholder="dieta, diet*, dieta~1, #owa, dieta -> zdrowie" autocomplete="off" autofocus aria-label="tokens">
<div class="filters">{kind}{layer}{side}{circuit}{polarity}<label><input type="checkbox" name="exact" value="true"{exact}> exact diacritics</label></div>
</form>
<p id="status" class="muted" aria-live="polite"></p>
<div id="results"></div>
<noscript><p class="note">Results appear as you type with JavaScript; the same search is at <a href="/api/v1/datasets/{dataset_url}/search?q={q_url}">the JSON API</a>.</p></noscript>"#,
        base = base(&served.name),
        dataset = escape(&served.name),
        dataset_url = url_part(&served.name),
        q = escape(&params.q),
        q_url = url_part(&params.q),
        kind = choice(
            "kind",
            "kind",
            &["neuron", "head"],
            lower(params.kind.map(|k| format!("{k:?}")))
        ),
        layer = choice(
            "layer",
            "layer",
            &layers,
            params.layer.map(|l| l.to_string())
        ),
        side = choice(
            "side",
            "side",
            &["key", "value"],
            lower(params.side.map(|s| format!("{s:?}")))
        ),
        circuit = choice(
            "circuit",
            "circuit",
            &["vo", "qk"],
            lower(params.circuit.map(|c| format!("{c:?}")))
        ),
        polarity = choice(
            "polarity",
            "list",
            &["top", "bottom"],
            lower(params.polarity.map(|p| format!("{p:?}")))
        ),
        exact = if params.exact == Some(true) {
            " checked"
        } else {
            ""
        },
    );
    Ok(page("Search", Some(&served.name), &body).into_response())
}

async fn neuron_page(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32)>, PathRejection>,
) -> PageResult {
    let (name, layer, neuron) = path(unit)?;
    let served = served(&catalog, Ok(name))?;
    let shape = served.dataset.manifest().shape;
    let (s, answer) = (
        served.clone(),
        blocking(move || answers::neuron(&served, layer, neuron)).await?,
    );
    let ds = &s.name;
    let mut body = format!(
        r#"<nav class="crumbs"><a href="{}">{}</a> › <a href="{}">layer {layer}</a> › neuron {neuron}</nav>
<h1>Layer {layer}, neuron {neuron}</h1>
<p class="pager">{} · {}</p>
<p class="muted">Tokens whose embedding rows score highest (top) and lowest (bottom) against the neuron's key and gate (input weights: what it reads, through the input embedding) and value (output weights: what it writes, through the output embedding).</p>"#,
        base(ds),
        escape(ds),
        layer_url(ds, layer),
        maybe_link(
            neuron.checked_sub(1).map(|n| neuron_url(ds, layer, n)),
            "← previous neuron"
        ),
        maybe_link(
            (neuron as usize + 1 < shape.d_ff).then(|| neuron_url(ds, layer, neuron + 1)),
            "next neuron →"
        ),
    );
    for polarity in [Polarity::Top, Polarity::Bottom] {
        // Side by side: the gate (where the model has one), the key, the value.
        let mut lists = Vec::new();
        if let Some(gate) = &answer.gate {
            lists.push(("gate", end(gate, polarity)));
        }
        lists.push(("key", end(&answer.key, polarity)));
        lists.push(("value", end(&answer.value, polarity)));
        let _ = write!(
            body,
            r#"<h2>{polarity} tokens</h2><table class="lists"><thead><tr><th class="rank">rank</th>"#
        );
        for (side, _) in &lists {
            let _ = write!(body, r#"<th>{side}</th><th class="score">score</th>"#);
        }
        body.push_str("</tr></thead><tbody>");
        let rows = lists.iter().map(|(_, list)| list.len()).max().unwrap_or(0);
        for i in 0..rows {
            let _ = write!(body, "<tr><td class=\"rank\">{}</td>", i + 1);
            for (_, list) in &lists {
                // Each list's bars against its own strongest entry: key and
                // value scores live on different scales.
                let max = list.iter().map(|e| e.score.abs()).fold(0.0, f32::max);
                match list.get(i) {
                    Some(e) => {
                        let _ = write!(
                            body,
                            "<td>{}</td>{}",
                            token_link(ds, &e.token),
                            score_cell(e.score, max)
                        );
                    }
                    None => body.push_str("<td></td><td></td>"),
                }
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<h2>Where the top tokens lie</h2><p class=\"muted\">t-SNE of the tokens' unembedding rows; hover a point for its token.</p><div class=\"pictures\">");
    let sides: &[&str] = if answer.gate.is_some() {
        &["gate", "key", "value"]
    } else {
        &["key", "value"]
    };
    for side in sides {
        let _ = write!(
            body,
            r#"<figure class="picture" data-picture="/api/v1/datasets/{}/neurons/{layer}/{neuron}/tsne/{side}"><figcaption>{side}</figcaption><p class="muted">drawing…</p></figure>"#,
            url_part(ds)
        );
    }
    body.push_str("</div>");
    let title = format!("layer {layer}, neuron {neuron}");
    Ok(page(&title, Some(ds), &body).into_response())
}

/// One end of a list.
fn end<T>(ends: &Ends<T>, polarity: Polarity) -> &[T] {
    match polarity {
        Polarity::Top => &ends.top,
        Polarity::Bottom => &ends.bottom,
    }
}

async fn head_page(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32)>, PathRejection>,
) -> PageResult {
    let (name, layer, head) = path(unit)?;
    let served = served(&catalog, Ok(name))?;
    let shape = served.dataset.manifest().shape;
    let (s, answer) = (
        served.clone(),
        blocking(move || answers::head(&served, layer, head)).await?,
    );
    let ds = &s.name;
    let mut body = format!(
        r#"<nav class="crumbs"><a href="{}">{}</a> › <a href="{}">layer {layer}</a> › head {head}</nav>
<h1>Layer {layer}, head {head}</h1>
<p class="pager">{} · {}</p>"#,
        base(ds),
        escape(ds),
        layer_url(ds, layer),
        maybe_link(
            head.checked_sub(1).map(|h| head_url(ds, layer, h)),
            "← previous head"
        ),
        maybe_link(
            (head as usize + 1 < shape.heads).then(|| head_url(ds, layer, head + 1)),
            "next head →"
        ),
    );
    let copying = answer
        .vo
        .copying_score
        .map_or("–".to_string(), |c| format!("{c:.3}"));
    let _ = write!(
        body,
        r#"<p class="copying">copying score <strong>{copying}</strong> <span class="muted">(Σλ / Σ|λ| over the eigenvalues of the VO matrix: 1 copies what it attends to, −1 suppresses it)</span></p>
<table class="summary"><thead><tr><th>circuit</th><th>‖·‖<sub>F</sub></th><th>max entry</th><th>min entry</th><th>copying score</th><th>entries computed</th></tr></thead><tbody>"#
    );
    for (label, circuit) in [("VO", &answer.vo), ("QK", &answer.qk)] {
        let number = |v: Option<f64>, digits: usize| {
            v.map_or("–".to_string(), |v| format!("{v:.digits$}"))
        };
        let _ = write!(
            body,
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            number(circuit.frobenius_norm, 3),
            number(circuit.max_entry.map(f64::from), 4),
            number(circuit.min_entry.map(f64::from), 4),
            number(circuit.copying_score, 3),
            circuit
                .computed_share
                .map_or("–".to_string(), |s| format!("{:.2}%", 100.0 * s)),
        );
    }
    body.push_str("</tbody></table><div class=\"circuits\">");
    for (label, circuit, src, dst, explained) in [
        (
            "VO",
            &answer.vo,
            "attended",
            "promoted",
            "attending to the first token pushes the output towards the second",
        ),
        (
            "QK",
            &answer.qk,
            "query",
            "key",
            "a query at the first token attends to a key at the second",
        ),
    ] {
        let _ = write!(
            body,
            r#"<section><h2>{label} circuit</h2><p class="muted">{explained}</p>"#
        );
        for polarity in [Polarity::Top, Polarity::Bottom] {
            let pairs = end(&circuit.pairs, polarity);
            let _ = write!(body, "<h3>{polarity} pairs</h3>");
            body.push_str(&pair_table(ds, pairs, src, dst));
        }
        let _ = write!(
            body,
            r#"<figure class="picture" data-picture="/api/v1/datasets/{}/heads/{layer}/{head}/tsne/{}"><figcaption>{label}: where the top pairs' tokens lie (t-SNE of their embedding rows)</figcaption><p class="muted">drawing…</p></figure></section>"#,
            url_part(ds),
            label.to_lowercase()
        );
    }
    body.push_str("</div>");
    let title = format!("layer {layer}, head {head}");
    Ok(page(&title, Some(ds), &body).into_response())
}

fn pair_table(ds: &str, pairs: &[PairEntry], src: &str, dst: &str) -> String {
    let max = pairs.iter().map(|p| p.score.abs()).fold(0.0, f32::max);
    let mut out = format!(
        r#"<table class="lists pairs"><thead><tr><th class="rank">rank</th><th>{src}</th><th></th><th>{dst}</th><th class="score">score</th></tr></thead><tbody>"#
    );
    for p in pairs {
        let _ = write!(
            out,
            r#"<tr><td class="rank">{}</td><td>{}</td><td class="arrow">→</td><td>{}</td>{}</tr>"#,
            p.rank,
            token_link(ds, &p.src_token),
            token_link(ds, &p.dst_token),
            score_cell(p.score, max)
        );
    }
    out.push_str("</tbody></table>");
    out
}

async fn layer_page(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32)>, PathRejection>,
) -> PageResult {
    let (name, layer) = path(unit)?;
    let served = served(&catalog, Ok(name))?;
    let s = served.clone();
    let summaries: Vec<HeadSummaryRow> = blocking(move || {
        served.dataset.check_layer(layer).map_err(ApiError::from)?;
        Ok(served
            .dataset
            .head_summaries()?
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.layer == layer)
            .collect())
    })
    .await?;
    let ds = &s.name;
    let shape = s.dataset.manifest().shape;
    // The layers a shard holds (every layer of a whole dataset).
    let held = s.dataset.manifest().layers();
    let mut body = format!(
        r#"<nav class="crumbs"><a href="{}">{}</a> › layer {layer}</nav><h1>Layer {layer}</h1>
<p class="pager">{} · {}</p>"#,
        base(ds),
        escape(ds),
        maybe_link(
            layer
                .checked_sub(1)
                .filter(|&l| held.contains(&(l as usize)))
                .map(|l| layer_url(ds, l)),
            "← previous layer"
        ),
        maybe_link(
            held.contains(&(layer as usize + 1))
                .then(|| layer_url(ds, layer + 1)),
            "next layer →"
        ),
    );
    if s.dataset.manifest().options.neurons {
        let _ = write!(
            body,
            r#"<h2>Neurons</h2><p>{} neurons: <a href="{}">0</a> … <a href="{}">{}</a>. Open neuron <input id="neuron" type="number" min="0" max="{}" value="0" data-base="{}/neuron/{layer}/" aria-label="neuron"></p>"#,
            shape.d_ff,
            neuron_url(ds, layer, 0),
            neuron_url(ds, layer, shape.d_ff.saturating_sub(1) as u32),
            shape.d_ff.saturating_sub(1),
            shape.d_ff.saturating_sub(1),
            base(ds),
        );
    }
    if !summaries.is_empty() {
        body.push_str(r#"<h2>Heads</h2><table class="summary"><thead><tr><th>head</th><th>copying score</th><th>VO ‖·‖<sub>F</sub></th><th>QK ‖·‖<sub>F</sub></th></tr></thead><tbody>"#);
        for head in 0..shape.heads as u32 {
            let of = |vo: bool| {
                summaries
                    .iter()
                    .find(|r| r.head == head && (r.circuit == glossa_tables::Circuit::Vo) == vo)
            };
            let _ = write!(
                body,
                r#"<tr><td><a href="{}">head {head}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                head_url(ds, layer, head),
                of(true)
                    .and_then(|r| r.copying_score)
                    .map_or("–".to_string(), |c| format!("{c:.3}")),
                of(true).map_or("–".to_string(), |r| format!("{:.3}", r.frobenius_norm)),
                of(false).map_or("–".to_string(), |r| format!("{:.3}", r.frobenius_norm)),
            );
        }
        body.push_str("</tbody></table>");
    }
    let title = format!("layer {layer}");
    Ok(page(&title, Some(ds), &body).into_response())
}

async fn token_page(
    State(catalog): State<Arc<Catalog>>,
    token: Result<Path<(String, String)>, PathRejection>,
) -> PageResult {
    let (name, token) = path(token)?;
    let served = served(&catalog, Ok(name))?;
    let s = served.clone();
    let text = token.clone();
    let (answer, heat_map) = blocking(move || {
        let answer = answers::token(&served, &text)?;
        let heat_map = served.picture(format!("overview {text}"), || {
            Ok(overview_figure(
                &served.dataset,
                &served.index,
                &[text.trim().to_string()],
                Matching::Exact,
                Polarity::Top,
                Measure::Peak,
            )?
            .svg())
        });
        Ok((answer, heat_map))
    })
    .await?;
    let ds = &s.name;
    let total: usize = answer.layers.values().map(Vec::len).sum();
    let mut body = format!(
        r#"<nav class="crumbs"><a href="{}">{}</a> › token</nav><h1 class="token">{}</h1>
<p>{total} list{} hold this token (case and the word-initial space ignored). <a href="{}/search?q={}">Search similar forms</a> (diacritics folded).</p>"#,
        base(ds),
        escape(ds),
        token_label(&token),
        if total == 1 { "" } else { "s" },
        base(ds),
        url_part(token.trim()),
    );
    if total > 0 {
        body.push_str("<h2>Layer × kind</h2>");
        body.push_str(&figure_html(heat_map));
    }
    for (layer, hits) in &answer.layers {
        let max = hits.iter().map(|h| h.score().abs()).fold(0.0, f32::max);
        let _ = write!(
            body,
            r#"<h2><a href="{}">Layer {layer}</a></h2><table class="lists hits"><thead><tr><th>unit</th><th>list</th><th class="rank">rank</th><th>entry</th><th class="score">score</th><th class="z">z</th></tr></thead><tbody>"#,
            layer_url(ds, *layer)
        );
        for hit in hits {
            body.push_str(&hit_row(ds, hit, max));
        }
        body.push_str("</tbody></table>");
    }
    Ok(page(&token, Some(ds), &body).into_response())
}

/// A search hit as a table row: the unit, its list, the rank, the entry, its
/// score and z.
fn hit_row(ds: &str, hit: &Hit, max: f32) -> String {
    let (unit, list, entry) = match hit {
        Hit::Neuron(n) => (
            format!(
                r#"<a href="{}">neuron {}</a>"#,
                neuron_url(ds, n.layer, n.neuron),
                n.neuron
            ),
            format!("{} {}", n.side, n.polarity),
            token_link(ds, &n.token),
        ),
        Hit::Head(h) => (
            format!(
                r#"<a href="{}">head {}</a>"#,
                head_url(ds, h.layer, h.head),
                h.head
            ),
            format!("{} {}", h.circuit.as_str().to_uppercase(), h.polarity),
            format!(
                "{} → {}",
                token_link(ds, &h.src_token),
                token_link(ds, &h.dst_token)
            ),
        ),
    };
    format!(
        r#"<tr><td>{unit}</td><td>{list}</td><td class="rank">{}</td><td>{entry}</td>{}<td class="z">{:.2}</td></tr>"#,
        hit.rank(),
        score_cell(hit.score(), max),
        hit.z()
    )
}
