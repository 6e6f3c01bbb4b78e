//! Head pairs: found by either token, counted once, searched by direction.

use std::collections::BTreeSet;

use glossa_index::{Error, Hit, Index, IndexBuilder, Lookup, Matching, PairSide, Search};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use tempfile::TempDir;

use crate::support::{build_both, matched, neuron, pair, pairs, shown, Fixture, BUDGET};

/// The hits of `search` with a large limit, as (what they show, what matched),
/// after checking that the count agrees.
fn pairs_found(fixture: &Fixture, search: Search) -> Vec<(String, Option<PairSide>)> {
    let search = Search {
        limit: 1000,
        ..search
    };
    let hits = fixture.search(&search);
    assert_eq!(fixture.index.count(&search).expect("count"), hits.len());
    hits.iter().map(|hit| (shown(hit), matched(hit))).collect()
}

fn heads(terms: &[&str]) -> Search {
    Search {
        kind: Some(UnitKind::Head),
        ..Search::new(terms.iter().copied())
    }
}

fn found(list: &[(&str, Option<PairSide>)]) -> Vec<(String, Option<PairSide>)> {
    list.iter()
        .map(|&(shown, matched)| (shown.to_string(), matched))
        .collect()
}

#[test]
fn a_pair_is_found_by_either_token() {
    use PairSide::{Dst, Src};
    let fixture = Fixture::new();
    assert_eq!(
        pairs_found(&fixture, heads(&["zdrowie"])),
        found(&[
            ("dieta -> zdrowie", Some(Dst)),
            ("zdrowie -> dieta", Some(Src)),
            ("Łódź -> zdrowie", Some(Dst)),
            ("zdrowie -> dieta", Some(Src)),
        ])
    );
}

#[test]
fn a_pair_whose_tokens_both_match_is_one_hit() {
    use PairSide::{Both, Dst, Src};
    let fixture = Fixture::new();
    // The same token as src and dst, and two tokens that both normalise to
    // `dieta`: one hit each, matched on both sides.
    assert_eq!(
        pairs_found(&fixture, heads(&["dieta"])),
        found(&[
            ("dieta -> zdrowie", Some(Src)),
            ("zdrowie -> dieta", Some(Dst)),
            ("dieta -> dieta", Some(Both)),
            ("zdrowie -> dieta", Some(Dst)),
            ("DIETA -> dieta", Some(Both)),
        ])
    );
    // Two terms, one for each token of a pair: still one hit per pair.
    let either = pairs_found(&fixture, heads(&["dieta", "zdrowie"]));
    assert_eq!(either.len(), 6);
    assert!(either
        .iter()
        .all(|(shown, matched)| shown.contains("Łódź") || *matched == Some(Both)));
}

#[test]
fn neurons_and_heads_are_ranked_together() {
    let fixture = Fixture::new();
    let kinds: Vec<UnitKind> = fixture.find(&["dieta"]).iter().map(Hit::kind).collect();
    use UnitKind::{Head, Neuron};
    assert_eq!(
        kinds,
        [Head, Neuron, Neuron, Neuron, Head, Neuron, Head, Head, Neuron, Head, Neuron]
    );
}

#[test]
fn a_pair_search_keeps_the_direction() {
    let fixture = Fixture::new();
    let both = Some(PairSide::Both);
    assert_eq!(
        pairs_found(&fixture, Search::pair("dieta", "zdrowie")),
        found(&[("dieta -> zdrowie", both)])
    );
    assert_eq!(
        pairs_found(&fixture, Search::pair("ZDROWIE", "Ġdieta")),
        found(&[("zdrowie -> dieta", both), ("zdrowie -> dieta", both)])
    );
    assert_eq!(
        pairs_found(&fixture, Search::pair("dieta", "dieta")),
        found(&[("dieta -> dieta", both), ("DIETA -> dieta", both)])
    );
    assert!(pairs_found(&fixture, Search::pair("dieta", "owa")).is_empty());
    assert!(pairs_found(&fixture, Search::pair("nothing", "dieta")).is_empty());
}

