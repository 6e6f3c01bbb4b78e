//! A checkpoint's `config.json`, read once and handed to the architecture
//! that `model_type` names. The keys beyond `model_type` differ between
//! architectures, so each adapter deserializes its own mirror of them.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{LoadError, Result};

/// The largest dimension a config may give: far beyond any real model, and
/// small enough that products of dimensions cannot overflow.
const MAX_DIMENSION: usize = 1 << 24;

/// `config.json` as JSON, with where it was read from for error messages.
pub(crate) struct ConfigFile {
    pub(crate) path: PathBuf,
    pub(crate) json: serde_json::Value,
}

impl ConfigFile {
    /// Reads and parses `path`; only JSON syntax is checked here.
    pub(crate) fn read(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).map_err(LoadError::io(path))?;
        let json = serde_json::from_str(&text).map_err(|source| LoadError::Config {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            json,
        })
    }

    /// The `model_type` key, which selects the architecture.
    pub(crate) fn model_type(&self) -> Option<&str> {
        self.json.get("model_type").and_then(|v| v.as_str())
    }

    /// The config as an architecture's typed mirror of it.
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.json).map_err(|source| LoadError::Config {
            path: self.path.clone(),
            source,
        })
    }

    /// A part of the config (a nested `text_config`) as a typed mirror.
    pub(crate) fn parse_value<T: DeserializeOwned>(&self, json: serde_json::Value) -> Result<T> {
        T::deserialize(json).map_err(|source| LoadError::Config {
            path: self.path.clone(),
            source,
        })
    }

    /// An error for values that parse but cannot describe a model.
    pub(crate) fn invalid(&self, problem: String) -> LoadError {
        LoadError::ConfigValue {
            path: self.path.clone(),
            problem,
        }
    }

    /// Refuses zero and implausibly large dimensions, named by their config
    /// keys; `None` is a key left unset (a default applies).
    pub(crate) fn check_dimensions(&self, dimensions: &[(&str, Option<usize>)]) -> Result<()> {
        for &(key, value) in dimensions {
            match value {
                Some(0) => return Err(self.invalid(format!("{key} is 0"))),
                Some(value) if value > MAX_DIMENSION => {
                    return Err(self.invalid(format!(
                        "{key} is {value}, implausibly large (at most {MAX_DIMENSION})"
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}
