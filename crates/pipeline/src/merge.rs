//! Joining shards into one dataset (`glossa merge`).
//!
//! A shard is what an extraction restricted to some layers writes
//! ([`ExtractConfig::layers`](crate::ExtractConfig)): a dataset of its own,
//! whose manifest records its range, holding the tokens table, the per-layer
//! tables of its layers, their head summary and an index over them.
//!
//! [`merge`] checks that the shards are parts of one extraction (the same
//! glossa, the same input files by sha256, the same options apart from the
//! layers, the same tokens table) and that their ranges cover every layer of
//! the model exactly once. It then copies the tables in the order an
//! unsharded run writes them, checking each against its shard's manifest,
//! joins the head summaries, rebuilds the index and writes the manifest last.
//! The tables are byte-identical to an unsharded run's. Like an extraction,
//! a merge locks its output directory and keeps a journal: an interrupted
//! merge leaves no manifest, and the same merge run again resumes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use glossa_tables::{
    copy_atomically, head_summary_batch, read_head_summary, sha256_file, write_table, FileRecord,
    LayerRange, Layout, Manifest, Table, TableKind, TableOptions,
};

use crate::dataset::Dataset;
use crate::error::{PipelineError, Result};
use crate::extract::Summary;
use crate::index::rebuild_index;
use crate::observer::Observer;
use crate::output_dir::write_locked;
use crate::resume::{remove_file, Journal, RunKind};

/// One shard to merge (a complete dataset counts as the shard of every layer).
struct Shard {
    /// As the caller named it.
    dir: PathBuf,
    layout: Layout,
    manifest: Manifest,
    /// The layers it holds.
    range: LayerRange,
}

impl Shard {
    fn open(dir: &Path) -> Result<Shard> {
        let dataset = Dataset::open(dir).map_err(|source| PipelineError::MergeInput {
            dir: dir.to_path_buf(),
            source: Box::new(source),
        })?;
        let manifest = dataset.manifest().clone();
        let layers = manifest.layers();
        let range = LayerRange::new(layers.start, layers.end)
            .ok()
            .filter(|range| range.end() <= manifest.shape.layers)
            .ok_or_else(|| PipelineError::ShardDamaged {
                shard: dir.to_path_buf(),
                problem: format!(
                    "its manifest names layers {}..{} of a model of {} layers",
                    layers.start, layers.end, manifest.shape.layers
                ),
            })?;
        Ok(Shard {
            dir: dir.to_path_buf(),
            layout: dataset.layout().clone(),
            manifest,
            range,
        })
    }

    fn damaged(&self, problem: String) -> PipelineError {
        PipelineError::ShardDamaged {
            shard: self.dir.clone(),
            problem,
        }
    }

    /// What the shard's manifest records of `table`.
    fn record(&self, table: Table) -> Result<&FileRecord> {
        let path = table.path();
        self.manifest
            .tables
            .iter()
            .find(|t| t.path == path)
            .ok_or_else(|| {
                self.damaged(format!(
                    "its manifest does not list {path}, which its layers and options imply"
                ))
            })
    }

    /// Its file of `table`, checked against its manifest's sha256.
    fn checked_file(&self, table: Table) -> Result<PathBuf> {
        let record = self.record(table)?;
        let path = self.layout.table(table);
        let (sha256, bytes) = sha256_file(&path)?;
        if sha256 != record.sha256 || bytes != record.bytes {
            return Err(self.changed(table));
        }
        Ok(path)
    }

    fn changed(&self, table: Table) -> PipelineError {
        self.damaged(format!(
            "{table} differs from what its manifest records (it was changed after the extraction)"
        ))
    }

    fn holding(&self) -> (PathBuf, LayerRange) {
        (self.dir.clone(), self.range)
    }
}

