//! How hits are ordered, filtered, limited, counted and reported.

use glossa_index::{Error, Hit, Index, IndexBuilder, PairSide, Search, Sort};
use glossa_tables::{Circuit, Polarity, Side, UnitKind};

use crate::support::{
    dieta_order, entries, entry_place, matched, neuron, pair, pair_place, pairs, place, Fixture,
    Place, BUDGET,
};

#[test]
fn hits_are_ranked_by_rank_then_strength_then_place() {
    let fixture = Fixture::new();
    let places: Vec<_> = fixture.find(&["dieta"]).iter().map(place).collect();
    assert_eq!(places, dieta_order());
}

/// Lists on different scales: z, rank and |score| each order them differently.
#[test]
fn the_sort_picks_z_rank_or_score() {
    use Polarity::{Bottom, Top};
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let mut builder = IndexBuilder::create(dir.path(), BUDGET, 1).expect("starts");
    let token = (100, "dieta");
    // (layer, unit, polarity, rank, score, z)
    let lists = [
        (0, 1, Top, 1, 0.03, 2.5),
        (0, 2, Top, 4, 0.97, 30.0),
        (1, 5, Bottom, 2, -5.0, -8.0),
        (2, 0, Top, 3, 2.0, 12.0),
    ];
    for (layer, unit, polarity, rank, score, z) in lists {
        let mut entry = neuron((layer, unit, Side::Value, polarity), rank, token, score);
        entry.z = z;
        builder.add(&entry).expect("adds");
    }
    let mut head = pair((1, 0, Circuit::Qk, Top), 1, token, (7, "zdrowie"), 0.5);
    head.z = 20.0;
    builder.add_pair(&head).expect("adds");
    builder.finish().expect("finishes");
    let index = Index::open(dir.path()).expect("opens");
    let order = |sort: Sort| -> Vec<(u32, u32)> {
        let search = Search {
            sort,
            ..Search::new(["dieta"])
        };
        index
            .search(&search)
            .expect("searches")
            .iter()
            .map(|hit| (hit.layer(), hit.unit()))
            .collect()
    };
    // |z| falling, the bottom list's -8 by its magnitude.
    assert_eq!(order(Sort::Z), [(0, 2), (1, 0), (2, 0), (1, 5), (0, 1)]);
    assert_eq!(Search::new(["dieta"]).sort, Sort::Z, "z is the default");
    // Rank rising, then |score| falling.
    assert_eq!(order(Sort::Rank), [(1, 0), (0, 1), (1, 5), (2, 0), (0, 2)]);
    // |score| falling.
    assert_eq!(order(Sort::Score), [(1, 5), (2, 0), (0, 2), (1, 0), (0, 1)]);
    // The page counts every match, however few it keeps.
    let page = index
        .page(&Search {
            limit: 2,
            ..Search::new(["dieta"])
        })
        .expect("searches");
    assert_eq!((page.hits.len(), page.total), (2, 5));
}

#[test]
fn hits_carry_every_field_of_their_entry() {
    let fixture = Fixture::new();
    let (entries, pairs) = (entries(), pairs());
    let hits = fixture.find(&["dieta", "owa", "łódź", "(", "dieta,", "zdrowie"]);
    assert_eq!(hits.len(), entries.len() + pairs.len());
    for hit in &hits {
        match hit {
            Hit::Neuron(neuron) => {
                let entry = entries
                    .iter()
                    .find(|entry| entry_place(entry) == place(hit))
                    .expect("every neuron hit comes from an entry");
                assert_eq!(neuron.side, entry.side);
                assert_eq!(neuron.token_id, entry.token_id);
                assert_eq!(neuron.token, entry.token);
                assert_eq!(neuron.score.to_bits(), entry.score.to_bits());
                assert_eq!(neuron.z.to_bits(), entry.z.to_bits());
            }
            Hit::Head(head) => {
                let pair = pairs
                    .iter()
                    .find(|pair| pair_place(pair) == place(hit))
                    .expect("every head hit comes from a pair");
                assert_eq!(head.head, pair.head);
                assert_eq!(head.circuit, pair.circuit);
                assert_eq!(head.src_token_id, pair.src_token_id);
                assert_eq!(head.src_token, pair.src_token);
                assert_eq!(head.dst_token_id, pair.dst_token_id);
                assert_eq!(head.dst_token, pair.dst_token);
                assert_eq!(head.score.to_bits(), pair.score.to_bits());
                assert_eq!(head.z.to_bits(), pair.z.to_bits());
            }
        }
    }
}

