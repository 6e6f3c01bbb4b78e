//! `manifest.json`: what produced a dataset, and what it holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TableError};
use crate::parquet_io::write_atomically;

/// File name of the manifest inside a dataset directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path relative to the dataset directory, `/`-separated.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Everything needed to trust and reproduce a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub glossa_version: String,
    pub schema_version: u32,
    /// The model as the user named it (hub id or directory).
    pub model: String,
    /// Where a local model was, as an absolute path, so that commands run
    /// from elsewhere (`glossa plot`) find it again. `None` for hub models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_dir: Option<PathBuf>,
    /// Requested revision (hub models).
    pub revision: Option<String>,
    /// Commit the revision resolved to (hub models).
    pub commit: Option<String>,
    pub architecture: String,
    /// sha256 of every input file, by file name.
    pub inputs: BTreeMap<String, String>,
    /// `config.json` as found.
    pub model_config: serde_json::Value,
    /// Resolved dimensions.
    pub shape: serde_json::Value,
    /// Options of the run.
    pub options: serde_json::Value,
    /// Embedding rows, tokenizer tokens, and how padding was treated.
    pub vocabulary: serde_json::Value,
    /// Every table file, in order.
    pub tables: Vec<FileRecord>,
    /// Rows per table kind.
    pub row_counts: BTreeMap<String, u64>,
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
}

impl Manifest {
    /// Writes the manifest atomically into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| TableError::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomically(&path, (text + "\n").as_bytes())
    }

    /// Reads the manifest of the dataset in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(TableError::io(&path))?;
        serde_json::from_str(&text).map_err(|e| TableError::Manifest {
            path,
            message: format!("not a Glossa manifest: {e}"),
        })
    }
}
