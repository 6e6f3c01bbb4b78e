//! `README.md`: the dataset card, which makes a dataset directory a Hugging
//! Face dataset.
//!
//! Its YAML front matter gives the hub (and `datasets.load_dataset`) one
//! config per table kind with the files it reads, the model's licence, and
//! what produced the tables; its body describes every column. Everything in
//! it is read from the manifest and from the schemas of [`crate::schema`],
//! never from the run's timings or threads, so an interrupted run resumed,
//! and shards merged, write the card an uninterrupted run writes.

use std::fmt::Write as _;

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::layout::{Layout, Table, TableKind, CARD};
use crate::manifest::Manifest;
use crate::parquet_io::{sha256_hex, write_atomically};
use crate::schema;

/// What the manifest records of the dataset card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRecord {
    /// `README.md`, relative to the dataset directory.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The licence identifiers the hub knows; any other licence is written as
/// `other`, with its name in `license_name`, as the hub asks.
const HUB_LICENSES: &[&str] = &[
    "apache-2.0",
    "mit",
    "openrail",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "c-uda",
    "cc",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "etalab-2.0",
    "eupl-1.1",
    "eupl-1.2",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "h-research",
    "intel-research",
    "lppl-1.3c",
    "ms-pl",
    "apple-ascl",
    "apple-amlr",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openrail++",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "lgpl-lr",
    "deepfloyd-if-license",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "unknown",
    "other",
];

/// Writes the card of the dataset `manifest` describes into `layout`,
/// atomically, and what the manifest records of it.
pub(crate) fn write_card(layout: &Layout, manifest: &Manifest) -> Result<CardRecord> {
    let text = render(manifest);
    write_atomically(&layout.card(), text.as_bytes())?;
    Ok(CardRecord {
        path: CARD.to_string(),
        bytes: text.len() as u64,
        sha256: sha256_hex(text.as_bytes()),
    })
}

/// The card's text: YAML front matter, then Markdown.
pub(crate) fn render(manifest: &Manifest) -> String {
    let kinds = kinds(manifest);
    let mut card = front_matter(manifest, &kinds);
    card.push('\n');
    card.push_str(&body(manifest, &kinds));
    card
}

/// The kinds of table the dataset holds, in the order a run writes them.
fn kinds(manifest: &Manifest) -> Vec<TableKind> {
    TableKind::ALL
        .into_iter()
        .filter(|&kind| {
            manifest
                .tables
                .iter()
                .any(|t| Table::parse(&t.path).is_some_and(|t| t.kind() == kind))
        })
        .collect()
}

/// `license:` (and `license_name:` for a licence the hub does not list) of
/// the model's declared licence.
fn license_lines(declared: Option<&str>) -> String {
    let declared = declared.map(|l| l.trim().to_lowercase());
    match declared.as_deref() {
        None | Some("") => "license: unknown\n".to_string(),
        Some(known) if HUB_LICENSES.contains(&known) => format!("license: {}\n", quoted(known)),
        Some(other) => format!("license: other\nlicense_name: {}\n", quoted(other)),
    }
}

/// The hub's size category of a dataset whose largest table has `rows` rows.
fn size_category(rows: u64) -> &'static str {
    const CATEGORIES: [(u64, &str); 10] = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
        (1_000_000_000, "100M<n<1B"),
        (10_000_000_000, "1B<n<10B"),
        (100_000_000_000, "10B<n<100B"),
        (1_000_000_000_000, "100B<n<1T"),
    ];
    CATEGORIES
        .iter()
        .find(|(below, _)| rows < *below)
        .map_or("n>1T", |(_, name)| name)
}

/// A YAML double-quoted scalar: JSON's string syntax is YAML's.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn front_matter(manifest: &Manifest, kinds: &[TableKind]) -> String {
    let mut yaml = String::from("---\n");
    yaml.push_str(&license_lines(manifest.license.as_deref()));
    let _ = writeln!(
        yaml,
        "pretty_name: {}",
        quoted(&format!("{} in its own vocabulary", manifest.model))
    );
    yaml.push_str("tags:\n- glossa\n- interpretability\n- vocabulary-projection\n");
    let largest = manifest.row_counts.values().copied().max().unwrap_or(0);
    let _ = writeln!(yaml, "size_categories:\n- {}", size_category(largest));
    yaml.push_str("configs:\n");
    // The config the hub's viewer opens: the neurons, else the first there is.
    let default = kinds
        .iter()
        .find(|&&k| k == TableKind::Neurons)
        .or(kinds.first());
    for kind in kinds {
        let _ = writeln!(yaml, "- config_name: {kind}");
        let _ = writeln!(
            yaml,
            "  data_files:\n  - split: train\n    path: {}",
            quoted(&kind.files_pattern())
        );
        if Some(kind) == default {
            yaml.push_str("  default: true\n");
        }
    }
    // What produced the tables, under a key of its own.
    yaml.push_str("glossa:\n");
    let _ = writeln!(yaml, "  model: {}", quoted(&manifest.model));
    let optional = |value: &Option<String>| value.as_deref().map_or("null".to_string(), quoted);
    let _ = writeln!(yaml, "  revision: {}", optional(&manifest.revision));
    let _ = writeln!(yaml, "  commit: {}", optional(&manifest.commit));
    let _ = writeln!(yaml, "  architecture: {}", quoted(&manifest.architecture));
    let _ = writeln!(
        yaml,
        "  glossa_version: {}",
        quoted(&manifest.glossa_version)
    );
    let _ = writeln!(yaml, "  schema_version: {}", manifest.schema_version);
    yaml.push_str("---\n");
    yaml
}

