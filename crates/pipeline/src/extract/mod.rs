//! One extraction, stage by stage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use glossa_corpus::{count_tokens, CorpusSource, TokenCounts};
use glossa_load::{HubOptions, Matrix, Model, ModelFiles, ModelSource};
use glossa_project::{project, Extremes, MatrixView, Pruning, Tiling, TokenFilter};
use glossa_tables::schema::{self, SCHEMA_VERSION};
use glossa_tables::{
    head_summary_batch, is_token_list, read_head_summary, read_token_list, sha256_file, sha256_hex,
    token_list_batch, tokens_batch, write_table, FileRecord, HeadSummaryRow, HeadTableBuilder,
    Manifest, NeuronTableBuilder, PairEntry, Polarity, RecordBatch, SchemaRef, Side, TableOptions,
    TokenRow,
};
use glossa_vocab::{allowed_tokens, CharClasses, CharFilter, Vocabulary};

use crate::config::ExtractConfig;
use crate::error::{PipelineError, Result};
use crate::heads::{layer_circuits, CircuitSettings};
use crate::index::{rebuild_index, INDEX_DIR};
use crate::lock::RunLock;
use crate::observer::Observer;
use crate::pairs_filter::PairFilter;
use crate::resume::{Journal, RUN_DIR};

/// What a finished extraction produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The dataset directory.
    pub dir: PathBuf,
    /// The manifest written last.
    pub manifest: Manifest,
}

/// The directory of the per-layer neuron tables.
pub(crate) const NEURON_TABLES: &str = "neurons";

/// The directory of the per-layer head tables.
pub(crate) const HEAD_TABLES: &str = "heads";

/// The directories holding one table per layer.
pub(crate) const LAYER_DIRS: [&str; 2] = [NEURON_TABLES, HEAD_TABLES];

/// Where each layer's neuron table goes, relative to the dataset directory.
pub(crate) fn neuron_table(layer: usize) -> String {
    format!("{NEURON_TABLES}/layer-{layer:03}.parquet")
}

/// Where each layer's head table goes, relative to the dataset directory.
pub(crate) fn head_table(layer: usize) -> String {
    format!("{HEAD_TABLES}/layer-{layer:03}.parquet")
}

/// The kind a table's rows count under in the manifest's `row_counts`: the
/// directory of a per-layer table ([`NEURON_TABLES`], [`HEAD_TABLES`]), else
/// the file's stem (`tokens`, `head_summary`).
pub(crate) fn table_kind(path: &str) -> &str {
    match path.split_once('/') {
        Some((dir, _)) if LAYER_DIRS.contains(&dir) => dir,
        _ => path.strip_suffix(".parquet").unwrap_or(path),
    }
}

/// The tokens table, relative to the dataset directory.
pub(crate) const TOKENS_TABLE: &str = "tokens.parquet";

/// The corpus token list, relative to the dataset directory.
pub(crate) const TOKEN_LIST_TABLE: &str = "token_list.parquet";

/// The per-head summary table, relative to the dataset directory.
pub(crate) const HEAD_SUMMARY_TABLE: &str = "head_summary.parquet";

/// One layer's part of the head summary, kept with the journal so that a
/// resumed run can write the whole summary without recomputing done layers.
fn head_summary_part(layer: usize) -> String {
    format!("{RUN_DIR}/head-summary-{layer:03}.parquet")
}

/// Whether an interrupted run finished the heads of `layer`: their table and
/// their part of the summary.
fn heads_done(done: &BTreeMap<String, FileRecord>, layer: usize) -> bool {
    done.contains_key(&head_table(layer)) && done.contains_key(&head_summary_part(layer))
}

/// Everything the stages share.
struct Run<'a> {
    config: &'a ExtractConfig,
    dir: PathBuf,
    model: Model,
    vocabulary: Vocabulary,
    /// Token ids that exist in the tokenizer: rows beyond are padding.
    tokens: usize,
    /// Tokens that pass the run's filters, or `None` when there are none.
    allowed: Option<Vec<bool>>,
    observer: &'a dyn Observer,
    tables: Vec<FileRecord>,
    row_counts: BTreeMap<String, u64>,
    timings: BTreeMap<String, f64>,
    /// The journal of this run, updated after every file.
    journal: Journal,
    /// Files an interrupted run of the same configuration already wrote.
    done: BTreeMap<String, FileRecord>,
}

