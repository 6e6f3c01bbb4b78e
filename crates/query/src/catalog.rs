//! Which tables a query may name: a dataset's, each a lazy Parquet scan.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use glossa_tables::{Layout, Manifest, Table, TableKind};
use polars::prelude::{LazyFrame, PlRefPath, ScanArgsParquet, ScanSources};
use polars::sql::SQLContext;

use crate::answer::Answer;
use crate::error::{QueryError, Result};

/// A dataset's tables, registered under their kinds' names.
pub struct Catalog {
    context: SQLContext,
    tables: Vec<&'static str>,
}

impl Catalog {
    /// Every table kind the manifest of the dataset in `layout` lists, as a
    /// scan of its files (a per-layer kind's layers in order). Nothing is
    /// read until a query runs, and then only what it needs.
    pub fn open(layout: &Layout, manifest: &Manifest) -> Result<Catalog> {
        let mut files: BTreeMap<TableKind, Vec<PathBuf>> = BTreeMap::new();
        for record in &manifest.tables {
            if let Some(table) = Table::parse(&record.path) {
                files
                    .entry(table.kind())
                    .or_default()
                    .push(layout.file(&record.path));
            }
        }
        let mut context = SQLContext::new();
        let mut tables = Vec::new();
        for kind in TableKind::ALL {
            if let Some(paths) = files.get(&kind) {
                context.register(kind.as_str(), scan(paths)?);
                tables.push(kind.as_str());
            }
        }
        if let Some(sql) = unit_stats_sql(&tables) {
            let view = context.execute(&sql).map_err(|source| QueryError::View {
                name: UNIT_STATS,
                source,
            })?;
            context.register(UNIT_STATS, view);
            tables.push(UNIT_STATS);
        }
        Ok(Catalog { context, tables })
    }

    /// The tables a query may name: the dataset's, in the order a run
    /// writes them, then the views over them.
    pub fn tables(&self) -> &[&'static str] {
        &self.tables
    }

    /// Runs one SQL statement and collects its rows. A statement polars
    /// cannot parse or plan, or that names an unknown table or column, is an
    /// error in polars' words with the tables there are; so is a statement
    /// on which polars fails, which never panics out of here.
    pub fn query(&mut self, sql: &str) -> Result<Answer> {
        let context = &mut self.context;
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            context.execute(sql).and_then(LazyFrame::collect)
        }));
        let tables = self.tables().join(", ");
        match run {
            Ok(Ok(frame)) => Ok(Answer::new(frame)),
            Ok(Err(source)) => Err(QueryError::Sql { tables, source }),
            Err(panic) => Err(QueryError::Panic {
                message: panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "no message".to_string()),
                tables,
            }),
        }
    }
}

/// The view of every unit's statistics, one row per list: a neuron's
/// sides from `neuron_summary`, a head's circuits from `head_summary`.
pub const UNIT_STATS: &str = "unit_stats";

/// The `unit_stats` view over those of its two tables the dataset has
/// (`--no-heads` writes no head summary), or `None` without either.
fn unit_stats_sql(tables: &[&str]) -> Option<String> {
    let neurons = "SELECT 'neuron' AS unit, layer, CAST(neuron AS INT) AS neuron, \
        CAST(NULL AS INT) AS head, side AS list, CAST(tokens AS BIGINT) AS scores, mean, std, \
        kurtosis, entropy, CAST(value_overlap AS INT) AS value_overlap, \
        CAST(NULL AS DOUBLE) AS copying_score FROM neuron_summary";
    let heads = "SELECT 'head' AS unit, layer, CAST(NULL AS INT) AS neuron, \
        CAST(head AS INT) AS head, circuit AS list, CAST(pairs AS BIGINT) AS scores, mean, std, \
        CAST(NULL AS DOUBLE) AS kurtosis, CAST(NULL AS DOUBLE) AS entropy, \
        CAST(NULL AS INT) AS value_overlap, copying_score FROM head_summary";
    let parts: Vec<&str> = [("neuron_summary", neurons), ("head_summary", heads)]
        .into_iter()
        .filter(|(table, _)| tables.contains(table))
        .map(|(_, sql)| sql)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
}

/// A lazy scan of the Parquet files at `paths`, taken as named (no globs,
/// no hive partitions).
fn scan(paths: &[PathBuf]) -> Result<LazyFrame> {
    let scan_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| QueryError::Scan { path, source }
    };
    let sources = paths
        .iter()
        .map(|path| PlRefPath::try_from_path(path).map_err(scan_error(path)))
        .collect::<Result<Vec<_>>>()?;
    let mut args = ScanArgsParquet {
        glob: false,
        ..ScanArgsParquet::default()
    };
    args.hive_options.enabled = Some(false);
    LazyFrame::scan_parquet_sources(ScanSources::Paths(sources.into()), args)
        .map_err(scan_error(&paths[0]))
}