/// Joins the datasets in `shards` (shards of one extraction, in any order)
/// into one dataset in `out`, which must be new, empty, or hold a dataset or
/// an interrupted run (replaced). `threads` build the index (default: all cores).
pub fn merge(
    shards: &[PathBuf],
    out: &Path,
    threads: Option<usize>,
    observer: &dyn Observer,
) -> Result<Summary> {
    if shards.is_empty() {
        return Err(PipelineError::NoShards);
    }
    let mut shards = shards
        .iter()
        .map(|dir| Shard::open(dir))
        .collect::<Result<Vec<_>>>()?;
    shards.sort_by_key(|s| (s.range.start(), s.range.end()));
    check_one_extraction(&shards)?;
    let holders = check_coverage(&shards)?;
    check_not_a_shard(out, &shards)?;
    write_locked(out, false, observer, |layout| {
        write_merged(&shards, &holders, layout, threads, observer)
    })
}

/// Every shard is a part of the extraction the first one is a part of.
fn check_one_extraction(shards: &[Shard]) -> Result<()> {
    let first = &shards[0];
    for other in &shards[1..] {
        let differ = |what: &'static str, differences: Vec<String>| {
            if differences.is_empty() {
                Ok(())
            } else {
                Err(PipelineError::ShardsDiffer {
                    first: first.dir.clone(),
                    other: other.dir.clone(),
                    what,
                    differences,
                })
            }
        };
        let (a, b) = (&other.manifest, &first.manifest);
        differ(
            "glossa versions",
            (a.glossa_version != b.glossa_version)
                .then(|| format!("{} and {}", a.glossa_version, b.glossa_version))
                .into_iter()
                .collect(),
        )?;
        differ("model files", input_differences(a, b))?;
        differ(
            "models",
            json_differences(
                serde_json::json!({"architecture": a.architecture, "shape": a.shape}),
                serde_json::json!({"architecture": b.architecture, "shape": b.shape}),
            ),
        )?;
        differ("options", json_differences(options(a), options(b)))?;
        differ(
            "vocabularies",
            json_differences(json(&a.vocabulary), json(&b.vocabulary)),
        )?;
        // The tokens table records which tokens the filters and the corpus
        // let through: equal options over another corpus show here.
        let tables = [Table::Tokens, Table::TokenList]
            .into_iter()
            .filter(|&t| sha256_of(a, t) != sha256_of(b, t))
            .map(|t| format!("{t} is not the same file"))
            .collect();
        differ("tables", tables)?;
    }
    Ok(())
}

/// `model.safetensors: sha256 62ebeed79965… and 1a2b3c4d5e6f…`, one per input file that differs.
fn input_differences(a: &Manifest, b: &Manifest) -> Vec<String> {
    let names: BTreeSet<&String> = a.inputs.keys().chain(b.inputs.keys()).collect();
    let short = |hash: Option<&String>| match hash {
        Some(hash) => format!("sha256 {}…", &hash[..hash.len().min(12)]),
        None => "absent".to_string(),
    };
    names
        .into_iter()
        .filter(|name| a.inputs.get(*name) != b.inputs.get(*name))
        .map(|name| {
            format!(
                "{name}: {} and {}",
                short(a.inputs.get(name)),
                short(b.inputs.get(name))
            )
        })
        .collect()
}

/// The options that decide the tables: all but the layers and the thread count.
fn options(manifest: &Manifest) -> serde_json::Value {
    let mut options = json(&manifest.options);
    if let Some(options) = options.as_object_mut() {
        options.remove("layers");
        options.remove("threads");
    }
    options
}

fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// `k: 10 and 5`, one per top-level field that differs.
fn json_differences(a: serde_json::Value, b: serde_json::Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let value = |v: Option<&serde_json::Value>| v.map_or("absent".to_string(), |v| v.to_string());
    keys.into_iter()
        .filter(|key| a.get(*key) != b.get(*key))
        .map(|key| format!("{key}: {} and {}", value(a.get(key)), value(b.get(key))))
        .collect()
}

