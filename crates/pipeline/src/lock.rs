//! Who is writing a dataset directory? One extraction at a time, by lock file.
//!
//! The lock file of the output directory ([`Layout::lock_file`]) is locked with the operating
//! system's advisory file lock (`flock` on Unix) for as long as a run holds
//! it, and holds the run's pid, host and start time so that a refused run can
//! say who is in the way. The kernel drops the lock when the process dies
//! however it dies (Ctrl-C, kill -9), so a lock file left behind by a dead run
//! is never mistaken for a live one: it is taken over, with a note.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use glossa_tables::Layout;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// Who holds (or last held) a lock, as written in the lock file (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LockHolder {
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    #[serde(default)]
    pub started: u64,
}

impl LockHolder {
    fn me() -> LockHolder {
        LockHolder {
            pid: std::process::id(),
            host: hostname(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `pid 123 on host, started 2026-01-01 12:00:00 UTC`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "pid {} on {}, started {}",
            self.pid,
            self.host,
            utc(self.started)
        )
    }
}

/// A held lock on a dataset directory; released (and the file removed) on drop.
#[derive(Debug)]
pub(crate) struct RunLock {
    path: PathBuf,
    file: File,
}

impl RunLock {
    /// Locks the dataset directory of `layout` for one run. Fails with [`PipelineError::Locked`] while
    /// another process holds it. Returns the holder of a lock that a dead run
    /// left behind, if any, for the caller to mention.
    pub(crate) fn acquire(layout: &Layout) -> Result<(RunLock, Option<LockHolder>)> {
        let dir = layout.dir();
        let path = layout.lock_file();
        // A few tries: the file may be removed by its releasing holder between
        // our open and our lock, in which case we locked a deleted file.
        for _ in 0..16 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(PipelineError::io(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(PipelineError::Locked {
                        dir: dir.to_path_buf(),
                        holder: read_holder(&mut file).map(|h| h.describe()),
                    });
                }
                Err(TryLockError::Error(error)) => {
                    return Err(PipelineError::Io {
                        path: path.clone(),
                        source: error,
                    })
                }
            }
            if !same_file(&file, &path) {
                continue;
            }
            let stale = read_holder(&mut file);
            let me = LockHolder::me();
            let write = |file: &mut File| -> std::io::Result<()> {
                file.set_len(0)?;
                file.rewind()?;
                file.write_all(me.to_json().as_bytes())?;
                file.flush()
            };
            write(&mut file).map_err(PipelineError::io(&path))?;
            return Ok((RunLock { path, file }, stale));
        }
        Err(PipelineError::Io {
            path,
            source: std::io::Error::other("the lock file keeps being replaced"),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked, so that a run waiting to open it either
        // finds no file or finds that its file was deleted (and retries).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The live holder of the lock on the dataset of `layout`, if some process holds it now.
pub(crate) fn lock_holder(layout: &Layout) -> Option<LockHolder> {
    let mut file = File::open(layout.lock_file()).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => Some(read_holder(&mut file).unwrap_or(LockHolder {
            pid: 0,
            host: "an unknown host".to_string(),
            started: 0,
        })),
        Err(TryLockError::Error(_)) => None,
    }
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether the open `file` is still the file at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this host".to_string())
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
fn utc(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map_or_else(
            || format!("{seconds} s after 1970"),
            |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_a_released_one_is_free() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        let (lock, stale) = RunLock::acquire(&layout).unwrap();
        assert!(stale.is_none());
        let holder = lock_holder(&layout).expect("held");
        assert_eq!(holder.pid, std::process::id());
        let error = RunLock::acquire(&layout).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(lock);
        assert!(!layout.lock_file().exists());
        assert!(lock_holder(&layout).is_none());
        let (_again, stale) = RunLock::acquire(&layout).unwrap();
        assert!(stale.is_none());
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        let dead = LockHolder {
            pid: 999_999,
            host: "elsewhere".into(),
            started: 0,
        };
        std::fs::write(layout.lock_file(), dead.to_json()).unwrap();
        assert!(lock_holder(&layout).is_none());
        let (_lock, stale) = RunLock::acquire(&layout).unwrap();
        assert_eq!(stale, Some(dead));
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_709_210_096), "2024-02-29 12:34:56 UTC");
    }
}
