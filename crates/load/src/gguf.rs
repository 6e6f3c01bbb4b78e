//! GGUF files (llama.cpp's format): one file holding the weights, most
//! often quantised, the model's configuration and its tokenizer.
//!
//! candle-core reads the header (metadata and tensor table). The tensors
//! stay in the memory-mapped file in their own encoding and are decoded a
//! few rows at a time (`encoding`). As Hugging Face `transformers` does when
//! it loads a GGUF file, the tensor names and the metadata are mapped onto
//! the Hugging Face names and `config.json` keys of the same architecture,
//! so the architecture's adapter reads it like any checkpoint, and
//! llama.cpp's reordering of LLaMA's Q and K rows is undone on read.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use memmap2::Mmap;
use serde_json::json;
use tokenizers::Tokenizer;

use crate::config::ConfigFile;
use crate::encoding::{Encoding, RowOrder};
use crate::error::{candle_source, LoadError, Result};

/// GGUF architectures Glossa reads, with the `model_type` whose adapter
/// reads them and whether llama.cpp interleaved their Q and K rows.
const ARCHITECTURES: &[(&str, &str, bool)] = &[
    // convert_hf_to_gguf.py permutes LLaMA's (and Mistral's, which it
    // writes as `llama`) Q and K for its rotary kernel.
    ("llama", "llama", true),
    // Qwen keeps Hugging Face's rotate-half layout (NeoX rope in llama.cpp).
    ("qwen2", "qwen2", false),
    ("qwen3", "qwen3", false),
];

/// A tensor of a GGUF file: its Hugging Face name and where its bytes lie.
pub(crate) struct GgufTensor {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) encoding: Encoding,
    pub(crate) byte_offset: usize,
    pub(crate) order: RowOrder,
}

/// An opened GGUF file.
pub(crate) struct GgufFile {
    pub(crate) map: Arc<Mmap>,
    content: Content,
    path: Arc<Path>,
}

impl GgufFile {
    /// Maps `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<GgufFile> {
        let file = std::fs::File::open(path).map_err(LoadError::io(path))?;
        // SAFETY: read-only map; as with safetensors, the file must not be
        // truncated while the process runs.
        let map = unsafe { Mmap::map(&file) }.map_err(LoadError::io(path))?;
        let content =
            Content::read(&mut Cursor::new(&map[..])).map_err(|source| LoadError::Gguf {
                path: path.to_path_buf(),
                source: candle_source(source),
            })?;
        Ok(GgufFile {
            map: Arc::new(map),
            content,
            path: Arc::from(path),
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// `general.architecture`, and the adapter's `model_type` with whether
    /// Q and K rows are interleaved.
    fn architecture(&self) -> Result<(&str, &'static str, bool)> {
        let name = self.string("general.architecture")?;
        ARCHITECTURES
            .iter()
            .find(|(gguf, _, _)| *gguf == name)
            .map(|&(_, model_type, interleaved)| (name, model_type, interleaved))
            .ok_or_else(|| LoadError::UnsupportedGgufArchitecture {
                path: self.path.to_path_buf(),
                found: name.to_string(),
                supported: ARCHITECTURES.iter().map(|(gguf, _, _)| *gguf).collect(),
            })
    }

    /// Every tensor under its Hugging Face name.
    pub(crate) fn tensors(&self) -> Result<Vec<GgufTensor>> {
        let (arch, _, interleaved) = self.architecture()?;
        let heads = self.usize(&format!("{arch}.attention.head_count"))?;
        let kv_heads = self
            .optional_usize(&format!("{arch}.attention.head_count_kv"))?
            .unwrap_or(heads);
        let data_start = self.content.tensor_data_offset as usize;
        let mut tensors = Vec::with_capacity(self.content.tensor_infos.len());
        for (gguf_name, info) in &self.content.tensor_infos {
            // Tensors no adapter reads (llama 3's `rope_freqs`) keep their name.
            let name = hf_name(gguf_name).unwrap_or_else(|| gguf_name.clone());
            let shape = info.shape.dims().to_vec();
            // Q's rows are heads × head_dim, K's kv_heads × head_dim.
            let order = match (interleaved, gguf_name.rsplit('.').nth(1)) {
                (true, Some("attn_q")) if gguf_name.ends_with(".weight") => {
                    interleaved_rows(&shape, heads)
                }
                (true, Some("attn_k")) if gguf_name.ends_with(".weight") => {
                    interleaved_rows(&shape, kv_heads)
                }
                _ => RowOrder::Stored,
            };
            tensors.push(GgufTensor {
                name,
                shape,
                encoding: Encoding::from_ggml(info.ggml_dtype),
                byte_offset: data_start + info.offset as usize,
                order,
            });
        }
        Ok(tensors)
    }

    /// The metadata as the `config.json` of the same model on the hub.
    pub(crate) fn config(&self) -> Result<ConfigFile> {
        let (arch, model_type, _) = self.architecture()?;
        let key = |name: &str| format!("{arch}.{name}");
        let heads = self.usize(&key("attention.head_count"))?;
        let d_model = self.usize(&key("embedding_length"))?;
        let embedding_rows = self
            .content
            .tensor_infos
            .get("token_embd.weight")
            .map(|info| info.shape.dims()[0]);
        let vocab = match embedding_rows {
            Some(rows) => rows,
            None => self.usize(&key("vocab_size"))?,
        };
        let mut config = json!({
            "model_type": model_type,
            "num_hidden_layers": self.usize(&key("block_count"))?,
            "hidden_size": d_model,
            "intermediate_size": self.usize(&key("feed_forward_length"))?,
            "num_attention_heads": heads,
            "num_key_value_heads": self.optional_usize(&key("attention.head_count_kv"))?.unwrap_or(heads),
            "vocab_size": vocab,
            "tie_word_embeddings": !self.content.tensor_infos.contains_key("output.weight"),
        });
        if let Some(head_dim) = self.optional_usize(&key("attention.key_length"))? {
            config["head_dim"] = json!(head_dim);
        }
        if let Some(theta) = self.content.metadata.get(&key("rope.freq_base")) {
            config["rope_theta"] = json!(theta
                .to_f32()
                .map_err(|e| self.bad_value(&key("rope.freq_base"), e))?);
        }
        if let Some(dims) = self.optional_usize(&key("rope.dimension_count"))? {
            let d_head = config["head_dim"]
                .as_u64()
                .map_or(d_model / heads.max(1), |d| d as usize);
            if dims != d_head {
                config["partial_rotary_factor"] = json!(dims as f64 / d_head as f64);
            }
        }
        Ok(ConfigFile {
            path: self.path.to_path_buf(),
            json: config,
        })
    }

    /// The tokenizer described by the metadata (`tokenizer.ggml.*`).
    pub(crate) fn tokenizer(&self) -> Result<Tokenizer> {
        let model = self.string("tokenizer.ggml.model").unwrap_or("(none)");
        if model != "gpt2" {
            return Err(LoadError::GgufTokenizerKind {
                path: self.path.to_path_buf(),
                kind: model.to_string(),
            });
        }
        Tokenizer::from_gguf(&self.content).map_err(|source| LoadError::GgufTokenizer {
            path: self.path.to_path_buf(),
            source: candle_source(source),
        })
    }

    /// `general.license`, if the file declares one.
    pub(crate) fn license(&self) -> Option<String> {
        let license = self
            .content
            .metadata
            .get("general.license")?
            .to_string()
            .ok()?;
        Some(license.clone()).filter(|l| !l.trim().is_empty())
    }

    fn value(&self, key: &str) -> Result<&Value> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| LoadError::GgufMetadata {
                path: self.path.to_path_buf(),
                key: key.to_string(),
                problem: "is missing".to_string(),
            })
    }

