use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::str::FromStr;

use safetensors::tensor::View;
use serde_json::json;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::spec::{Dtype, Gpt2Spec};
use crate::weights::Gpt2Weights;

/// Writes a Hugging Face GPT-2 checkpoint of `weights` into `dir`:
/// `config.json`, `tokenizer.json` and either `model.safetensors` or
/// `spec.shards` files with `model.safetensors.index.json`.
///
/// `spec` must be the spec the weights were generated from. Tensor names get
/// the `transformer.` prefix when the spec asks for it, and the causal-mask
/// buffers are added when `spec.mask_buffers` is set.
pub fn write_checkpoint(
    dir: &Path,
    spec: &Gpt2Spec,
    weights: &Gpt2Weights,
    tokenizer_json: &str,
) -> Result<()> {
    spec.validate()?;
    weights.check_matches(spec)?;
    let tokens = Tokenizer::from_str(tokenizer_json)?.get_vocab_size(true);
    if tokens > spec.vocab_size {
        return Err(Error::Spec(format!(
            "the tokenizer has {tokens} tokens but the model only {} embedding rows",
            spec.vocab_size
        )));
    }
    fs::create_dir_all(dir).map_err(Error::io(dir))?;
    write_file(&dir.join("config.json"), &config_json(spec)?)?;
    write_file(&dir.join("tokenizer.json"), tokenizer_json)?;
    write_safetensors(dir, spec, weights)
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(Error::io(path))
}

/// `config.json` as `GPT2Config.to_json_string()` writes it (sorted keys),
/// with `n_inner` spelled out rather than left null.
fn config_json(spec: &Gpt2Spec) -> Result<String> {
    let config = json!({
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": spec.eos_token_id,
        "embd_pdrop": 0.1,
        "eos_token_id": spec.eos_token_id,
        "initializer_range": 0.02,
        "layer_norm_epsilon": spec.layer_norm_epsilon,
        "model_type": "gpt2",
        "n_ctx": spec.n_positions,
        "n_embd": spec.n_embd,
        "n_head": spec.n_head,
        "n_inner": spec.n_inner,
        "n_layer": spec.n_layer,
        "n_positions": spec.n_positions,
        "resid_pdrop": 0.1,
        "scale_attn_weights": true,
        "tie_word_embeddings": spec.tie_word_embeddings,
        "torch_dtype": spec.dtype.torch_name(),
        "use_cache": true,
        "vocab_size": spec.vocab_size,
    });
    Ok(serde_json::to_string_pretty(&config)? + "\n")
}

/// One tensor as it goes into a safetensors file.
pub(crate) struct Stored<'a> {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) values: Cow<'a, [f32]>,
    pub(crate) format: Format,
}

/// How a stored tensor's values are encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    /// A floating-point format; values are rounded to it.
    Float(Dtype),
    /// One byte per value, 1 for non-zero: the causal masks some older
    /// checkpoints (GPT-J, Pythia) keep as `torch.bool` buffers.
    Bool,
}

impl Format {
    fn size(self) -> usize {
        match self {
            Format::Float(dtype) => dtype.size(),
            Format::Bool => 1,
        }
    }
}

impl View for &Stored<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        match self.format {
            Format::Float(dtype) => dtype.safetensors(),
            Format::Bool => safetensors::Dtype::BOOL,
        }
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    // Encoding one tensor at a time keeps a single tensor's bytes in memory
    // beside the weights, rather than a second copy of the whole model.
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(match self.format {
            Format::Float(dtype) => dtype.encode(&self.values),
            Format::Bool => self.values.iter().map(|v| u8::from(*v != 0.0)).collect(),
        })
    }

    fn data_len(&self) -> usize {
        self.values.len() * self.format.size()
    }
}

