//! Where a run writes: its output directory, refused when it holds files
//! that are not a run's, created, locked for the run, and removed again when
//! the run that created it fails before writing anything there.
//!
//! Extractions and merges both write through [`write_locked`].

use std::path::{Path, PathBuf};

use glossa_tables::Layout;

use crate::error::{PipelineError, Result};
use crate::lock::RunLock;
use crate::observer::Observer;

/// Runs `run` on the dataset directory `dir`, created if need be and locked
/// for as long as `run` runs. Refuses a file, or a non-empty directory that
/// holds no dataset (unless `force`). Every directory created here goes again
/// if `run` fails before writing anything.
pub(crate) fn write_locked<T>(
    dir: &Path,
    force: bool,
    observer: &dyn Observer,
    run: impl FnOnce(&Layout) -> Result<T>,
) -> Result<T> {
    check_output(dir, force)?;
    let created = first_missing_ancestor(dir);
    std::fs::create_dir_all(dir).map_err(PipelineError::io(dir))?;
    let layout = Layout::new(dir);
    let result = RunLock::acquire(&layout).and_then(|(lock, stale)| {
        if let Some(stale) = stale {
            observer.note(&format!(
                "taking over the lock of {}: the run that held it ({}) is gone",
                dir.display(),
                stale.describe()
            ));
        }
        let result = run(&layout);
        drop(lock);
        result
    });
    if result.is_err() {
        if let Some(created) = created {
            remove_empty_dirs(dir, &created);
        }
    }
    result
}

/// Refuses an output path that is a file, or a non-empty directory that
/// holds no dataset (unless `force`): a run never writes beside files that
/// are not its own.
fn check_output(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(PipelineError::OutputIsAFile {
            path: dir.to_path_buf(),
        });
    }
    let layout = Layout::new(dir);
    let ours = layout.is_finished() || layout.has_run_dir() || layout.lock_file().exists();
    let empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
    if !ours && !empty && !force {
        return Err(PipelineError::OutputNotEmpty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// The outermost directory of `dir` that does not exist yet, if any.
fn first_missing_ancestor(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(Path::to_path_buf)
}

/// Removes `dir` and its ancestors up to `outermost`, as long as they are empty.
fn remove_empty_dirs(dir: &Path, outermost: &Path) {
    for ancestor in dir.ancestors() {
        if std::fs::remove_dir(ancestor).is_err() || ancestor == outermost {
            break;
        }
    }
}
