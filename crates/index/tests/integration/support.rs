//! A small hand-made index shared by the tests.

use std::path::{Path, PathBuf};

use glossa_index::{HeadPairEntry, Hit, Index, IndexBuilder, NeuronEntry, PairSide, Search};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use tempfile::TempDir;

/// The smallest budget tantivy accepts for two threads, doubled for the block.
pub const BUDGET: usize = 64 << 20;

/// Where an entry or hit sits: (kind, layer, unit, side or circuit, polarity,
/// rank).
pub type Place = (UnitKind, u32, u32, &'static str, Polarity, u32);

/// An entry at `rank` of the list (layer, unit, side, polarity) of a neuron,
/// holding the token (id, display form).
pub fn neuron(
    (layer, unit, side, polarity): (u32, u32, Side, Polarity),
    rank: u32,
    (token_id, token): (u32, &'static str),
    score: f32,
) -> NeuronEntry<'static> {
    NeuronEntry {
        kind: UnitKind::Neuron,
        layer,
        unit,
        side,
        polarity,
        rank,
        token_id,
        token,
        score,
        z: z_of(rank, score),
    }
}

/// The fixture's z: falling with the rank, then rising with |score| (all of
/// the fixture's are below 100), signed as the score, so that the default
/// order by |z| is the order by rank; `ranking` tests the difference.
pub fn z_of(rank: u32, score: f32) -> f32 {
    (1000.0 - 100.0 * rank as f32 + score.abs()).copysign(score)
}

/// A pair at `rank` of the list (layer, head, circuit, polarity) of a head,
/// from the token (id, display form) `src` to `dst`.
pub fn pair(
    (layer, head, circuit, polarity): (u32, u32, Circuit, Polarity),
    rank: u32,
    (src_token_id, src_token): (u32, &'static str),
    (dst_token_id, dst_token): (u32, &'static str),
    score: f32,
) -> HeadPairEntry<'static> {
    HeadPairEntry {
        layer,
        head,
        circuit,
        polarity,
        rank,
        src_token_id,
        src_token,
        dst_token_id,
        dst_token,
        score,
        z: z_of(rank, score),
    }
}

/// The fixture's neuron entries: a few lists sharing the tokens the tests look for.
///
/// `dieta` (100) and `DIETA` (102) normalise alike; `dieta,` (101) does not.
/// `#owa` (200) is a continuation piece, `owa` (201) its word-initial twin.
/// `Łódź` (300) and `łódź` (301) differ only in case; `(` (5) is punctuation.
pub fn entries() -> Vec<NeuronEntry<'static>> {
    use Polarity::{Bottom, Top};
    use Side::{Key, Value};
    vec![
        neuron((0, 7, Key, Top), 1, (100, "dieta"), 5.0),
        neuron((0, 7, Key, Top), 2, (200, "#owa"), 4.0),
        neuron((0, 7, Key, Top), 3, (300, "Łódź"), 3.5),
        neuron((0, 7, Key, Top), 4, (5, "("), 3.0),
        neuron((0, 7, Key, Top), 5, (101, "dieta,"), 2.0),
        neuron((0, 7, Key, Bottom), 1, (201, "owa"), -6.0),
        neuron((0, 7, Key, Bottom), 2, (102, "DIETA"), -5.5),
        neuron((1, 3, Value, Top), 1, (100, "dieta"), 7.0),
        neuron((1, 3, Value, Top), 2, (200, "#owa"), 6.0),
        neuron((1, 3, Value, Bottom), 1, (301, "łódź"), -2.0),
        neuron((1, 3, Value, Bottom), 2, (100, "dieta"), -1.5),
        neuron((2, 0, Value, Bottom), 1, (100, "dieta"), -7.0),
        neuron((2, 0, Key, Top), 1, (100, "dieta"), 7.0),
    ]
}

/// The fixture's head pairs, over the same tokens and `zdrowie` (400).
///
/// `dieta` is paired with `zdrowie` in both directions, with itself (one token
/// id), and with `DIETA` (another id that matches alike); `owa` with `#owa`.
pub fn pairs() -> Vec<HeadPairEntry<'static>> {
    use Circuit::{Qk, Vo};
    use Polarity::{Bottom, Top};
    let dieta = (100, "dieta");
    let zdrowie = (400, "zdrowie");
    vec![
        pair((0, 2, Vo, Top), 1, dieta, zdrowie, 9.0),
        pair((0, 2, Vo, Top), 2, zdrowie, dieta, 8.0),
        pair((1, 5, Qk, Bottom), 1, dieta, dieta, -3.0),
        pair((1, 5, Qk, Bottom), 2, (102, "DIETA"), dieta, -2.5),
        pair((2, 1, Qk, Top), 3, (201, "owa"), (200, "#owa"), 1.0),
        pair((3, 0, Vo, Bottom), 1, (300, "Łódź"), zdrowie, -4.0),
        // Ties with two neuron entries on rank, |score|, layer and unit.
        pair((2, 0, Qk, Top), 1, zdrowie, dieta, 7.0),
    ]
}