/// Runs every stage for `config` and returns the finished dataset.
pub fn extract(
    config: &ExtractConfig,
    hub: &HubOptions,
    observer: &dyn Observer,
) -> Result<Summary> {
    if !config.neurons && !config.heads {
        return Err(PipelineError::NothingToExtract);
    }
    let filters = config
        .filters
        .iter()
        .flat_map(|f| f.split(','))
        .map(|f| {
            f.trim()
                .parse::<CharFilter>()
                .map_err(PipelineError::InvalidFilter)
        })
        .collect::<Result<Vec<_>>>()?;
    let source = ModelSource::parse(&config.model, &config.revision)?;
    let dir = config
        .out
        .clone()
        .unwrap_or_else(|| Path::new("data").join(source.slug()));
    let created = !dir.exists();
    std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
    let result = RunLock::acquire(&dir).and_then(|(lock, stale)| {
        if let Some(stale) = stale {
            observer.note(&format!(
                "taking over the lock of {}: the run that held it ({}) is gone",
                dir.display(),
                stale.describe()
            ));
        }
        let result = run_stages(config, hub, observer, &filters, &source, dir.clone());
        drop(lock);
        result
    });
    if result.is_err() && created {
        // A run that failed before writing anything leaves no empty directory
        // behind (one that wrote something leaves it to be resumed).
        let _ = std::fs::remove_dir(&dir);
    }
    result
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
    let vocabulary = Vocabulary::from_file(&files.tokenizer)?;
    let tokens = vocabulary.len();
    if tokens > model.shape.vocab {
        return Err(PipelineError::VocabularyMismatch {
            tokenizer: tokens,
            embedding: model.shape.vocab,
        });
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let corpus = match &config.token_list {
        Some(source) => Some(token_list(
            source,
            config,
            hub,
            &files.tokenizer,
            tokens,
            observer,
        )?),
        None => None,
    };
    let corpus_seconds = started.elapsed().as_secs_f64();
    let allowed = match (&corpus, filters.is_empty()) {
        (None, true) => None,
        (None, false) => Some(allowed_tokens(&vocabulary, filters)),
        (Some(list), _) => {
            let mut allowed = allowed_tokens(&vocabulary, filters);
            let seen = in_corpus(&vocabulary, list);
            allowed.iter_mut().zip(seen).for_each(|(a, s)| *a &= s);
            Some(allowed)
        }
    };
    let selectable = allowed
        .as_ref()
        .map_or(tokens, |a| a.iter().filter(|&&x| x).count());
    if config.neurons && (config.k == 0 || config.k > selectable) {
        return Err(PipelineError::InvalidK {
            k: config.k,
            tokens: selectable,
        });
    }
    let pairs = (selectable as u128) * (selectable as u128);
    if config.heads && (config.head_k == 0 || config.head_k as u128 > pairs) {
        return Err(PipelineError::InvalidHeadK {
            k: config.head_k,
            pairs,
        });
    }
    let started = Instant::now();
    let inputs = hash_inputs(&files)?;
    let hash_seconds = started.elapsed().as_secs_f64();

    // Everything the tables depend on: a rerun with an equal description may
    // keep what an interrupted run wrote.
    let description = run_description(config, &files, &inputs, allowed.as_deref(), &corpus);
    let (journal, resumed) = Journal::start(&dir, description, config.force, observer)?;
    if !resumed.done.is_empty() {
        observer.note(&resume_note(
            &dir,
            &resumed.done,
            config,
            model.shape.layers,
        ));
    }
    let mut timings = resumed.timings;
    timings.insert("load".to_string(), load_seconds);
    timings.insert("hash_inputs".to_string(), hash_seconds);
    let mut run = Run {
        config,
        dir,
        model,
        vocabulary,
        tokens,
        allowed,
        observer,
        tables: Vec::new(),
        row_counts: BTreeMap::new(),
        timings,
        journal,
        done: resumed.done,
    };
    if corpus.is_some() {
        run.timings.insert("token_list".to_string(), corpus_seconds);
    }

    run.write_tokens()?;
    if let Some(list) = corpus.as_ref().filter(|_| !run.reuse(TOKEN_LIST_TABLE)) {
        run.write(
            TOKEN_LIST_TABLE,
            schema::token_list(),
            token_list_batch(list),
        )?;
    }
    if config.neurons {
        run.neuron_stage()?;
    }
    if config.heads {
        run.head_stage()?;
    }

    let started = Instant::now();
    observer.stage("index", 0);
    rebuild_index(&run.dir, &run.tables, config.threads)?;
    observer.finish_stage();
    run.time("index", started);

    let shape = run.model.shape;
    let manifest = Manifest {
        glossa_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: SCHEMA_VERSION,
        model: config.model.clone(),
        model_dir: match &source {
            ModelSource::Local { dir } => dir.canonicalize().ok(),
            ModelSource::Hub { .. } => None,
        },
        revision: matches!(source, ModelSource::Hub { .. }).then(|| config.revision.clone()),
        commit: files.commit.clone(),
        architecture: serde_json::to_value(run.model.architecture)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        inputs,
        model_config: run.model.config.clone(),
        shape: serde_json::to_value(shape).unwrap_or_default(),
        options: serde_json::json!({
            "k": config.k,
            "neurons": config.neurons,
            "heads": config.heads,
            "head_k": config.head_k,
            "exclude_same": config.exclude_same,
            "exclude_fuzzy": config.exclude_fuzzy,
            "filters": filters.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            "token_list": config.token_list,
            "text_column": config.text_column,
            "max_tokens": config.max_tokens,
            "head_pruning": if config.brute_force_heads { "none" } else { "bounds" },
            "threads": rayon::current_num_threads(),
            "weights_format": files.weights_format,
            "index_dir": INDEX_DIR,
        }),
        vocabulary: serde_json::json!({
            "tokenizer_tokens": tokens,
            "embedding_rows": shape.vocab,
            "padding_rows_excluded": shape.vocab - tokens,
            "selectable_tokens": selectable,
        }),
        tables: run.tables,
        row_counts: run.row_counts,
        timings: run.timings,
    };
    manifest.write(&run.dir)?;
    run.journal.finish()?;
    Ok(Summary {
        dir: run.dir,
        manifest,
    })
}

impl Run<'_> {
    fn time(&mut self, stage: &str, started: Instant) {
        *self.timings.entry(stage.to_string()).or_default() += started.elapsed().as_secs_f64();
    }

    /// Writes a table of the dataset and records it in the journal.
    fn write(&mut self, relative: &str, schema: SchemaRef, batch: RecordBatch) -> Result<()> {
        let record = self.write_file(relative, schema, batch)?;
        self.list(record);
        Ok(())
    }

    /// Writes a file and records it in the journal, without listing it in
    /// the manifest.
    fn write_file(
        &mut self,
        relative: &str,
        schema: SchemaRef,
        batch: RecordBatch,
    ) -> Result<FileRecord> {
        let record = write_table(
            &self.dir,
            relative,
            schema,
            [batch],
            TableOptions::default(),
        )?;
        self.journal.record(&record, &self.timings)?;
        Ok(record)
    }

    /// Lists a table in the manifest.
    fn list(&mut self, record: FileRecord) {
        *self
            .row_counts
            .entry(table_kind(&record.path).to_string())
            .or_default() += record.rows;
        self.tables.push(record);
    }

    /// Lists `relative` as written if an interrupted run of the same
    /// configuration wrote it; `false` if it must be computed.
    fn reuse(&mut self, relative: &str) -> bool {
        match self.done.get(relative) {
            Some(record) => {
                let record = record.clone();
                self.list(record);
                true
            }
            None => false,
        }
    }

    /// Whether token `id` passes the run's filters.
    fn allows(&self, id: u32) -> bool {
        self.allowed.as_ref().is_none_or(|a| a[id as usize])
    }

    /// The run's filters as the projection takes them.
    fn token_filter(&self) -> TokenFilter<'_> {
        self.allowed
            .as_deref()
            .map_or(TokenFilter::all(), TokenFilter::only)
    }

    fn write_tokens(&mut self) -> Result<()> {
        if self.reuse(TOKENS_TABLE) {
            return Ok(());
        }
        let started = Instant::now();
        let rows: Vec<TokenRow> = self
            .vocabulary
            .tokens()
            .iter()
            .map(|t| {
                let classes = CharClasses::of(t);
                TokenRow {
                    token_id: t.id,
                    piece: t.piece.clone(),
                    text: t.text.clone(),
                    display: t.display.clone(),
                    special: t.special,
                    word_initial: t.word_initial,
                    fragment: t.fragment,
                    normalized: glossa_index::normalize(&t.text),
                    chars: t.chars as u32,
                    is_ascii: classes.ascii,
                    is_alnum: classes.alnum,
                    has_brackets: classes.brackets,
                    is_alpha: classes.alpha,
                    is_word: classes.word,
                    allowed: self.allows(t.id),
                }
            })
            .collect();
        self.write(TOKENS_TABLE, schema::tokens(), tokens_batch(&rows))?;
        self.time("write", started);
        Ok(())
    }

    /// Every neuron's key and value lists, one table per layer.
    fn neuron_stage(&mut self) -> Result<()> {
        let shape = self.model.shape;
        let observer = self.observer;
        observer.stage("neurons", (shape.layers * shape.d_ff * 2) as u64);
        let advance = |n: usize| observer.advance(n as u64);
        for l in 0..shape.layers {
            if self.reuse(&neuron_table(l)) {
                advance(2 * shape.d_ff);
                continue;
            }
            let started = Instant::now();
            let embedding = view(&self.model.unembedding);
            let layer = &self.model.layers[l];
            let [keys, values] = [&layer.ff_keys, &layer.ff_values].map(|vectors| {
                project(
                    view(vectors),
                    embedding,
                    self.tokens,
                    self.config.k,
                    self.token_filter(),
                    Tiling::default(),
                    &advance,
                )
            });
            let (keys, values) = (keys?, values?);
            self.time("compute_neurons", started);

            let started = Instant::now();
            let mut builder = NeuronTableBuilder::new();
            for (neuron, (key, value)) in keys.iter().zip(&values).enumerate() {
                for (side, extremes) in [(Side::Key, key), (Side::Value, value)] {
                    push_neuron_lists(
                        &mut builder,
                        l as u32,
                        neuron as u32,
                        side,
                        extremes,
                        &self.vocabulary,
                    );
                }
            }
            self.write(&neuron_table(l), schema::neurons(), builder.finish())?;
            self.time("write", started);
        }
        observer.finish_stage();
        Ok(())
    }

    /// Every head's VO and QK pair lists, one table per layer, and the summary.
    fn head_stage(&mut self) -> Result<()> {
        let shape = self.model.shape;
        let observer = self.observer;
        observer.stage("heads", (shape.layers * shape.heads * 2) as u64);
        let advance = |n: usize| observer.advance(n as u64);
        let filter = PairFilter::new(
            &self.vocabulary,
            self.config.exclude_same,
            self.config.exclude_fuzzy,
        );
        let pruning = if self.config.brute_force_heads {
            Pruning::None
        } else {
            Pruning::Bounds
        };
        let mut summaries = Vec::new();
        for l in 0..shape.layers {
            if heads_done(&self.done, l) {
                summaries.extend(read_head_summary(&self.dir.join(head_summary_part(l)))?);
                self.reuse(&head_table(l));
                advance(2 * shape.heads);
                continue;
            }
            let started = Instant::now();
            let settings = CircuitSettings {
                tokens: self.tokens,
                k: self.config.head_k,
                tokens_allowed: self.token_filter(),
                pairs: &filter,
                pruning,
            };
            let results = layer_circuits(&self.model, l, &settings, &advance)?;
            self.time("compute_heads", started);

            let started = Instant::now();
            let mut builder = HeadTableBuilder::default();
            let display = |id: u32| self.vocabulary.get(id).map_or("", |t| t.display.as_str());
            for result in &results {
                for (polarity, list) in [
                    (Polarity::Top, &result.extremes.top),
                    (Polarity::Bottom, &result.extremes.bottom),
                ] {
                    builder.push_list(
                        l as u32,
                        result.head as u32,
                        result.circuit,
                        polarity,
                        list.iter().map(|p| PairEntry {
                            src_token_id: p.src,
                            dst_token_id: p.dst,
                            src_token: display(p.src),
                            dst_token: display(p.dst),
                            score: p.score,
                        }),
                    );
                }
            }
            let batch = builder.finish();
            self.write(&head_table(l), schema::heads(), batch)?;
            let layer_summaries: Vec<HeadSummaryRow> =
                results.into_iter().map(|r| r.summary).collect();
            self.write_file(
                &head_summary_part(l),
                schema::head_summary(),
                head_summary_batch(&layer_summaries),
            )?;
            summaries.extend(layer_summaries);
            self.time("write", started);
        }
        observer.finish_stage();
        let started = Instant::now();
        self.write(
            HEAD_SUMMARY_TABLE,
            schema::head_summary(),
            head_summary_batch(&summaries),
        )?;
        self.time("write", started);
        Ok(())
    }
}