#[test]
fn filters_narrow_the_hits() {
    let fixture = Fixture::new();
    let places = |search: Search| -> Vec<_> {
        fixture
            .search(&Search {
                limit: 100,
                ..search
            })
            .iter()
            .map(place)
            .collect()
    };
    let expect = |keep: &dyn Fn(&Place) -> bool| -> Vec<_> {
        dieta_order()
            .into_iter()
            .filter(|place| keep(place))
            .collect()
    };
    let dieta = || Search::new(["dieta"]);

    let by_layer = places(Search {
        layer: Some(1),
        ..dieta()
    });
    assert_eq!(by_layer, expect(&|p| p.1 == 1));
    assert_eq!(by_layer.len(), 4);

    // A side is a neuron's: heads are left out.
    let by_side = places(Search {
        side: Some(Side::Value),
        ..dieta()
    });
    assert_eq!(by_side, expect(&|p| p.3 == "value"));
    assert_eq!(by_side.len(), 3);

    let by_polarity = places(Search {
        polarity: Some(Polarity::Bottom),
        ..dieta()
    });
    assert_eq!(by_polarity, expect(&|p| p.4 == Polarity::Bottom));
    assert_eq!(by_polarity.len(), 5);

    let heads = places(Search {
        kind: Some(UnitKind::Head),
        ..dieta()
    });
    assert_eq!(heads, expect(&|p| p.0 == UnitKind::Head));
    assert_eq!(heads.len(), 5);
    let neurons = places(Search {
        kind: Some(UnitKind::Neuron),
        ..dieta()
    });
    assert_eq!(neurons, expect(&|p| p.0 == UnitKind::Neuron));
    assert_eq!(neurons.len(), 6);

    // A circuit is a head's: neurons are left out.
    let by_circuit = places(Search {
        circuit: Some(Circuit::Qk),
        ..dieta()
    });
    assert_eq!(by_circuit, expect(&|p| p.3 == "qk"));
    assert_eq!(by_circuit.len(), 3);
    // Filters that contradict each other are refused, naming both.
    for (contradiction, named) in [
        (
            Search {
                circuit: Some(Circuit::Vo),
                kind: Some(UnitKind::Neuron),
                ..dieta()
            },
            ["circuit (vo)", "neurons only"],
        ),
        (
            Search {
                side: Some(Side::Key),
                kind: Some(UnitKind::Head),
                ..dieta()
            },
            ["side (key)", "heads only"],
        ),
        (
            Search {
                side: Some(Side::Key),
                circuit: Some(Circuit::Vo),
                ..dieta()
            },
            ["side (key)", "circuit (vo)"],
        ),
    ] {
        let error = fixture
            .index
            .search(&contradiction)
            .expect_err("contradictory");
        let message = error.to_string();
        assert!(
            matches!(error, Error::InvalidSearch { .. })
                && named.iter().all(|name| message.contains(name)),
            "{message}"
        );
        assert!(matches!(
            contradiction.validate(),
            Err(Error::InvalidSearch { .. })
        ));
        assert!(fixture.index.count(&contradiction).is_err());
    }

    let combined = places(Search {
        layer: Some(2),
        side: Some(Side::Key),
        polarity: Some(Polarity::Top),
        kind: Some(UnitKind::Neuron),
        ..dieta()
    });
    assert_eq!(
        combined,
        [(UnitKind::Neuron, 2, 0, "key", Polarity::Top, 1)]
    );
    let combined_heads = places(Search {
        layer: Some(1),
        circuit: Some(Circuit::Qk),
        polarity: Some(Polarity::Bottom),
        ..dieta()
    });
    assert_eq!(
        combined_heads,
        [
            (UnitKind::Head, 1, 5, "qk", Polarity::Bottom, 1),
            (UnitKind::Head, 1, 5, "qk", Polarity::Bottom, 2)
        ]
    );

    assert!(places(Search {
        layer: Some(9),
        ..dieta()
    })
    .is_empty());
}

