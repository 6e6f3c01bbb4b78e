//! Where a model comes from, and the files that make it up.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checkpoint::WeightsFormat;
use tokenizers::Tokenizer;

use crate::error::{LoadError, Result};
use crate::gguf::GgufFile;
use crate::hub::{DownloadProgress, HubOptions, HubRepo, RepoKind};

const CONFIG: &str = "config.json";
const TOKENIZER: &str = "tokenizer.json";
const SAFETENSORS: &str = "model.safetensors";
const SHARD_INDEX: &str = "model.safetensors.index.json";
const PICKLE: &str = "pytorch_model.bin";
const GGUF_EXTENSION: &str = "gguf";
const MODEL_CARD: &str = "README.md";

/// A model as the user names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// A directory in Hugging Face layout, a GGUF file, or a directory
    /// holding one GGUF file.
    Local { path: PathBuf },
    /// A repository on the Hugging Face hub at a revision (branch, tag or commit).
    Hub { repo_id: String, revision: String },
}

impl ModelSource {
    /// Interprets `model`: an existing directory or GGUF file is local,
    /// `ORG/NAME` or `NAME` is a hub id.
    pub fn parse(model: &str, revision: &str) -> Result<ModelSource> {
        let path = Path::new(model);
        if path.is_dir() || (path.is_file() && is_gguf(path)) {
            return Ok(ModelSource::Local {
                path: path.to_path_buf(),
            });
        }
        if path.is_file() {
            return Err(LoadError::NotAModel {
                path: path.to_path_buf(),
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

    /// A short name for output directories: the last path component
    /// (without `.gguf`) or `org--name`.
    pub fn slug(&self) -> String {
        match self {
            ModelSource::Local { path } => {
                let path = path.canonicalize().unwrap_or_else(|_| path.clone());
                let name = if is_gguf(&path) {
                    path.file_stem()
                } else {
                    path.file_name()
                };
                name.map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "model".to_string())
            }
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
            ModelSource::Local { path } if path.is_file() => Ok(gguf_files(path)),
            ModelSource::Local { path } => resolve_local(path),
            ModelSource::Hub { repo_id, revision } => resolve_hub(hub, repo_id, revision, progress),
        }
    }
}

/// The local files of a model, ready to open.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFiles {
    /// `config.json`; `None` for a GGUF file, whose metadata holds the config.
    pub config: Option<PathBuf>,
    /// `tokenizer.json`; `None` for a GGUF file without one beside it,
    /// whose metadata then holds the tokenizer.
    pub tokenizer: Option<PathBuf>,
    /// How the weights are stored.
    pub weights_format: WeightsFormat,
    /// Weight files: the safetensors file, the shard index then its shards,
    /// the pickle, or the GGUF file.
    pub weights: Vec<PathBuf>,
    /// The hub commit the files come from; `None` for a local directory.
    pub commit: Option<String>,
    /// The model card (`README.md`) beside the weights, if there is one. Only
    /// its licence is read: it is not an input of the tables.
    pub card: Option<PathBuf>,
}

impl ModelFiles {
    /// Every input file, for hashing into the manifest.
    pub fn all(&self) -> Vec<&Path> {
        let mut all: Vec<&Path> = [&self.config, &self.tokenizer]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
            .collect();
        all.extend(self.weights.iter().map(PathBuf::as_path));
        all
    }

    /// The licence the model declares: its card's `license` (the
    /// `license_name` of an `other` licence), else a GGUF file's
    /// `general.license`; `None` when neither says.
    pub fn license(&self) -> Option<String> {
        let from_card = self
            .card
            .as_deref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| declared_license(&text));
        from_card.or_else(|| match (self.weights_format, self.weights.first()) {
            (WeightsFormat::Gguf, Some(path)) => GgufFile::open(path).ok()?.license(),
            _ => None,
        })
    }

    /// The model's tokenizer: its `tokenizer.json`, or the one a GGUF
    /// file's metadata describes.
    pub fn load_tokenizer(&self) -> Result<Tokenizer> {
        match (&self.tokenizer, self.weights_format) {
            (Some(path), _) => Tokenizer::from_file(path).map_err(|source| LoadError::Tokenizer {
                path: path.clone(),
                source,
            }),
            (None, WeightsFormat::Gguf) => {
                let path = self.weights.first().ok_or_else(|| LoadError::NoWeights {
                    path: PathBuf::from("."),
                })?;
                GgufFile::open(path)?.tokenizer()
            }
            (None, _) => Err(LoadError::MissingFile {
                dir: self
                    .config
                    .as_deref()
                    .and_then(Path::parent)
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
                file: TOKENIZER.to_string(),
            }),
        }
    }
}

/// The licence a model card's YAML front matter declares: `license`, or
/// `license_name` where `license` is `other`, as the hub writes them.
fn declared_license(card: &str) -> Option<String> {
    let mut lines = card.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let mut keys = std::collections::HashMap::new();
    let mut lines = lines.take_while(|line| line.trim_end() != "---").peekable();
    while let Some(line) = lines.next() {
        // Top-level keys only; a list's first item stands for it (`license:\n- mit`).
        let Some((key, value)) = line.split_once(':').filter(|_| !line.starts_with(' ')) else {
            continue;
        };
        let mut value = value.trim().to_string();
        if value.is_empty() {
            if let Some(item) = lines.peek().and_then(|l| l.trim_start().strip_prefix("- ")) {
                value = item.trim().to_string();
            }
        }
        let value = value.trim_matches(|c| c == '"' || c == '\'').to_string();
        if !value.is_empty() {
            keys.insert(key.trim().to_string(), value);
        }
    }
    match keys.get("license").map(String::as_str) {
        Some("other") => keys.get("license_name").or(keys.get("license")).cloned(),
        _ => keys.get("license").cloned(),
    }
}

/// The model card beside a model's files, if there is one.
fn card_in(dir: &Path) -> Option<PathBuf> {
    Some(dir.join(MODEL_CARD)).filter(|card| card.is_file())
}

/// Whether `path` names a GGUF file.
fn is_gguf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(GGUF_EXTENSION))
}

