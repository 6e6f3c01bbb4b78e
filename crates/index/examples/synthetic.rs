//! Builds an index of synthetic entries shaped like GPT-2 medium's neuron and
//! head lists and times the build and a few searches.
//!
//! ```text
//! cargo run -p glossa-index --example synthetic -- DIR [LAYERS] [BUDGET_MB] [THREADS] [HEADS]
//! ```
//!
//! 24 layers give 24 × 4096 neurons × 2 sides × 2 polarities × 50 ranks, about
//! 20 million entries, and 24 × 16 heads × 2 circuits × 2 polarities × 100
//! ranks, about 154 thousand pairs (`HEADS` 0 leaves them out). Token ids are
//! skewed towards low ids, so that token 0 stands in about 3% of all lists: the
//! worst case for a search.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use glossa_index::{HeadPairEntry, Index, IndexBuilder, Matching, NeuronEntry, Search};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};

const NEURONS: u32 = 4096;
const RANKS: u32 = 50;
const PAIR_RANKS: u32 = 100;
const VOCAB: u32 = 50_257;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: synthetic DIR [LAYERS] [BUDGET_MB] [THREADS] [HEADS]")?,
    );
    let layers: u32 = args.next().map_or(Ok(24), |a| a.parse())?;
    let budget_mb: usize = args.next().map_or(Ok(1024), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let heads: u32 = args.next().map_or(Ok(16), |a| a.parse())?;

    let vocab: Vec<String> = (0..VOCAB).map(display).collect();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let entries = (0..layers).flat_map(|layer| {
        (0..NEURONS).flat_map(move |unit| {
            Side::ALL.iter().flat_map(move |&side| {
                Polarity::ALL.iter().flat_map(move |&polarity| {
                    (1..=RANKS).map(move |rank| (layer, unit, side, polarity, rank))
                })
            })
        })
    });
    let mut token = move || {
        let u = random.unit();
        let token_id = ((u * u * u) * f64::from(VOCAB)) as u32;
        (token_id, random.unit() as f32)
    };
    let mut entries = entries.map(|(layer, unit, side, polarity, rank)| {
        let (token_id, noise) = token();
        let magnitude = 12.0 - rank as f32 * 0.1 - noise * 0.05;
        NeuronEntry {
            kind: UnitKind::Neuron,
            layer,
            unit,
            side,
            polarity,
            rank,
            token_id,
            token: &vocab[token_id as usize],
            score: if polarity == Polarity::Top {
                magnitude
            } else {
                -magnitude
            },
            z: if polarity == Polarity::Top {
                magnitude / 2.0
            } else {
                -magnitude / 2.0
            },
        }
    });

    let mut builder = IndexBuilder::create(&dir, budget_mb << 20, threads)?;
    entries.try_for_each(|entry| builder.add(&entry))?;
    let mut pairs = 0;
    for layer in 0..layers {
        for head in 0..heads {
            for &circuit in Circuit::ALL {
                for &polarity in Polarity::ALL {
                    for rank in 1..=PAIR_RANKS {
                        let (src, noise) = token();
                        let (dst, _) = token();
                        let magnitude = 30.0 - rank as f32 * 0.1 - noise * 0.05;
                        builder.add_pair(&HeadPairEntry {
                            layer,
                            head,
                            circuit,
                            polarity,
                            rank,
                            src_token_id: src,
                            src_token: &vocab[src as usize],
                            dst_token_id: dst,
                            dst_token: &vocab[dst as usize],
                            score: if polarity == Polarity::Top {
                                magnitude
                            } else {
                                -magnitude
                            },
                            z: if polarity == Polarity::Top {
                                magnitude / 3.0
                            } else {
                                -magnitude / 3.0
                            },
                        })?;
                        pairs += 1;
                    }
                }
            }
        }
    }
    let stats = builder.finish()?;
    println!(
        "built {} entries, {pairs} of them pairs ({} documents) in {:.1?}: {:.0} entries/s, {} segments, {:.1} MiB ({:.1} bytes/entry)",
        stats.entries,
        stats.documents,
        stats.elapsed,
        stats.entries as f64 / stats.elapsed.as_secs_f64(),
        stats.segments,
        stats.bytes as f64 / f64::from(1 << 20),
        stats.bytes as f64 / stats.entries as f64,
    );

    let started = Instant::now();
    let index = Index::open(&dir)?;
    println!("opened in {:.1?}", started.elapsed());
    let searches = [
        ("rare token", Search::new([display(40_000)])),
        ("mid token", Search::new([display(2_000)])),
        (
            "mid token, layer 5, key",
            Search {
                layer: Some(5),
                side: Some(Side::Key),
                ..Search::new([display(2_000)])
            },
        ),
        (
            "three tokens",
            Search::new([display(100), display(1_000), display(10_000)]),
        ),
        (
            "folded",
            Search {
                matching: Matching::Folded,
                ..Search::new(["lodz2"])
            },
        ),
        ("commonest token", Search::new([display(0)])),
        (
            "commonest token, heads",
            Search {
                kind: Some(UnitKind::Head),
                ..Search::new([display(0)])
            },
        ),
        (
            "pair of common tokens",
            Search::pair(display(0), display(1)),
        ),
        (
            "commonest token, limit 1000",
            Search {
                limit: 1000,
                ..Search::new([display(0)])
            },
        ),
    ];
    for (name, search) in &searches {
        // The first run warms the page cache; the second is the one reported.
        index.search(search)?;
        let started = Instant::now();
        let hits = index.search(search)?;
        let search_time = started.elapsed();
        let started = Instant::now();
        let count = index.count(search)?;
        let count_time = started.elapsed();
        // A digest of all hits, to compare indexes built with different budgets.
        let mut digest = DefaultHasher::new();
        format!("{hits:?}").hash(&mut digest);
        println!(
            "{name:28} {count:>8} matches, {} hits (digest {:016x}): search {search_time:.2?}, count {count_time:.2?}",
            hits.len(),
            digest.finish(),
        );
    }
    Ok(())
}

/// A display form for a synthetic token id: mostly words, some continuation
/// pieces, some with diacritics.
fn display(id: u32) -> String {
    match id % 3 {
        0 => format!("word{id}"),
        1 => format!("#piece{id}"),
        _ => format!("Łódź{id}"),
    }
}

/// A small deterministic generator; the example needs no statistical quality.
struct XorShift(u64);

impl XorShift {
    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
