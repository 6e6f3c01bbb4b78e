//! `glossa-bench` (`make bench`): one extraction of a model shaped like
//! sdadas/polish-gpt2-medium, then the references it is measured against, in
//! the same run on the same machine:
//!
//! - neurons: a pure GEMM of the same size with nothing selected (the
//!   arithmetic floor, [`gemm_floor`]);
//! - heads: the fused brute-force path (every entry of every matrix through
//!   the same tiled GEMM and selection, [`Pruning::None`]) on a sample of
//!   layers, whose lists must equal the pruned ones.
//!
//! The extraction runs as a child process, the `glossa` binary exactly as a
//! user runs it, so its peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use glossa_load::{HubOptions, Model};
use glossa_pipeline::{circuit_factors, view, Dataset};
use glossa_project::{gemm_floor, top_pairs, MatrixView, PairQuery, Pruning, TokenFilter};
use glossa_synth::presets;
use glossa_tables::Circuit;
use rayon::prelude::*;

/// Benchmark a full extraction against its arithmetic references.
#[derive(Debug, Parser)]
struct Args {
    /// The scaled-down model (4 layers, d = 256, vocab 8192): under a minute.
    #[arg(long)]
    quick: bool,
    /// Where the generated model and the benchmark dataset are kept.
    #[arg(long, default_value = "data/bench")]
    dir: PathBuf,
    /// The glossa binary to benchmark [default: beside this one].
    #[arg(long)]
    glossa: Option<PathBuf>,
    /// Layers whose heads are also run by brute force [default: 1, all with --quick].
    #[arg(long)]
    brute_layers: Option<usize>,
}

/// What one extraction took, read back from its dataset and the OS.
struct Extraction {
    wall: f64,
    peak_rss: u64,
    dataset: Dataset,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let name = if args.quick {
        "polish-gpt2-medium-shape-quick"
    } else {
        "polish-gpt2-medium-shape"
    };
    let model_dir = args.dir.join(name);
    ensure_model(&model_dir, args.quick)?;
    let glossa = match &args.glossa {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("glossa"),
    };
    ensure!(
        glossa.is_file(),
        "no glossa binary at {}: build it first (make bench does)",
        glossa.display()
    );

    let checkpoint_bytes = std::fs::metadata(model_dir.join("model.safetensors"))?.len();
    println!(
        "machine      {} | {} threads | AVX-512F {}",
        cpu_model(),
        rayon::current_num_threads(),
        if has_avx512() { "yes" } else { "no" }
    );
    let extraction = extract(&glossa, &model_dir, &args.dir.join(format!("{name}-out")))?;

    let manifest = extraction.dataset.manifest();
    let model = extraction.dataset.model(None, &HubOptions::from_env())?;
    let shape = model.shape;
    let tokens = manifest.vocabulary.tokenizer_tokens;
    println!(
        "model        {} ({} layers, {} heads, d {}, d_ff {}, vocab {}, checkpoint {})",
        model_dir.display(),
        shape.layers,
        shape.heads,
        shape.d_model,
        shape.d_ff,
        tokens,
        gigabytes(checkpoint_bytes)
    );

    let floor = neuron_floor(&model, tokens);
    let brute_layers = args
        .brute_layers
        .unwrap_or(if args.quick { shape.layers } else { 1 })
        .clamp(1, shape.layers);
    let k = manifest.options.head_k;
    let heads = head_sample(&model, tokens, k, brute_layers)?;
    let shares = computed_shares(&extraction)?;

    report(
        &extraction,
        &model,
        tokens,
        checkpoint_bytes,
        floor,
        &heads,
        &shares,
    );
    Ok(())
}

/// Generates the benchmark model unless a previous run left it complete.
fn ensure_model(dir: &Path, quick: bool) -> Result<()> {
    if dir.join("config.json").is_file() && dir.join("model.safetensors").is_file() {
        return Ok(());
    }
    println!("generating   {} (once; kept for later runs)", dir.display());
    let partial = dir.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    presets::bench(quick)?.write(&partial)?;
    std::fs::rename(&partial, dir)
        .with_context(|| format!("moving the generated model to {}", dir.display()))?;
    Ok(())
}

/// Runs `glossa extract` into a fresh `out` and measures it.
fn extract(glossa: &Path, model: &Path, out: &Path) -> Result<Extraction> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    println!("extracting   {} -> {}", model.display(), out.display());
    let started = Instant::now();
    let status = Command::new(glossa)
        .arg("extract")
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .status()
        .with_context(|| format!("running {}", glossa.display()))?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("glossa extract failed ({status})");
    }
    Ok(Extraction {
        wall,
        peak_rss: children_peak_rss(),
        dataset: Dataset::open(out)?,
    })
}

/// The largest resident set of any finished child process, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    // Linux reports kilobytes.
    usage.ru_maxrss as u64 * 1024
}

/// Seconds the pure GEMM takes for every key and value vector.
fn neuron_floor(model: &Model, tokens: usize) -> f64 {
    let embedding = view(&model.unembedding);
    let started = Instant::now();
    for layer in &model.layers {
        gemm_floor(view(&layer.ff_keys), embedding, tokens);
        gemm_floor(view(&layer.ff_values), embedding, tokens);
    }
    started.elapsed().as_secs_f64()
}

