//! Can an interrupted run be resumed? The journal of a run in progress.
//!
//! While a run writes a dataset, `.glossa-run/progress.json` records what the
//! run is (its configuration, the sha256 of every input file, the tokens its
//! filters and corpus allow: everything the tables depend on) and every file
//! already renamed into place, with its sha256 and row count. The journal is
//! rewritten atomically after each file. A rerun that finds a journal for the
//! same run keeps each recorded file whose hash still matches and computes
//! only the rest; any other journal, or `--force`, starts over. The journal
//! is deleted once the manifest is written, so a finished dataset has none.

use std::collections::BTreeMap;
use std::path::Path;

use glossa_tables::{sha256_file, write_atomically, FileRecord, Layout, Table, TableKind};
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};
use crate::lock::{lock_holder, LockHolder};
use crate::observer::Observer;

/// An extraction (or merge) found in a dataset directory that is not finished.
pub(crate) enum ActiveRun {
    /// A live process holds the directory's lock.
    Running(LockHolder),
    /// A journal is there, but no process holds the lock.
    Interrupted(RunKind),
}

/// What writes a dataset: an extraction, or a merge of shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunKind {
    #[default]
    Extraction,
    Merge,
}

/// The run that is writing the dataset now, or that was interrupted there.
pub(crate) fn active_run(layout: &Layout) -> Option<ActiveRun> {
    if let Some(holder) = lock_holder(layout) {
        Some(ActiveRun::Running(holder))
    } else if layout.has_run_dir() {
        // An unreadable journal is an extraction's, as before merges existed.
        let kind = read_progress(&layout.journal()).map_or(RunKind::Extraction, |p| p.kind);
        Some(ActiveRun::Interrupted(kind))
    } else {
        None
    }
}

/// Version of the journal's layout.
const JOURNAL_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    format: u32,
    /// What kind of run writes the directory (absent in journals written before merges).
    #[serde(default)]
    kind: RunKind,
    /// What the run is: equal for two runs exactly when they write equal tables.
    run: serde_json::Value,
    /// Files renamed into place, in the order they were written.
    tables: Vec<FileRecord>,
    /// Seconds per stage so far.
    timings: BTreeMap<String, f64>,
}

/// The journal of the run in progress.
pub(crate) struct Journal {
    layout: Layout,
    progress: Progress,
}

/// What a rerun may keep of an interrupted run.
pub(crate) struct Resumed {
    /// Files written by the interrupted run that still match their hashes, by path.
    pub(crate) done: BTreeMap<String, FileRecord>,
    /// Its timings, to add this run's to.
    pub(crate) timings: BTreeMap<String, f64>,
}

impl Journal {
    /// Starts the journal of `run` in the dataset of `layout` (which the caller has locked):
    /// resumes an interrupted run of the same `run`, or clears what any other
    /// run left and starts over (always, with `force`).
    pub(crate) fn start(
        layout: &Layout,
        kind: RunKind,
        run: serde_json::Value,
        force: bool,
        observer: &dyn Observer,
    ) -> Result<(Journal, Resumed)> {
        let dir = layout.dir();
        let run_dir = layout.run_dir();
        let previous = read_progress(&layout.journal());
        let mut resumed = Resumed {
            done: BTreeMap::new(),
            timings: BTreeMap::new(),
        };
        let finished = layout.is_finished();
        match previous {
            _ if force => {
                if finished || run_dir.exists() {
                    observer.note(&format!(
                        "--force: discarding what {} holds and starting over",
                        dir.display()
                    ));
                }
            }
            None if run_dir.exists() => observer.note(&format!(
                "{} holds an interrupted run whose journal cannot be read; starting over",
                dir.display()
            )),
            None => {
                if finished {
                    observer.note(&format!("replacing the dataset in {}", dir.display()));
                }
            }
            Some(progress) if progress.kind != kind || progress.run != run => observer.note(&format!(
                "{} holds an interrupted run of a different configuration or different inputs ({} differ); starting over",
                dir.display(),
                differences(&progress.run, &run).join(", ")
            )),
            Some(progress) => {
                for record in progress.tables {
                    match sha256_file(&layout.file(&record.path)) {
                        Ok((sha256, bytes)) if sha256 == record.sha256 && bytes == record.bytes => {
                            resumed.done.insert(record.path.clone(), record);
                        }
                        _ => observer.note(&format!(
                            "{} changed or vanished since the interrupted run wrote it; computing it again",
                            record.path
                        )),
                    }
                }
                resumed.timings = progress.timings;
            }
        }
        // Never an old manifest beside tables this run is about to change.
        remove_file(&layout.manifest())?;
        remove_leftovers(layout)?;
        if resumed.done.is_empty() {
            remove_outputs(layout)?;
        }
        std::fs::create_dir_all(&run_dir).map_err(PipelineError::io(&run_dir))?;
        let journal = Journal {
            layout: layout.clone(),
            progress: Progress {
                format: JOURNAL_FORMAT,
                kind,
                run,
                tables: resumed.done.values().cloned().collect(),
                timings: resumed.timings.clone(),
            },
        };
        journal.save()?;
        Ok((journal, resumed))
    }

