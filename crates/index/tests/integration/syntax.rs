//! The query syntax: folding by default, prefixes, fuzzy terms, continuation
//! pieces, several terms, malformed words, and counting units by layer.

use std::collections::BTreeSet;

use glossa_index::{Error, Hit, Index, Matching, PairSide, Search};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use tempfile::TempDir;

use crate::support::{build_both, matched, neuron, pair, place, shown, token, Place};

/// An index of Polish tokens that differ by a diacritic, an ending or a piece.
struct Polish {
    _root: TempDir,
    index: Index,
}

impl Polish {
    fn new() -> Polish {
        use Circuit::{Qk, Vo};
        use Polarity::{Bottom, Top};
        use Side::{Key, Value};
        let dieta = (1, "dieta");
        let diety = (2, "diety");
        let dieta_ogonek = (3, "dietą");
        let dietetyk = (4, "dietetyk");
        let die = (5, "die");
        let zdrowie = (6, "zdrowie");
        let lodz = (7, "Łódź");
        let ascii_lodz = (8, "lodz");
        let owa_piece = (9, "#owa");
        let owa = (10, "owa");
        let entries = [
            neuron((0, 1, Key, Top), 1, dieta, 5.0),
            neuron((0, 1, Key, Top), 2, diety, 4.0),
            neuron((0, 1, Key, Top), 3, dieta_ogonek, 3.0),
            neuron((0, 2, Key, Top), 1, dietetyk, 5.0),
            neuron((0, 2, Key, Top), 2, die, 4.0),
            neuron((1, 0, Value, Top), 1, zdrowie, 6.0),
            neuron((1, 0, Value, Top), 2, lodz, 5.0),
            neuron((1, 0, Value, Top), 3, dieta, 4.0),
            neuron((1, 0, Key, Bottom), 1, ascii_lodz, -3.0),
            neuron((1, 4, Value, Bottom), 1, owa_piece, -2.0),
            neuron((1, 4, Value, Bottom), 2, owa, -1.0),
            neuron((2, 3, Key, Top), 1, diety, 2.0),
        ];
        let pairs = [
            pair((0, 0, Vo, Top), 1, dieta, zdrowie, 9.0),
            pair((1, 2, Qk, Top), 1, zdrowie, dieta_ogonek, 8.0),
            pair((1, 2, Vo, Bottom), 1, lodz, owa_piece, -7.0),
            pair((1, 3, Qk, Top), 1, dietetyk, die, 6.0),
        ];
        let root = TempDir::new().expect("temporary directory");
        let dir = root.path().join("index");
        build_both(&dir, &entries, &pairs);
        let index = Index::open(&dir).expect("opens");
        Polish { _root: root, index }
    }

    /// The hits for the query `words`, as the command line would read them.
    fn find(&self, words: &[&str]) -> Vec<Hit> {
        self.index.search(&parse(words)).expect("search succeeds")
    }

    /// What the hits for `words` show: tokens, and pairs as `src -> dst`.
    fn shown(&self, words: &[&str]) -> BTreeSet<String> {
        self.find(words).iter().map(shown).collect()
    }

    /// Where the hits for `words` sit.
    fn places(&self, words: &[&str]) -> BTreeSet<Place> {
        self.find(words).iter().map(place).collect()
    }
}