fn sha256_of(manifest: &Manifest, table: Table) -> Option<&str> {
    let path = table.path();
    manifest
        .tables
        .iter()
        .find(|t| t.path == path)
        .map(|t| t.sha256.as_str())
}

/// The shard holding each layer, by index into `shards`; fails, naming the
/// layers and shards, unless every layer is in exactly one shard.
fn check_coverage(shards: &[Shard]) -> Result<Vec<usize>> {
    let layers = shards[0].manifest.shape.layers;
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (index, shard) in shards.iter().enumerate() {
        for layer in shard.range.layers() {
            holders[layer].push(index);
        }
    }
    let overlap: Vec<usize> = (0..layers).filter(|&l| holders[l].len() > 1).collect();
    if !overlap.is_empty() {
        let involved: BTreeSet<usize> = overlap
            .iter()
            .flat_map(|&l| holders[l].iter().copied())
            .collect();
        return Err(PipelineError::LayersOverlap {
            overlap: runs(&overlap),
            shards: involved.into_iter().map(|i| shards[i].holding()).collect(),
        });
    }
    let missing: Vec<usize> = (0..layers).filter(|&l| holders[l].is_empty()).collect();
    if !missing.is_empty() {
        return Err(PipelineError::LayersMissing {
            missing: runs(&missing),
            layers,
            shards: shards.iter().map(Shard::holding).collect(),
        });
    }
    Ok(holders.into_iter().flatten().collect())
}

/// Runs of consecutive layers in `sorted`, as ranges.
fn runs(sorted: &[usize]) -> Vec<LayerRange> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &layer in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end == layer => *end += 1,
            _ => runs.push((layer, layer + 1)),
        }
    }
    runs.into_iter()
        .filter_map(|(start, end)| LayerRange::new(start, end).ok())
        .collect()
}

/// Refuses to merge into one of the shards.
fn check_not_a_shard(out: &Path, shards: &[Shard]) -> Result<()> {
    let Ok(out_dir) = out.canonicalize() else {
        return Ok(());
    };
    if shards
        .iter()
        .any(|s| s.dir.canonicalize().is_ok_and(|dir| dir == out_dir))
    {
        return Err(PipelineError::MergeIntoShard {
            out: out.to_path_buf(),
        });
    }
    Ok(())
}