fn body(manifest: &Manifest, kinds: &[TableKind]) -> String {
    let (shape, options) = (&manifest.shape, &manifest.options);
    let mut md = String::new();
    let _ = writeln!(md, "# {} in its own vocabulary\n", manifest.model);
    let _ = writeln!(
        md,
        "The parameters of `{}` ({}: {shape}) read as tokens, as in *Analyzing \
         Transformers in Embedding Space* (Dar, Geva, Gupta, Berant): every \
         feed-forward neuron's key, value (and gate) vector and every attention \
         head's VO and QK circuit multiplied by the model's embedding, the \
         strongest tokens and token pairs of each kept. Written by Glossa {}.\n",
        manifest.model, manifest.architecture, manifest.glossa_version
    );
    md.push_str("| | |\n| --- | --- |\n");
    let _ = writeln!(md, "| model | `{}` |", manifest.model);
    if let Some(revision) = &manifest.revision {
        let commit = manifest
            .commit
            .as_deref()
            .map_or(String::new(), |c| format!(" (commit `{c}`)"));
        let _ = writeln!(md, "| revision | `{revision}`{commit} |");
    }
    let license = manifest
        .license
        .as_deref()
        .map_or("unknown: the model declares none".to_string(), |l| {
            format!("`{l}`, the model's")
        });
    let _ = writeln!(md, "| licence | {license} |");
    if let Some(layers) = options.layers {
        let _ = writeln!(md, "| shard | {} of {} |", layers.describe(), shape.layers);
    }
    let _ = writeln!(
        md,
        "| lists | {} tokens at each end of every neuron list, {} pairs at each end of every head circuit |",
        options.k, options.head_k
    );
    let filters = if options.filters.is_empty() {
        "none".to_string()
    } else {
        options.filters.join(", ")
    };
    let _ = writeln!(
        md,
        "| tokens | {} selectable of {} (filters: {filters}{}) |",
        manifest.vocabulary.selectable_tokens,
        manifest.vocabulary.tokenizer_tokens,
        options
            .token_list
            .as_deref()
            .map_or(String::new(), |list| format!("; corpus: `{list}`"))
    );
    let _ = writeln!(
        md,
        "| weights | {} through the {} embedding{} |",
        options.weights_format,
        match options.embedding {
            crate::EmbeddingChoice::ReadWrite => "input (read side) and output (write side)",
            crate::EmbeddingChoice::Output => "output",
        },
        if options.fold_norm {
            ", norm gains folded in"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "| schema | version {} (`manifest.json` records every file's sha256; `glossa verify` checks them) |\n",
        manifest.schema_version
    );

    md.push_str("## Tables\n\n");
    md.push_str(
        "Each table is a config of this dataset, with one split, `train`:\n\n\
         ```python\nfrom datasets import load_dataset\n\
         neurons = load_dataset(\"PATH_OR_REPO\", \"neurons\", split=\"train\")\n```\n\n",
    );
    for &kind in kinds {
        let _ = writeln!(
            md,
            "### `{kind}`\n\n`{}`, {} rows: {}.\n",
            kind.files_pattern(),
            manifest.rows(kind),
            kind.about()
        );
        md.push_str("| column | type | meaning |\n| --- | --- | --- |\n");
        for field in kind.schema().fields() {
            let _ = writeln!(
                md,
                "| `{}` | {}{} | {} |",
                field.name(),
                type_name(field.data_type()),
                if field.is_nullable() {
                    ", nullable"
                } else {
                    ""
                },
                cell(schema::description(field))
            );
        }
        md.push('\n');
    }
    md.push_str(
        "## Other files\n\n\
         `manifest.json` records what produced the tables (the model's files by \
         sha256, every option of the run) and every table's sha256 and row count; \
         `index/` is Glossa's search index, derived from the tables \
         (`glossa search --data DIR dieta`). Neither is part of any config.\n",
    );
    md
}

/// The column type as people write it.
fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 => "string".to_string(),
        DataType::Boolean => "bool".to_string(),
        other => other.to_string().to_lowercase(),
    }
}

/// Text for a Markdown table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_are_written_as_the_hub_expects() {
        assert_eq!(
            license_lines(Some("Apache-2.0")),
            "license: \"apache-2.0\"\n"
        );
        assert_eq!(license_lines(None), "license: unknown\n");
        assert_eq!(license_lines(Some(" ")), "license: unknown\n");
        assert_eq!(
            license_lines(Some("Tongyi Qianwen")),
            "license: other\nlicense_name: \"tongyi qianwen\"\n"
        );
    }

    #[test]
    fn sizes_fall_in_the_hubs_categories() {
        assert_eq!(size_category(0), "n<1K");
        assert_eq!(size_category(999), "n<1K");
        assert_eq!(size_category(1_000), "1K<n<10K");
        assert_eq!(size_category(211_200), "100K<n<1M");
        assert_eq!(size_category(u64::MAX), "n>1T");
    }

    #[test]
    fn strings_are_quoted_as_yaml_reads_them() {
        assert_eq!(quoted("a: b"), "\"a: b\"");
        assert_eq!(quoted("say \"x\"\n"), "\"say \\\"x\\\"\\n\"");
        assert_eq!(type_name(&DataType::UInt16), "uint16");
        assert_eq!(type_name(&DataType::Utf8), "string");
        assert_eq!(cell("Σ|λ|"), "Σ\\|λ\\|");
    }
}
