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

use glossa_index::Index;
use glossa_tables::schema::SCHEMA_VERSION;
use glossa_tables::{parquet_rows, sha256_file, Manifest, MANIFEST_FILE};

use crate::extract::{
    head_table, neuron_table, table_kind, HEAD_SUMMARY_TABLE, LAYER_DIRS, TOKENS_TABLE,
};
use crate::index::INDEX_DIR;
use crate::resume::{active_run, ActiveRun, RUN_DIR};

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

    let problems = match active_run(dir) {
        Some(ActiveRun::Running(holder)) => vec![format!(
            "an extraction is writing this directory now ({}); verify it once that run has finished",
            holder.describe()
        )],
        Some(ActiveRun::Interrupted) => vec![format!(
            "{RUN_DIR}/ holds the journal of an interrupted extraction; rerun the same `glossa extract` command to finish it"
        )],
        None => Vec::new(),
    };
    report.check(
        "no run active",
        "no extraction is running or interrupted".into(),
        problems,
    );

    let manifest = match Manifest::read(dir) {
        Ok(manifest) => manifest,
        Err(error) => {
            let problem = if dir.join(MANIFEST_FILE).exists() {
                format!("{error}")
            } else {
                format!("no {MANIFEST_FILE}: not a finished dataset (the manifest is written last)")
            };
            report.check("manifest", String::new(), vec![problem]);
            return report;
        }
    };
    report.check(
        "manifest",
        format!(
            "{MANIFEST_FILE} of {}, written by glossa {}",
            manifest.model, manifest.glossa_version
        ),
        Vec::new(),
    );
    let version_problems = if manifest.schema_version == SCHEMA_VERSION {
        Vec::new()
    } else {
        vec![format!(
            "the tables follow schema version {}, this glossa reads version {SCHEMA_VERSION}; extract the dataset again with this version",
            manifest.schema_version
        )]
    };
    report.check(
        "schema version",
        format!("version {SCHEMA_VERSION}"),
        version_problems,
    );

    check_files(&mut report, dir, &manifest);
    check_rows(&mut report, &manifest);
    check_unlisted(&mut report, dir, &manifest);
    check_index(&mut report, dir, &manifest);
    report
}

/// Every listed file: present, its size, sha256 and row count as recorded.
fn check_files(report: &mut Verification, dir: &Path, manifest: &Manifest) {
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
        let path = dir.join(&record.path);
        match sha256_file(&path) {
            Err(_) if !path.exists() => problems.push(format!(
                "{} is missing; extract the dataset again",
                record.path
            )),
            Err(error) => problems.push(format!("{error}")),
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
                    Err(error) => problems.push(format!("{error}")),
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
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for record in &manifest.tables {
        *sums
            .entry(table_kind(&record.path).to_string())
            .or_default() += record.rows;
    }
    if sums != manifest.row_counts {
        problems.push(format!(
            "the tables hold {sums:?} rows per kind, but row_counts says {:?}",
            manifest.row_counts
        ));
    }
    let number = |value: &serde_json::Value, name: &str| value[name].as_u64();
    let option = |name: &str| manifest.options[name].as_bool().unwrap_or(false);
    let listed: BTreeSet<&str> = manifest.tables.iter().map(|t| t.path.as_str()).collect();
    let layers = number(&manifest.shape, "layers").unwrap_or(0) as usize;
    let mut expect = |table: &str, rows: Option<u64>| {
        if !listed.contains(table) {
            problems.push(format!("{table} is not in the manifest"));
        } else if let Some(rows) = rows {
            let found = manifest
                .tables
                .iter()
                .find(|t| t.path == table)
                .map_or(0, |t| t.rows);
            if found != rows {
                problems.push(format!(
                    "{table} holds {found} rows; the shape and options imply {rows}"
                ));
            }
        }
    };
    expect(
        TOKENS_TABLE,
        number(&manifest.vocabulary, "tokenizer_tokens"),
    );
    let (d_ff, heads) = (
        number(&manifest.shape, "d_ff").unwrap_or(0),
        number(&manifest.shape, "heads").unwrap_or(0),
    );
    if option("neurons") {
        let k = number(&manifest.options, "k").unwrap_or(0);
        for l in 0..layers {
            expect(&neuron_table(l), Some(d_ff * 2 * 2 * k));
        }
    }
    if option("heads") {
        for l in 0..layers {
            expect(&head_table(l), None);
        }
        expect(HEAD_SUMMARY_TABLE, Some(layers as u64 * heads * 2));
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

/// No table file lies in the dataset without being listed.
fn check_unlisted(report: &mut Verification, dir: &Path, manifest: &Manifest) {
    let listed: BTreeSet<&str> = manifest.tables.iter().map(|t| t.path.as_str()).collect();
    let mut problems = Vec::new();
    for folder in std::iter::once("").chain(LAYER_DIRS) {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
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
fn check_index(report: &mut Verification, dir: &Path, manifest: &Manifest) {
    let expected = expected_entries(manifest);
    let problems = match index_problem(dir, expected) {
        None => Vec::new(),
        Some(problem) => vec![format!(
            "{problem}; `glossa index --data {}` rebuilds it from the tables (`glossa search` does so by itself)",
            dir.display()
        )],
    };
    report.check(
        "index",
        format!("{expected} entries, one per neuron and head row"),
        problems,
    );
}

/// Entries the index of a dataset must hold: one per neuron row and head row.
pub(crate) fn expected_entries(manifest: &Manifest) -> u64 {
    LAYER_DIRS
        .iter()
        .filter_map(|kind| manifest.row_counts.get(*kind))
        .sum()
}

/// What is wrong with the index of the dataset in `dir`, if anything.
pub(crate) fn index_problem(dir: &Path, expected: u64) -> Option<String> {
    match Index::open(dir.join(INDEX_DIR)) {
        Err(glossa_index::Error::Missing { .. }) => Some("the search index is missing".into()),
        Err(error) => Some(format!("the search index cannot be read ({error})")),
        Ok(index) if index.entries() != expected => Some(format!(
            "the search index is stale: it holds {} entries, the tables {expected}",
            index.entries()
        )),
        Ok(_) => None,
    }
}
