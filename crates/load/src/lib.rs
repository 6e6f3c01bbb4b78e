//! Load transformer checkpoints into canonical, memory-mapped parts.
//!
//! In the order a model is loaded:
//!
//! - `source`, `hub`: find the model ([`ModelSource`]: a local directory or a
//!   Hugging Face hub repository through the standard cache) and list its
//!   files ([`ModelFiles`]);
//! - `checkpoint`, `matrix`: open the weights ([`Checkpoint`]: safetensors,
//!   sharded safetensors or a PyTorch pickle), memory-mapped wherever the
//!   file's layout allows ([`Matrix`]);
//! - `config`: read `config.json`, whose `model_type` picks the architecture;
//! - `architectures`: one adapter per architecture ([`Model::load`]
//!   dispatches), which reads its own `config.json` keys and maps its tensor
//!   names and layouts onto the canonical parts, with the shared tensor
//!   lookup and checks of `lookup`;
//! - `model`: the canonical parts ([`Model`]): the embeddings and, per layer,
//!   the feed-forward keys and values and the attention projections;
//! - `error`: every failure as a [`LoadError`].

pub use checkpoint::{Checkpoint, WeightsFormat};
pub use error::{LoadError, Result};
pub use hub::{DownloadProgress, HubOptions, HubRepo, RepoKind};
pub use matrix::Matrix;
pub use model::{Architecture, HeadParts, LayerParts, Model, ModelShape, Rotary, RotaryPairing};
pub use source::{ModelFiles, ModelSource};

mod architectures;
mod checkpoint;
mod config;
mod encoding;
mod error;
mod gguf;
mod hub;
mod lookup;
mod matrix;
mod model;
mod source;