/// A GGUF file, with the `tokenizer.json` beside it if there is one (it
/// takes the place of the tokenizer in the metadata).
fn gguf_files(path: &Path) -> ModelFiles {
    let beside = path.with_file_name(TOKENIZER);
    ModelFiles {
        config: None,
        tokenizer: beside.is_file().then_some(beside),
        weights_format: WeightsFormat::Gguf,
        weights: vec![path.to_path_buf()],
        commit: None,
        card: path.parent().and_then(card_in),
    }
}

/// The one GGUF file in `dir`, if it holds GGUF files at all; several are
/// refused, since which one is meant cannot be guessed.
fn gguf_in(dir: &Path) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(LoadError::io(dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_gguf(p))
        .collect();
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(LoadError::SeveralGguf {
            dir: dir.to_path_buf(),
            files: found
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
        }),
    }
}

fn resolve_local(dir: &Path) -> Result<ModelFiles> {
    // A directory of GGUF files (no config.json) is read through its GGUF file.
    if !dir.join(CONFIG).is_file() {
        if let Some(gguf) = gguf_in(dir)? {
            return Ok(gguf_files(&gguf));
        }
    }
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
        config: Some(config),
        tokenizer: Some(tokenizer),
        weights_format,
        weights,
        commit: None,
        card: card_in(dir),
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
        config: Some(config),
        tokenizer: Some(tokenizer),
        weights_format,
        weights,
        commit: Some(repo.commit().to_string()),
        // The licence is worth a small download, never a failed run.
        card: repo
            .has(MODEL_CARD)
            .then(|| repo.fetch(MODEL_CARD, progress).ok())
            .flatten(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_licence_comes_from_the_cards_front_matter() {
        let card = |yaml: &str| declared_license(&format!("---\n{yaml}\n---\n\n# A model\n"));
        assert_eq!(card("license: apache-2.0").as_deref(), Some("apache-2.0"));
        assert_eq!(
            card("language: pl\nlicense: \"mit\"").as_deref(),
            Some("mit")
        );
        assert_eq!(
            card("license: other\nlicense_name: llama3\nlicense_link: LICENSE").as_deref(),
            Some("llama3")
        );
        assert_eq!(card("license: other").as_deref(), Some("other"));
        assert_eq!(
            card("license:\n- cc-by-4.0\n- mit").as_deref(),
            Some("cc-by-4.0")
        );
        assert_eq!(card("tags:\n  license: mit"), None, "only a top-level key");
        assert_eq!(card("language: en"), None);
        assert_eq!(declared_license("# No front matter\nlicense: mit\n"), None);
    }
}
