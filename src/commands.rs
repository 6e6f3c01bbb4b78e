//! Each subcommand: resolve flags into library configuration, run, print.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use glossa_index::{Lookup, Search};
use glossa_load::HubOptions;
use glossa_pipeline::{extract, merge, verify, ExtractConfig, Observer, PipelineFile, WordForms};
use glossa_query::Catalog;
use glossa_tables::{write_atomically, Circuit, Polarity, Side, UnitKind};

use crate::args::{
    Args, Command, DataArgs, ExtractArgs, FormatArg, MergeArgs, QueryArgs, QueryFormatArg,
    SearchArgs, ShowUnit,
};
use crate::output::emit;
use crate::plots;
use crate::progress::{Bars, Lines, Quiet};
use crate::render;
use crate::resolve::{dataset_dir, matching, note_rebuild, open_dataset};
use crate::serve;

/// Where `--pipeline NAME` looks for `NAME.toml`.
const PIPELINES_DIR: &str = "pipelines";

pub fn run(args: Args) -> Result<()> {
    match args.command {
        Command::Extract(extract_args) => run_extract(*extract_args),
        Command::Merge(merge_args) => run_merge(merge_args),
        Command::Search(search_args) => run_search(search_args),
        Command::Show(show) => match show.unit {
            ShowUnit::Neuron {
                layer,
                neuron,
                data,
                bottom,
                limit,
                format,
            } => {
                let dataset = open_dataset(&data)?;
                let rows = dataset.neuron(layer, neuron)?;
                let limit = limit.unwrap_or(format.default_limit());
                let text = match format {
                    // The statistics and the connections, where there are
                    // any, under the lists; CSV and JSON hold the lists alone
                    // (`glossa query` reads the other tables).
                    FormatArg::Table => {
                        let mut text = render::neuron_table(layer, neuron, &rows, bottom, limit);
                        text.push_str(&render::neuron_statistics(
                            layer,
                            neuron,
                            &dataset.neuron_summary(layer, neuron)?,
                        ));
                        if let Some(connections) = dataset.connections(layer, neuron)? {
                            text.push_str(&render::connections_table(
                                layer,
                                neuron,
                                &connections,
                                bottom,
                                limit,
                            ));
                        }
                        text
                    }
                    FormatArg::Csv | FormatArg::Json => {
                        render::neuron_records(&rows, bottom, limit, format)?
                    }
                };
                Ok(emit(&text)?)
            }
            ShowUnit::Head {
                layer,
                head,
                data,
                bottom,
                limit,
                format,
            } => {
                let dataset = open_dataset(&data)?;
                let rows = dataset.head(layer, head)?;
                let limit = limit.unwrap_or(format.default_limit());
                let text = match format {
                    FormatArg::Table => {
                        let summary = dataset.head_summary(layer, head)?;
                        render::head_table(layer, head, &rows, &summary, bottom, limit)
                    }
                    FormatArg::Csv | FormatArg::Json => {
                        render::head_records(&rows, bottom, limit, format)?
                    }
                };
                Ok(emit(&text)?)
            }
        },
        Command::Query(query_args) => run_query(query_args),
        Command::Index(data) => {
            let dataset = open_dataset(&data)?;
            dataset.rebuild_index(None)?;
            eprintln!("rebuilt the index of {}", dataset.dir().display());
            Ok(())
        }
        Command::Info(data) => {
            let dataset = open_dataset(&data)?;
            Ok(emit(&render::info(dataset.dir(), dataset.manifest()))?)
        }
        Command::Verify(data) => run_verify(&data),
        Command::Plot(plot) => plots::run(plot),
        Command::Serve(serve_args) => serve::run(serve_args),
        Command::Mcp(mcp_args) => serve::mcp(mcp_args),
    }
}