/// The tokens the corpus at `source` holds, most frequent first, at most
/// `config.max_tokens` of them: read from a saved list, or counted.
fn token_list(
    source: &str,
    config: &ExtractConfig,
    hub: &HubOptions,
    tokenizer: &Path,
    tokens: usize,
    observer: &dyn Observer,
) -> Result<Vec<(u32, u64)>> {
    let counts = if is_token_list(Path::new(source)) {
        TokenCounts::from_pairs(tokens, read_token_list(Path::new(source))?)
    } else {
        let files = {
            let mut downloads = observer.downloads();
            CorpusSource::parse(source).files(hub, downloads.as_mut())?
        };
        observer.stage("corpus", 0);
        let advance = |n: usize| observer.advance(n as u64);
        let counts = count_tokens(&files, tokenizer, &config.text_column, &advance)?;
        observer.finish_stage();
        counts
    };
    Ok(counts.seen(config.max_tokens))
}

/// `seen[t]`: token t matches a corpus token once case and the word-initial
/// marker are ignored (as the paper's `only_from_list`).
fn in_corpus(vocabulary: &Vocabulary, list: &[(u32, u64)]) -> Vec<bool> {
    let forms: std::collections::HashSet<String> = list
        .iter()
        .filter_map(|&(id, _)| vocabulary.get(id))
        .map(|t| glossa_index::normalize(&t.text))
        .collect();
    vocabulary
        .tokens()
        .iter()
        .map(|t| forms.contains(&glossa_index::normalize(&t.text)))
        .collect()
}

