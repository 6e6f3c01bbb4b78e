//! One extraction, from a configuration to a finished dataset.
//!
//! [`extract`] checks the configuration, locks the output directory, loads
//! the model and vocabulary, then runs the stages (stages), keeping its books
//! and journal as it goes (ledger), builds the index, and writes the manifest
//! last (record).

mod ledger;
mod record;
mod stages;

use std::path::{Path, PathBuf};
use std::time::Instant;

use glossa_load::{HubOptions, Model, ModelSource};
use glossa_tables::{Layout, Manifest};
use glossa_vocab::{allowed_tokens, CharFilter, Vocabulary};
use rayon::prelude::*;

use crate::config::{ExtractConfig, WordForms};
use crate::error::{PipelineError, Result};
use crate::index::rebuild_index;
use crate::observer::Observer;
use crate::output_dir::write_locked;
use crate::resume::{Journal, RunKind};
use ledger::Ledger;
use record::{hash_inputs, resume_note, run_description, Record};
use stages::{in_corpus, token_list, Stages};

pub(crate) use record::shape_record;

/// What a finished extraction produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The dataset directory.
    pub dir: PathBuf,
    /// The manifest written last.
    pub manifest: Manifest,
}

/// Runs every stage for `config` and returns the finished dataset.
pub fn extract(
    config: &ExtractConfig,
    hub: &HubOptions,
    observer: &dyn Observer,
) -> Result<Summary> {
    let filters = config.check()?;
    let source = ModelSource::parse(&config.model, &config.revision)?;
    let dir = config
        .out
        .clone()
        .unwrap_or_else(|| Path::new("data").join(source.slug()));
    write_locked(&dir, config.force, observer, |_| {
        run_stages(config, hub, observer, &filters, &source, dir.clone())
    })
}

