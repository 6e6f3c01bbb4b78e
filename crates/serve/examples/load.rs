//! `make bench-serve`: the server under load on loopback.
//!
//! 50 concurrent clients, each on one keep-alive connection, send 200
//! requests apiece, a mix of API searches, unit and token lookups and HTML
//! pages, to an in-process server over the shipped model's dataset
//! (extracted into a temporary directory) or the dataset named as the first
//! argument. Reports p50/p99/max latency, errors, and the resident memory
//! before and after two such rounds: flat memory means the second round
//! grows it by (almost) nothing.
//!
//! ```sh
//! cargo run --release -p glossa-serve --example load [DATASET_DIR]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glossa_load::HubOptions;
use glossa_pipeline::{extract, ExtractConfig, Silent};
use glossa_serve::{router, Catalog};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CLIENTS: usize = 50;
const REQUESTS: usize = 200;

/// Searches the clients type, planted tokens and others.
const QUERIES: [&str; 8] = [
    "dieta",
    "diet*",
    "dieta~1",
    "lodz",
    "zdrowie",
    "dieta%20-%3E%20zdrowie",
    "kot",
    "%23owa",
];

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let (dir, _tmp) = match std::env::args_os().nth(1) {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let tmp = tempfile::tempdir()?;
            let model =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/models/tiny-polish-gpt2");
            let mut config =
                ExtractConfig::new(std::fs::canonicalize(model)?.display().to_string());
            config.out = Some(tmp.path().join("tiny"));
            (
                extract(&config, &HubOptions::from_env(), &Silent)?.dir,
                Some(tmp),
            )
        }
    };
    let catalog = Catalog::open(&[dir], &HubOptions::from_env(), &|_| {})?;
    let served = &catalog.datasets()[0];
    let name = served.name.clone();
    let shape = served.dataset.manifest().shape;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, router(Arc::new(catalog))).await });
        let targets = Arc::new(targets(&name, shape.layers, shape.d_ff, shape.heads));
        // Warm up: the index, the page cache, the pictures of the planted units.
        round(addr, &targets, 4, 50).await?;
        let before = rss_kib();
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut after = Vec::new();
        let started = Instant::now();
        for _ in 0..2 {
            let (l, e) = round(addr, &targets, CLIENTS, REQUESTS).await?;
            latencies.extend(l);
            errors += e;
            after.push(rss_kib());
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!(
            "{} requests ({CLIENTS} clients × {REQUESTS} requests, 2 rounds) in {:.1} s: {:.0} requests/s",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64()
        );
        println!(
            "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {errors}",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        );
        println!(
            "resident memory: {} MiB after warm-up, {} MiB after round 1, {} MiB after round 2",
            before / 1024,
            after[0] / 1024,
            after[1] / 1024
        );
        if errors > 0 {
            return Err(format!("{errors} requests failed").into());
        }
        Ok(())
    })
}

/// The mix: a search, a unit or token lookup, or a page, in turn.
fn targets(name: &str, layers: usize, neurons: usize, heads: usize) -> Vec<String> {
    let api = format!("/api/v1/datasets/{name}");
    let page = format!("/d/{name}");
    let mut out = Vec::new();
    for i in 0..200 {
        let q = QUERIES[i % QUERIES.len()];
        let layer = i % layers;
        let neuron = (i * 37) % neurons;
        let head = i % heads;
        out.push(match i % 10 {
            0..=2 => format!("{api}/search?q={q}"),
            // Pairs are found in heads only: filtered neuron searches take words.
            3 => format!(
                "{api}/search?q={}&kind=neuron&layer={layer}&polarity=top",
                QUERIES[i % 5]
            ),
            4 => format!("{api}/neurons/{layer}/{neuron}"),
            5 => format!("{api}/heads/{layer}/{head}"),
            6 => format!("{page}/neuron/{layer}/{neuron}"),
            7 => format!("{page}/head/{layer}/{head}"),
            8 => format!("{page}/token/dieta"),
            _ => format!("{api}/neurons/2/17/tsne/value"),
        });
    }
    out
}

/// `clients` connections sending `requests` each; latencies and errors.
async fn round(
    addr: SocketAddr,
    targets: &Arc<Vec<String>>,
    clients: usize,
    requests: usize,
) -> Result<(Vec<Duration>, usize), Error> {
    let mut tasks = Vec::new();
    for client in 0..clients {
        let targets = targets.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(addr).await?);
            let (mut latencies, mut errors) = (Vec::with_capacity(requests), 0);
            for i in 0..requests {
                let target = &targets[(client * 7 + i) % targets.len()];
                let started = Instant::now();
                match get(&mut stream, target).await {
                    Ok(200) => latencies.push(started.elapsed()),
                    Ok(status) => {
                        eprintln!("{target}: {status}");
                        errors += 1;
                    }
                    Err(error) => {
                        eprintln!("{target}: {error}");
                        errors += 1;
                        stream = BufReader::new(TcpStream::connect(addr).await?);
                    }
                }
            }
            Ok::<_, Error>((latencies, errors))
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await??;
        latencies.extend(l);
        errors += e;
    }
    Ok((latencies, errors))
}

/// One keep-alive `GET`: the status, after reading the whole body.
async fn get(stream: &mut BufReader<TcpStream>, target: &str) -> Result<u16, Error> {
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(status)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Resident memory of this process, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