#[test]
fn limit_cuts_the_hits_but_not_the_count() {
    let fixture = Fixture::new();
    let all = fixture.find(&["dieta"]);
    // A limit of 0 leaves room for no hit: refused, though counting ignores it.
    let zero = Search {
        limit: 0,
        ..Search::new(["dieta"])
    };
    let error = fixture.index.search(&zero).expect_err("refused");
    assert!(
        matches!(&error, Error::InvalidSearch { reason } if reason.contains("limit")),
        "{error}"
    );
    assert_eq!(fixture.index.count(&zero).expect("count"), 11);
    for limit in [1, 3, 7, 50] {
        let search = Search {
            limit,
            ..Search::new(["dieta"])
        };
        let hits = fixture.search(&search);
        assert_eq!(hits, all[..limit.min(all.len())], "limit {limit}");
        assert_eq!(
            fixture.index.count(&search).expect("count"),
            11,
            "limit {limit}"
        );
    }
    let filtered = Search {
        limit: 1,
        layer: Some(0),
        ..Search::new(["dieta", "owa"])
    };
    assert_eq!(fixture.index.count(&filtered).expect("count"), 6);
    assert_eq!(
        fixture
            .index
            .count(&Search::new(["nothing"]))
            .expect("count"),
        0
    );
    assert_eq!(
        fixture.index.entries(),
        (entries().len() + pairs().len()) as u64
    );
}

#[test]
fn a_search_needs_a_term() {
    let fixture = Fixture::new();
    let empty = Search::new(Vec::<String>::new());
    assert!(matches!(fixture.index.search(&empty), Err(Error::NoTerms)));
    assert!(matches!(fixture.index.count(&empty), Err(Error::NoTerms)));
}

#[test]
fn hits_serialise_with_table_names() {
    let fixture = Fixture::new();
    let hits = fixture.find(&["owa"]);
    assert_eq!(hits[0].kind(), UnitKind::Neuron);
    // Byte for byte, so that keys keep their order too.
    assert_eq!(
        serde_json::to_string(&hits[0]).expect("serialises"),
        r#"{"kind":"neuron","layer":0,"unit":7,"side":"key","polarity":"bottom","rank":1,"token_id":201,"token":"owa","score":-6.0,"z":-906.0}"#
    );
    let json = serde_json::to_value(&hits[0]).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "kind": "neuron",
            "layer": 0,
            "unit": 7,
            "side": "key",
            "polarity": "bottom",
            "rank": 1,
            "token_id": 201,
            "token": "owa",
            "score": -6.0,
            "z": -906.0,
        })
    );
}

#[test]
fn head_hits_serialise_with_their_own_fields() {
    let fixture = Fixture::new();
    let hits = fixture.find(&["owa"]);
    let head = hits.last().expect("a head hit");
    assert_eq!(matched(head), Some(PairSide::Both));
    assert_eq!(
        serde_json::to_string(head).expect("serialises"),
        concat!(
            r#"{"kind":"head","layer":2,"unit":1,"circuit":"qk","polarity":"top","rank":3,"#,
            r#""score":1.0,"z":701.0,"src_token_id":201,"src_token":"owa","dst_token_id":200,"#,
            r##""dst_token":"#owa","matched":"both"}"##
        )
    );
}
