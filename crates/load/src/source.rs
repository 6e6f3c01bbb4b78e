//! Where a model comes from, and the files that make it up.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checkpoint::WeightsFormat;
use crate::error::{LoadError, Result};
use crate::hub::{DownloadProgress, HubOptions, HubRepo, RepoKind};

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const SAFETENSORS: &str = "model.safetensors";
const SHARD_INDEX: &str = "model.safetensors.index.json";
const PICKLE: &str = "pytorch_model.bin";

/// A model as the user names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// A directory in Hugging Face layout.
    Local { dir: PathBuf },
    /// A repository on the Hugging Face hub at a revision (branch, tag or commit).
    Hub { repo_id: String, revision: String },
}

impl ModelSource {
    /// Interprets `model`: an existing directory is local, `ORG/NAME` or `NAME` is a hub id.
    pub fn parse(model: &str, revision: &str) -> Result<ModelSource> {
        let path = Path::new(model);
        if path.is_dir() {
            return Ok(ModelSource::Local {
                dir: path.to_path_buf(),
            });
        }
        let looks_like_path = model.starts_with('.')
            || model.starts_with('/')
            || model.starts_with('~')
            || model.matches('/').count() > 1;
        let valid_id = !model.is_empty()
            && model.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if looks_like_path || !valid_id {
            return Err(LoadError::BadModelId(model.to_string()));
        }
        Ok(ModelSource::Hub {
            repo_id: model.to_string(),
            revision: revision.to_string(),
        })
    }

    /// A short name for output directories: the last path component or `org--name`.
    pub fn slug(&self) -> String {
        match self {
            ModelSource::Local { dir } => dir
                .canonicalize()
                .unwrap_or_else(|_| dir.clone())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".to_string()),
            ModelSource::Hub { repo_id, .. } => repo_id.replace('/', "--"),
        }
    }

    /// Finds every file of the model, downloading hub files into the cache as needed.
    pub fn resolve(
        &self,
        hub: &HubOptions,
        progress: &mut dyn DownloadProgress,
    ) -> Result<ModelFiles> {
        match self {
            ModelSource::Local { dir } => resolve_local(dir),
            ModelSource::Hub { repo_id, revision } => resolve_hub(hub, repo_id, revision, progress),
        }
    }
}

/// The local files of a model, ready to open.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// How the weights are stored.
    pub weights_format: WeightsFormat,
    /// Weight files: the safetensors file, the shard index then its shards, or the pickle.
    pub weights: Vec<PathBuf>,
    /// The hub commit the files come from; `None` for a local directory.
    pub commit: Option<String>,
}

impl ModelFiles {
    /// Every input file, for hashing into the manifest.
    pub fn all(&self) -> Vec<&Path> {
        let mut all = vec![self.config.as_path(), self.tokenizer.as_path()];
        all.extend(self.weights.iter().map(PathBuf::as_path));
        all
    }
}

fn resolve_local(dir: &Path) -> Result<ModelFiles> {
    let require = |file: &str| {
        let path = dir.join(file);
        if path.is_file() {
            Ok(path)
        } else {
            Err(LoadError::MissingFile {
                dir: dir.to_path_buf(),
                file: file.to_string(),
            })
        }
    };
    let config = require(CONFIG)?;
    let tokenizer = require(TOKENIZER)?;
    let (weights_format, weights) = if dir.join(SAFETENSORS).is_file() {
        (WeightsFormat::Safetensors, vec![dir.join(SAFETENSORS)])
    } else if dir.join(SHARD_INDEX).is_file() {
        let index = dir.join(SHARD_INDEX);
        let mut files = vec![index.clone()];
        for shard in shard_names(&index)? {
            files.push(require(&shard)?);
        }
        (WeightsFormat::ShardedSafetensors, files)
    } else if dir.join(PICKLE).is_file() {
        (WeightsFormat::PytorchPickle, vec![dir.join(PICKLE)])
    } else {
        return Err(LoadError::NoWeights {
            path: dir.to_path_buf(),
        });
    };
    Ok(ModelFiles {
        config,
        tokenizer,
        weights_format,
        weights,
        commit: None,
    })
}

fn resolve_hub(
    options: &HubOptions,
    repo_id: &str,
    revision: &str,
    progress: &mut dyn DownloadProgress,
) -> Result<ModelFiles> {
    let repo = HubRepo::resolve(options, RepoKind::Model, repo_id, revision)?;
    let config = repo.fetch(CONFIG, progress)?;
    let tokenizer = repo.fetch(TOKENIZER, progress)?;
    let (weights_format, weights) = if repo.has(SAFETENSORS) {
        (
            WeightsFormat::Safetensors,
            vec![repo.fetch(SAFETENSORS, progress)?],
        )
    } else if repo.has(SHARD_INDEX) {
        let index = repo.fetch(SHARD_INDEX, progress)?;
        let mut files = vec![index.clone()];
        for shard in shard_names(&index)? {
            files.push(repo.fetch(&shard, progress)?);
        }
        (WeightsFormat::ShardedSafetensors, files)
    } else if repo.has(PICKLE) {
        (
            WeightsFormat::PytorchPickle,
            vec![repo.fetch(PICKLE, progress)?],
        )
    } else {
        return Err(LoadError::NoWeights {
            path: PathBuf::from(format!("hub repository {repo_id} at {}", repo.commit())),
        });
    };
    Ok(ModelFiles {
        config,
        tokenizer,
        weights_format,
        weights,
        commit: Some(repo.commit().to_string()),
    })
}

/// The distinct shard files named by a `model.safetensors.index.json`, in order.
fn shard_names(index: &Path) -> Result<Vec<String>> {
    let bad = |problem: String| LoadError::ShardIndex {
        path: index.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(index).map_err(LoadError::io(index))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| LoadError::ShardIndexJson {
            path: index.to_path_buf(),
            source,
        })?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad("no \"weight_map\" object".to_string()))?;
    let mut shards: Vec<String> = Vec::new();
    for (tensor, file) in map {
        let file = file
            .as_str()
            .ok_or_else(|| bad(format!("tensor {tensor:?} maps to a non-string")))?;
        if file.contains("..") || file.starts_with('/') {
            return Err(bad(format!(
                "shard name {file:?} leaves the model directory"
            )));
        }
        if !shards.iter().any(|s| s == file) {
            shards.push(file.to_string());
        }
    }
    shards.sort();
    Ok(shards)
}