    /// Records a file just renamed into place, and the timings so far.
    pub(crate) fn record(
        &mut self,
        record: &FileRecord,
        timings: &BTreeMap<String, f64>,
    ) -> Result<()> {
        self.progress.tables.retain(|r| r.path != record.path);
        self.progress.tables.push(record.clone());
        self.progress.timings = timings.clone();
        self.save()
    }

    /// The run is complete and its manifest written: the journal goes.
    pub(crate) fn finish(self) -> Result<()> {
        let run_dir = self.layout.run_dir();
        std::fs::remove_dir_all(&run_dir).map_err(PipelineError::io(&run_dir))
    }

    fn save(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.progress).unwrap_or_default();
        Ok(write_atomically(&self.layout.journal(), text.as_bytes())?)
    }
}

fn read_progress(path: &Path) -> Option<Progress> {
    let text = std::fs::read_to_string(path).ok()?;
    let progress: Progress = serde_json::from_str(&text).ok()?;
    (progress.format == JOURNAL_FORMAT).then_some(progress)
}

/// The top-level keys (and option names) in which two run descriptions differ.
fn differences(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return vec!["everything".to_string()];
    };
    for (key, value) in new {
        match (old.get(key), value) {
            (Some(a), b) if a == b => {}
            (Some(serde_json::Value::Object(a)), serde_json::Value::Object(b)) => {
                for (inner, value) in b {
                    if a.get(inner) != Some(value) {
                        keys.push(inner.clone());
                    }
                }
            }
            _ => keys.push(key.clone()),
        }
    }
    if keys.is_empty() {
        keys.push("the run descriptions".to_string());
    }
    keys
}

/// Temporary files of interrupted writes: `.NAME.PID.tmp` files and the index's
/// staging directories. Only a run that holds the lock may call this.
fn remove_leftovers(layout: &Layout) -> Result<()> {
    let dir = layout.dir();
    let mut dirs = vec![dir.to_path_buf(), layout.run_dir()];
    dirs.extend(TableKind::PER_LAYER.map(|kind| layout.layer_dir(kind)));
    for folder in dirs {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.') && name.ends_with(".tmp") && path.is_file() {
                remove_file(&path)?;
            } else if folder == dir
                && glossa_index::is_staging_leftover(&layout.index(), &path)
                && path.is_dir()
            {
                std::fs::remove_dir_all(&path).map_err(PipelineError::io(&path))?;
            }
        }
    }
    Ok(())
}

/// Every table and journal an earlier run wrote (its manifest is already
/// gone), so that a fresh run leaves no stale table beside its own.
fn remove_outputs(layout: &Layout) -> Result<()> {
    for table in [Table::Tokens, Table::TokenList, Table::HeadSummary] {
        remove_file(&layout.table(table))?;
    }
    remove_file(&layout.card())?;
    for kind in TableKind::PER_LAYER {
        let Ok(entries) = std::fs::read_dir(layout.layer_dir(kind)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Any layer file, also one of a layout no run writes any more.
            if name.starts_with("layer-") && name.ends_with(".parquet") {
                remove_file(&entry.path())?;
            }
        }
    }
    let run_dir = layout.run_dir();
    if run_dir.exists() {
        std::fs::remove_dir_all(&run_dir).map_err(PipelineError::io(&run_dir))?;
    }
    Ok(())
}

pub(crate) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}
