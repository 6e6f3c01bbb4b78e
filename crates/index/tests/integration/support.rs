//! A small hand-made index shared by the tests.

use std::path::{Path, PathBuf};

use glossa_index::{build, Entry, Hit, Index, Search};
use glossa_tables::{Polarity, Side, UnitKind};
use tempfile::TempDir;

/// The smallest budget tantivy accepts for two threads, doubled for the block.
pub const BUDGET: usize = 64 << 20;

/// Where an entry or hit sits: (kind, layer, unit, side, polarity, rank).
pub type Place = (UnitKind, u32, u32, Side, Polarity, u32);

/// An entry at `rank` of the list (layer, unit, side, polarity) of a neuron,
/// holding the token (id, display form).
pub fn neuron(
    (layer, unit, side, polarity): (u32, u32, Side, Polarity),
    rank: u32,
    (token_id, token): (u32, &'static str),
    score: f32,
) -> Entry<'static> {
    Entry {
        kind: UnitKind::Neuron,
        layer,
        unit,
        side,
        polarity,
        rank,
        token_id,
        token,
        score,
    }
}

/// The fixture: a few lists sharing the tokens the tests look for.
///
/// `dieta` (100) and `DIETA` (102) normalise alike; `dieta,` (101) does not.
/// `#owa` (200) is a continuation piece, `owa` (201) its word-initial twin.
/// `Łódź` (300) and `łódź` (301) differ only in case; `(` (5) is punctuation.
pub fn entries() -> Vec<Entry<'static>> {
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
        Entry {
            kind: UnitKind::Head,
            ..neuron((0, 2, Key, Top), 1, (100, "dieta"), 9.0)
        },
    ]
}

/// Where each hit for `dieta` sits, best first: (kind, layer, unit, side,
/// polarity, rank). Rank 1 comes first even when a rank-2 score is larger;
/// equal rank and |score| fall back to layer, unit, side, polarity.
pub fn dieta_order() -> Vec<Place> {
    use Polarity::{Bottom, Top};
    use Side::{Key, Value};
    use UnitKind::{Head, Neuron};
    vec![
        (Head, 0, 2, Key, Top, 1),
        (Neuron, 1, 3, Value, Top, 1),
        (Neuron, 2, 0, Key, Top, 1),
        (Neuron, 2, 0, Value, Bottom, 1),
        (Neuron, 0, 7, Key, Top, 1),
        (Neuron, 0, 7, Key, Bottom, 2),
        (Neuron, 1, 3, Value, Bottom, 2),
    ]
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
        build(&dir, entries(), BUDGET, 2).expect("fixture builds");
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
    (
        hit.kind,
        hit.layer,
        hit.unit,
        hit.side,
        hit.polarity,
        hit.rank,
    )
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
