//! Deterministic generator of small checkpoints in Hugging Face layout:
//! GPT-2 with planted units, and random models of the other families.
//!
//! Glossa reads a model's parameters through its vocabulary. To test that
//! without downloading real models, this crate writes checkpoints whose
//! weights are random except for a few *planted* units whose projections onto
//! the vocabulary are known in advance: a neuron whose value vector promotes
//! the forms of " dieta", a neuron whose key reads " łódź", a head that copies
//! a token, a head that pairs two tokens. See [`Plant`].
//!
//! The pieces, in the order a model is made:
//!
//! - a tokenizer: [`train_tokenizer`] trains GPT-2's byte-level BPE on a corpus
//!   (the repository ships an original Polish one), [`synthetic_tokenizer`]
//!   builds a vocabulary of any size without one;
//! - a [`Gpt2Spec`] (shape, seed, dtype, file layout) and [`Plants`], from
//!   which [`generate`] draws the [`Gpt2Weights`];
//! - [`write_checkpoint`] writes `config.json`, `tokenizer.json` and the
//!   safetensors files, and [`write_hub_cache`] lays a written model out as a
//!   Hugging Face cache entry.
//!
//! [`presets`] bundles these into the three models the workspace uses: the
//! shipped default model, an untied test model and a benchmark model, each a
//! [`SynthModel`].
//!
//! [`families`] writes small random checkpoints of the other model families
//! (Llama, Mistral, Qwen, Gemma, Phi-3, GPT-NeoX, GPT-J, OPT, BERT, RoBERTa)
//! in their exact Hugging Face layouts, each with a tokenizer of its kind:
//! a [`FamilySpec`] becomes a [`FamilyModel`], and [`family_presets`] holds
//! one small spec per family and layout variant.
//!
//! [`scaled`] writes LLaMA-shaped checkpoints at the size of real models
//! (Llama-3-8B's 16 GB of bf16), tensor by tensor, for the benchmarks.
//!
//! Everything is a function of the inputs: the same spec and seed give
//! byte-identical files.

pub use checkpoint::write_checkpoint;
pub use error::{Error, Result};
pub use families::{family_preset, family_presets, Family, FamilyModel, FamilySpec, TokenizerKind};
pub use generate::generate;
pub use hub::write_hub_cache;
pub use plants::{Plant, PlantedToken, Plants};
pub use presets::SynthModel;
pub use spec::{Dtype, Gpt2Spec};
pub use tokenizer::{synthetic_tokenizer, train_tokenizer, END_OF_TEXT, END_OF_TEXT_ID};
pub use weights::Gpt2Weights;

pub mod families;
pub mod presets;
pub mod scaled;

mod checkpoint;
mod error;
mod generate;
mod hub;
mod plants;
mod spec;
mod tokenizer;
mod weights;
