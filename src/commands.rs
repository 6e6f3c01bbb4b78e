//! Each subcommand: resolve flags into library configuration, run, print.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use glossa_index::{Matching, Search};
use glossa_load::HubOptions;
use glossa_pipeline::{
    extract, find_dataset, verify, Dataset, ExtractConfig, Observer, PipelineFile,
};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};

use crate::args::{
    Args, CircuitArg, Command, DataArgs, ExtractArgs, FormatArg, KindArg, PolarityArg, SearchArgs,
    ShowUnit, SideArg,
};
use crate::plots;
use crate::progress::{Bars, Quiet};
use crate::render;

/// Where datasets live unless `--data` says otherwise.
const DATA_ROOT: &str = "data";

pub fn run(args: Args) -> Result<()> {
    match args.command {
        Command::Extract(extract_args) => run_extract(extract_args),
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
                match format {
                    FormatArg::Table => print!(
                        "{}",
                        render::neuron_table(layer, neuron, &rows, bottom, limit)
                    ),
                    FormatArg::Csv | FormatArg::Json => {
                        print!("{}", render::neuron_records(&rows, bottom, limit, format)?)
                    }
                }
                Ok(())
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
                if format != FormatArg::Table {
                    print!("{}", render::head_records(&rows, bottom, limit, format)?);
                    return Ok(());
                }
                let summary = dataset.head_summary(layer, head)?;
                print!(
                    "{}",
                    render::head_table(layer, head, &rows, &summary, bottom, limit)
                );
                Ok(())
            }
        },
        Command::Index(data) => {
            let dataset = open_dataset(&data)?;
            dataset.rebuild_index(None)?;
            eprintln!("rebuilt the index of {}", dataset.dir().display());
            Ok(())
        }
        Command::Info(data) => {
            let dataset = open_dataset(&data)?;
            print!("{}", render::info(dataset.dir(), dataset.manifest()));
            Ok(())
        }
        Command::Verify(data) => run_verify(&data),
        Command::Plot(plot) => plots::run(plot),
    }
}

/// Flags over the pipeline file over the defaults: configuration flows one way.
fn extract_config(args: &ExtractArgs) -> Result<ExtractConfig> {
    let mut config = match &args.pipeline {
        Some(path) => PipelineFile::read(path)?.extract,
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
    config.neurons &= !args.no_neurons;
    config.heads &= !args.no_heads;
    config.exclude_same |= args.exclude_same;
    config.exclude_fuzzy |= args.exclude_fuzzy;
    config.brute_force_heads |= args.brute_force_heads;
    config.filters.extend(args.filters.iter().cloned());
    if let Some(source) = &args.token_list {
        config.token_list = Some(source.clone());
    }
    if let Some(column) = &args.text_column {
        config.text_column = column.clone();
    }
    if let Some(max) = args.max_tokens {
        config.max_tokens = Some(max);
    }
    config.force = args.force;
    Ok(config)
}

fn run_extract(args: ExtractArgs) -> Result<()> {
    let config = extract_config(&args)?;
    if let Some(threads) = config.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("could not start the worker threads")?;
    }
    let bars = Bars::new();
    let observer: &dyn Observer = if args.quiet { &Quiet } else { &bars };
    let summary = extract(&config, &HubOptions::from_env(), observer)?;
    if !args.quiet {
        eprint!(
            "{}",
            render::extract_summary(&summary.dir, &summary.manifest)
        );
    }
    Ok(())
}

/// `glossa verify`: the checklist on standard output; problems make it fail.
fn run_verify(data: &DataArgs) -> Result<()> {
    let dir: PathBuf = match &data.data {
        Some(dir) => dir.clone(),
        None => find_dataset(Path::new(DATA_ROOT))?,
    };
    let verification = verify(&dir);
    print!("{verification}");
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
    let dataset = open_dataset(&args.data)?;
    // The index is derived from the tables: a missing, unreadable or stale
    // one is rebuilt rather than trusted or refused.
    if let Some(problem) = dataset.index_problem() {
        eprintln!("note: {problem}; rebuilding it from the tables");
        dataset.rebuild_index(None)?;
    }
    let search = Search {
        layer: args.layer,
        side: args.side.map(Side::from),
        polarity: args.polarity.map(Polarity::from),
        kind: args.kind.map(UnitKind::from),
        circuit: args.circuit.map(Circuit::from),
        limit: args.limit,
        matching: matching(args.exact),
        ..Search::parse_terms(&args.terms)?
    };
    if args.by_layer {
        let counts = dataset.count_by_layer(&search)?;
        if args.json {
            for (layer, kind, units) in &counts {
                println!(
                    "{}",
                    serde_json::json!({ "layer": layer, "kind": kind.as_str(), "units": units })
                );
            }
        } else {
            print!("{}", render::by_layer(&args.terms, &counts));
        }
        return Ok(());
    }
    let hits = dataset.search(&search)?;
    if args.json {
        for hit in &hits {
            println!("{}", serde_json::to_string(hit)?);
        }
    } else {
        print!("{}", render::hits(&args.terms, &hits));
    }
    Ok(())
}

/// Token matching of `search` and `plot overview`: `--exact` keeps diacritics apart.
pub(crate) fn matching(exact: bool) -> Matching {
    if exact {
        Matching::Exact
    } else {
        Matching::Folded
    }
}

impl From<SideArg> for Side {
    fn from(side: SideArg) -> Side {
        match side {
            SideArg::Key => Side::Key,
            SideArg::Value => Side::Value,
        }
    }
}

impl From<PolarityArg> for Polarity {
    fn from(polarity: PolarityArg) -> Polarity {
        match polarity {
            PolarityArg::Top => Polarity::Top,
            PolarityArg::Bottom => Polarity::Bottom,
        }
    }
}

impl From<KindArg> for UnitKind {
    fn from(kind: KindArg) -> UnitKind {
        match kind {
            KindArg::Neuron => UnitKind::Neuron,
            KindArg::Head => UnitKind::Head,
        }
    }
}

impl From<CircuitArg> for Circuit {
    fn from(circuit: CircuitArg) -> Circuit {
        match circuit {
            CircuitArg::Vo => Circuit::Vo,
            CircuitArg::Qk => Circuit::Qk,
        }
    }
}

pub(crate) fn open_dataset(args: &DataArgs) -> Result<Dataset> {
    let dir: PathBuf = match &args.data {
        Some(dir) => dir.clone(),
        None => find_dataset(Path::new(DATA_ROOT))?,
    };
    Ok(Dataset::open(&dir)?)
}
