//! Which datasets are served: each opened once, its index and (on first use)
//! its model kept for every request after.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use glossa_index::Index;
use glossa_load::{HubOptions, Model};
use glossa_pipeline::Dataset;

use crate::error::{chain, ApiError, ServeError};

/// Pictures kept per dataset before the cache starts over: memory stays flat
/// however many units are visited.
const CACHED_PICTURES: usize = 256;

/// The served datasets, in the order they were given, by name.
pub struct Catalog {
    datasets: Vec<Arc<Served>>,
}

impl Catalog {
    /// Opens every dataset in `dirs` and its index (rebuilt, after
    /// `rebuilding` is told why, when missing or stale).
    ///
    /// A dataset is named by its directory's name, which must be unique.
    pub fn open(
        dirs: &[PathBuf],
        hub: &HubOptions,
        rebuilding: &dyn Fn(&str),
    ) -> Result<Catalog, ServeError> {
        if dirs.is_empty() {
            return Err(ServeError::NoDatasets);
        }
        let mut datasets: Vec<Arc<Served>> = Vec::new();
        for dir in dirs {
            let open = |source| ServeError::Open {
                dir: dir.clone(),
                source: Box::new(source),
            };
            let dataset = Dataset::open(dir).map_err(open)?;
            let index = dataset.index(rebuilding).map_err(open)?;
            let name = name_of(dir);
            if let Some(other) = datasets.iter().find(|d| d.name == name) {
                return Err(ServeError::SameName {
                    name,
                    first: other.dataset.dir().to_path_buf(),
                    second: dir.clone(),
                });
            }
            datasets.push(Arc::new(Served {
                name,
                dataset,
                index,
                hub: hub.clone(),
                model: OnceLock::new(),
                pictures: Mutex::new(HashMap::new()),
            }));
        }
        Ok(Catalog { datasets })
    }

    /// The dataset called `name`.
    pub fn get(&self, name: &str) -> Result<&Arc<Served>, ApiError> {
        self.datasets
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| ApiError::no_dataset(name))
    }

    /// The dataset called `name`, or the only one when none is named.
    pub fn pick(&self, name: Option<&str>) -> Result<&Arc<Served>, ApiError> {
        match (name, self.datasets.as_slice()) {
            (Some(name), _) => self.get(name),
            (None, [only]) => Ok(only),
            (None, _) => Err(ApiError::bad_request(format!(
                "several datasets are served; name one of: {}",
                self.names().join(", ")
            ))),
        }
    }

    /// Every served dataset.
    pub fn datasets(&self) -> &[Arc<Served>] {
        &self.datasets
    }

    fn names(&self) -> Vec<&str> {
        self.datasets.iter().map(|d| d.name.as_str()).collect()
    }
}

/// The name a URL gives the dataset in `dir`: its directory's name.
fn name_of(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".to_string())
}

/// One served dataset.
pub struct Served {
    pub name: String,
    pub dataset: Dataset,
    /// Opened once; tantivy's searcher answers from many threads at once.
    pub index: Index,
    hub: HubOptions,
    /// Loaded on the first scatter asked for; why not, if it cannot be.
    model: OnceLock<Result<Arc<Model>, String>>,
    /// t-SNE scatters and heat maps, drawn once.
    pictures: Mutex<Pictures>,
}

/// Rendered pictures (or why one cannot be drawn) by what they show.
type Pictures = HashMap<String, Result<Arc<str>, ApiError>>;

impl Served {
    /// The model the dataset was extracted from, loaded once.
    ///
    /// Fails (with the reason, every time) when it is not where the manifest
    /// says: pages then show the lists without the pictures that need it.
    pub fn model(&self) -> Result<Arc<Model>, ApiError> {
        self.model
            .get_or_init(|| {
                self.dataset
                    .model(None, &self.hub)
                    .map(Arc::new)
                    .map_err(|e| chain(&e))
            })
            .clone()
            .map_err(ApiError::not_found)
    }

    /// The picture called `key`, drawn by `draw` unless drawn before.
    pub fn picture(
        &self,
        key: String,
        draw: impl FnOnce() -> Result<String, ApiError>,
    ) -> Result<Arc<str>, ApiError> {
        if let Some(found) = self.lock_pictures().get(&key) {
            return found.clone();
        }
        // Drawn outside the lock: a slow t-SNE holds up no other request.
        let drawn = draw().map(Arc::from);
        // Failures of the server are not kept: the next request tries again.
        if drawn
            .as_ref()
            .err()
            .is_none_or(|e| e.status.is_client_error())
        {
            let mut pictures = self.lock_pictures();
            if pictures.len() >= CACHED_PICTURES {
                pictures.clear();
            }
            pictures.insert(key, drawn.clone());
        }
        drawn
    }

    fn lock_pictures(&self) -> std::sync::MutexGuard<'_, Pictures> {
        // A panic while holding the lock leaves a map that is still whole.
        self.pictures.lock().unwrap_or_else(|p| p.into_inner())
    }
}