/// Flags over the pipeline file over the defaults: configuration flows one way.
fn extract_config(args: &ExtractArgs) -> Result<ExtractConfig> {
    let mut config = match &args.pipeline {
        Some(name) => {
            let path = PipelineFile::find(name, Path::new(PIPELINES_DIR))?;
            PipelineFile::read(&path)?.extract
        }
        None => ExtractConfig::new(args.model.clone().unwrap_or_default()),
    };
    if let Some(model) = &args.model {
        config.model = model.clone();
    }
    if let Some(revision) = &args.revision {
        config.revision = revision.clone();
    }
    if let Some(out) = &args.out {
        config.out = Some(out.clone());
    }
    if let Some(k) = args.k {
        config.k = k;
    }
    if let Some(threads) = args.threads {
        config.threads = Some(threads);
    }
    if let Some(head_k) = args.head_k {
        config.head_k = head_k;
    }
    if let Some(connections) = args.connections {
        config.connections = Some(connections);
    }
    config.neurons &= !args.no_neurons;
    config.heads &= !args.no_heads;
    config.exclude_same |= args.exclude_same;
    config.exclude_fuzzy |= args.exclude_fuzzy;
    config.brute_force_heads |= args.brute_force_heads;
    if let Some(embedding) = args.embedding {
        config.embedding = embedding.into();
    }
    config.fold_norm |= args.fold_norm;
    if let Some(offset) = args.qk_offset {
        config.qk_offset = offset;
    }
    if !args.filters.is_empty() {
        config.filters = args.filters.clone();
    }
    if let Some(source) = &args.token_list {
        config.token_list = Some(source.clone());
    }
    if let Some(column) = &args.text_column {
        config.text_column = Some(column.clone());
    }
    if let Some(max) = args.max_tokens {
        config.max_tokens = Some(max);
    }
    if let Some(layers) = args.layers {
        config.layers = Some(layers);
    }
    if let Some(word_forms) = &args.word_forms {
        config.word_forms = WordForms::parse(word_forms);
    }
    if let Some(device) = args.device {
        config.device = device;
    }
    config.force = args.force;
    Ok(config)
}

fn run_extract(args: ExtractArgs) -> Result<()> {
    let config = extract_config(&args)?;
    start_threads(config.threads)?;
    let summary = with_observer(args.quiet, |observer| {
        Ok(extract(&config, &HubOptions::from_env(), observer)?)
    })?;
    eprint!(
        "{}",
        render::extract_summary(&summary.dir, &summary.manifest)
    );
    Ok(())
}

/// `glossa merge`: the shards' tables into one dataset.
fn run_merge(args: MergeArgs) -> Result<()> {
    start_threads(args.threads)?;
    let summary = with_observer(args.quiet, |observer| {
        Ok(merge(&args.shards, &args.out, args.threads, observer)?)
    })?;
    eprint!(
        "{}",
        render::extract_summary(&summary.dir, &summary.manifest)
    );
    Ok(())
}

/// The worker threads of a run, if told how many.
fn start_threads(threads: Option<usize>) -> Result<()> {
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("could not start the worker threads")?;
    }
    Ok(())
}

/// Runs `run` with the progress display of a run: bars on a terminal,
/// elsewhere (CI logs, a pipe) a line per stage, nothing with `quiet`.
fn with_observer<T>(quiet: bool, run: impl FnOnce(&dyn Observer) -> Result<T>) -> Result<T> {
    let (bars, lines) = (Bars::new(), Lines::new());
    let observer: &dyn Observer = match (quiet, std::io::stderr().is_terminal()) {
        (true, _) => &Quiet,
        (false, true) => &bars,
        (false, false) => &lines,
    };
    run(observer)
}

/// `glossa verify`: the checklist on standard output; problems make it fail.
fn run_verify(data: &DataArgs) -> Result<()> {
    let dir = dataset_dir(data)?;
    let verification = verify(&dir);
    emit(&verification.to_string())?;
    if verification.passed() {
        Ok(())
    } else {
        Err(VerifyFailed {
            dir,
            problems: verification.problems(),
        }
        .into())
    }
}

/// `glossa verify` found problems: exit code 3, not 1 (the check itself ran).
#[derive(Debug)]
pub struct VerifyFailed {
    dir: PathBuf,
    problems: usize,
}

impl std::fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed verification ({} problem{}, listed above)",
            self.dir.display(),
            self.problems,
            if self.problems == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for VerifyFailed {}