/// Every stage, in `dir`, which the caller has locked.
fn run_stages(
    config: &ExtractConfig,
    hub: &HubOptions,
    observer: &dyn Observer,
    filters: &[CharFilter],
    source: &ModelSource,
    dir: PathBuf,
) -> Result<Summary> {
    let started = Instant::now();
    let files = {
        let mut downloads = observer.downloads();
        source.resolve(hub, downloads.as_mut())?
    };
    let model = Model::load(&files)?;
    // A range naming every layer is no shard: the run and its tables are
    // those of a run without one.
    let config = &ExtractConfig {
        layers: config.shard(model.shape.layers)?,
        ..config.clone()
    };
    let layers = config
        .layers
        .map_or(0..model.shape.layers, |shard| shard.layers());
    // Half-precision and quantised weights are decoded as the stages read
    // them; the NaNs and infinities of those this run reads are looked for
    // now, before anything is written (f32 weights were checked as they
    // were loaded).
    model
        .tensors_read(layers.clone())
        .par_iter()
        .try_for_each(|matrix| matrix.check_encoded_finite())?;
    let tokenizer = files.load_tokenizer()?;
    let tokenizer_source = files.tokenizer.as_ref().unwrap_or(&files.weights[0]);
    let vocabulary = Vocabulary::read(&tokenizer, tokenizer_source)?;
    let tokens = vocabulary.len();
    if tokens > model.shape.vocab {
        return Err(PipelineError::VocabularyMismatch {
            tokenizer: tokens,
            embedding: model.shape.vocab,
        });
    }
    if let Some(k) = config.connections.filter(|&k| k > model.shape.d_ff) {
        return Err(PipelineError::InvalidConnectionsK {
            k,
            d_ff: model.shape.d_ff,
        });
    }
    if config.qk_offset != 0 && model.layers.iter().all(|l| l.rotary.is_none()) {
        return Err(PipelineError::NoRotary {
            architecture: model.architecture.as_str(),
        });
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let corpus = match &config.token_list {
        Some(source) => Some(token_list(
            source, config, hub, &tokenizer, tokens, observer,
        )?),
        None => None,
    };
    // The tokenizer (a large vocabulary's merges and maps) is done with.
    drop(tokenizer);
    let corpus_seconds = started.elapsed().as_secs_f64();
    let allowed = allowed(&vocabulary, filters, corpus.as_deref());
    let selectable = allowed
        .as_ref()
        .map_or(tokens, |a| a.iter().filter(|&&x| x).count());
    check_selectable(config, filters, corpus.as_deref(), selectable)?;
    let started = Instant::now();
    let inputs = hash_inputs(&files)?;
    let hash_seconds = started.elapsed().as_secs_f64();

    // Everything the tables depend on: a rerun with an equal description may
    // keep what an interrupted run wrote.
    let layout = Layout::new(&dir);
    let description = run_description(
        config,
        &files,
        &inputs,
        allowed.as_deref(),
        corpus.as_deref(),
    );
    let (journal, resumed) = Journal::start(
        &layout,
        RunKind::Extraction,
        description,
        config.force,
        observer,
    )?;
    if !resumed.done.is_empty() {
        observer.note(&resume_note(&dir, &resumed.done, config, layers.clone()));
    }
    let mut ledger = Ledger::new(layout.clone(), journal, resumed.done, resumed.timings);
    ledger.add_seconds("load", load_seconds);
    ledger.add_seconds("hash_inputs", hash_seconds);
    if corpus.is_some() {
        ledger.add_seconds("token_list", corpus_seconds);
    }
    let mut stages = Stages {
        config,
        model: &model,
        vocabulary: &vocabulary,
        tokens,
        allowed: allowed.as_deref(),
        observer,
        reading: config.reading(),
        layers,
        ledger,
    };
    stages.write_tokens()?;
    if let Some(list) = &corpus {
        stages.write_token_list(list)?;
    }
    if config.neurons {
        stages.neurons()?;
    }
    if let Some(k) = config.connections {
        stages.connections(k)?;
    }
    if config.heads {
        stages.heads()?;
    }
    let mut ledger = stages.ledger;

    let started = Instant::now();
    let word_forms = config.word_forms.resolve();
    if config.word_forms == WordForms::Auto && word_forms.is_none() {
        observer.note(&format!(
            "no word forms: no Hunspell dictionary at {} (.aff, .dic; on Debian `apt-get install hunspell-pl`), so a search for one form does not find the others",
            glossa_forms::DEBIAN_POLISH
        ));
    }
    observer.stage("index", 0);
    rebuild_index(
        &layout,
        ledger.tables(),
        config.threads,
        word_forms.as_deref(),
    )?;
    observer.finish_stage();
    ledger.time("index", started);

    let mut books = ledger.close();
    let mut manifest = Record {
        config,
        source,
        files: &files,
        architecture: model.architecture.as_str().to_string(),
        word_forms,
        weights_encoding: &model.weights_encoding,
        shape: &model.shape,
        inputs,
        filters,
        tokens,
        selectable,
    }
    .manifest(&mut books);
    manifest.write_with_card(&layout)?;
    books.journal.finish()?;
    Ok(Summary { dir, manifest })
}

/// Which tokens may enter a list: those passing every filter and, with a
/// corpus, found in it; `None` when nothing restricts them.
fn allowed(
    vocabulary: &Vocabulary,
    filters: &[CharFilter],
    corpus: Option<&[(u32, u64)]>,
) -> Option<Vec<bool>> {
    match (corpus, filters.is_empty()) {
        (None, true) => None,
        (None, false) => Some(allowed_tokens(vocabulary, filters)),
        (Some(list), _) => {
            let mut allowed = allowed_tokens(vocabulary, filters);
            let seen = in_corpus(vocabulary, list);
            allowed.iter_mut().zip(seen).for_each(|(a, s)| *a &= s);
            Some(allowed)
        }
    }
}

/// Refuses lists that the selectable tokens cannot fill, saying which
/// restriction left too few.
fn check_selectable(
    config: &ExtractConfig,
    filters: &[CharFilter],
    corpus: Option<&[(u32, u64)]>,
    selectable: usize,
) -> Result<()> {
    if selectable == 0 {
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        let why = match corpus {
            Some([]) => {
                "the token list is empty (the corpus holds no text, or none of its tokens was kept)"
                    .to_string()
            }
            Some(list) if filters.is_empty() => format!(
                "none of the {} corpus tokens is in the vocabulary",
                list.len()
            ),
            Some(list) => format!(
                "no token of the {} in the corpus passes the filters {}",
                list.len(),
                filters.join(",")
            ),
            None => format!("no token passes the filters {}", filters.join(",")),
        };
        return Err(PipelineError::NoSelectableTokens { why });
    }
    if config.neurons && config.k > selectable {
        return Err(PipelineError::InvalidK {
            k: config.k,
            tokens: selectable,
        });
    }
    let pairs = (selectable as u128) * (selectable as u128);
    if config.heads && config.head_k as u128 > pairs {
        return Err(PipelineError::InvalidHeadK {
            k: config.head_k,
            pairs,
        });
    }
    Ok(())
}