#[test]
fn a_pair_search_takes_filters_and_folding() {
    let fixture = Fixture::new();
    let zdrowie_dieta = || Search::pair("zdrowie", "dieta");
    let qk = pairs_found(
        &fixture,
        Search {
            circuit: Some(Circuit::Qk),
            ..zdrowie_dieta()
        },
    );
    assert_eq!(qk, found(&[("zdrowie -> dieta", Some(PairSide::Both))]));
    let bottom = Search {
        polarity: Some(Polarity::Bottom),
        ..zdrowie_dieta()
    };
    assert!(pairs_found(&fixture, bottom).is_empty());
    // Folding (the default) applies to both tokens.
    let exact = Search {
        matching: Matching::Exact,
        ..Search::pair("lodz", "ZDROWIE")
    };
    assert!(pairs_found(&fixture, exact).is_empty());
    assert_eq!(
        pairs_found(&fixture, Search::pair("lodz", "ZDROWIE")),
        found(&[("Łódź -> zdrowie", Some(PairSide::Both))])
    );
    let folded = pairs_found(
        &fixture,
        Search {
            matching: Matching::Folded,
            ..Search::pair("lodz", "ZDROWIE")
        },
    );
    assert_eq!(folded, found(&[("Łódź -> zdrowie", Some(PairSide::Both))]));
    let folded_dst = pairs_found(
        &fixture,
        Search {
            matching: Matching::Folded,
            ..Search::pair("owa", "ÓWA")
        },
    );
    assert_eq!(folded_dst, found(&[("owa -> #owa", Some(PairSide::Both))]));
}

#[test]
fn a_pair_search_for_neurons_is_refused() {
    let fixture = Fixture::new();
    // Neurons hold no pairs: the neuron kind or a side contradicts a pair.
    for (search, named) in [
        (
            Search {
                kind: Some(UnitKind::Neuron),
                ..Search::pair("dieta", "zdrowie")
            },
            "kind",
        ),
        (
            Search {
                side: Some(Side::Key),
                ..Search::pair("dieta", "zdrowie")
            },
            "side (key)",
        ),
    ] {
        let error = fixture.index.search(&search).expect_err("refused");
        let message = error.to_string();
        assert!(
            matches!(error, Error::InvalidSearch { .. })
                && message.contains("dieta -> zdrowie")
                && message.contains(named),
            "{message}"
        );
        assert!(matches!(
            fixture.index.count(&search),
            Err(Error::InvalidSearch { .. })
        ));
        assert!(matches!(
            fixture.index.count_by_layer(&search),
            Err(Error::InvalidSearch { .. })
        ));
    }
}

#[test]
fn query_words_parse_into_terms_or_a_pair() {
    let parse = |words: &[&str]| Search::parse_terms(words).expect("parses");
    assert_eq!(
        Lookup::parse(&["dieta", "owa"]).expect("parses"),
        Lookup::Terms(vec!["dieta".into(), "owa".into()])
    );
    assert_eq!(
        Lookup::parse(&["a->b"]).expect("parses"),
        Lookup::Pair("a".into(), "b".into())
    );
    assert_eq!(parse(&["dieta"]), Search::new(["dieta"]));
    assert_eq!(parse(&["dieta", "owa"]), Search::new(["dieta", "owa"]));
    // A word without an arrow is kept whole, spaces and all.
    assert_eq!(parse(&[" ", "a b"]), Search::new([" ", "a b"]));
    let pair = Search::pair("dieta", "zdrowie");
    for words in [
        &["dieta", "->", "zdrowie"][..],
        &["dieta->zdrowie"],
        &["dieta ->  zdrowie"],
        &["dieta", "→", "zdrowie"],
        &["dieta→zdrowie"],
        &["dieta->", "zdrowie"],
        &["dieta", "->zdrowie"],
        &["", "dieta", "", "->", "zdrowie"],
    ] {
        assert_eq!(parse(words), pair, "{words:?}");
    }
    // Tokens are taken as given; normalising is the search's business.
    assert_eq!(parse(&["Ġdieta->#owa"]), Search::pair("Ġdieta", "#owa"));
}