fn parse(words: &[&str]) -> Search {
    Search {
        limit: 1000,
        ..Search::parse_terms(words).expect("parses")
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn diacritics_are_ignored_by_default() {
    let polish = Polish::new();
    let ascii = polish.find(&["lodz"]);
    assert_eq!(polish.find(&["łódź"]), ascii);
    assert_eq!(polish.find(&["ŁÓDŹ"]), ascii);
    assert_eq!(
        polish.shown(&["lodz"]),
        set(&["Łódź", "lodz", "Łódź -> #owa"])
    );
    assert_eq!(
        polish.shown(&["dieta"]),
        set(&["dieta", "dietą", "dieta -> zdrowie", "zdrowie -> dietą"])
    );
}

#[test]
fn exact_matching_keeps_diacritics() {
    let polish = Polish::new();
    let exact = |words: &[&str]| -> BTreeSet<String> {
        let search = Search {
            matching: Matching::Exact,
            ..parse(words)
        };
        polish
            .index
            .search(&search)
            .expect("searches")
            .iter()
            .map(shown)
            .collect()
    };
    assert_eq!(exact(&["łódź"]), set(&["Łódź", "Łódź -> #owa"]));
    assert_eq!(exact(&["lodz"]), set(&["lodz"]));
    assert_eq!(exact(&["dieta"]), set(&["dieta", "dieta -> zdrowie"]));
    assert_eq!(exact(&["dietą*"]), set(&["dietą", "zdrowie -> dietą"]));
}

#[test]
fn a_star_matches_prefixes() {
    let polish = Polish::new();
    assert_eq!(
        polish.shown(&["diet*"]),
        set(&[
            "dieta",
            "diety",
            "dietą",
            "dietetyk",
            "dieta -> zdrowie",
            "zdrowie -> dietą",
            "dietetyk -> die",
        ])
    );
    // `die` does not start with `diet`; its pair is found through `dietetyk`.
    for hit in polish.find(&["diet*"]) {
        match hit {
            Hit::Neuron(neuron) => assert_ne!(neuron.token, "die"),
            Hit::Head(head) if head.dst_token == "die" => {
                assert_eq!(head.matched, PairSide::Src)
            }
            Hit::Head(_) => {}
        }
    }
    // The prefix is folded and normalised like any term.
    assert_eq!(polish.find(&["ĠDIETĄ*"]), polish.find(&["dieta*"]));
    // Regular-expression characters in a prefix stand for themselves.
    assert!(polish.find(&["d.e*"]).is_empty());
}

#[test]
fn a_tilde_matches_within_an_edit_distance() {
    let polish = Polish::new();
    let neurons = |words: &[&str]| -> BTreeSet<String> {
        polish
            .find(words)
            .iter()
            .filter_map(|hit| token(hit).map(str::to_string))
            .collect()
    };
    assert_eq!(neurons(&["dieta~1"]), set(&["dieta", "diety", "dietą"]));
    assert_eq!(polish.find(&["dieta~"]), polish.find(&["dieta~1"]));
    assert!(!neurons(&["dieta~1"]).contains("zdrowie"));
    assert_eq!(
        neurons(&["dieta~2"]),
        set(&["dieta", "diety", "dietą", "die"])
    );
    assert_eq!(
        neurons(&["zdrowei~1"]),
        set(&["zdrowie"]),
        "a transposition"
    );
}

#[test]
fn hits_show_the_token_that_matched() {
    let polish = Polish::new();
    let hits = polish.find(&["dietx~1"]);
    let tokens: BTreeSet<&str> = hits.iter().filter_map(token).collect();
    assert_eq!(tokens, BTreeSet::from(["dieta", "diety", "dietą"]));
    let prefixed = polish.find(&["dietet*"]);
    let heads: Vec<(&str, &str, PairSide)> = prefixed
        .iter()
        .filter_map(|hit| match hit {
            Hit::Head(head) => Some((&*head.src_token, &*head.dst_token, head.matched)),
            Hit::Neuron(_) => None,
        })
        .collect();
    assert_eq!(heads, [("dietetyk", "die", PairSide::Src)]);
    let ogonek: Vec<(Option<String>, Option<PairSide>)> = polish
        .find(&["zdrowie", "dietą~1"])
        .iter()
        .filter_map(|hit| match hit {
            Hit::Head(head) => Some((Some(head.dst_token.clone()), Some(head.matched))),
            Hit::Neuron(_) => None,
        })
        .collect();
    assert!(ogonek.contains(&(Some("dietą".into()), Some(PairSide::Both))));
}

#[test]
fn a_hash_asks_for_continuation_pieces() {
    let polish = Polish::new();
    assert_eq!(polish.shown(&["#owa"]), set(&["#owa", "Łódź -> #owa"]));
    assert_eq!(
        polish.shown(&["owa"]),
        set(&["#owa", "owa", "Łódź -> #owa"])
    );
    let piece = polish.find(&["#owa"]);
    let head = piece
        .iter()
        .find(|hit| hit.kind() == UnitKind::Head)
        .expect("a head hit");
    assert_eq!(matched(head), Some(PairSide::Dst));
    // With the other shapes too, and in a pair.
    assert_eq!(polish.shown(&["#ow*"]), polish.shown(&["#owa"]));
    assert_eq!(polish.shown(&["#owy~1"]), polish.shown(&["#owa"]));
    assert_eq!(polish.shown(&["łódź -> #owa"]), set(&["Łódź -> #owa"]));
    assert!(polish.find(&["łódź -> #łódź"]).is_empty());
    // A lone `#` is a token, not a marker.
    assert!(polish.find(&["#"]).is_empty());
}

#[test]
fn mixed_terms_are_or_ed() {
    let polish = Polish::new();
    let words = ["dieta", "łódź*", "zdrow~1"];
    let mixed = polish.places(&words);
    let mut union = BTreeSet::new();
    for word in words {
        union.extend(polish.places(&[word]));
    }
    assert_eq!(mixed, union);
    assert_eq!(
        polish.shown(&words),
        set(&[
            "dieta",
            "dietą",
            "Łódź",
            "lodz",
            "dieta -> zdrowie",
            "zdrowie -> dietą",
            "Łódź -> #owa",
        ]),
        "`zdrow~1` is two edits from `zdrowie`"
    );
    assert!(polish.shown(&["zdrow~2"]).contains("zdrowie"));
    // A pair whose tokens both match counts once, as matched on both sides.
    let hits = polish.find(&["dieta", "zdrowie*"]);
    let pair = hits
        .iter()
        .filter(|hit| shown(hit) == "dieta -> zdrowie")
        .collect::<Vec<_>>();
    assert_eq!(pair.len(), 1);
    assert_eq!(matched(pair[0]), Some(PairSide::Both));
}

#[test]
fn units_are_counted_by_layer() {
    use UnitKind::{Head, Neuron};
    let polish = Polish::new();
    // Each layer's strongest entry is the first hit of the same search
    // narrowed to that layer and kind.
    let by_layer = |search: Search| {
        let counts = polish.index.count_by_layer(&search).expect("counts");
        for count in &counts {
            let narrowed = Search {
                layer: Some(count.layer),
                kind: Some(count.kind),
                limit: 1,
                ..search.clone()
            };
            let first = polish.index.search(&narrowed).expect("searches");
            assert_eq!(
                first,
                std::slice::from_ref(&count.strongest),
                "{narrowed:?}"
            );
        }
        counts
            .into_iter()
            .map(|count| (count.layer, count.kind, count.units))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_layer(parse(&["diet*"])),
        [
            (0, Neuron, 2),
            (0, Head, 1),
            (1, Neuron, 1),
            (1, Head, 2),
            (2, Neuron, 1),
        ]
    );
    // Two matching entries of one neuron (1, 0) count it once.
    assert_eq!(by_layer(parse(&["lodz"])), [(1, Neuron, 1), (1, Head, 1)]);
    assert_eq!(
        by_layer(Search {
            kind: Some(Neuron),
            ..parse(&["diet*"])
        }),
        [(0, Neuron, 2), (1, Neuron, 1), (2, Neuron, 1)]
    );
    assert_eq!(
        by_layer(Search {
            layer: Some(1),
            ..parse(&["diet*"])
        }),
        [(1, Neuron, 1), (1, Head, 2)]
    );
    assert_eq!(
        by_layer(Search {
            side: Some(Side::Value),
            polarity: Some(Polarity::Top),
            ..parse(&["lodz", "dieta"])
        }),
        [(1, Neuron, 1)]
    );
    // The limit does not cap the count; no match gives no rows.
    assert_eq!(
        by_layer(Search {
            limit: 1,
            ..parse(&["diet*"])
        })
        .len(),
        5
    );
    assert!(by_layer(parse(&["nic"])).is_empty());
    assert_eq!(by_layer(parse(&["dieta -> zdrowie"])), [(0, Head, 1)]);
}

#[test]
fn malformed_terms_are_refused() {
    for words in [
        &["*"][..],
        &["~"],
        &["~1"],
        &["~3x"],
        &["dieta~3x"],
        &["dieta~9"],
        &["dieta~3"],
        &["diet*~1"],
        &["dieta", "#*", "*"],
        &["* -> dieta"],
        &["dieta", "->", "zdrow~7"],
    ] {
        match Search::parse_terms(words) {
            Err(Error::BadQuery { query, reason }) => {
                assert_eq!(query, words.join(" "));
                assert!(!reason.is_empty());
            }
            other => panic!("{words:?} gave {other:?}"),
        }
    }
    assert!(matches!(
        Search::parse_terms::<&str>(&[]),
        Err(Error::NoTerms)
    ));
    // A search built by hand is checked when it runs.
    let polish = Polish::new();
    for search in [
        Search::new(["dieta", "*"]),
        Search::new(["ą~5"]),
        Search::pair("dieta", "~"),
    ] {
        assert!(matches!(
            polish.index.search(&search),
            Err(Error::BadQuery { .. })
        ));
        assert!(matches!(
            polish.index.count(&search),
            Err(Error::BadQuery { .. })
        ));
        assert!(matches!(
            polish.index.count_by_layer(&search),
            Err(Error::BadQuery { .. })
        ));
    }
    // Symbols inside a token are part of it, and so is a `~` followed by
    // something other than letters and digits.
    assert!(Search::parse_terms(&["a*b", "#", "~/", "a~/"]).is_ok());
}

#[test]
fn a_prefix_too_long_to_look_up_is_a_bad_query() {
    let polish = Polish::new();
    let word = format!("{}*", "a".repeat(990));
    let search = Search::parse_terms(&[&word]).expect("parses");
    for result in [
        polish.index.search(&search).map(|_| ()),
        polish.index.count(&search).map(|_| ()),
        polish.index.count_by_layer(&search).map(|_| ()),
    ] {
        match result {
            Err(Error::BadQuery { reason, .. }) => {
                assert!(reason.contains("too long"), "{reason}");
                assert!(!reason.contains("Regex"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // A long prefix within the limit still runs.
    let fine = Search::parse_terms(&[format!("{}*", "a".repeat(100))]).expect("parses");
    assert!(polish.index.search(&fine).expect("searches").is_empty());
}

#[test]
fn a_tilde_with_a_bad_distance_is_explained() {
    for word in ["dieta~x", "dieta~one", "dieta~2x"] {
        match Search::parse_terms(&[word]) {
            Err(Error::BadQuery { query, reason }) => {
                assert_eq!(query, word);
                assert!(
                    reason.contains("`dieta~`")
                        && reason.contains("`dieta~1`")
                        && reason.contains("`dieta~2`"),
                    "{reason}"
                );
            }
            other => panic!("{word:?} gave {other:?}"),
        }
    }
    let polish = Polish::new();
    assert!(matches!(
        polish.index.search(&Search::new(["dieta~x"])),
        Err(Error::BadQuery { .. })
    ));
}

#[test]
fn decomposed_letters_match_composed_ones() {
    let polish = Polish::new();
    // `ą` typed as `a` and a combining ogonek (NFD), and as one character.
    let decomposed = "dieta\u{328}";
    for matching in [Matching::Exact, Matching::Folded] {
        let find = |word: &str| {
            let search = Search {
                matching,
                ..parse(&[word])
            };
            polish.index.search(&search).expect("searches")
        };
        let composed = find("dietą");
        assert!(!composed.is_empty(), "{matching:?}");
        assert_eq!(find(decomposed), composed, "{matching:?}");
        assert_eq!(find("dieta\u{328}*"), find("dietą*"), "{matching:?}");
    }
    // And the other way round: a token stored decomposed is found composed.
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("index");
    let entries = [neuron(
        (0, 0, Side::Key, Polarity::Top),
        1,
        (1, "dieta\u{328}"),
        1.0,
    )];
    build_both(&dir, &entries, &[]);
    let index = Index::open(&dir).expect("opens");
    let exact = Search {
        matching: Matching::Exact,
        ..Search::new(["DIETĄ"])
    };
    let hits = index.search(&exact).expect("searches");
    assert_eq!(hits.iter().map(shown).collect::<Vec<_>>(), [decomposed]);
}
