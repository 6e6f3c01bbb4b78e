//! Can a dataset be trusted? Every check `glossa verify` makes.
//!
//! A dataset is trusted when its manifest is there and readable, of a schema
//! version this build reads, every file it lists (the dataset card among
//! them) is present with the size, sha256 and row count it records, the row
//! counts agree with the run's shape and options, no table file lies beside
//! them unlisted, no run is writing or half-wrote the directory, and the
//! search index holds exactly the entries of the tables.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use glossa_tables::schema::SCHEMA_VERSION;
use glossa_tables::{
    first_non_finite_score, parquet_rows, read_head_summary, read_list_scores, read_neuron_rows,
    read_neuron_summary, sha256_file, Layout, Manifest, Polarity, Side, Table, TableError,
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
    check_card(&mut report, &layout, &manifest);
    check_rows(&mut report, &manifest);
    check_scores(&mut report, &layout, &manifest);
    check_z(&mut report, &layout, &manifest);
    check_neuron_statistics(&mut report, &layout, &manifest);
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

/// The dataset card is there with the size and sha256 the manifest records.
fn check_card(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let Some(card) = &manifest.card else {
        report.check(
            "card",
            "no dataset card: the dataset was written before glossa wrote them".into(),
            Vec::new(),
        );
        return;
    };
    let problems = match sha256_file(&layout.card()) {
        Err(_) if !layout.card().exists() => vec![format!(
            "{} is missing; extract the dataset again",
            card.path
        )],
        Err(error) => vec![chain(&error)],
        Ok((sha256, bytes)) if (sha256.as_str(), bytes) != (card.sha256.as_str(), card.bytes) => {
            vec![format!(
                "{} differs from the card the manifest records (it was edited after the extraction); extract the dataset again, or merge it again, to rewrite it",
                card.path
            )]
        }
        Ok(_) => Vec::new(),
    };
    report.check(
        "card",
        format!(
            "{}, {} bytes: the dataset card the manifest records",
            card.path, card.bytes
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
            expect(Table::NeuronSummary(l), Some((shape.d_ff * sides) as u64));
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
    if let Some(k) = options.connections {
        // Through the key, and the gate of gated models; downstream but in
        // the last layer, upstream but in the first; top and bottom each.
        let read_sides = sides - 1;
        for l in layers.clone() {
            let directions = usize::from(l + 1 < shape.layers) + usize::from(l > 0);
            expect(
                Table::Connections(l),
                Some((shape.d_ff * read_sides * directions * 2 * k) as u64),
            );
        }
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

/// Every score and z of every list is a finite number: a NaN or infinite
/// score ranks nothing, so a list holding one cannot be trusted.
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
        if let Ok(Some((column, value))) = first_non_finite_score(&layout.file(&record.path)) {
            problems.push(format!(
                "{} holds the {column} {value}: the weights overflow 32-bit floats, so its lists rank nothing",
                record.path
            ));
        }
    }
    report.check(
        "scores",
        "every score and z is a finite number".into(),
        problems,
    );
}

/// Every z is (score − mean) / std of its list, as the summaries record the
/// mean and std (0 where the scores do not vary). Reads five columns of each
/// list table, and the summaries.
fn check_z(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let mut problems = Vec::new();
    let mut rows = 0u64;
    let listed = |table: Table| manifest.lists(&table.path());
    let heads = if listed(Table::HeadSummary) {
        match read_head_summary(&layout.table(Table::HeadSummary)) {
            Ok(summary) => summary
                .into_iter()
                .map(|r| ((r.layer, r.head, r.circuit.as_str()), (r.mean, r.std)))
                .collect(),
            // Unreadable files are the files check's to report.
            Err(_) => HashMap::new(),
        }
    } else {
        HashMap::new()
    };
    for layer in 0..manifest.shape.layers {
        let neurons = (Table::Neurons(layer), Table::NeuronSummary(layer));
        if listed(neurons.0) && listed(neurons.1) {
            let Ok(summary) = read_neuron_summary(&layout.table(neurons.1)) else {
                continue;
            };
            let stats: HashMap<_, _> = summary
                .into_iter()
                .map(|r| ((r.layer, r.neuron, r.side.as_str()), (r.mean, r.std)))
                .collect();
            let path = layout.table(neurons.0);
            if let Ok(found) = z_mismatches(&path, TableKind::Neurons, &stats) {
                rows += found.0;
                problems.extend(found.1.map(|m| format!("{}: {m}", neurons.0)));
            }
        }
        if listed(Table::Heads(layer)) {
            let path = layout.table(Table::Heads(layer));
            if let Ok(found) = z_mismatches(&path, TableKind::Heads, &heads) {
                rows += found.0;
                problems.extend(found.1.map(|m| format!("{}: {m}", Table::Heads(layer))));
            }
        }
    }
    report.check(
        "z scores",
        format!("{rows} rows: every z is (score − mean) / std of its list's summary"),
        problems,
    );
}

/// Every neuron side's kurtosis and entropy lie where they can (excess
/// kurtosis ≥ −2, entropy within [0, ln tokens]), and every key's and
/// gate's value overlap is the number of tokens its top list shares with
/// its value's, as the lists hold them.
fn check_neuron_statistics(report: &mut Verification, layout: &Layout, manifest: &Manifest) {
    let listed = |table: Table| manifest.tables.iter().any(|t| t.path == table.path());
    let mut problems = Vec::new();
    let mut sides = 0u64;
    for layer in 0..manifest.shape.layers {
        let (lists, summary) = (Table::Neurons(layer), Table::NeuronSummary(layer));
        if !(listed(lists) && listed(summary)) {
            continue;
        }
        // Unreadable files are the files check's to report.
        let (Ok(summary_rows), Ok(rows)) = (
            read_neuron_summary(&layout.table(summary)),
            read_neuron_rows(&layout.table(lists), None),
        ) else {
            continue;
        };
        let mut tops: HashMap<(u32, Side), HashSet<u32>> = HashMap::new();
        for row in rows.iter().filter(|r| r.polarity == Polarity::Top) {
            tops.entry((row.neuron, row.side))
                .or_default()
                .insert(row.token_id);
        }
        let empty = HashSet::new();
        let found = summary_rows.iter().find_map(|row| {
            let unit = format!("{summary}: neuron {} {}", row.neuron, row.side);
            let most = f64::from(row.tokens.max(1)).ln();
            if !(0.0..=most + 1e-9 * most.max(1.0)).contains(&row.entropy) {
                return Some(format!(
                    "{unit} has entropy {}, outside [0, ln {} = {most}]",
                    row.entropy, row.tokens
                ));
            }
            if let Some(kurtosis) = row
                .kurtosis
                .filter(|k| !(k.is_finite() && *k >= -2.0 - 1e-9))
            {
                return Some(format!(
                    "{unit} has kurtosis {kurtosis}; excess kurtosis is a finite number ≥ −2"
                ));
            }
            let expected = (row.side != Side::Value).then(|| {
                let value = tops.get(&(row.neuron, Side::Value)).unwrap_or(&empty);
                let own = tops.get(&(row.neuron, row.side)).unwrap_or(&empty);
                own.intersection(value).count()
            });
            (expected != row.value_overlap.map(usize::from)).then(|| {
                format!(
                    "{unit} records a value overlap of {:?}, its lists share {expected:?} tokens",
                    row.value_overlap
                )
            })
        });
        sides += summary_rows.len() as u64;
        problems.extend(found);
    }
    report.check(
        "statistics",
        format!("{sides} neuron sides: kurtosis and entropy in range, value overlaps as the lists share"),
        problems,
    );
}

/// The number of rows of the list table at `path`, and the first of them
/// whose z differs from (score − mean) / std of its list in `stats` (keyed by
/// layer, unit, list), or whose list has no summary.
fn z_mismatches(
    path: &Path,
    kind: TableKind,
    stats: &HashMap<(u32, u32, &'static str), (f64, f64)>,
) -> glossa_tables::Result<(u64, Option<String>)> {
    let rows = read_list_scores(path, kind)?;
    let mismatch = rows.iter().find_map(|row| {
        let list = format!("layer {} unit {} {}", row.layer, row.unit, row.list);
        let Some(&(mean, std)) = stats.get(&(row.layer, row.unit, row.list)) else {
            return Some(format!("{list} has no row in its summary"));
        };
        let expected = if std > 0.0 {
            (f64::from(row.score) - mean) / std
        } else {
            0.0
        };
        let found = f64::from(row.z);
        ((found - expected).abs() > 1e-5 * expected.abs().max(1.0)).then(|| {
            format!(
                "{list}: z {found} where (score − mean) / std is {expected}; extract the dataset again"
            )
        })
    });
    Ok((rows.len() as u64, mismatch))
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
