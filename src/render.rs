//! Plain-text output of the commands.

use std::fmt::Write;
use std::path::Path;

use glossa_index::{Hit, LayerCount, Page};
use glossa_tables::{
    Circuit, ConnectionRow, Direction, HeadRow, HeadSummaryRow, Manifest, NeuronRow,
    NeuronSummaryRow, Polarity, Side, UnitKind,
};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::args::FormatArg;

/// Columns `text` takes on a terminal: two for CJK and emoji, none for
/// combining marks.
fn width(text: &str) -> usize {
    text.width()
}

/// `text` padded with spaces to `columns` terminal columns.
fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

/// Key and value lists (and gate lists of gated models) side by side, like
/// the paper's tables.
pub fn neuron_table(
    layer: u32,
    neuron: u32,
    rows: &[NeuronRow],
    bottom: bool,
    limit: usize,
) -> String {
    let mut out = String::new();
    let polarities: &[Polarity] = if bottom {
        &[Polarity::Top, Polarity::Bottom]
    } else {
        &[Polarity::Top]
    };
    // The sides the neuron has, in table order.
    let sides: Vec<Side> = Side::ALL
        .iter()
        .copied()
        .filter(|&side| rows.iter().any(|r| r.side == side))
        .collect();
    for &polarity in polarities {
        let lists: Vec<Vec<&NeuronRow>> = sides
            .iter()
            .map(|&side| {
                rows.iter()
                    .filter(|r| r.side == side && r.polarity == polarity)
                    .take(limit)
                    .collect()
            })
            .collect();
        let width = lists
            .iter()
            .flatten()
            .map(|r| width(&r.token))
            .max()
            .unwrap_or(0)
            .max(8);
        let _ = writeln!(out, "layer {layer}, neuron {neuron}: {polarity} tokens");
        let mut header = format!("{:>4}", "rank");
        for side in &sides {
            let _ = write!(header, "  {} {:>9}", pad(side.as_str(), width), "score");
        }
        let _ = writeln!(out, "{}", header.trim_end());
        let ranks = lists.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..ranks {
            let mut line = format!("{:>4}", i + 1);
            for list in &lists {
                let _ = match list.get(i) {
                    Some(r) => write!(line, "  {} {:>9.4}", pad(&r.token, width), r.score),
                    None => write!(line, "  {} {:>9}", pad("", width), ""),
                };
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out.push('\n');
    }
    out
}

/// What each side's scores look like over the vocabulary (`neuron_summary`).
pub fn neuron_statistics(layer: u32, neuron: u32, rows: &[NeuronSummaryRow]) -> String {
    let mut out = String::new();
    let Some(first) = rows.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "layer {layer}, neuron {neuron}: its scores over {} tokens",
        first.tokens
    );
    let _ = writeln!(
        out,
        "side        mean        std   kurtosis   entropy  top tokens shared with the value"
    );
    for row in rows {
        let kurtosis = row.kurtosis.map_or("-".to_string(), |k| format!("{k:.2}"));
        let shared = row
            .value_overlap
            .map_or(String::new(), |shared| shared.to_string());
        let line = format!(
            "{:<5} {:>10.3e} {:>10.3e} {:>10} {:>9.3}  {shared}",
            row.side.as_str(),
            row.mean,
            row.std,
            kurtosis,
            row.entropy
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    out
}

/// A neuron's connection lists, per direction and polarity, the read sides
/// (key, and gate in gated models) side by side; each entry `layer:neuron`.
pub fn connections_table(
    layer: u32,
    neuron: u32,
    rows: &[ConnectionRow],
    bottom: bool,
    limit: usize,
) -> String {
    let mut out = String::new();
    let sides: Vec<Side> = Side::ALL
        .iter()
        .copied()
        .filter(|&side| rows.iter().any(|r| r.side == side))
        .collect();
    for &direction in Direction::ALL {
        for &polarity in Polarity::ALL {
            if polarity == Polarity::Bottom && !bottom {
                continue;
            }
            let lists: Vec<Vec<&ConnectionRow>> = sides
                .iter()
                .map(|&side| {
                    rows.iter()
                        .filter(|r| {
                            r.direction == direction && r.side == side && r.polarity == polarity
                        })
                        .take(limit)
                        .collect()
                })
                .collect();
            let ranks = lists.iter().map(Vec::len).max().unwrap_or(0);
            if ranks == 0 {
                continue;
            }
            let what = match (direction, polarity) {
                (Direction::Downstream, Polarity::Top) => "later neurons its value excites most",
                (Direction::Downstream, Polarity::Bottom) => {
                    "later neurons its value inhibits most"
                }
                (Direction::Upstream, Polarity::Top) => "earlier neurons that excite it most",
                (Direction::Upstream, Polarity::Bottom) => "earlier neurons that inhibit it most",
            };
            let _ = writeln!(
                out,
                "layer {layer}, neuron {neuron}: {what} ({direction}, {polarity})"
            );
            let mut header = format!("{:>4}", "rank");
            for side in &sides {
                let _ = write!(header, "  {:<10} {:>9}", side.as_str(), "score");
            }
            let _ = writeln!(out, "{}", header.trim_end());
            for i in 0..ranks {
                let mut line = format!("{:>4}", i + 1);
                for list in &lists {
                    let _ = match list.get(i) {
                        Some(r) => write!(
                            line,
                            "  {:<10} {:>9.4}",
                            format!("{}:{}", r.other_layer, r.other_neuron),
                            r.score
                        ),
                        None => write!(line, "  {:<10} {:>9}", "", ""),
                    };
                }
                let _ = writeln!(out, "{}", line.trim_end());
            }
            out.push('\n');
        }
    }
    out
}

/// The rows `show` prints: top lists (and bottom ones with `bottom`), the
/// first `limit` ranks of each.
fn shown(polarity: Polarity, rank: u32, bottom: bool, limit: usize) -> bool {
    (bottom || polarity == Polarity::Top) && rank as usize <= limit
}

/// Rows as CSV with a header or as one JSON object per line; either way the
/// columns are the row type's fields, which follow its table's schema.
fn records<T: Serialize>(
    rows: impl Iterator<Item = T>,
    format: FormatArg,
) -> anyhow::Result<String> {
    if format == FormatArg::Json {
        return json_lines(rows);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// One JSON object per item and line.
pub fn json_lines<T: Serialize>(items: impl IntoIterator<Item = T>) -> anyhow::Result<String> {
    let mut out = String::new();
    for item in items {
        out.push_str(&serde_json::to_string(&item)?);
        out.push('\n');
    }
    Ok(out)
}

/// A neuron's lists as CSV or JSON lines, in table order.
pub fn neuron_records(
    rows: &[NeuronRow],
    bottom: bool,
    limit: usize,
    format: FormatArg,
) -> anyhow::Result<String> {
    let rows = rows
        .iter()
        .filter(|r| shown(r.polarity, r.rank, bottom, limit));
    records(rows, format)
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
        .filter(|r| shown(r.polarity, r.rank, bottom, limit));
    records(rows, format)
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
            if s.kv_head != s.head {
                let _ = write!(out, ", reads key/value head {}", s.kv_head);
            }
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
                .map(|r| width(&r.src_token))
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

/// Search hits, one section per kind of unit, strongest first: neurons
/// show the matching token, heads the pair; then how many more there are,
/// if the limit left some out.
pub fn hits(terms: &[String], pages: &[(UnitKind, Page)]) -> String {
    let mut out = String::new();
    if pages.iter().all(|(_, page)| page.hits.is_empty()) {
        let _ = writeln!(out, "no list contains {}", terms.join(" "));
        return out;
    }
    let width = pages
        .iter()
        .flat_map(|(_, page)| &page.hits)
        .map(|h| width(&entry(h)))
        .max()
        .unwrap_or(0)
        .max(5);
    for (kind, page) in pages {
        if pages.len() > 1 {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}s", kind.as_str());
            if page.hits.is_empty() {
                let _ = writeln!(out, "  none");
                continue;
            }
        }
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:>6}  {:<5} {:<6} {:>4}  {} {:>9} {:>7}",
            "kind",
            "layer",
            "unit",
            "side",
            "list",
            "rank",
            pad("token", width),
            "score",
            "z"
        );
        for hit in &page.hits {
            let _ = writeln!(
                out,
                "{:<6} {:>5} {:>6}  {:<5} {:<6} {:>4}  {} {:>9.4} {:>7.2}",
                hit.kind().as_str(),
                hit.layer(),
                hit.unit(),
                list_of(hit),
                hit.polarity().as_str(),
                hit.rank(),
                pad(&entry(hit), width),
                hit.score(),
                hit.z()
            );
        }
        if page.total > page.hits.len() {
            let _ = writeln!(out, "{}", more_hits(page.hits.len(), page.total));
        }
    }
    out
}

/// `20 of 1443 hits; --limit N for more`.
pub fn more_hits(shown: usize, total: usize) -> String {
    format!("{shown} of {total} hits; --limit N for more")
}

/// A neuron hit's side, a head hit's circuit.
fn list_of(hit: &Hit) -> &'static str {
    match hit {
        Hit::Neuron(neuron) => neuron.side.as_str(),
        Hit::Head(head) => head.circuit.as_str(),
    }
}

/// A neuron hit's token, a head hit's pair.
fn entry(hit: &Hit) -> String {
    match hit {
        Hit::Neuron(neuron) => neuron.token.clone(),
        Hit::Head(head) => format!("{} -> {}", head.src_token, head.dst_token),
    }
}

/// Per layer, how many neurons and heads hold a matching token, and the
/// strongest of their entries.
pub fn by_layer(terms: &[String], counts: &[LayerCount]) -> String {
    let mut out = String::new();
    if counts.is_empty() {
        let _ = writeln!(out, "no list contains {}", terms.join(" "));
        return out;
    }
    let widest = counts.iter().map(|c| c.units).max().unwrap_or(1).max(1);
    let _ = writeln!(
        out,
        "{:>5}  {:<6} {:>6}  {:<42} {:>7}",
        "layer", "kind", "units", "strongest", "z"
    );
    for count in counts {
        let hit = &count.strongest;
        let strongest = format!(
            "{} {} {}: {}",
            hit.unit(),
            list_of(hit),
            hit.polarity().as_str(),
            entry(hit)
        );
        let bar = "#".repeat(((count.units * 30).div_ceil(widest)) as usize);
        let _ = writeln!(
            out,
            "{:>5}  {:<6} {:>6}  {} {:>7.2}  {bar}",
            count.layer,
            count.kind.as_str(),
            count.units,
            pad(&strongest, 42),
            hit.z()
        );
    }
    out
}

/// `--by-layer --json`: one object per layer and kind, with its strongest hit.
pub fn by_layer_json(counts: &[LayerCount]) -> anyhow::Result<String> {
    json_lines(counts)
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
    let _ = writeln!(out, "shape     {}", manifest.shape);
    if let Some(shard) = manifest.options.layers {
        let _ = writeln!(
            out,
            "shard     {} of {} (--layers {shard}); `glossa merge` joins it with the shards of the other layers",
            shard.describe(),
            manifest.shape.layers
        );
    }
    let options = &manifest.options;
    let vocabulary = &manifest.vocabulary;
    // What was extracted, and how: "yes, k = ..." or "no".
    let extracted = |wanted: bool, how: String| {
        if wanted {
            format!("yes, {how}")
        } else {
            "no".to_string()
        }
    };
    let neurons = extracted(
        options.neurons,
        format!("k = {} tokens at each end of every neuron list", options.k),
    );
    let pruning = match options.head_pruning {
        glossa_tables::HeadPruning::Bounds => "bounds",
        glossa_tables::HeadPruning::None => "none, brute force",
    };
    let heads = extracted(
        options.heads,
        format!(
            "k = {} pairs at each end of every VO and QK list (pruning: {pruning})",
            options.head_k
        ),
    );
    let _ = writeln!(out, "neurons   {neurons}");
    if let Some(k) = options.connections {
        let _ = writeln!(
            out,
            "links     yes, k = {k} neurons at each end of every connection list (values · keys, and gates, of other layers)"
        );
    }
    let _ = writeln!(out, "heads     {heads}");
    let embedding = match options.embedding {
        glossa_tables::EmbeddingChoice::ReadWrite => {
            "keys, gates and what heads read through the input embedding; values and what heads write through the output embedding"
        }
        glossa_tables::EmbeddingChoice::Output => "everything through the output embedding",
    };
    let _ = writeln!(out, "reading   {embedding}");
    let _ = writeln!(
        out,
        "norms     {}; QK at relative offset {}",
        if options.fold_norm {
            "gains folded into the weights"
        } else {
            "raw weights (gains not folded)"
        },
        options.qk_offset
    );
    let mut exclude = Vec::new();
    if options.exclude_same {
        exclude.push("same");
    }
    if options.exclude_fuzzy {
        exclude.push("fuzzy");
    }
    if !exclude.is_empty() {
        let _ = writeln!(out, "pairs     excluding {} pairs", exclude.join(" and "));
    }
    let _ = writeln!(
        out,
        "filters   {}",
        if options.filters.is_empty() {
            "none".to_string()
        } else {
            options.filters.join(", ")
        }
    );
    if let Some(list) = &options.token_list {
        let _ = writeln!(
            out,
            "corpus    {list} (column {}{})",
            options.text_column.as_deref().unwrap_or("text"),
            options
                .max_tokens
                .map_or(String::new(), |n| format!(", the {n} most frequent tokens"))
        );
    }
    let _ = writeln!(
        out,
        "tokens    {} selectable of {} in the tokenizer ({} embedding rows, {} padding rows excluded)",
        vocabulary.selectable_tokens,
        vocabulary.tokenizer_tokens,
        vocabulary.embedding_rows,
        vocabulary.padding_rows_excluded
    );
    let encoding = match options.weights_encoding.as_str() {
        "" => String::new(),
        encoding => format!(" ({encoding})"),
    };
    let _ = writeln!(
        out,
        "weights   {}{encoding}, {} threads, neuron GEMM on {}",
        options.weights_format, options.threads, options.device
    );
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
