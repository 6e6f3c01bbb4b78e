//! The Hugging Face hub: the standard cache, tokens, offline mode, downloads.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::{Api, ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use crate::error::{LoadError, Result};

/// How to reach the hub, read from the same environment variables as
/// `huggingface_hub`, so the cache is shared with Python tools.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// The hub cache directory (`HF_HUB_CACHE`, else `HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// Access token (`HF_TOKEN`, else the token file saved by `huggingface-cli login`).
    pub token: Option<String>,
    /// Use the cache only, never the network (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Hub address (`HF_ENDPOINT`), for mirrors.
    pub endpoint: Option<String>,
}

impl HubOptions {
    /// Reads the options from the environment.
    pub fn from_env() -> HubOptions {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let cache_dir = var("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| var("HF_HOME").map(|home| Path::new(&home).join("hub")))
            .unwrap_or_else(|| {
                let home = var("HOME").unwrap_or_else(|| ".".to_string());
                Path::new(&home).join(".cache/huggingface/hub")
            });
        let token = var("HF_TOKEN").or_else(|| Cache::new(cache_dir.clone()).token());
        let offline = var("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
        });
        HubOptions {
            cache_dir,
            token,
            offline,
            endpoint: var("HF_ENDPOINT"),
        }
    }
}

/// Receives download progress; the CLI draws it, libraries stay silent.
pub trait DownloadProgress: Send {
    /// A download of `bytes` bytes of `file` starts.
    fn start(&mut self, file: &str, bytes: usize);
    /// `bytes` more bytes arrived.
    fn advance(&mut self, bytes: usize);
    /// The current download finished.
    fn finish(&mut self);
}

/// Adapts a [`DownloadProgress`] to hf-hub's progress trait.
struct Adapter<'a>(&'a mut dyn DownloadProgress);

impl hf_hub::api::Progress for Adapter<'_> {
    fn init(&mut self, size: usize, filename: &str) {
        self.0.start(filename, size);
    }
    fn update(&mut self, size: usize) {
        self.0.advance(size);
    }
    fn finish(&mut self) {
        self.0.finish();
    }
}

/// What kind of hub repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// A model (`ORG/NAME`).
    Model,
    /// A dataset (`datasets/ORG/NAME` on the web).
    Dataset,
}

impl RepoKind {
    fn repo_type(self) -> RepoType {
        match self {
            RepoKind::Model => RepoType::Model,
            RepoKind::Dataset => RepoType::Dataset,
        }
    }
}

/// One repository at one revision, resolved to a commit and its file list.
pub struct HubRepo<'a> {
    options: &'a HubOptions,
    kind: RepoKind,
    repo_id: String,
    revision: String,
    /// The commit the revision points at.
    commit: String,
    /// Files the commit holds.
    files: Vec<String>,
    api: Option<Api>,
}

