//! Can a dataset be trusted? Every check `glossa verify` makes.
//!
//! A dataset is trusted when its manifest is there and readable, of a schema
//! version this build reads, every file it lists is present with the size,
//! sha256 and row count it records, the row counts agree with the run's shape
//! and options, no table file lies beside them unlisted, no run is writing or
//! half-wrote the directory, and the search index holds exactly the entries
//! of the tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use glossa_tables::schema::SCHEMA_VERSION;
use glossa_tables::{
    first_non_finite_score, parquet_rows, sha256_file, Layout, Manifest, Table, TableError,
    TableKind,
};

use crate::index::{expected_entries, open_checked};
use crate::resume::{active_run, ActiveRun, RunKind};

/// One check and what it found.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked, in a word or two.
    pub name: &'static str,
    /// What was found, when all is well.
    pub detail: String,
    /// Everything wrong, each naming the file and what to do; empty if the check passed.
    pub problems: Vec<String>,
}

/// The checks of one dataset directory.
#[derive(Debug, Clone)]
pub struct Verification {
    pub dir: PathBuf,
    pub checks: Vec<Check>,
}

impl Verification {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.problems.is_empty())
    }

    /// How many problems were found.
    pub fn problems(&self) -> usize {
        self.checks.iter().map(|c| c.problems.len()).sum()
    }

    fn check(&mut self, name: &'static str, detail: String, problems: Vec<String>) -> bool {
        let passed = problems.is_empty();
        self.checks.push(Check {
            name,
            detail,
            problems,
        });
        passed
    }
}