/// Copies, joins, indexes and records, in `layout`, which the caller has locked.
fn write_merged(
    shards: &[Shard],
    holders: &[usize],
    layout: &Layout,
    threads: Option<usize>,
    observer: &dyn Observer,
) -> Result<Summary> {
    let started = Instant::now();
    let first = &shards[0];
    let options = &first.manifest.options;

    // The tables in the order an unsharded run lists them: the shared ones
    // (every shard holds the same), then each kind's layers from the shard
    // holding each.
    let mut plan: Vec<(Table, &Shard)> = [Table::Tokens, Table::TokenList]
        .into_iter()
        .filter(|t| first.manifest.lists(&t.path()))
        .map(|t| (t, first))
        .collect();
    let layer_tables = |table: fn(usize) -> Table| {
        holders
            .iter()
            .enumerate()
            .map(move |(layer, &holder)| (table(layer), &shards[holder]))
    };
    if options.neurons {
        // Each layer's summary, then its lists, as the extraction writes them.
        plan.extend(
            layer_tables(Table::NeuronSummary)
                .zip(layer_tables(Table::Neurons))
                .flat_map(|(summary, lists)| [summary, lists]),
        );
    }
    if options.connections.is_some() {
        plan.extend(layer_tables(Table::Connections));
    }
    if options.heads {
        plan.extend(layer_tables(Table::Heads));
    }

    // The same shards, as their manifests are now, make the same merge: an
    // interrupted one is resumed.
    let description = serde_json::json!({
        "glossa_version": env!("CARGO_PKG_VERSION"),
        "shards": shards
            .iter()
            .map(|s| Ok(serde_json::json!({
                "layers": s.range,
                "manifest_sha256": sha256_file(&s.layout.manifest())?.0,
            })))
            .collect::<Result<Vec<_>>>()?,
    });
    let (mut journal, resumed) =
        Journal::start(layout, RunKind::Merge, description, false, observer)?;
    if !resumed.done.is_empty() {
        observer.note(&format!(
            "resuming the interrupted merge in {}: {} files already copied",
            layout.dir().display(),
            resumed.done.len()
        ));
    }
    let mut timings = BTreeMap::new();
    let mut tables = Vec::new();
    observer.stage("merge", (plan.len() + usize::from(options.heads)) as u64);
    for (table, shard) in plan {
        let path = table.path();
        let record = match resumed.done.get(&path) {
            Some(done) => done.clone(),
            None => {
                let expected = shard.record(table)?;
                let target = layout.table(table);
                let (sha256, bytes) = copy_atomically(&shard.layout.table(table), &target)?;
                if sha256 != expected.sha256 || bytes != expected.bytes {
                    remove_file(&target)?;
                    return Err(shard.changed(table));
                }
                let record = expected.clone();
                journal.record(&record, &timings)?;
                record
            }
        };
        tables.push(record);
        observer.advance(1);
    }
    if options.heads {
        let table = Table::HeadSummary;
        let record = match resumed.done.get(&table.path()) {
            Some(done) => done.clone(),
            None => {
                let rows = joined_head_summary(shards)?;
                let record = write_table(
                    layout.dir(),
                    &table.path(),
                    TableKind::HeadSummary.schema(),
                    [head_summary_batch(&rows)],
                    TableOptions::default(),
                )?;
                journal.record(&record, &timings)?;
                record
            }
        };
        tables.push(record);
        observer.advance(1);
    }
    observer.finish_stage();

    observer.stage("index", 0);
    rebuild_index(layout, &tables, threads, options.word_forms.as_deref())?;
    observer.finish_stage();

    // Each shard's seconds per stage, summed; then the merge's own.
    for shard in shards {
        for (stage, seconds) in &shard.manifest.timings {
            *timings.entry(stage.clone()).or_default() += seconds;
        }
    }
    *timings.entry("merge".to_string()).or_default() += started.elapsed().as_secs_f64();
    let mut row_counts = BTreeMap::new();
    for record in &tables {
        if let Some(table) = Table::parse(&record.path) {
            *row_counts.entry(table.kind()).or_default() += record.rows;
        }
    }
    let mut manifest = first.manifest.clone();
    manifest.options.layers = None;
    manifest.tables = tables;
    manifest.row_counts = row_counts;
    manifest.timings = timings;
    manifest.write_with_card(layout)?;
    journal.finish()?;
    Ok(Summary {
        dir: layout.dir().to_path_buf(),
        manifest,
    })
}

/// The head summaries of the shards, in layer order: the rows an unsharded
/// run writes.
fn joined_head_summary(shards: &[Shard]) -> Result<Vec<glossa_tables::HeadSummaryRow>> {
    let mut rows = Vec::new();
    for shard in shards {
        let part = read_head_summary(&shard.checked_file(Table::HeadSummary)?)?;
        if let Some(row) = part
            .iter()
            .find(|r| !shard.range.contains(r.layer as usize))
        {
            return Err(shard.damaged(format!(
                "{} holds rows of layer {}, outside the shard's {}",
                Table::HeadSummary,
                row.layer,
                shard.range.describe()
            )));
        }
        rows.extend(part);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_layers() {
        let range = |a, b| LayerRange::new(a, b).unwrap();
        assert_eq!(runs(&[]), []);
        assert_eq!(runs(&[2]), [range(2, 3)]);
        assert_eq!(
            runs(&[1, 2, 3, 5, 7, 8]),
            [range(1, 4), range(5, 6), range(7, 9)]
        );
    }
}
