//! How hits are ordered, filtered, limited, counted and reported.

use glossa_index::{Error, Search};
use glossa_tables::{Polarity, Side, UnitKind};

use crate::support::{dieta_order, entries, place, Fixture, Place};

#[test]
fn hits_are_ranked_by_rank_then_strength_then_place() {
    let fixture = Fixture::new();
    let places: Vec<_> = fixture.find(&["dieta"]).iter().map(place).collect();
    assert_eq!(places, dieta_order());
}

#[test]
fn hits_carry_every_field_of_their_entry() {
    let fixture = Fixture::new();
    let entries = entries();
    let hits = fixture.find(&["dieta", "owa", "łódź", "(", "dieta,"]);
    assert_eq!(hits.len(), entries.len());
    for hit in &hits {
        let entry = entries
            .iter()
            .find(|entry| {
                (
                    entry.kind,
                    entry.layer,
                    entry.unit,
                    entry.side,
                    entry.polarity,
                    entry.rank,
                ) == place(hit)
            })
            .expect("every hit comes from an entry");
        assert_eq!(hit.token_id, entry.token_id);
        assert_eq!(hit.token, entry.token);
        assert_eq!(hit.score.to_bits(), entry.score.to_bits());
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
    assert_eq!(by_layer.len(), 2);

    let by_side = places(Search {
        side: Some(Side::Value),
        ..dieta()
    });
    assert_eq!(by_side, expect(&|p| p.3 == Side::Value));
    assert_eq!(by_side.len(), 3);

    let by_polarity = places(Search {
        polarity: Some(Polarity::Bottom),
        ..dieta()
    });
    assert_eq!(by_polarity, expect(&|p| p.4 == Polarity::Bottom));
    assert_eq!(by_polarity.len(), 3);

    let heads = places(Search {
        kind: Some(UnitKind::Head),
        ..dieta()
    });
    assert_eq!(heads, expect(&|p| p.0 == UnitKind::Head));
    assert_eq!(heads.len(), 1);
    let neurons = places(Search {
        kind: Some(UnitKind::Neuron),
        ..dieta()
    });
    assert_eq!(neurons.len(), 6);

    let combined = places(Search {
        layer: Some(2),
        side: Some(Side::Key),
        polarity: Some(Polarity::Top),
        kind: Some(UnitKind::Neuron),
        ..dieta()
    });
    assert_eq!(
        combined,
        [(UnitKind::Neuron, 2, 0, Side::Key, Polarity::Top, 1)]
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
    for limit in [0, 1, 3, 7, 50] {
        let search = Search {
            limit,
            ..Search::new(["dieta"])
        };
        let hits = fixture.search(&search);
        assert_eq!(hits, all[..limit.min(all.len())], "limit {limit}");
        assert_eq!(
            fixture.index.count(&search).expect("count"),
            7,
            "limit {limit}"
        );
    }
    let filtered = Search {
        limit: 1,
        layer: Some(0),
        ..Search::new(["dieta", "owa"])
    };
    assert_eq!(fixture.index.count(&filtered).expect("count"), 5);
    assert_eq!(
        fixture
            .index
            .count(&Search::new(["nothing"]))
            .expect("count"),
        0
    );
    assert_eq!(fixture.index.entries(), entries().len() as u64);
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
        })
    );
}
