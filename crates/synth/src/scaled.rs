//! LLaMA-shaped checkpoints at the size of the models researchers use:
//! Llama-3-8B's shape is 16 GB of bf16 in four safetensors shards.
//!
//! The other generators hold every tensor in memory, which an 8B model does
//! not fit. This one writes each shard's header from the shapes alone, then
//! draws and writes the tensors a slice at a time, so it needs a few
//! megabytes whatever the size. The weights are uniform random bf16 (their
//! values do not matter to what the checkpoint measures: memory and speed at
//! scale); the tokenizer is [`synthetic_tokenizer`] with as many tokens as
//! the embedding has rows.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::checkpoint::write_file;
use crate::error::{Error, Result};
use crate::tokenizer::synthetic_tokenizer;

/// The shape of a LLaMA-architecture checkpoint, stored untied in bf16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlamaShape {
    pub layers: usize,
    pub d_model: usize,
    pub d_ff: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub vocab: usize,
}

/// Bytes a shard holds at most, as `save_pretrained`'s default 5 GB.
const SHARD_BYTES: u64 = 5_000_000_000;

/// Elements drawn and written at a time.
const SLICE: usize = 1 << 20;

impl LlamaShape {
    /// Meta's Llama-3-8B: 32 layers, d_model 4096, d_ff 14336, 32 query
    /// heads on 8 key/value heads, vocabulary 128256, untied.
    pub fn llama3_8b() -> LlamaShape {
        LlamaShape {
            layers: 32,
            d_model: 4096,
            d_ff: 14336,
            heads: 32,
            kv_heads: 8,
            vocab: 128256,
        }
    }

    /// A shape by name (`llama3-8b`), for command lines.
    pub fn named(name: &str) -> Option<LlamaShape> {
        match name {
            "llama3-8b" => Some(LlamaShape::llama3_8b()),
            _ => None,
        }
    }

    /// Every tensor as `save_pretrained` names it, with its shape.
    fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let (d, dh) = (self.d_model, self.d_model / self.heads);
        let mut all = vec![("model.embed_tokens.weight".to_string(), vec![self.vocab, d])];
        for l in 0..self.layers {
            let p = format!("model.layers.{l}.");
            all.extend([
                (format!("{p}input_layernorm.weight"), vec![d]),
                (
                    format!("{p}self_attn.q_proj.weight"),
                    vec![self.heads * dh, d],
                ),
                (
                    format!("{p}self_attn.k_proj.weight"),
                    vec![self.kv_heads * dh, d],
                ),
                (
                    format!("{p}self_attn.v_proj.weight"),
                    vec![self.kv_heads * dh, d],
                ),
                (
                    format!("{p}self_attn.o_proj.weight"),
                    vec![d, self.heads * dh],
                ),
                (format!("{p}post_attention_layernorm.weight"), vec![d]),
                (format!("{p}mlp.gate_proj.weight"), vec![self.d_ff, d]),
                (format!("{p}mlp.up_proj.weight"), vec![self.d_ff, d]),
                (format!("{p}mlp.down_proj.weight"), vec![d, self.d_ff]),
            ]);
        }
        all.push(("model.norm.weight".to_string(), vec![d]));
        all.push(("lm_head.weight".to_string(), vec![self.vocab, d]));
        all
    }

    /// Bytes of the checkpoint's weights.
    pub fn checkpoint_bytes(&self) -> u64 {
        self.tensors()
            .iter()
            .map(|(_, shape)| 2 * shape.iter().product::<usize>() as u64)
            .sum()
    }

    /// Writes `config.json`, `tokenizer.json`, the shards and their index
    /// into `dir`.
    pub fn write(&self, dir: &Path, seed: u64) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let config = json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": self.d_model,
            "intermediate_size": self.d_ff,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "num_key_value_heads": self.kv_heads,
            "vocab_size": self.vocab,
            "rope_theta": 500000.0,
            "rms_norm_eps": 1e-5,
            "tie_word_embeddings": false,
            "torch_dtype": "bfloat16",
        });
        write_file(&dir.join("config.json"), &format!("{config:#}"))?;
        write_file(
            &dir.join("tokenizer.json"),
            &synthetic_tokenizer(self.vocab, seed)?,
        )?;

        let mut shards: Vec<Vec<(String, Vec<usize>)>> = vec![Vec::new()];
        let mut bytes = 0u64;
        for (name, shape) in self.tensors() {
            let size = 2 * shape.iter().product::<usize>() as u64;
            if bytes > 0 && bytes + size > SHARD_BYTES {
                shards.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            shards
                .last_mut()
                .expect("one shard at least")
                .push((name, shape));
        }
        let count = shards.len();
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut weight_map = serde_json::Map::new();
        for (i, shard) in shards.iter().enumerate() {
            let file = format!("model-{:05}-of-{count:05}.safetensors", i + 1);
            write_shard(&dir.join(&file), shard, &mut rng)?;
            for (name, _) in shard {
                weight_map.insert(name.clone(), json!(file));
            }
        }
        let index = json!({
            "metadata": {"total_size": self.checkpoint_bytes()},
            "weight_map": weight_map,
        });
        write_file(
            &dir.join("model.safetensors.index.json"),
            &format!("{index:#}"),
        )
    }
}

/// One safetensors file of bf16 tensors, written as it is drawn. Norm gains
/// (1-D) are drawn around 1, matrices around 0.
fn write_shard(path: &Path, tensors: &[(String, Vec<usize>)], rng: &mut SmallRng) -> Result<()> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".to_string(), json!({"format": "pt"}));
    let mut offset = 0u64;
    for (name, shape) in tensors {
        let size = 2 * shape.iter().product::<usize>() as u64;
        header.insert(
            name.clone(),
            json!({"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}),
        );
        offset += size;
    }
    let mut header = serde_json::to_string(&header)?.into_bytes();
    // The data that follows starts 8-aligned, as the format recommends.
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let file = File::create(path).map_err(Error::io(path))?;
    let mut out = BufWriter::with_capacity(1 << 22, file);
    let mut write = |bytes: &[u8]| out.write_all(bytes).map_err(Error::io(path));
    write(&(header.len() as u64).to_le_bytes())?;
    write(&header)?;
    let mut slice = Vec::with_capacity(2 * SLICE);
    for (_, shape) in tensors {
        let (centre, spread) = if shape.len() == 1 {
            (1.0, 0.1)
        } else {
            (0.0, 0.02)
        };
        let mut left: usize = shape.iter().product();
        while left > 0 {
            let n = left.min(SLICE);
            slice.clear();
            for _ in 0..n {
                let value: f32 = centre + spread * rng.random_range(-1.0f32..1.0);
                slice.extend_from_slice(&half::bf16::from_f32(value).to_le_bytes());
            }
            write(&slice)?;
            left -= n;
        }
    }
    out.flush().map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_8b_is_eight_billion_parameters_in_16_gb() {
        let shape = LlamaShape::llama3_8b();
        let parameters = shape.checkpoint_bytes() / 2;
        assert_eq!(parameters, 8_030_261_248, "Llama-3-8B's parameter count");
    }
}