/// Appends the top and bottom lists of one neuron side.
fn push_neuron_lists(
    builder: &mut NeuronTableBuilder,
    layer: u32,
    neuron: u32,
    side: Side,
    extremes: &Extremes,
    vocabulary: &Vocabulary,
) {
    for (polarity, list) in [
        (Polarity::Top, &extremes.top),
        (Polarity::Bottom, &extremes.bottom),
    ] {
        builder.push_list(
            layer,
            neuron,
            side,
            polarity,
            list.iter().map(|s| {
                let display = vocabulary.get(s.token).map_or("", |t| t.display.as_str());
                (s.token, display, s.score)
            }),
        );
    }
}

/// A loaded matrix as the projection's borrowed view.
pub fn view(matrix: &Matrix) -> MatrixView<'_> {
    MatrixView {
        data: matrix.data(),
        rows: matrix.rows(),
        cols: matrix.cols(),
        row_stride: matrix.row_stride(),
        col_stride: matrix.col_stride(),
    }
}

/// sha256 of every input file, keyed by file name.
fn hash_inputs(files: &ModelFiles) -> Result<BTreeMap<String, String>> {
    files
        .all()
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, sha256_file(path)?.0))
        })
        .collect()
}

/// What the tables of a run depend on, as JSON: two runs with equal
/// descriptions write byte-identical tables. The output directory and the
/// thread count are not part of it (the tables do not depend on them).
fn run_description(
    config: &ExtractConfig,
    files: &ModelFiles,
    inputs: &BTreeMap<String, String>,
    allowed: Option<&[bool]>,
    corpus: &Option<Vec<(u32, u64)>>,
) -> serde_json::Value {
    let mut options = serde_json::to_value(config).unwrap_or_default();
    if let Some(options) = options.as_object_mut() {
        options.remove("out");
        options.remove("threads");
    }
    let allowed = allowed.map(|a| sha256_hex(&a.iter().map(|&x| x as u8).collect::<Vec<_>>()));
    let corpus = corpus.as_ref().map(|list| {
        let bytes: Vec<u8> = list
            .iter()
            .flat_map(|&(id, count)| id.to_le_bytes().into_iter().chain(count.to_le_bytes()))
            .collect();
        sha256_hex(&bytes)
    });
    serde_json::json!({
        "glossa_version": env!("CARGO_PKG_VERSION"),
        "schema_version": SCHEMA_VERSION,
        "commit": files.commit,
        "inputs": inputs,
        "options": options,
        "allowed_tokens_sha256": allowed,
        "token_list_sha256": corpus,
    })
}

/// `resuming the interrupted run in DIR: 2 of 4 neuron layers, 0 of 4 head layers already done`.
fn resume_note(
    dir: &Path,
    done: &BTreeMap<String, FileRecord>,
    config: &ExtractConfig,
    layers: usize,
) -> String {
    let count = |table: fn(usize) -> String| {
        (0..layers)
            .filter(|&l| done.contains_key(&table(l)))
            .count()
    };
    let mut parts = Vec::new();
    if config.neurons {
        parts.push(format!("{} of {layers} neuron layers", count(neuron_table)));
    }
    if config.heads {
        let heads = (0..layers).filter(|&l| heads_done(done, l)).count();
        parts.push(format!("{heads} of {layers} head layers"));
    }
    format!(
        "resuming the interrupted run in {}: {} already done",
        dir.display(),
        parts.join(", ")
    )
}