#[test]
fn malformed_queries_are_refused() {
    for words in [
        &["->", "zdrowie"][..],
        &["->zdrowie"],
        &["dieta", "->"],
        &["dieta->"],
        &["->"],
        &["→"],
        &["dieta", "->", "zdrowie", "->", "owa"],
        &["dieta->zdrowie->owa"],
        &["dieta", "->", "->", "zdrowie"],
        &["dieta", "owa", "->", "zdrowie"],
        &["dieta", "->", "zdrowie", "owa"],
        &["dieta owa -> zdrowie"],
    ] {
        match Search::parse_terms(words) {
            Err(Error::BadQuery { query, reason }) => {
                assert_eq!(query, words.join(" "));
                assert!(!reason.is_empty());
            }
            other => panic!("{words:?} gave {other:?}"),
        }
    }
    let error = Search::parse_terms(&["dieta", "->"]).expect_err("refused");
    assert!(error.to_string().contains("dieta ->"), "{error}");
    assert!(matches!(
        Search::parse_terms::<&str>(&[]),
        Err(Error::NoTerms)
    ));
    assert!(matches!(Search::parse_terms(&[""]), Err(Error::NoTerms)));
}

#[test]
fn a_neuron_hit_has_only_the_neuron_keys() {
    let fixture = Fixture::new();
    let keys = |hit: &Hit| -> BTreeSet<String> {
        let json = serde_json::to_value(hit).expect("serialises");
        json.as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    };
    let hits = fixture.find(&["dieta"]);
    let neuron = hits
        .iter()
        .find(|hit| hit.kind() == UnitKind::Neuron)
        .expect("a neuron hit");
    let head = hits
        .iter()
        .find(|hit| hit.kind() == UnitKind::Head)
        .expect("a head hit");
    let set = |names: &[&str]| names.iter().map(|name| name.to_string()).collect();
    assert_eq!(
        keys(neuron),
        set(&[
            "kind", "layer", "unit", "side", "polarity", "rank", "token_id", "token", "score", "z"
        ])
    );
    assert_eq!(
        keys(head),
        set(&[
            "kind",
            "layer",
            "unit",
            "circuit",
            "polarity",
            "rank",
            "score",
            "z",
            "src_token_id",
            "src_token",
            "dst_token_id",
            "dst_token",
            "matched"
        ])
    );
}

#[test]
fn an_index_of_heads_alone_answers() {
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("index");
    build_both(&dir, &[], &pairs());
    let index = Index::open(&dir).expect("opens");
    assert_eq!(index.entries(), pairs().len() as u64);
    let search = Search {
        limit: 100,
        ..Search::new(["dieta"])
    };
    assert_eq!(index.search(&search).expect("searches").len(), 5);
    assert_eq!(index.count(&search).expect("counts"), 5);
    let neurons = Search {
        kind: Some(UnitKind::Neuron),
        ..search
    };
    assert!(index.search(&neurons).expect("searches").is_empty());
}

#[test]
fn entries_and_pairs_are_checked_as_they_are_added() {
    let root = TempDir::new().expect("temporary directory");
    let mut builder = IndexBuilder::create(&root.path().join("index"), BUDGET, 1).expect("starts");
    let head_entry = glossa_index::NeuronEntry {
        kind: UnitKind::Head,
        ..neuron((0, 0, Side::Key, Polarity::Top), 1, (100, "dieta"), 1.0)
    };
    assert!(matches!(
        builder.add(&head_entry),
        Err(Error::UnexpectedKind {
            kind: UnitKind::Head
        })
    ));
    builder
        .add(&neuron(
            (0, 0, Side::Key, Polarity::Top),
            1,
            (100, "dieta"),
            1.0,
        ))
        .expect("adds");
    let place = (0, 0, Circuit::Vo, Polarity::Top);
    // A display form that disagrees with a neuron entry's, on either side.
    for clash in [
        pair(place, 1, (100, "other"), (400, "zdrowie"), 1.0),
        pair(place, 1, (400, "zdrowie"), (100, "other"), 1.0),
        // One id, two display forms.
        pair(place, 1, (500, "a"), (500, "b"), 1.0),
    ] {
        assert!(
            matches!(builder.add_pair(&clash), Err(Error::TokenMismatch { .. })),
            "{clash:?}"
        );
    }
    builder
        .add_pair(&pair(place, 1, (100, "dieta"), (400, "zdrowie"), 1.0))
        .expect("adds");
    let stats = builder.finish().expect("finishes");
    assert_eq!(stats.entries, 2);
}
