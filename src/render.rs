//! Plain-text output of the commands.

use std::fmt::Write;
use std::path::Path;

use glossa_index::Hit;
use glossa_tables::schema;
use glossa_tables::{
    Circuit, HeadRow, HeadSummaryRow, Manifest, NeuronRow, Polarity, SchemaRef, Side, UnitKind,
};

use crate::args::FormatArg;

/// Width in characters, counting each `char` once (enough for Polish).
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// Key and value lists side by side, like the paper's tables.
pub fn neuron_table(
    layer: u32,
    neuron: u32,
    rows: &[NeuronRow],
    bottom: bool,
    limit: Option<usize>,
) -> String {
    let mut out = String::new();
    let polarities: &[Polarity] = if bottom {
        &[Polarity::Top, Polarity::Bottom]
    } else {
        &[Polarity::Top]
    };
    for &polarity in polarities {
        let list = |side: Side| -> Vec<&NeuronRow> {
            rows.iter()
                .filter(|r| r.side == side && r.polarity == polarity)
                .take(limit.unwrap_or(usize::MAX))
                .collect()
        };
        let (keys, values) = (list(Side::Key), list(Side::Value));
        let width = keys
            .iter()
            .chain(&values)
            .map(|r| r.token.chars().count())
            .max()
            .unwrap_or(0)
            .max(8);
        let _ = writeln!(out, "layer {layer}, neuron {neuron}: {polarity} tokens");
        let _ = writeln!(
            out,
            "{:>4}  {} {:>9}  {} {:>9}",
            "rank",
            pad("key", width),
            "score",
            pad("value", width),
            "score"
        );
        for i in 0..keys.len().max(values.len()) {
            let cell = |r: Option<&&NeuronRow>| match r {
                Some(r) => format!("{} {:>9.4}", pad(&r.token, width), r.score),
                None => format!("{} {:>9}", pad("", width), ""),
            };
            let _ = writeln!(
                out,
                "{:>4}  {}  {}",
                i + 1,
                cell(keys.get(i)),
                cell(values.get(i))
            );
        }
        out.push('\n');
    }
    out
}

/// The rows `show` prints: top lists (and bottom ones with `bottom`), the
/// first `limit` ranks of each.
fn shown(polarity: Polarity, rank: u32, bottom: bool, limit: Option<usize>) -> bool {
    (bottom || polarity == Polarity::Top) && limit.is_none_or(|l| rank as usize <= l)
}

/// One field of a record: text, or a number already written out.
enum Field<'a> {
    Text(&'a str),
    Number(String),
}

/// A number in its shortest form that reads back exactly (f32 scores stay short).
fn num(value: impl std::fmt::Display) -> Field<'static> {
    Field::Number(value.to_string())
}

