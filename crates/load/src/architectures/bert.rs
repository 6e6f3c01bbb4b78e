//! BERT and RoBERTa encoders: `query`, `key`, `value` and `attention.output.dense`
//! (`[out, in]`), feed-forward `intermediate.dense` and `output.dense`, and
//! post-norm blocks: the norm a block's attention reads through is the one
//! that ends the block before (the embeddings' norm for the first), and the
//! feed-forward layer reads through `attention.output.LayerNorm`. The masked
//! language model head decodes through the word embeddings (tied) after a
//! dense layer of its own, so there is no final norm to fold. Tensor names
//! carry `bert.` or `roberta.` as saved from the masked-LM model, and no
//! prefix as sentence-transformers saves them.

use serde::Deserialize;

use super::shared::{check_layers, contiguous_heads, Dimensions, HF_KEYS};
use crate::checkpoint::Checkpoint;
use crate::config::ConfigFile;
use crate::error::Result;
use crate::lookup::TensorLookup;
use crate::model::{Architecture, LayerParts, Model};

const BLOCK: &str = "encoder.layer";

/// The keys of `config.json` BERT and RoBERTa use.
#[derive(Debug, Deserialize)]
struct BertConfig {
    model_type: String,
    #[serde(flatten)]
    dimensions: Dimensions,
}

/// Reads a BERT or RoBERTa checkpoint.
pub(super) fn load(config: ConfigFile, checkpoint: &Checkpoint) -> Result<Model> {
    let bert: BertConfig = config.parse()?;
    // The masked-LM head decodes through the word embeddings.
    let shape = bert.dimensions.shape(&config, &HF_KEYS, true, false)?;
    let (architecture, name, roots): (_, _, &'static [&'static str]) =
        if bert.model_type == "roberta" {
            (Architecture::Roberta, "RoBERTa", &["roberta.", ""])
        } else {
            (Architecture::Bert, "BERT", &["bert.", ""])
        };
    let tensors = TensorLookup::new(checkpoint, name, roots);
    let (d, d_ff) = (shape.d_model, shape.d_ff);
    let blocks = tensors.pp(BLOCK);
    check_layers(&tensors, BLOCK, "num_hidden_layers", shape.layers)?;
    let embedding = tensors.matrix("embeddings.word_embeddings.weight", [shape.vocab, d])?;
    let mut attention_norm = tensors.optional_vector("embeddings.LayerNorm.weight", d)?;
    let mut layers = Vec::with_capacity(shape.layers);
    for l in 0..shape.layers {
        let block = blocks.pp(l);
        let projection = |name: &str| Ok(block.matrix(name, [d, d])?.transposed());
        let parts = LayerParts {
            ff_gates: None,
            ff_keys: block.matrix("intermediate.dense.weight", [d_ff, d])?,
            ff_values: block.matrix("output.dense.weight", [d, d_ff])?.transposed(),
            heads: contiguous_heads(
                &shape,
                &projection("attention.self.query.weight")?,
                &projection("attention.self.key.weight")?,
                &projection("attention.self.value.weight")?,
                &projection("attention.output.dense.weight")?,
            ),
            attention_norm: attention_norm.take(),
            ff_norm: block.optional_vector("attention.output.LayerNorm.weight", d)?,
            rotary: None,
        };
        attention_norm = block.optional_vector("output.LayerNorm.weight", d)?;
        layers.push(parts);
    }
    Ok(Model {
        weights_encoding: checkpoint.encodings(),
        architecture,
        shape,
        config: config.json,
        unembedding: embedding.clone(),
        embedding,
        final_norm: None,
        layers,
    })
}
