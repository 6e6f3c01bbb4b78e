//! Where a corpus comes from.

use std::path::{Path, PathBuf};

use glossa_load::{DownloadProgress, HubOptions, HubRepo, RepoKind};

use crate::error::{CorpusError, Result};
use crate::pattern::Pattern;

/// A corpus as the user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorpusSource {
    /// A file, or a directory whose corpus files are all read (recursively).
    Local(PathBuf),
    /// Files of a dataset repository on the hub matching `pattern`, a glob
    /// over repository paths (`*` stays within a directory, `**` crosses them).
    Hub {
        repo_id: String,
        revision: String,
        pattern: String,
    },
}

/// How a file holds its texts, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Plain text: every non-empty line is a text.
    Text,
    /// One JSON object per line; the text is in a string field.
    Jsonl,
    /// Comma-separated with a header row; the text is in a column.
    Csv,
    /// Parquet; the text is in a string column.
    Parquet,
}

impl TextFormat {
    /// The format of `path`, or `None` for a file that holds no corpus.
    pub fn of(path: &Path) -> Option<TextFormat> {
        match path.extension()?.to_str()? {
            "txt" | "text" => Some(TextFormat::Text),
            "jsonl" | "ndjson" => Some(TextFormat::Jsonl),
            "csv" => Some(TextFormat::Csv),
            "parquet" => Some(TextFormat::Parquet),
            _ => None,
        }
    }
}

impl CorpusSource {
    /// Interprets `source`: `hf://datasets/ORG/NAME[@REVISION][/PATTERN]` is a hub
    /// dataset (pattern default `**/*.jsonl`), anything else a local path.
    pub fn parse(source: &str) -> CorpusSource {
        match source.strip_prefix("hf://datasets/") {
            Some(rest) => {
                let mut parts = rest.splitn(3, '/');
                let org = parts.next().unwrap_or_default();
                let name_revision = parts.next().unwrap_or_default();
                let pattern = parts.next().unwrap_or("**/*.jsonl").to_string();
                let (name, revision) = name_revision
                    .split_once('@')
                    .unwrap_or((name_revision, "main"));
                CorpusSource::Hub {
                    repo_id: format!("{org}/{name}"),
                    revision: revision.to_string(),
                    pattern,
                }
            }
            None => CorpusSource::Local(PathBuf::from(source)),
        }
    }

    /// The corpus files, downloaded into the hub cache where needed, sorted.
    pub fn files(
        &self,
        hub: &HubOptions,
        progress: &mut dyn DownloadProgress,
    ) -> Result<Vec<PathBuf>> {
        let files = match self {
            CorpusSource::Local(path) if path.is_dir() => {
                let mut files = Vec::new();
                walk(path, &mut files)?;
                files.retain(|f| TextFormat::of(f).is_some());
                files.sort();
                files
            }
            // Any other path that exists is read as one file: a device or a
            // pipe (`/dev/null`, `<(zcat corpus.gz)`) as well as a regular file.
            CorpusSource::Local(path) if path.exists() => vec![path.clone()],
            CorpusSource::Local(path) => return Err(CorpusError::Missing(path.clone())),
            CorpusSource::Hub {
                repo_id,
                revision,
                pattern,
            } => {
                let pattern = Pattern::new(pattern)?;
                let repo = HubRepo::resolve(hub, RepoKind::Dataset, repo_id, revision)?;
                let mut names: Vec<&String> =
                    repo.files().iter().filter(|f| pattern.matches(f)).collect();
                names.sort();
                names
                    .into_iter()
                    .map(|name| repo.fetch(name, progress).map_err(CorpusError::from))
                    .collect::<Result<Vec<_>>>()?
            }
        };
        if files.is_empty() {
            let (what, pattern) = match self {
                CorpusSource::Local(path) => (
                    path.display().to_string(),
                    "*.txt, *.jsonl, *.csv, *.parquet".to_string(),
                ),
                CorpusSource::Hub {
                    repo_id, pattern, ..
                } => (format!("dataset {repo_id}"), pattern.clone()),
            };
            return Err(CorpusError::NoFiles { what, pattern });
        }
        Ok(files)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(CorpusError::io(dir))? {
        let path = entry.map_err(CorpusError::io(dir))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