/// Records with the columns of a table's `schema` (each row's fields in its
/// column order), as CSV with a header or one JSON object per line.
fn records<'a>(
    schema: SchemaRef,
    rows: impl Iterator<Item = Vec<Field<'a>>>,
    format: FormatArg,
) -> anyhow::Result<String> {
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let rows = rows.inspect(|fields| debug_assert_eq!(fields.len(), header.len()));
    if format == FormatArg::Json {
        let mut out = String::new();
        for fields in rows {
            let members: Vec<String> = header
                .iter()
                .zip(&fields)
                .map(|(key, field)| {
                    let value = match field {
                        Field::Text(text) => serde_json::Value::from(*text).to_string(),
                        Field::Number(number) => number.clone(),
                    };
                    format!("{}:{value}", serde_json::Value::from(*key))
                })
                .collect();
            let _ = writeln!(out, "{{{}}}", members.join(","));
        }
        return Ok(out);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header)?;
    for fields in rows {
        writer.write_record(fields.iter().map(|field| match field {
            Field::Text(text) => *text,
            Field::Number(number) => number.as_str(),
        }))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// A neuron's lists as CSV or JSON lines, in table order.
pub fn neuron_records(
    rows: &[NeuronRow],
    bottom: bool,
    limit: Option<usize>,
    format: FormatArg,
) -> anyhow::Result<String> {
    let rows = rows
        .iter()
        .filter(|r| shown(r.polarity, r.rank, bottom, limit))
        .map(|r| {
            vec![
                num(r.layer),
                num(r.neuron),
                Field::Text(r.side.as_str()),
                Field::Text(r.polarity.as_str()),
                num(r.rank),
                num(r.token_id),
                Field::Text(&r.token),
                num(r.score),
            ]
        });
    records(schema::neurons(), rows, format)
}

/// A head's pair lists as CSV or JSON lines, in table order.
pub fn head_records(
    rows: &[HeadRow],
    bottom: bool,
    limit: usize,
    format: FormatArg,
) -> anyhow::Result<String> {
    let rows = rows
        .iter()
        .filter(|r| shown(r.polarity, r.rank, bottom, Some(limit)))
        .map(|r| {
            vec![
                num(r.layer),
                num(r.head),
                Field::Text(r.circuit.as_str()),
                Field::Text(r.polarity.as_str()),
                num(r.rank),
                num(r.src_token_id),
                num(r.dst_token_id),
                Field::Text(&r.src_token),
                Field::Text(&r.dst_token),
                num(r.score),
            ]
        });
    records(schema::heads(), rows, format)
}

/// A head's VO and QK pair lists, with its summary.
pub fn head_table(
    layer: u32,
    head: u32,
    rows: &[HeadRow],
    summary: &[HeadSummaryRow],
    bottom: bool,
    limit: usize,
) -> String {
    let mut out = String::new();
    let polarities: &[Polarity] = if bottom {
        &[Polarity::Top, Polarity::Bottom]
    } else {
        &[Polarity::Top]
    };
    for circuit in [Circuit::Vo, Circuit::Qk] {
        let (src, dst) = match circuit {
            Circuit::Vo => ("attended", "promoted"),
            Circuit::Qk => ("query", "key"),
        };
        let _ = write!(
            out,
            "layer {layer}, head {head}: {} circuit",
            circuit.as_str().to_uppercase()
        );
        if let Some(s) = summary.iter().find(|s| s.circuit == circuit) {
            let _ = write!(
                out,
                " (frobenius {:.4}, max {:.4}, min {:.4}",
                s.frobenius_norm, s.max_entry, s.min_entry
            );
            if let Some(copying) = s.copying_score {
                let _ = write!(out, ", copying score {copying:.3}");
            }
            let _ = write!(
                out,
                ", computed {:.2}% of entries)",
                100.0 * s.computed_share
            );
        }
        out.push('\n');
        for &polarity in polarities {
            let list: Vec<&HeadRow> = rows
                .iter()
                .filter(|r| r.circuit == circuit && r.polarity == polarity)
                .take(limit)
                .collect();
            let width = list
                .iter()
                .map(|r| r.src_token.chars().count())
                .max()
                .unwrap_or(0)
                .max(src.len());
            let _ = writeln!(out, "  {polarity}");
            let _ = writeln!(
                out,
                "  {:>4}  {} -> {:<16} {:>9}",
                "rank",
                pad(src, width),
                dst,
                "score"
            );
            for row in list {
                let _ = writeln!(
                    out,
                    "  {:>4}  {} -> {} {:>9.4}",
                    row.rank,
                    pad(&row.src_token, width),
                    pad(&row.dst_token, 16),
                    row.score
                );
            }
        }
        out.push('\n');
    }
    out
}

/// Search hits, strongest first: neurons show the matching token, heads the pair.
pub fn hits(terms: &[String], hits: &[Hit]) -> String {
    let mut out = String::new();
    if hits.is_empty() {
        let _ = writeln!(out, "no list contains {}", terms.join(" "));
        return out;
    }
    let what = |hit: &Hit| -> (String, String) {
        match hit.kind {
            UnitKind::Neuron => (
                hit.side.map_or("", |s| s.as_str()).to_string(),
                hit.token.clone().unwrap_or_default(),
            ),
            UnitKind::Head => (
                hit.circuit.map_or("", |c| c.as_str()).to_string(),
                format!(
                    "{} -> {}",
                    hit.src_token.as_deref().unwrap_or(""),
                    hit.dst_token.as_deref().unwrap_or("")
                ),
            ),
        }
    };
    let width = hits
        .iter()
        .map(|h| what(h).1.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let _ = writeln!(
        out,
        "{:<6} {:>5} {:>6}  {:<5} {:<6} {:>4}  {} {:>9}",
        "kind",
        "layer",
        "unit",
        "side",
        "list",
        "rank",
        pad("token", width),
        "score"
    );
    for hit in hits {
        let (side, token) = what(hit);
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:>6}  {:<5} {:<6} {:>4}  {} {:>9.4}",
            hit.kind.as_str(),
            hit.layer,
            hit.unit,
            side,
            hit.polarity.as_str(),
            hit.rank,
            pad(&token, width),
            hit.score
        );
    }
    out
}

/// Per layer, how many neurons and heads hold a matching token.
pub fn by_layer(terms: &[String], counts: &[(u32, UnitKind, u64)]) -> String {
    let mut out = String::new();
    if counts.is_empty() {
        let _ = writeln!(out, "no list contains {}", terms.join(" "));
        return out;
    }
    let widest = counts.iter().map(|c| c.2).max().unwrap_or(1).max(1);
    let _ = writeln!(out, "{:>5}  {:<6} {:>6}", "layer", "kind", "units");
    for &(layer, kind, units) in counts {
        let bar = "#".repeat(((units * 40).div_ceil(widest)) as usize);
        let _ = writeln!(out, "{layer:>5}  {:<6} {units:>6}  {bar}", kind.as_str());
    }
    out
}

/// What `glossa info` prints.
pub fn info(dir: &Path, manifest: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "dataset   {}", dir.display());
    let _ = writeln!(out, "model     {}", manifest.model);
    if let Some(revision) = &manifest.revision {
        let commit = manifest.commit.as_deref().unwrap_or("?");
        let _ = writeln!(out, "revision  {revision} ({commit})");
    }
    let _ = writeln!(out, "arch      {}", manifest.architecture);
    let shape = &manifest.shape;
    let _ = writeln!(
        out,
        "shape     {} layers, {} heads, d_model {}, d_ff {}, vocab {}",
        shape["layers"], shape["heads"], shape["d_model"], shape["d_ff"], shape["vocab"]
    );
    let _ = writeln!(out, "options   {}", manifest.options);
    for (table, rows) in &manifest.row_counts {
        let _ = writeln!(out, "rows      {table}: {rows}");
    }
    let total: f64 = manifest.timings.values().sum();
    let _ = writeln!(
        out,
        "timings   {} (total {total:.1} s)",
        manifest
            .timings
            .iter()
            .map(|(stage, s)| format!("{stage} {s:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "glossa    {} (schema {})",
        manifest.glossa_version, manifest.schema_version
    );
    out
}

/// The closing lines of `glossa extract`.
pub fn extract_summary(dir: &Path, manifest: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "wrote {}", dir.display());
    out.push_str(&info(dir, manifest));
    out
}