    fn string(&self, key: &str) -> Result<&str> {
        self.value(key)?
            .to_string()
            .map(String::as_str)
            .map_err(|e| self.bad_value(key, e))
    }

    fn usize(&self, key: &str) -> Result<usize> {
        let value = self.value(key)?;
        value
            .to_u64()
            .map(|v| v as usize)
            .map_err(|e| self.bad_value(key, e))
    }

    fn optional_usize(&self, key: &str) -> Result<Option<usize>> {
        match self.content.metadata.contains_key(key) {
            true => self.usize(key).map(Some),
            false => Ok(None),
        }
    }

    fn bad_value(&self, key: &str, error: candle_core::Error) -> LoadError {
        LoadError::GgufMetadata {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            problem: candle_source(error).to_string(),
        }
    }
}

/// The row order of a LLaMA Q or K projection of `heads` heads.
fn interleaved_rows(shape: &[usize], heads: usize) -> RowOrder {
    match shape.first() {
        Some(&rows) if heads > 0 && rows % heads == 0 => RowOrder::InterleavedPairs {
            head_dim: rows / heads,
        },
        // EncodedTensor::new refuses the mismatch with the tensor's name.
        _ => RowOrder::InterleavedPairs { head_dim: 0 },
    }
}

/// The Hugging Face name of a GGUF tensor (llama.cpp's `tensor_mapping.py`
/// read backwards, for the LLaMA-layout architectures).
fn hf_name(gguf: &str) -> Option<String> {
    const TOP: &[(&str, &str)] = &[
        ("token_embd", "model.embed_tokens"),
        ("output_norm", "model.norm"),
        ("output", "lm_head"),
    ];
    const BLOCK: &[(&str, &str)] = &[
        ("attn_norm", "input_layernorm"),
        ("ffn_norm", "post_attention_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("attn_q_norm", "self_attn.q_norm"),
        ("attn_k_norm", "self_attn.k_norm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];
    let (stem, kind) = gguf.rsplit_once('.')?;
    if !matches!(kind, "weight" | "bias") {
        return None;
    }
    if let Some(block) = stem.strip_prefix("blk.") {
        let (index, part) = block.split_once('.')?;
        if !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (_, hf) = BLOCK.iter().find(|(g, _)| *g == part)?;
        return Some(format!("model.layers.{index}.{hf}.{kind}"));
    }
    let (_, hf) = TOP.iter().find(|(g, _)| *g == stem)?;
    Some(format!("{hf}.{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_onto_hugging_face() {
        assert_eq!(
            hf_name("token_embd.weight").unwrap(),
            "model.embed_tokens.weight"
        );
        assert_eq!(hf_name("output.weight").unwrap(), "lm_head.weight");
        assert_eq!(
            hf_name("blk.12.attn_q.weight").unwrap(),
            "model.layers.12.self_attn.q_proj.weight"
        );
        assert_eq!(
            hf_name("blk.0.attn_k.bias").unwrap(),
            "model.layers.0.self_attn.k_proj.bias"
        );
        assert_eq!(
            hf_name("blk.3.ffn_down.weight").unwrap(),
            "model.layers.3.mlp.down_proj.weight"
        );
        assert!(hf_name("blk.x.attn_q.weight").is_none());
        assert!(hf_name("rope_freqs.weight").is_none());
        assert!(hf_name("blk.0.attn_q.scale").is_none());
    }
}
