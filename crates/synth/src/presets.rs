//! The three models this workspace generates.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokenizers::Tokenizer;

use crate::checkpoint::{write_checkpoint, write_file};
use crate::error::{Error, Result};
use crate::generate::generate;
use crate::plants::{Plant, PlantedToken, Plants};
use crate::spec::{Dtype, Gpt2Spec};
use crate::tokenizer::{
    synthetic_tokenizer, train_tokenizer, BOAT_WORDS, DIET_WORDS, END_OF_TEXT_ID, HEALTH_WORD,
};
use crate::weights::Gpt2Weights;

/// Where the Polish corpus of the shipped tokenizer lives, resolved from
/// this crate's source directory.
pub const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/corpus/pl");

/// A generated model with everything needed to write it out.
#[derive(Debug, Clone)]
pub struct SynthModel {
    /// Shape, seed and file layout.
    pub spec: Gpt2Spec,
    /// Every parameter, as written.
    pub weights: Gpt2Weights,
    /// What was planted, and where.
    pub plants: Plants,
    /// `tokenizer.json` text.
    pub tokenizer_json: String,
}

impl SynthModel {
    /// Generates the weights of `spec` with `plants`.
    pub fn new(spec: Gpt2Spec, plants: Plants, tokenizer_json: String) -> Result<Self> {
        let weights = generate(&spec, &plants)?;
        Ok(SynthModel {
            spec,
            weights,
            plants,
            tokenizer_json,
        })
    }

    /// Writes the checkpoint (see [`write_checkpoint`]) and `plants.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_checkpoint(dir, &self.spec, &self.weights, &self.tokenizer_json)?;
        write_file(&dir.join("plants.json"), &self.plants.to_json()?)
    }
}

/// The default model committed under `data/models/tiny-polish-gpt2`: a
/// tokenizer of 4096 entries trained on the corpus in [`CORPUS_DIR`], 4
/// blocks of width 64 with 4 heads, tied embeddings, f32, mask buffers.
///
/// Plants: value neuron 17 of layer 2 on the forms of " dieta"; key neuron
/// 101 of layer 1 on " łódź", " Łódź", " łodzi"; head 1 of layer 3 copies
/// " dieta"; head 2 of layer 2 pairs " dieta" (query) with " zdrowie" (key).
pub fn shipped() -> Result<SynthModel> {
    let corpus = read_corpus(Path::new(CORPUS_DIR))?;
    let tokenizer_json = train_tokenizer(&corpus, 4096)?;
    let tokenizer = Tokenizer::from_str(&tokenizer_json)?;
    let spec = Gpt2Spec {
        n_layer: 4,
        n_head: 4,
        n_embd: 64,
        n_inner: 256,
        n_positions: 128,
        vocab_size: tokenizer.get_vocab_size(true),
        tie_word_embeddings: true,
        seed: 0x610_55A,
        dtype: Dtype::F32,
        shards: 1,
        transformer_prefix: false,
        mask_buffers: true,
        row_norm_sigma: 0.3,
        layer_norm_epsilon: 1e-5,
        eos_token_id: END_OF_TEXT_ID,
    };
    let plants = polish_plants(
        &tokenizer,
        Sites {
            value: (2, 17),
            key: (1, 101),
            copy: (3, 1),
            pair: (2, 2),
        },
    )?;
    SynthModel::new(spec, plants, tokenizer_json)
}

/// A model that differs from [`shipped`] in every way a loader must handle:
/// untied `lm_head`, four embedding rows beyond the tokenizer's 700 entries,
/// `transformer.` names, two f16 shards, and widths that are not multiples
/// of 16 (3 heads of width 20, 150 neurons). The tokenizer is synthetic.
///
/// Plants: value neuron 42 of layer 1 on the forms of " dieta"; key neuron 7
/// of layer 0 on " łódź", " Łódź", " łodzi"; head 2 of layer 2 copies
/// " dieta"; head 0 of layer 1 pairs " dieta" with " zdrowie".
pub fn untied_test() -> Result<SynthModel> {
    let tokenizer_json = synthetic_tokenizer(700, 7)?;
    let tokenizer = Tokenizer::from_str(&tokenizer_json)?;
    let spec = Gpt2Spec {
        n_layer: 3,
        n_head: 3,
        n_embd: 60,
        n_inner: 150,
        n_positions: 64,
        vocab_size: 704,
        tie_word_embeddings: false,
        seed: 7,
        dtype: Dtype::F16,
        shards: 2,
        transformer_prefix: true,
        mask_buffers: true,
        row_norm_sigma: 0.3,
        layer_norm_epsilon: 1e-5,
        eos_token_id: END_OF_TEXT_ID,
    };
    let plants = polish_plants(
        &tokenizer,
        Sites {
            value: (1, 42),
            key: (0, 7),
            copy: (2, 2),
            pair: (1, 0),
        },
    )?;
    SynthModel::new(spec, plants, tokenizer_json)
}

