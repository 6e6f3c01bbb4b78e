//! The weight files of a checkpoint, opened and indexed by tensor name.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

use crate::encoding::{EncodedTensor, Encoding, RowOrder};
use crate::error::{candle_source, LoadError, Result};
use crate::gguf::GgufFile;
use crate::matrix::Matrix;

/// How a checkpoint stores its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsFormat {
    /// One `model.safetensors`.
    Safetensors,
    /// `model.safetensors.index.json` naming several shards.
    ShardedSafetensors,
    /// A PyTorch pickle, `pytorch_model.bin` (read into memory: pickles cannot be mapped).
    PytorchPickle,
    /// One llama.cpp GGUF file, weights most often quantised, with its
    /// config and tokenizer in its metadata.
    Gguf,
}

impl WeightsFormat {
    /// The name recorded in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightsFormat::Safetensors => "safetensors",
            WeightsFormat::ShardedSafetensors => "sharded_safetensors",
            WeightsFormat::PytorchPickle => "pytorch_pickle",
            WeightsFormat::Gguf => "gguf",
        }
    }
}

/// One tensor of a mapped file (safetensors, GGUF): where its bytes lie in
/// the map and how they encode its elements.
struct MappedTensor {
    map: Arc<Mmap>,
    path: Arc<Path>,
    /// The encoding, or the name of a stored type Glossa cannot read.
    encoding: std::result::Result<Encoding, String>,
    shape: Vec<usize>,
    byte_offset: usize,
    order: RowOrder,
}

enum Tensors {
    Mapped(HashMap<String, MappedTensor>),
    Pickle {
        path: PathBuf,
        tensors: candle_core::pickle::PthTensors,
    },
}

/// The opened weight files of one checkpoint.
pub struct Checkpoint {
    format: WeightsFormat,
    tensors: Tensors,
}

impl Checkpoint {
    /// The tensors of an opened GGUF file, left in its memory map.
    pub(crate) fn from_gguf(gguf: &GgufFile) -> Result<Checkpoint> {
        let shared_path: Arc<Path> = Arc::from(gguf.path());
        let all = gguf
            .tensors()?
            .into_iter()
            .map(|t| {
                let tensor = MappedTensor {
                    map: Arc::clone(&gguf.map),
                    path: Arc::clone(&shared_path),
                    encoding: Ok(t.encoding),
                    shape: t.shape,
                    byte_offset: t.byte_offset,
                    order: t.order,
                };
                (t.name, tensor)
            })
            .collect();
        Ok(Checkpoint {
            format: WeightsFormat::Gguf,
            tensors: Tensors::Mapped(all),
        })
    }

    /// Opens the weights in `files`, memory-mapping safetensors and GGUF.
    ///
    /// `files` is what [`crate::ModelFiles::weights`] lists: one safetensors
    /// file, a shard index followed by its shards, one pickle or one GGUF file.
    pub fn open(format: WeightsFormat, files: &[PathBuf]) -> Result<Checkpoint> {
        let tensors = match format {
            WeightsFormat::Gguf => {
                let path = files.first().ok_or_else(|| LoadError::NoWeights {
                    path: PathBuf::from("."),
                })?;
                return Checkpoint::from_gguf(&GgufFile::open(path)?);
            }
            WeightsFormat::Safetensors | WeightsFormat::ShardedSafetensors => {
                let mut all = HashMap::new();
                for path in files {
                    if path.extension().is_some_and(|e| e == "json") {
                        continue;
                    }
                    map_safetensors(path, &mut all)?;
                }
                Tensors::Mapped(all)
            }
            WeightsFormat::PytorchPickle => {
                let path = files.first().cloned().ok_or_else(|| LoadError::NoWeights {
                    path: PathBuf::from("."),
                })?;
                let tensors =
                    candle_core::pickle::PthTensors::new(&path, None).map_err(|source| {
                        LoadError::Pickle {
                            path: path.clone(),
                            source: candle_source(source),
                        }
                    })?;
                Tensors::Pickle { path, tensors }
            }
        };
        Ok(Checkpoint { format, tensors })
    }

    /// How the weights are stored.
    pub fn format(&self) -> WeightsFormat {
        self.format
    }

