//! Load transformer checkpoints into canonical, memory-mapped parts.
//!
//! A model is found ([`ModelSource`]: a local directory or a Hugging Face hub
//! repository, resolved through the standard cache), its files are opened
//! ([`Checkpoint`]: safetensors, sharded safetensors or a PyTorch pickle), and
//! one small adapter per architecture maps checkpoint tensors onto the same
//! canonical parts ([`Model`]): the unembedding matrix and, per layer, the
//! feed-forward keys and values and the attention projections. Weights stay
//! memory-mapped wherever the file's layout allows ([`Matrix`]).

pub use checkpoint::{Checkpoint, WeightsFormat};
pub use config::ModelShape;
pub use error::{LoadError, Result};
pub use hub::{DownloadProgress, HubOptions, HubRepo, RepoKind};
pub use matrix::Matrix;
pub use model::{Architecture, AttentionParts, LayerParts, Model};
pub use source::{ModelFiles, ModelSource};

mod checkpoint;
mod config;
mod error;
mod gpt2;
mod hub;
mod matrix;
mod model;
mod source;