/// The tensors of the file in state-dict order, named as the file names them.
/// `causal` is the mask buffer's content, shared by all blocks.
fn stored_tensors<'a>(
    spec: &Gpt2Spec,
    weights: &'a Gpt2Weights,
    causal: &'a [f32],
) -> Vec<Stored<'a>> {
    let prefix = if spec.transformer_prefix {
        "transformer."
    } else {
        ""
    };
    let stored = |name: &str, shape: &[usize], values| Stored {
        name: if name == "lm_head.weight" {
            name.to_owned()
        } else {
            format!("{prefix}{name}")
        },
        shape: shape.to_vec(),
        values,
        format: Format::Float(spec.dtype),
    };
    let n = spec.n_positions;
    let mut tensors = Vec::new();
    for (name, values, shape) in weights.tensors() {
        tensors.push(stored(name, shape, Cow::Borrowed(values)));
        // The buffers follow `ln_1` in the state dict of `GPT2Block`.
        if let Some(block) = name
            .strip_suffix(".ln_1.bias")
            .filter(|_| spec.mask_buffers)
        {
            tensors.push(stored(
                &format!("{block}.attn.bias"),
                &[1, 1, n, n],
                Cow::Borrowed(causal),
            ));
            tensors.push(stored(
                &format!("{block}.attn.masked_bias"),
                &[],
                Cow::Owned(vec![-1e4]),
            ));
        }
    }
    tensors
}

fn write_safetensors(dir: &Path, spec: &Gpt2Spec, weights: &Gpt2Weights) -> Result<()> {
    // GPT-2 registers `bias` as a lower-triangular matrix of ones: position i
    // may attend to positions up to i.
    let n = spec.n_positions;
    let causal: Vec<f32> = if spec.mask_buffers {
        (0..n * n)
            .map(|k| if k % n <= k / n { 1.0 } else { 0.0 })
            .collect()
    } else {
        Vec::new()
    };
    write_tensors(dir, &stored_tensors(spec, weights, &causal), spec.shards)
}

/// Writes `tensors` as `model.safetensors`, or as `shards` files with
/// `model.safetensors.index.json` when `shards` is more than 1.
pub(crate) fn write_tensors(dir: &Path, tensors: &[Stored], shards: usize) -> Result<()> {
    // Cut the state dict into runs of about equal byte size, as
    // `save_pretrained` does with `max_shard_size`.
    let total: usize = tensors.iter().map(|t| t.data_len()).sum();
    let mut start = 0;
    let shard_of: Vec<usize> = tensors
        .iter()
        .map(|t| {
            let shard = (start * shards / total).min(shards - 1);
            start += t.data_len();
            shard
        })
        .collect();
    if let Some(empty) = (0..shards).find(|s| !shard_of.contains(s)) {
        return Err(Error::Spec(format!(
            "{shards} shards leave shard {} empty",
            empty + 1
        )));
    }

    let metadata = Some(HashMap::from([("format".to_owned(), "pt".to_owned())]));
    let mut weight_map = BTreeMap::new();
    for shard in 0..shards {
        let file = if shards == 1 {
            "model.safetensors".to_owned()
        } else {
            format!("model-{:05}-of-{:05}.safetensors", shard + 1, shards)
        };
        let members: Vec<&Stored> = tensors
            .iter()
            .zip(&shard_of)
            .filter(|(_, s)| **s == shard)
            .map(|(t, _)| t)
            .collect();
        for t in &members {
            weight_map.insert(t.name.clone(), file.clone());
        }
        let views = members.iter().map(|t| (t.name.as_str(), *t));
        let path = dir.join(&file);
        safetensors::serialize_to_file(views, metadata.clone(), &path)?;
        share_like_config(dir, &path)?;
    }
    if shards == 1 {
        return Ok(());
    }
    let index = json!({
        "metadata": { "total_size": total },
        "weight_map": weight_map,
    });
    write_file(
        &dir.join("model.safetensors.index.json"),
        &(serde_json::to_string_pretty(&index)? + "\n"),
    )
}

/// safetensors writes through a private temporary file (mode 0600 on Unix);
/// give the weights the permissions `config.json` got from the umask, so
/// that every file of the checkpoint is as readable as the others.
fn share_like_config(dir: &Path, path: &Path) -> Result<()> {
    let config = dir.join("config.json");
    let permissions = fs::metadata(&config)
        .map_err(Error::io(&config))?
        .permissions();
    fs::set_permissions(path, permissions).map_err(Error::io(path))
}
