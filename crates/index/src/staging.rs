//! How does a finished index take its place? Staged beside it, then swapped in.
//!
//! The index is built in a fresh sibling of the target directory (same parent,
//! hence same file system) and only moved into place once it is complete, so a
//! reader finds either the previous complete index or the new complete one, never
//! a half-written one. Replacing an existing index takes two renames (old aside,
//! new in), so for an instant between them the path is empty; a reader arriving
//! then gets [`Error::Missing`]. Readers that already opened the old index keep
//! reading it: its files stay alive until they let go.
//!
//! A process killed mid-build leaves its staging or set-aside directory behind;
//! [`is_staging_leftover`] lets whoever owns the parent directory recognise and
//! remove them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::io_error;
use crate::{Error, Result};

/// The file tantivy writes last when it commits; its presence marks an index.
const META_FILE: &str = "meta.json";

/// What the sibling of an index directory `NAME` is for, as in
/// `.NAME.building-PID-N`: a build in progress, or a previous index set aside.
const PURPOSES: [&str; 2] = ["building", "replaced"];

/// What a build may replace at its target path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Replace {
    /// An index, or an empty directory. Anything else is refused with
    /// [`Error::NotAnIndex`]: replacing it would delete files this crate did not
    /// write. The policy for a path someone chose.
    #[default]
    IndexOrEmpty,
    /// Whatever is there: an index, a damaged one, a directory of other files, a
    /// file. The policy for a path that only ever holds this index, such as the
    /// index directory inside a dataset, where what is there is derived data.
    Anything,
}

/// Whether `path` is a staging or set-aside directory that an interrupted build
/// of the index at `index_dir` left behind: a hidden sibling named after it
/// (`.index.building-…`, `.index.replaced-…`). Such leftovers are safe to
/// delete once no build of that index runs.
pub fn is_staging_leftover(index_dir: &Path, path: &Path) -> bool {
    let (Some(index_name), Some(name)) = (index_dir.file_name(), path.file_name()) else {
        return false;
    };
    if parent_of(path) != parent_of(index_dir) {
        return false;
    }
    let (Some(index_name), Some(name)) = (index_name.to_str(), name.to_str()) else {
        return false;
    };
    let Some(rest) = name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(index_name))
        .and_then(|rest| rest.strip_prefix('.'))
    else {
        return false;
    };
    PURPOSES.iter().any(|purpose| {
        rest.strip_prefix(purpose)
            .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// A staging directory beside the target that removes itself unless it was
/// moved into place.
pub(crate) struct Staging {
    path: PathBuf,
    target: PathBuf,
    replace: Replace,
    moved: bool,
}

impl Staging {
    /// Creates a fresh staging directory for `target` (and `target`'s parents).
    ///
    /// Fails at once with [`Error::NotAnIndex`] if `replace` does not allow
    /// replacing what is at `target`, rather than after the work of building.
    pub(crate) fn create(target: &Path, replace: Replace) -> Result<Staging> {
        check_replaceable(target, replace)?;
        let parent = parent_of(target);
        fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
        let path = sibling(target, PURPOSES[0])?;
        fs::create_dir(&path).map_err(io_error("creating", &path))?;
        Ok(Staging {
            path,
            target: target.to_path_buf(),
            replace,
            moved: false,
        })
    }

    /// Where the index is being written.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Where the index goes once it is built.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the staged index to the target, setting aside and then deleting any
    /// directory already there (a file is deleted at once: it can hold no index
    /// worth putting back).
    pub(crate) fn replace(self) -> Result<()> {
        let target = self.target.clone();
        let metadata = match target.symlink_metadata() {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return self.move_in(),
            Err(error) => return Err(io_error("inspecting", &target)(error)),
        };
        // Checked again: the target may have changed while the index was built.
        check_replaceable(&target, self.replace)?;
        if !metadata.is_dir() {
            fs::remove_file(&target).map_err(io_error("removing", &target))?;
            return self.move_in();
        }
        let old = sibling(&target, PURPOSES[1])?;
        fs::rename(&target, &old).map_err(io_error("setting aside the previous index", &target))?;
        if let Err(error) = self.move_in() {
            // Put the previous index back; if even that fails, the error above is
            // still the one worth reporting, and `old` holds the index intact.
            let _ = fs::rename(&old, &target);
            return Err(error);
        }
        fs::remove_dir_all(&old).map_err(io_error(
            "the new index is in place, but deleting the previous one failed at",
            &old,
        ))
    }

    fn move_in(mut self) -> Result<()> {
        fs::rename(&self.path, &self.target)
            .map_err(io_error("moving the finished index to", &self.target))?;
        self.moved = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.moved {
            return;
        }
        // A failed or abandoned build; there is no caller left to tell if the
        // cleanup fails, and a leftover dot-directory harms nothing.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Refuses a target that `replace` does not allow replacing; under
/// [`Replace::IndexOrEmpty`], one that exists and is neither an index nor an
/// empty directory.
fn check_replaceable(target: &Path, replace: Replace) -> Result<()> {
    if replace == Replace::Anything {
        return Ok(());
    }
    let metadata = match target.symlink_metadata() {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io_error("inspecting", target)(error)),
    };
    let refuse = |found| {
        Err(Error::NotAnIndex {
            dir: target.to_path_buf(),
            found,
        })
    };
    if metadata.is_symlink() {
        return refuse("it is a symbolic link");
    }
    if !metadata.is_dir() {
        return refuse("it is a file");
    }
    if target.join(META_FILE).is_file() {
        return Ok(());
    }
    let mut contents = fs::read_dir(target).map_err(io_error("listing", target))?;
    match contents.next() {
        None => Ok(()),
        Some(_) => refuse("it is a directory with other files and no meta.json"),
    }
}

/// The directory that holds `dir` (the current one for a bare name).
fn parent_of(dir: &Path) -> &Path {
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A fresh hidden path beside `dir`, unique within this process and among
/// processes, for `purpose` (one of [`PURPOSES`]).
fn sibling(dir: &Path, purpose: &str) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dir.file_name().ok_or_else(|| Error::Io {
        what: "choosing a staging directory beside",
        path: dir.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "the index path must end in a directory name",
        ),
    })?;
    let mut staged = std::ffi::OsString::from(".");
    staged.push(name);
    staged.push(format!(
        ".{purpose}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(parent_of(dir).join(staged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_are_recognised_as_leftovers() {
        let index = Path::new("data/index");
        for purpose in PURPOSES {
            let path = sibling(index, purpose).expect("a sibling");
            assert_eq!(path.parent(), Some(Path::new("data")));
            assert!(is_staging_leftover(index, &path), "{path:?}");
            assert!(
                !is_staging_leftover(Path::new("data/other"), &path),
                "{path:?}"
            );
            assert!(
                !is_staging_leftover(Path::new("elsewhere/index"), &path),
                "{path:?}"
            );
        }
        let bare = sibling(Path::new("index"), PURPOSES[0]).expect("a sibling");
        assert!(is_staging_leftover(Path::new("index"), &bare), "{bare:?}");
        for name in [
            "index",
            ".index",
            ".index.tmp",
            ".index.building",
            "x.index.building-1",
        ] {
            assert!(
                !is_staging_leftover(index, &Path::new("data").join(name)),
                "{name}"
            );
        }
    }
}
