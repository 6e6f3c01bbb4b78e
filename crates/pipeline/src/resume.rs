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
use std::path::{Path, PathBuf};

use glossa_tables::{sha256_file, write_atomically, FileRecord, MANIFEST_FILE};
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};
use crate::extract::{HEAD_SUMMARY_TABLE, LAYER_DIRS, TOKENS_TABLE, TOKEN_LIST_TABLE};
use crate::lock::{lock_holder, LockHolder};
use crate::observer::Observer;

/// The directory of a run in progress, inside the dataset directory.
pub const RUN_DIR: &str = ".glossa-run";

/// An extraction found in a dataset directory that is not finished.
pub(crate) enum ActiveRun {
    /// A live process holds the directory's lock.
    Running(LockHolder),
    /// A journal is there, but no process holds the lock.
    Interrupted,
}

/// The extraction that is writing `dir` now, or that was interrupted there.
pub(crate) fn active_run(dir: &Path) -> Option<ActiveRun> {
    if let Some(holder) = lock_holder(dir) {
        Some(ActiveRun::Running(holder))
    } else if dir.join(RUN_DIR).is_dir() {
        Some(ActiveRun::Interrupted)
    } else {
        None
    }
}

/// The journal inside [`RUN_DIR`].
const JOURNAL_FILE: &str = "progress.json";

/// Version of the journal's layout.
const JOURNAL_FORMAT: u32 = 1;

/// Top-level table files a run writes (besides `neurons/` and `heads/`).
const TOP_TABLES: [&str; 3] = [TOKENS_TABLE, TOKEN_LIST_TABLE, HEAD_SUMMARY_TABLE];

#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    format: u32,
    /// What the run is: equal for two runs exactly when they write equal tables.
    run: serde_json::Value,
    /// Files renamed into place, in the order they were written.
    tables: Vec<FileRecord>,
    /// Seconds per stage so far.
    timings: BTreeMap<String, f64>,
}

/// The journal of the run in progress.
pub(crate) struct Journal {
    path: PathBuf,
    run_dir: PathBuf,
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
    /// Starts the journal of `run` in `dir` (which the caller has locked):
    /// resumes an interrupted run of the same `run`, or clears what any other
    /// run left and starts over (always, with `force`).
    pub(crate) fn start(
        dir: &Path,
        run: serde_json::Value,
        force: bool,
        observer: &dyn Observer,
    ) -> Result<(Journal, Resumed)> {
        let run_dir = dir.join(RUN_DIR);
        let path = run_dir.join(JOURNAL_FILE);
        let previous = read_progress(&path);
        let mut resumed = Resumed {
            done: BTreeMap::new(),
            timings: BTreeMap::new(),
        };
        let finished = dir.join(MANIFEST_FILE).is_file();
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
            Some(progress) if progress.run != run => observer.note(&format!(
                "{} holds an interrupted run of a different configuration or different inputs ({} differ); starting over",
                dir.display(),
                differences(&progress.run, &run).join(", ")
            )),
            Some(progress) => {
                for record in progress.tables {
                    match sha256_file(&dir.join(&record.path)) {
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
        remove_file(&dir.join(MANIFEST_FILE))?;
        remove_leftovers(dir)?;
        if resumed.done.is_empty() {
            remove_outputs(dir)?;
        }
        std::fs::create_dir_all(&run_dir).map_err(PipelineError::io(&run_dir))?;
        let journal = Journal {
            path,
            run_dir,
            progress: Progress {
                format: JOURNAL_FORMAT,
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
        std::fs::remove_dir_all(&self.run_dir).map_err(PipelineError::io(&self.run_dir))
    }

    fn save(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.progress).unwrap_or_default();
        Ok(write_atomically(&self.path, text.as_bytes())?)
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
fn remove_leftovers(dir: &Path) -> Result<()> {
    let mut dirs = vec![dir.to_path_buf(), dir.join(RUN_DIR)];
    dirs.extend(LAYER_DIRS.iter().map(|d| dir.join(d)));
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
                && (name.starts_with(".index.building-") || name.starts_with(".index.replaced-"))
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
fn remove_outputs(dir: &Path) -> Result<()> {
    for name in TOP_TABLES {
        remove_file(&dir.join(name))?;
    }
    for folder in LAYER_DIRS {
        let folder = dir.join(folder);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("layer-") && name.ends_with(".parquet") {
                remove_file(&entry.path())?;
            }
        }
    }
    let run_dir = dir.join(RUN_DIR);
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
