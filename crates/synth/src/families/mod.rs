//! Small random checkpoints of the model families other than GPT-2, each in
//! the exact layout Hugging Face transformers' `save_pretrained` gives it.
//!
//! A [`FamilySpec`] names the family, the shape, the tokenizer, the dtype
//! and the file layout; [`FamilyModel::new`] trains the tokenizer on the
//! shipped Polish corpus and draws every tensor from the spec's seed;
//! [`FamilyModel::write`] writes `config.json`, `tokenizer.json` and the
//! safetensors files. [`family_presets`] holds one small spec per family and
//! per layout variant that loaders must meet. There are no plants: loaders
//! are checked against a brute force over [`FamilyModel::tensor`].

use std::path::Path;
use std::str::FromStr;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokenizers::Tokenizer;

use crate::checkpoint::{write_file, write_tensors, Format, Stored};
use crate::error::{Error, Result};
use crate::generate::sample;
use crate::presets::{read_corpus, CORPUS_DIR};
use crate::weights::Tensor;

pub use presets::{family_preset, family_presets};
pub use spec::{Family, FamilySpec, TokenizerKind};

mod config;
mod layout;
mod presets;
mod spec;
mod vocab;

/// Spread of the log of the embedding row norms, as in the GPT-2 presets.
const ROW_NORM_SIGMA: f32 = 0.3;

/// A generated checkpoint: its spec, tokenizer and every parameter.
#[derive(Debug, Clone)]
pub struct FamilyModel {
    /// What was generated.
    pub spec: FamilySpec,
    /// `tokenizer.json` text.
    pub tokenizer_json: String,
    /// Entries of the tokenizer, special tokens included.
    tokens: usize,
    /// Every parameter in state-dict order, rounded to `spec.dtype`.
    tensors: Vec<Tensor>,
}

impl FamilyModel {
    /// Trains the tokenizer of `spec` and draws its parameters.
    pub fn new(spec: FamilySpec) -> Result<Self> {
        spec.validate()?;
        let corpus = read_corpus(Path::new(CORPUS_DIR))?;
        let tokenizer_json = vocab::tokenizer_json(spec.tokenizer, spec.tokenizer_size, &corpus)?;
        let tokens = Tokenizer::from_str(&tokenizer_json)?.get_vocab_size(true);
        let rows_needed = tokens + config::extra_token_rows(spec.family);
        if rows_needed > spec.vocab_size {
            return Err(Error::Spec(format!(
                "{} embedding rows are fewer than the {rows_needed} the tokenizer and special rows need",
                spec.vocab_size
            )));
        }
        let mut rng = SmallRng::seed_from_u64(spec.seed);
        let tensors = layout::parameters(&spec)
            .into_iter()
            .map(|parameter| {
                let data = sample(&parameter, ROW_NORM_SIGMA, &mut rng)
                    .into_iter()
                    .map(|v| spec.dtype.round(v))
                    .collect();
                Tensor {
                    name: parameter.name,
                    shape: parameter.shape,
                    data,
                }
            })
            .collect();
        Ok(FamilyModel {
            spec,
            tokenizer_json,
            tokens,
            tensors,
        })
    }

    /// Values (rounded to the file's dtype, as `f32`) and shape of the
    /// parameter called `name`, the full name the file gives it (e.g.
    /// `model.layers.0.self_attn.q_proj.weight`). Buffers are not parameters.
    pub fn tensor(&self, name: &str) -> Option<(&[f32], &[usize])> {
        crate::weights::find(&self.tensors, name)
    }

    /// All parameters as `(name, values, shape)`, in state-dict order.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &[f32], &[usize])> {
        crate::weights::listed(&self.tensors)
    }

    /// The `config.json` text transformers would write for this model.
    pub fn config_json(&self) -> Result<String> {
        config::config_json(&self.spec, self.tokens)
    }

    /// Writes `config.json`, `tokenizer.json` and the safetensors files
    /// (with `model.safetensors.index.json` when sharded) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        write_file(&dir.join("config.json"), &self.config_json()?)?;
        write_file(&dir.join("tokenizer.json"), &self.tokenizer_json)?;
        let mut stored: Vec<Stored> = self
            .tensors
            .iter()
            .map(|t| Stored {
                name: t.name.clone(),
                shape: t.shape.clone(),
                values: t.data.as_slice().into(),
                format: Format::Float(self.spec.dtype),
            })
            .collect();
        stored.extend(layout::buffers(&self.spec));
        write_tensors(dir, &stored, self.spec.shards)
    }
}
