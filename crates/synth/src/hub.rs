use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::checkpoint::write_file;
use crate::error::{Error, Result};

/// Lays the files of `model_dir` out as a Hugging Face hub cache entry for
/// model `repo_id` at `revision`, so that hub clients find them offline.
///
/// The layout is the one `huggingface_hub` writes and `hf_hub::Cache` reads:
///
/// ```text
/// cache_dir/models--{org}--{name}/
///     blobs/{sha256 of the file}
///     snapshots/{commit}/{file} -> ../../blobs/{sha256}
///     refs/{revision}            (the commit hash, no newline)
/// ```
///
/// The hub names blobs of large files by their sha256 and small ones by
/// their git blob hash; clients treat the name as opaque, so sha256 is used
/// for all. Snapshot entries are relative symlinks, or copies where the
/// file system refuses symlinks. Only the regular files directly inside
/// `model_dir` are cached. Returns the snapshot directory.
pub fn write_hub_cache(
    cache_dir: &Path,
    repo_id: &str,
    revision: &str,
    commit: &str,
    model_dir: &Path,
) -> Result<PathBuf> {
    let names_a_path = |s: &str| s.split('/').any(|part| part.is_empty() || part == "..");
    if names_a_path(repo_id) || names_a_path(revision) {
        return Err(Error::Spec(format!(
            "repo id {repo_id:?} or revision {revision:?} is not a valid hub name"
        )));
    }
    if commit.is_empty() || !commit.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::Spec(format!("{commit:?} is not a commit hash")));
    }
    let repo = cache_dir.join(format!("models--{}", repo_id.replace('/', "--")));
    let blobs = repo.join("blobs");
    let snapshot = repo.join("snapshots").join(commit);
    let refs = repo.join("refs").join(revision);
    for dir in [&blobs, &snapshot] {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    if let Some(parent) = refs.parent() {
        fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }

    let mut files = Vec::new();
    for entry in fs::read_dir(model_dir).map_err(Error::io(model_dir))? {
        let entry = entry.map_err(Error::io(model_dir))?;
        if entry
            .file_type()
            .map_err(Error::io(entry.path()))?
            .is_file()
        {
            files.push(entry.path());
        }
    }
    files.sort();
    for source in &files {
        let blob_name = sha256_hex(source)?;
        let blob = blobs.join(&blob_name);
        // A blob is named by its content, so an existing one is already right.
        if !blob.exists() {
            fs::copy(source, &blob).map_err(Error::io(&blob))?;
        }
        let Some(file_name) = source.file_name() else {
            continue;
        };
        let pointer = snapshot.join(file_name);
        if pointer.symlink_metadata().is_ok() {
            fs::remove_file(&pointer).map_err(Error::io(&pointer))?;
        }
        let target = Path::new("../../blobs").join(&blob_name);
        if symlink(&target, &pointer).is_err() {
            fs::copy(&blob, &pointer).map_err(Error::io(&pointer))?;
        }
    }
    write_file(&refs, commit)?;
    Ok(snapshot)
}

fn sha256_hex(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(Error::io(path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(Error::io(path))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

#[cfg(not(any(unix, windows)))]
fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}