/// The pruned and the brute-force head paths on the same matrices.
struct HeadSample {
    layers: Vec<usize>,
    matrices: usize,
    pruned: f64,
    brute: f64,
}

/// Runs every circuit of `count` evenly spaced layers both ways, in parallel
/// over circuits as the extraction does, and checks the lists agree.
fn head_sample(model: &Model, tokens: usize, k: usize, count: usize) -> Result<HeadSample> {
    let shape = model.shape;
    let layers: Vec<usize> = (0..count)
        .map(|i| (2 * i + 1) * shape.layers / (2 * count))
        .collect();
    let tasks: Vec<(usize, usize, Circuit)> = layers
        .iter()
        .flat_map(|&l| {
            (0..shape.heads).flat_map(move |h| [(l, h, Circuit::Vo), (l, h, Circuit::Qk)])
        })
        .collect();
    let run = |pruning: Pruning| {
        let started = Instant::now();
        let lists = tasks
            .par_iter()
            .map(|&(layer, head, circuit)| {
                let (a, b) = circuit_factors(model, layer, head, circuit, tokens);
                let query = PairQuery {
                    a: MatrixView::row_major(&a, tokens, shape.d_head),
                    b: MatrixView::row_major(&b, tokens, shape.d_head),
                    k,
                    src_filter: TokenFilter::all(),
                    dst_filter: TokenFilter::all(),
                    exclude: None,
                    pruning,
                };
                top_pairs(&query).map(|(extremes, _)| extremes)
            })
            .collect::<Result<Vec<_>, _>>();
        (lists, started.elapsed().as_secs_f64())
    };
    println!(
        "brute force  heads of layer(s) {layers:?}, both ways ({} matrices)",
        tasks.len()
    );
    let (pruned_lists, pruned) = run(Pruning::Bounds);
    let (brute_lists, brute) = run(Pruning::None);
    ensure!(
        pruned_lists? == brute_lists?,
        "pruned and brute-force head lists differ"
    );
    Ok(HeadSample {
        layers,
        matrices: tasks.len(),
        pruned,
        brute,
    })
}

/// Share of vocab² entries computed, per circuit, from head_summary.parquet.
fn computed_shares(extraction: &Extraction) -> Result<Vec<f64>> {
    let summaries = extraction
        .dataset
        .head_summaries()?
        .context("the benchmark dataset has no head summary")?;
    Ok(summaries.iter().map(|row| row.computed_share).collect())
}

fn report(
    extraction: &Extraction,
    model: &Model,
    tokens: usize,
    checkpoint_bytes: u64,
    floor: f64,
    heads: &HeadSample,
    shares: &[f64],
) {
    let shape = model.shape;
    let timing = |stage: &str| {
        extraction
            .dataset
            .manifest()
            .timings
            .get(stage)
            .copied()
            .unwrap_or(0.0)
    };
    let neurons = timing("compute_neurons");
    let neuron_flops =
        2.0 * (2 * shape.layers * shape.d_ff) as f64 * tokens as f64 * shape.d_model as f64;
    let gflops = |seconds: f64| neuron_flops / seconds / 1e9;
    let head_stage = timing("compute_heads");
    let matrices = 2 * shape.layers * shape.heads;
    let brute_all = heads.brute / heads.matrices as f64 * matrices as f64;
    let mean_share = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
    let max_share = shares.iter().copied().fold(0.0, f64::max);
    let limit = checkpoint_bytes + (1 << 30);

    println!();
    println!("stage              seconds   reference");
    println!("load              {:>8.1}", timing("load"));
    println!(
        "neurons           {neurons:>8.1}   {:.0} GFLOP/s; pure GEMM floor {floor:.1} s ({:.0} GFLOP/s): ratio {:.3} (target <= 1.25)",
        gflops(neurons),
        gflops(floor),
        neurons / floor
    );
    println!(
        "heads             {head_stage:>8.1}   all {matrices} VO/QK matrices; computed {:.3}% of vocab² entries (max {:.3}% per matrix)",
        100.0 * mean_share,
        100.0 * max_share
    );
    println!(
        "                             brute force on layer(s) {:?} ({} matrices): {:.1} s against {:.1} pruned, {:.1}x; lists identical",
        heads.layers,
        heads.matrices,
        heads.brute,
        heads.pruned,
        heads.brute / heads.pruned
    );
    println!(
        "                             brute force for all {matrices} (scaled from the sample): {brute_all:.0} s, {:.1}x the head stage",
        brute_all / head_stage
    );
    println!("write             {:>8.1}", timing("write"));
    println!("index             {:>8.1}", timing("index"));
    println!("hash inputs       {:>8.1}", timing("hash_inputs"));
    println!(
        "whole extraction  {:>8.1}   wall clock of `glossa extract` (target < 480 s at full size)",
        extraction.wall
    );
    println!(
        "peak RSS          {:>8}   limit checkpoint + 1 GiB = {} ({})",
        gigabytes(extraction.peak_rss),
        gigabytes(limit),
        if extraction.peak_rss <= limit {
            "within"
        } else {
            "OVER"
        }
    );
}

fn gigabytes(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}
