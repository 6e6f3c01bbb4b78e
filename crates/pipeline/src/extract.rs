//! One extraction, stage by stage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use glossa_load::{HubOptions, Matrix, Model, ModelFiles, ModelSource};
use glossa_project::{project, Extremes, MatrixView, Tiling, TokenFilter};
use glossa_tables::schema::{self, SCHEMA_VERSION};
use glossa_tables::{
    sha256_file, tokens_batch, write_table, Manifest, NeuronTableBuilder, Polarity, Side,
    TableOptions, TokenRow, MANIFEST_FILE,
};
use glossa_vocab::Vocabulary;

use crate::config::ExtractConfig;
use crate::error::{PipelineError, Result};
use crate::index::{rebuild_index, INDEX_DIR};
use crate::observer::Observer;

/// What a finished extraction produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The dataset directory.
    pub dir: PathBuf,
    /// The manifest written last.
    pub manifest: Manifest,
}

/// Where each layer's neuron table goes, relative to the dataset directory.
pub(crate) fn neuron_table(layer: usize) -> String {
    format!("neurons/layer-{layer:03}.parquet")
}

/// The tokens table, relative to the dataset directory.
pub(crate) const TOKENS_TABLE: &str = "tokens.parquet";

/// Runs every stage for `config` and returns the finished dataset.
pub fn extract(
    config: &ExtractConfig,
    hub: &HubOptions,
    observer: &dyn Observer,
) -> Result<Summary> {
    let mut timings = BTreeMap::new();
    let source = ModelSource::parse(&config.model, &config.revision)?;
    let dir = config
        .out
        .clone()
        .unwrap_or_else(|| Path::new("data").join(source.slug()));

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
    if config.k == 0 || config.k > tokens {
        return Err(PipelineError::InvalidK {
            k: config.k,
            tokens,
        });
    }
    timings.insert("load".to_string(), started.elapsed().as_secs_f64());

    // A rerun must never leave an old manifest describing new, partial tables.
    std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
    remove_if_present(&dir.join(MANIFEST_FILE))?;

    let started = Instant::now();
    let token_rows: Vec<TokenRow> = vocabulary
        .tokens()
        .iter()
        .map(|t| TokenRow {
            token_id: t.id,
            piece: t.piece.clone(),
            text: t.text.clone(),
            display: t.display.clone(),
            special: t.special,
            word_initial: t.word_initial,
        })
        .collect();
    let options = TableOptions::default();
    let mut tables = vec![write_table(
        &dir,
        TOKENS_TABLE,
        schema::tokens(),
        [tokens_batch(&token_rows)],
        options,
    )?];
    let mut write_seconds = started.elapsed().as_secs_f64();

    let mut compute_seconds = 0.0;
    let shape = model.shape;
    observer.stage("neurons", (shape.layers * shape.d_ff * 2) as u64);
    let embedding = view(&model.unembedding);
    let advance = |n: usize| observer.advance(n as u64);
    for (l, layer) in model.layers.iter().enumerate() {
        let started = Instant::now();
        let mut builder = NeuronTableBuilder::new();
        let keys = project(
            view(&layer.ff_keys),
            embedding,
            tokens,
            config.k,
            TokenFilter::all(),
            Tiling::default(),
            &advance,
        )?;
        let values = project(
            view(&layer.ff_values),
            embedding,
            tokens,
            config.k,
            TokenFilter::all(),
            Tiling::default(),
            &advance,
        )?;
        compute_seconds += started.elapsed().as_secs_f64();

        let started = Instant::now();
        for (neuron, (key, value)) in keys.iter().zip(&values).enumerate() {
            for (side, extremes) in [(Side::Key, key), (Side::Value, value)] {
                push_lists(
                    &mut builder,
                    l as u32,
                    neuron as u32,
                    side,
                    extremes,
                    &vocabulary,
                );
            }
        }
        tables.push(write_table(
            &dir,
            &neuron_table(l),
            schema::neurons(),
            [builder.finish()],
            options,
        )?);
        write_seconds += started.elapsed().as_secs_f64();
    }
    observer.finish_stage();
    timings.insert("compute".to_string(), compute_seconds);
    timings.insert("write".to_string(), write_seconds);

    let started = Instant::now();
    observer.stage("index", 0);
    rebuild_index(&dir, &tables, config.threads)?;
    observer.finish_stage();
    timings.insert("index".to_string(), started.elapsed().as_secs_f64());

    let started = Instant::now();
    let inputs = hash_inputs(&files)?;
    timings.insert("hash_inputs".to_string(), started.elapsed().as_secs_f64());

    let neuron_rows: u64 = tables.iter().skip(1).map(|t| t.rows).sum();
    let manifest = Manifest {
        glossa_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: SCHEMA_VERSION,
        model: config.model.clone(),
        revision: matches!(source, ModelSource::Hub { .. }).then(|| config.revision.clone()),
        commit: files.commit.clone(),
        architecture: serde_json::to_value(model.architecture)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        inputs,
        model_config: model.config.clone(),
        shape: serde_json::to_value(shape).unwrap_or_default(),
        options: serde_json::json!({
            "k": config.k,
            "threads": rayon::current_num_threads(),
            "weights_format": files.weights_format,
            "index_dir": INDEX_DIR,
        }),
        vocabulary: serde_json::json!({
            "tokenizer_tokens": tokens,
            "embedding_rows": shape.vocab,
            "padding_rows_excluded": shape.vocab - tokens,
        }),
        row_counts: BTreeMap::from([
            ("tokens".to_string(), tables[0].rows),
            ("neurons".to_string(), neuron_rows),
        ]),
        tables,
        timings,
    };
    manifest.write(&dir)?;
    Ok(Summary { dir, manifest })
}

/// Appends the top and bottom lists of one neuron side.
fn push_lists(
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
                let display = vocabulary
                    .get(s.token)
                    .map(|t| t.display.as_str())
                    .unwrap_or("");
                (s.token, display, s.score)
            }),
        );
    }
}

/// A loaded matrix as the projection's borrowed view.
fn view(matrix: &Matrix) -> MatrixView<'_> {
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

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PipelineError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}