impl fmt::Display for Verification {
    /// A checklist, one line per check (and per problem), then a verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verifying {}", self.dir.display())?;
        for check in &self.checks {
            if check.problems.is_empty() {
                writeln!(f, "  ok    {:<14} {}", check.name, check.detail)?;
            } else {
                for problem in &check.problems {
                    writeln!(f, "  FAIL  {:<14} {problem}", check.name)?;
                }
            }
        }
        match self.problems() {
            0 => writeln!(f, "{}: every check passed", self.dir.display()),
            n => writeln!(
                f,
                "{}: {n} problem{} found; the dataset cannot be trusted as it is",
                self.dir.display(),
                if n == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Checks the dataset in `dir`; never fails, every problem is in the result.
pub fn verify(dir: &Path) -> Verification {
    let mut report = Verification {
        dir: dir.to_path_buf(),
        checks: Vec::new(),
    };
    if !dir.is_dir() {
        report.check(
            "directory",
            String::new(),
            vec![format!("{} is not a directory", dir.display())],
        );
        return report;
    }

    let layout = Layout::new(dir);
    let problems = match active_run(&layout) {
        Some(ActiveRun::Running(holder)) => vec![format!(
            "an extraction is writing this directory now ({}); verify it once that run has finished",
            holder.describe()
        )],
        Some(ActiveRun::Interrupted(RunKind::Extraction)) => vec![format!(
            "{} holds the journal of an interrupted extraction; the same extraction run again finishes it",
            layout.run_dir().display()
        )],
        Some(ActiveRun::Interrupted(RunKind::Merge)) => vec![format!(
            "{} holds the journal of an interrupted merge; the same merge run again finishes it",
            layout.run_dir().display()
        )],
        None => Vec::new(),
    };
    report.check(
        "no run active",
        "no extraction is running or interrupted".into(),
        problems,
    );

    let manifest = match Manifest::read(&layout) {
        Ok(manifest) => manifest,
        Err(error) => {
            let (name, problem) = match &error {
                TableError::SchemaVersion { .. } => ("schema version", error.to_string()),
                _ if !layout.manifest().exists() => (
                    "manifest",
                    "no manifest.json: not a finished dataset (the manifest is written last)"
                        .to_string(),
                ),
                _ => ("manifest", chain(&error)),
            };
            report.check(name, String::new(), vec![problem]);
            return report;
        }
    };
    let shard = match manifest.options.layers {
        Some(shard) => format!(
            "; a shard of {} of {}",
            shard.describe(),
            manifest.shape.layers
        ),
        None => String::new(),
    };
    report.check(
        "manifest",
        format!(
            "manifest.json of {}, written by glossa {}{shard}",
            manifest.model, manifest.glossa_version
        ),
        Vec::new(),
    );
    report.check(
        "schema version",
        format!("version {SCHEMA_VERSION}"),
        Vec::new(),
    );

    check_files(&mut report, &layout, &manifest);
    check_rows(&mut report, &manifest);
    check_scores(&mut report, &layout, &manifest);
    check_unlisted(&mut report, &layout, &manifest);
    check_index(&mut report, &layout, &manifest);
    report
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Every listed file: present, its size, sha256 and row count as recorded.
fn check_files(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let mut problems = Vec::new();
    let mut bytes = 0;
    for record in &manifest.tables {
        if record
            .path
            .split('/')
            .any(|part| part == ".." || part.is_empty())
        {
            problems.push(format!(
                "{:?} is not a path inside the dataset",
                record.path
            ));
            continue;
        }
        let path = layout.file(&record.path);
        match sha256_file(&path) {
            Err(_) if !path.exists() => problems.push(format!(
                "{} is missing; extract the dataset again",
                record.path
            )),
            Err(error) => problems.push(chain(&error)),
            Ok((_, size)) if size != record.bytes => problems.push(format!(
                "{} has {size} bytes, the manifest says {}: the file was changed or truncated; extract the dataset again",
                record.path, record.bytes
            )),
            Ok((sha256, _)) if sha256 != record.sha256 => problems.push(format!(
                "{}: sha256 {sha256} differs from the manifest's {}: the file was changed or corrupted; extract the dataset again",
                record.path, record.sha256
            )),
            Ok((_, size)) => {
                bytes += size;
                match parquet_rows(&path) {
                    Ok(rows) if rows == record.rows => {}
                    Ok(rows) => problems.push(format!(
                        "{} holds {rows} rows, the manifest says {}",
                        record.path, record.rows
                    )),
                    Err(error) => problems.push(chain(&error)),
                }
            }
        }
    }
    report.check(
        "files",
        format!(
            "{} files, {bytes} bytes: sizes, sha256 and row counts match the manifest",
            manifest.tables.len()
        ),
        problems,
    );
}

/// Row counts: per kind as the manifest sums them, and as the shape and
/// options imply; one table per layer of each extracted kind.
fn check_rows(report: &mut Verification, manifest: &Manifest) {
    let mut problems = Vec::new();
    let mut sums: BTreeMap<TableKind, u64> = BTreeMap::new();
    for record in &manifest.tables {
        match Table::parse(&record.path) {
            Some(table) => *sums.entry(table.kind()).or_default() += record.rows,
            None => problems.push(format!(
                "{} is not a table of a Glossa dataset",
                record.path
            )),
        }
    }
    if sums != manifest.row_counts {
        problems.push(format!(
            "the tables hold {} rows per kind, but row_counts says {}",
            counts(&sums),
            counts(&manifest.row_counts)
        ));
    }
    let rows_of = |table: Table| {
        let path = table.path();
        manifest
            .tables
            .iter()
            .find(|t| t.path == path)
            .map(|t| t.rows)
    };
    let mut expect = |table: Table, rows: Option<u64>| match (rows_of(table), rows) {
        (None, _) => problems.push(format!("{table} is not in the manifest")),
        (Some(found), Some(rows)) if found != rows => problems.push(format!(
            "{table} holds {found} rows; the shape and options imply {rows}"
        )),
        _ => {}
    };
    let (shape, options) = (&manifest.shape, &manifest.options);
    // Key and value, and the gate of gated models; top and bottom each.
    let sides = if shape.gated { 3 } else { 2 };
    expect(
        Table::Tokens,
        Some(manifest.vocabulary.tokenizer_tokens as u64),
    );
    // A shard holds the tables of its layers only.
    let layers = manifest.layers();
    if options.neurons {
        for l in layers.clone() {
            expect(
                Table::Neurons(l),
                Some((shape.d_ff * sides * 2 * options.k) as u64),
            );
        }
    }
    if options.heads {
        for l in layers.clone() {
            expect(Table::Heads(l), None);
        }
        expect(
            Table::HeadSummary,
            Some((layers.len() * shape.heads * 2) as u64),
        );
    }
    if layers.end > shape.layers {
        problems.push(format!(
            "the manifest names layers {}..{} of a model of {} layers",
            layers.start, layers.end, shape.layers
        ));
    }
    for record in &manifest.tables {
        if let Some(layer) = Table::parse(&record.path).and_then(Table::layer) {
            if !layers.contains(&layer) {
                problems.push(format!(
                    "{} is a table of layer {layer}, which the dataset does not hold",
                    record.path
                ));
            }
        }
    }
    report.check(
        "row counts",
        format!(
            "{} rows, as the shape and options imply",
            manifest.row_counts.values().sum::<u64>()
        ),
        problems,
    );
}

/// `neurons 100, tokens 20`.
fn counts(counts: &BTreeMap<TableKind, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    parts.join(", ")
}

/// Every score of every list is a finite number: a NaN or infinite score
/// ranks nothing, so a list holding one cannot be trusted.
fn check_scores(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let mut problems = Vec::new();
    for record in &manifest.tables {
        if !matches!(
            Table::parse(&record.path),
            Some(Table::Neurons(_) | Table::Heads(_))
        ) {
            continue;
        }
        // Unreadable files are the files check's to report.
        if let Ok(Some(score)) = first_non_finite_score(&layout.file(&record.path)) {
            problems.push(format!(
                "{} holds the score {score}: the weights overflow 32-bit floats, so its lists rank nothing",
                record.path
            ));
        }
    }
    report.check("scores", "every score is a finite number".into(), problems);
}

/// No table file lies in the dataset without being listed.
fn check_unlisted(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let listed: BTreeSet<&str> = manifest.tables.iter().map(|t| t.path.as_str()).collect();
    let mut problems = Vec::new();
    let folders = TableKind::PER_LAYER.map(|kind| kind.as_str());
    for folder in std::iter::once("").chain(folders) {
        let Ok(entries) = std::fs::read_dir(layout.file(folder)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".parquet") && !name.starts_with('.'))
            .collect();
        names.sort();
        for name in names {
            let relative = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            if !listed.contains(relative.as_str()) {
                problems.push(format!(
                    "{relative} is not in the manifest: it does not belong to this dataset; delete it or extract again"
                ));
            }
        }
    }
    report.check(
        "unlisted files",
        "no table file beside the listed ones".into(),
        problems,
    );
}

/// The index opens and holds one entry per neuron row and head row.
fn check_index(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let expected = expected_entries(manifest);
    let problems = match open_checked(layout, expected) {
        Ok(_) => Vec::new(),
        Err(problem) => vec![format!(
            "{problem}; it can be rebuilt from the tables (a search does so by itself)"
        )],
    };
    report.check(
        "index",
        format!("{expected} entries, one per neuron and head row"),
        problems,
    );
}