/// Where each hit for `dieta` sits, best first: (kind, layer, unit, side or
/// circuit, polarity, rank). Rank 1 comes first even when a rank-2 score is
/// larger; equal rank and |score| fall back to layer, unit, kind (neurons
/// first), side or circuit, polarity.
pub fn dieta_order() -> Vec<Place> {
    use Polarity::{Bottom, Top};
    use UnitKind::{Head, Neuron};
    vec![
        (Head, 0, 2, "vo", Top, 1),
        (Neuron, 1, 3, "value", Top, 1),
        (Neuron, 2, 0, "key", Top, 1),
        (Neuron, 2, 0, "value", Bottom, 1),
        (Head, 2, 0, "qk", Top, 1),
        (Neuron, 0, 7, "key", Top, 1),
        (Head, 1, 5, "qk", Bottom, 1),
        (Head, 0, 2, "vo", Top, 2),
        (Neuron, 0, 7, "key", Bottom, 2),
        (Head, 1, 5, "qk", Bottom, 2),
        (Neuron, 1, 3, "value", Bottom, 2),
    ]
}

/// Builds an index of `entries` and `pairs` at `dir`.
pub fn build_both(dir: &Path, entries: &[NeuronEntry<'_>], pairs: &[HeadPairEntry<'_>]) {
    let mut builder = IndexBuilder::create(dir, BUDGET, 2).expect("starts");
    for entry in entries {
        builder.add(entry).expect("adds an entry");
    }
    for pair in pairs {
        builder.add_pair(pair).expect("adds a pair");
    }
    builder.finish().expect("finishes");
}

/// A temporary directory holding the fixture's index in `index/`.
pub struct Fixture {
    // Kept for its `Drop`, which deletes the directory.
    root: TempDir,
    pub index: Index,
}

impl Fixture {
    pub fn new() -> Fixture {
        let root = TempDir::new().expect("temporary directory");
        let dir = root.path().join("index");
        build_both(&dir, &entries(), &pairs());
        let index = Index::open(&dir).expect("fixture opens");
        Fixture { root, index }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("index")
    }

    pub fn search(&self, search: &Search) -> Vec<Hit> {
        self.index.search(search).expect("search succeeds")
    }

    /// Hits for `terms` with no filters and a large limit.
    pub fn find(&self, terms: &[&str]) -> Vec<Hit> {
        self.search(&Search {
            limit: 1000,
            ..Search::new(terms.iter().copied())
        })
    }
}

/// Where a hit sits: the part of it that identifies its list and rank.
pub fn place(hit: &Hit) -> Place {
    let list = match hit {
        Hit::Neuron(neuron) => neuron.side.as_str(),
        Hit::Head(head) => head.circuit.as_str(),
    };
    (
        hit.kind(),
        hit.layer(),
        hit.unit(),
        list,
        hit.polarity(),
        hit.rank(),
    )
}

/// Where a neuron entry sits.
pub fn entry_place(entry: &NeuronEntry<'_>) -> Place {
    (
        entry.kind,
        entry.layer,
        entry.unit,
        entry.side.as_str(),
        entry.polarity,
        entry.rank,
    )
}

/// Where a head pair sits.
pub fn pair_place(pair: &HeadPairEntry<'_>) -> Place {
    (
        UnitKind::Head,
        pair.layer,
        pair.head,
        pair.circuit.as_str(),
        pair.polarity,
        pair.rank,
    )
}

/// What a hit shows: a neuron's token, or a head's pair as `src -> dst`.
pub fn shown(hit: &Hit) -> String {
    match hit {
        Hit::Neuron(neuron) => neuron.token.clone(),
        Hit::Head(head) => format!("{} -> {}", head.src_token, head.dst_token),
    }
}

/// Which tokens of a head hit's pair matched; `None` for a neuron hit.
pub fn matched(hit: &Hit) -> Option<PairSide> {
    match hit {
        Hit::Neuron(_) => None,
        Hit::Head(head) => Some(head.matched),
    }
}

/// A neuron hit's token; `None` for a head hit.
pub fn token(hit: &Hit) -> Option<&str> {
    match hit {
        Hit::Neuron(neuron) => Some(&neuron.token),
        Hit::Head(_) => None,
    }
}

/// The names of the entries in a directory, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("directory lists")
        .map(|entry| {
            entry
                .expect("entry reads")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