impl<'a> HubRepo<'a> {
    /// Resolves `revision` of `repo_id` to a commit and its file list.
    pub fn resolve(
        options: &'a HubOptions,
        kind: RepoKind,
        repo_id: &str,
        revision: &str,
    ) -> Result<HubRepo<'a>> {
        let repo = Repo::with_revision(repo_id.to_string(), kind.repo_type(), revision.to_string());
        if options.offline {
            let (commit, files) = cached_snapshot(options, &repo)?;
            return Ok(HubRepo {
                options,
                kind,
                repo_id: repo_id.to_string(),
                revision: revision.to_string(),
                commit,
                files,
                api: None,
            });
        }
        let mut builder = ApiBuilder::from_cache(Cache::new(options.cache_dir.clone()))
            .with_token(options.token.clone())
            .with_progress(false);
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        let api = builder
            .build()
            .map_err(|e| hub_error(repo_id, revision, e))?;
        let info = api
            .repo(repo)
            .info()
            .map_err(|e| hub_error(repo_id, revision, e))?;
        Ok(HubRepo {
            options,
            kind,
            repo_id: repo_id.to_string(),
            revision: revision.to_string(),
            commit: info.sha,
            files: info.siblings.into_iter().map(|s| s.rfilename).collect(),
            api: Some(api),
        })
    }

    /// The commit the revision resolved to.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Every file of the commit, `/`-separated paths.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Whether the resolved commit holds `file`.
    pub fn has(&self, file: &str) -> bool {
        self.files.iter().any(|f| f == file)
    }

    /// The local path of `file`, downloading it into the cache when needed.
    pub fn fetch(&self, file: &str, progress: &mut dyn DownloadProgress) -> Result<PathBuf> {
        let snapshot = self
            .options
            .cache_dir
            .join(self.folder())
            .join("snapshots")
            .join(&self.commit)
            .join(file);
        if snapshot.is_file() {
            return Ok(snapshot);
        }
        let Some(api) = &self.api else {
            return Err(LoadError::NotCached {
                repo: self.repo_id.clone(),
                revision: self.revision.clone(),
                file: file.to_string(),
                cache: self.options.cache_dir.clone(),
            });
        };
        // Pin downloads to the resolved commit so every file comes from the same snapshot.
        let repo = Repo::with_revision(
            self.repo_id.clone(),
            self.kind.repo_type(),
            self.commit.clone(),
        );
        api.repo(repo)
            .download_with_progress(file, Adapter(progress))
            .map_err(|e| match hub_error(&self.repo_id, &self.revision, e) {
                LoadError::RepoNotFound { .. } | LoadError::RevisionNotFound { .. } => {
                    LoadError::Download {
                        repo: self.repo_id.clone(),
                        file: file.to_string(),
                    }
                }
                other => other,
            })
    }
}

impl HubRepo<'_> {
    /// `models--org--name` or `datasets--org--name`: the repository's cache folder.
    fn folder(&self) -> String {
        Repo::new(self.repo_id.clone(), self.kind.repo_type()).folder_name()
    }
}

/// Finds the cached snapshot of a revision without the network.
fn cached_snapshot(options: &HubOptions, repo: &Repo) -> Result<(String, Vec<String>)> {
    let folder = options.cache_dir.join(repo.folder_name());
    let revision = repo.revision();
    let not_cached = |file: &str| LoadError::NotCached {
        repo: repo_id_of(repo),
        revision: revision.to_string(),
        file: file.to_string(),
        cache: options.cache_dir.clone(),
    };
    let is_commit = revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit());
    let commit = if is_commit && folder.join("snapshots").join(revision).is_dir() {
        revision.to_string()
    } else {
        std::fs::read_to_string(folder.join("refs").join(revision))
            .map_err(|_| not_cached("any file (no cached snapshot for this revision)"))?
            .trim()
            .to_string()
    };
    let snapshot = folder.join("snapshots").join(&commit);
    let mut files = Vec::new();
    list_files(&snapshot, &snapshot, &mut files).map_err(|_| not_cached("the snapshot"))?;
    files.sort();
    Ok((commit, files))
}

fn repo_id_of(repo: &Repo) -> String {
    let folder = repo.folder_name();
    let name = folder
        .split_once("--")
        .map_or(folder.as_str(), |(_, name)| name);
    name.replacen("--", "/", 1)
}

/// Lists files under `dir` relative to `root`, following the cache's symlinks.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list_files(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Turns an hf-hub error into one that says what to do.
fn hub_error(repo: &str, revision: &str, error: ApiError) -> LoadError {
    let status = match &error {
        ApiError::RequestError(inner) => match inner.as_ref() {
            ureq::Error::Status(code, _) => Some(*code),
            ureq::Error::Transport(_) => None,
        },
        _ => None,
    };
    match status {
        // The hub answers 401 for repositories that do not exist as well as for
        // private ones, so the message covers both.
        Some(401) => LoadError::RepoNotFound {
            repo: repo.to_string(),
        },
        Some(403) => LoadError::AccessDenied {
            repo: repo.to_string(),
        },
        Some(404) if revision == "main" => LoadError::RepoNotFound {
            repo: repo.to_string(),
        },
        Some(404) => LoadError::RevisionNotFound {
            repo: repo.to_string(),
            revision: revision.to_string(),
        },
        _ => LoadError::HubUnreachable {
            repo: repo.to_string(),
            source: error,
        },
    }
}