/// A model shaped like sdadas/polish-gpt2-medium (24 blocks, 16 heads,
/// width 1024, 4096 neurons, 51200 tokens, 2048 positions, tied, f32,
/// about 1.4 GB), for benchmarks. `quick` scales it down to 4 blocks of
/// width 256 with 1024 neurons and 8192 tokens. The tokenizer is synthetic.
///
/// Plants sit in the middle and upper layers: value neuron, key neuron,
/// copy head and pair head on the same tokens as [`shipped`].
pub fn bench(quick: bool) -> Result<SynthModel> {
    let (n_layer, n_head, n_embd, vocab_size, n_positions) = if quick {
        (4, 4, 256, 8192, 256)
    } else {
        (24, 16, 1024, 51200, 2048)
    };
    let tokenizer_json = synthetic_tokenizer(vocab_size, 1024)?;
    let tokenizer = Tokenizer::from_str(&tokenizer_json)?;
    let spec = Gpt2Spec {
        n_layer,
        n_head,
        n_embd,
        n_inner: 4 * n_embd,
        n_positions,
        vocab_size,
        tie_word_embeddings: true,
        seed: 1024,
        dtype: Dtype::F32,
        shards: 1,
        transformer_prefix: false,
        mask_buffers: false,
        row_norm_sigma: 0.3,
        layer_norm_epsilon: 1e-5,
        eos_token_id: END_OF_TEXT_ID,
    };
    let plants = polish_plants(
        &tokenizer,
        Sites {
            value: (n_layer / 2, 17),
            key: (n_layer / 4, 101),
            copy: (n_layer - 1, 1),
            pair: (n_layer / 2, 2),
        },
    )?;
    SynthModel::new(spec, plants, tokenizer_json)
}

/// Where the four plants of a preset go: (layer, neuron) for the neurons,
/// (layer, head) for the heads.
struct Sites {
    value: (usize, usize),
    key: (usize, usize),
    copy: (usize, usize),
    pair: (usize, usize),
}

/// The same four plants in every preset: the forms of " dieta" for the value
/// neuron, " łódź" and the city for the key neuron, " dieta" for the copy
/// head, and " dieta" → " zdrowie" for the pair head.
fn polish_plants(tokenizer: &Tokenizer, sites: Sites) -> Result<Plants> {
    let token = |text: &str| PlantedToken::resolve(tokenizer, text);
    let tokens = |texts: &[&str]| texts.iter().map(|t| token(t)).collect::<Result<Vec<_>>>();
    let diet = token(DIET_WORDS[0])?;
    Ok(Plants {
        plants: vec![
            Plant::ValueNeuron {
                layer: sites.value.0,
                neuron: sites.value.1,
                tokens: tokens(&DIET_WORDS)?,
            },
            Plant::KeyNeuron {
                layer: sites.key.0,
                neuron: sites.key.1,
                tokens: tokens(&BOAT_WORDS)?,
            },
            Plant::CopyHead {
                layer: sites.copy.0,
                head: sites.copy.1,
                token: diet.clone(),
            },
            Plant::PairHead {
                layer: sites.pair.0,
                head: sites.pair.1,
                query: diet,
                key: token(HEALTH_WORD)?,
            },
        ],
    })
}

/// The `.txt` files of `dir`, in file-name order so that training sees the
/// same sequence on every machine.
pub(crate) fn read_corpus(dir: &Path) -> Result<Vec<String>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(Error::io(dir))?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "txt"));
    paths.sort();
    if paths.is_empty() {
        return Err(Error::EmptyCorpus(dir.to_owned()));
    }
    paths
        .iter()
        .map(|p| fs::read_to_string(p).map_err(Error::io(p)))
        .collect()
}