fn run_search(args: SearchArgs) -> Result<()> {
    check_redirected_arrow(&args.terms)?;
    let search = Search {
        layer: args.layer,
        side: args.side.map(Side::from),
        polarity: args.polarity.map(Polarity::from),
        kind: args.kind.map(UnitKind::from),
        circuit: args.circuit.map(Circuit::from),
        limit: args.limit,
        matching: matching(args.exact),
        sort: args.sort.into(),
        ..Search::parse_terms(&args.terms)?
    };
    let dataset = open_dataset(&args.data)?;
    let index = dataset.index(&note_rebuild)?;
    if args.by_layer {
        let counts = dataset.count_by_layer(&index, &search)?;
        let text = if args.json {
            render::by_layer_json(&counts)?
        } else {
            render::by_layer(&args.terms, &counts)
        };
        return Ok(emit(&text)?);
    }
    if args.json {
        // One ranking, as the index gives it: readers of JSON group as they need.
        let page = dataset.page(&index, &search)?;
        if page.total > page.hits.len() {
            eprintln!("{}", render::more_hits(page.hits.len(), page.total));
        }
        return Ok(emit(&render::json_lines(&page.hits)?)?);
    }
    // The table lists neurons and heads apart, each ranked on its own: a
    // head's z is measured over vocab² pairs and runs far higher than a
    // neuron's over the vocabulary, so one ranking would bury every neuron.
    let pages = kinds_asked(&search)
        .into_iter()
        .map(|kind| {
            let search = Search {
                kind: Some(kind),
                ..search.clone()
            };
            Ok((kind, dataset.page(&index, &search)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(emit(&render::hits(&args.terms, &pages))?)
}

/// `glossa query`: the answer in the format asked (or that --out's
/// extension implies), to standard output or, atomically, to --out.
fn run_query(args: QueryArgs) -> Result<()> {
    let format = match (args.format, &args.out) {
        (Some(format), _) => format,
        (None, Some(out)) => match out.extension().and_then(|e| e.to_str()) {
            Some("csv") => QueryFormatArg::Csv,
            Some("jsonl" | "json" | "ndjson") => QueryFormatArg::Json,
            Some("parquet") => QueryFormatArg::Parquet,
            _ => QueryFormatArg::Table,
        },
        (None, None) => QueryFormatArg::Table,
    };
    if format == QueryFormatArg::Parquet && args.out.is_none() {
        anyhow::bail!("Parquet is binary and goes to a file: name one with --out FILE.parquet");
    }
    let dataset = open_dataset(&args.data)?;
    let mut catalog = Catalog::open(dataset.layout(), dataset.manifest())?;
    let answer = catalog.query(&args.sql)?;
    let mut bytes = Vec::new();
    answer.write(format.into(), &mut bytes)?;
    match &args.out {
        Some(out) => {
            write_atomically(out, &bytes)?;
            eprintln!("wrote {} rows to {}", answer.rows(), out.display());
            Ok(())
        }
        None => Ok(emit(&String::from_utf8_lossy(&bytes))?),
    }
}

/// The kinds of unit a search can match: the one it names, or the one its
/// side (neurons), circuit or pair (heads) implies, or both.
fn kinds_asked(search: &Search) -> Vec<UnitKind> {
    match search.kind {
        Some(kind) => vec![kind],
        None if search.side.is_some() => vec![UnitKind::Neuron],
        None if search.circuit.is_some() || matches!(search.lookup, Lookup::Pair(..)) => {
            vec![UnitKind::Head]
        }
        None => vec![UnitKind::Neuron, UnitKind::Head],
    }
}

/// Refuses a query that ends in `-` while standard output is not a
/// terminal: what is left of `dieta -> zdrowie` typed without quotes, whose
/// `>` the shell took as a redirection into a file named `zdrowie`.
fn check_redirected_arrow(terms: &[String]) -> Result<()> {
    let dangling = match terms {
        [.., last] if last.len() > 1 => last.ends_with('-'),
        [_, .., last] => last == "-",
        _ => false,
    };
    if dangling && !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the query ends in `-` and standard output is not a terminal: the shell probably \
             read the `>` of `->` as a redirection (and created a file named after the word \
             that followed it). Quote the arrow (dieta '->' zdrowie) or write → instead; to \
             look for the token `-` itself, put it first"
        );
    }
    Ok(())
}