    /// The encodings the tensors are stored in, with how many tensors use
    /// each, most used first: `bf16 (291)`, `q4_1 (210), f32 (61), q8_0 (1)`.
    pub fn encodings(&self) -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        match &self.tensors {
            Tensors::Mapped(map) => map.values().for_each(|t| {
                let name = match &t.encoding {
                    Ok(encoding) => encoding.name().to_string(),
                    Err(stored) => stored.to_lowercase(),
                };
                *counts.entry(name).or_default() += 1;
            }),
            Tensors::Pickle { tensors, .. } => tensors.tensor_infos().values().for_each(|info| {
                *counts
                    .entry(format!("{:?}", info.dtype).to_lowercase())
                    .or_default() += 1;
            }),
        }
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        counts
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every tensor name with its shape, sorted by name.
    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        match &self.tensors {
            Tensors::Mapped(map) => map
                .iter()
                .map(|(name, t)| (name.clone(), t.shape.clone()))
                .collect(),
            Tensors::Pickle { tensors, .. } => tensors
                .tensor_infos()
                .iter()
                .map(|(name, info)| (name.clone(), info.layout.shape().dims().to_vec()))
                .collect(),
        }
    }

    /// The shape of tensor `name` as stored, if it exists.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        match &self.tensors {
            Tensors::Mapped(map) => map.get(name).map(|t| t.shape.clone()),
            Tensors::Pickle { tensors, .. } => tensors
                .tensor_infos()
                .get(name)
                .map(|info| info.layout.shape().dims().to_vec()),
        }
    }

    /// Whether a tensor of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        match &self.tensors {
            Tensors::Mapped(map) => map.contains_key(name),
            Tensors::Pickle { tensors, .. } => tensors.tensor_infos().contains_key(name),
        }
    }

    /// The tensor `name` as a row-major matrix (a 1-D tensor is one row).
    ///
    /// f32 data is borrowed from the memory map; half-precision and
    /// quantised data stay there too, decoded when read.
    pub fn matrix(&self, name: &str) -> Result<Matrix> {
        match &self.tensors {
            Tensors::Mapped(map) => {
                let tensor = map.get(name).ok_or_else(|| LoadError::NoSuchTensor {
                    name: name.to_string(),
                })?;
                tensor.matrix(name)
            }
            Tensors::Pickle { path, tensors } => read_pickled(path, tensors, name),
        }
    }
}

impl MappedTensor {
    fn matrix(&self, name: &str) -> Result<Matrix> {
        let (rows, cols) = as_2d(&self.shape);
        let encoding = self
            .encoding
            .clone()
            .map_err(|dtype| LoadError::UnsupportedDtype {
                name: format!("{name} in {}", self.path.display()),
                dtype,
            })?;
        let in_place = encoding == Encoding::F32
            && self.order == RowOrder::Stored
            && self.byte_offset.is_multiple_of(4)
            && cfg!(target_endian = "little")
            && self.byte_offset + rows * cols * 4 <= self.map.len();
        if in_place {
            return Ok(Matrix::mapped(
                Arc::clone(&self.map),
                self.byte_offset,
                rows,
                cols,
            ));
        }
        // Half precision and quantised rows stay in the map, decoded a few
        // at a time as the stages read them: upcast whole, an 8B model's
        // 16 GB of bf16 would take 32 GB.
        Ok(Matrix::encoded(EncodedTensor::new(
            name,
            Arc::clone(&self.map),
            self.byte_offset,
            [rows, cols],
            encoding,
            self.order,
        )?))
    }
}

/// Views a tensor shape as rows × columns: the last axis is the columns.
fn as_2d(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (1, *n),
        [rest @ .., last] => (rest.iter().product(), *last),
    }
}

/// Maps one safetensors file and records where each tensor's bytes lie.
fn map_safetensors(path: &Path, into: &mut HashMap<String, MappedTensor>) -> Result<()> {
    let file = File::open(path).map_err(LoadError::io(path))?;
    // SAFETY: the map is read-only; like every mmap-based loader we rely on the
    // file not being truncated while the process runs.
    let map = unsafe { Mmap::map(&file) }.map_err(LoadError::io(path))?;
    let map = Arc::new(map);
    let parsed = SafeTensors::deserialize(&map).map_err(|source| LoadError::Safetensors {
        path: path.to_path_buf(),
        source,
    })?;
    let shared_path: Arc<Path> = Arc::from(path);
    let base = map.as_ptr() as usize;
    for (name, view) in parsed.iter() {
        let data = view.data();
        into.insert(
            name.to_string(),
            MappedTensor {
                map: Arc::clone(&map),
                path: Arc::clone(&shared_path),
                encoding: match view.dtype() {
                    Dtype::F32 => Ok(Encoding::F32),
                    Dtype::F16 => Ok(Encoding::F16),
                    Dtype::BF16 => Ok(Encoding::Bf16),
                    other => Err(format!("{other:?}")),
                },
                shape: view.shape().to_vec(),
                byte_offset: data.as_ptr() as usize - base,
                order: RowOrder::Stored,
            },
        );
    }
    Ok(())
}

fn read_pickled(
    path: &Path,
    tensors: &candle_core::pickle::PthTensors,
    name: &str,
) -> Result<Matrix> {
    let pickle_error = |source: candle_core::Error| LoadError::PickleTensor {
        path: path.to_path_buf(),
        name: name.to_string(),
        source: candle_source(source),
    };
    let tensor =
        tensors
            .get(name)
            .map_err(pickle_error)?
            .ok_or_else(|| LoadError::NoSuchTensor {
                name: name.to_string(),
            })?;
    let (rows, cols) = as_2d(tensor.dims());
    let values = tensor
        .to_dtype(candle_core::DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(pickle_error)?;
    Ok(Matrix::from_vec(values, rows, cols))
}
