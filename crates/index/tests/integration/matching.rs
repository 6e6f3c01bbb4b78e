//! What matches what: case, word markers, continuation pieces, diacritics.

use glossa_index::{Hit, Matching, Search};

use crate::support::{shown, token, Fixture};

#[test]
fn case_is_ignored() {
    let fixture = Fixture::new();
    let lower = fixture.find(&["dieta"]);
    assert_eq!(lower.len(), 11);
    assert_eq!(fixture.find(&["DIETA"]), lower);
    assert_eq!(fixture.find(&["Dieta"]), lower);
    // Beyond ASCII too.
    let tokens = |query| -> Vec<String> { fixture.find(&[query]).iter().map(shown).collect() };
    assert_eq!(tokens("ŁÓDŹ"), ["Łódź -> zdrowie", "łódź", "Łódź"]);
    assert_eq!(tokens("łódź"), tokens("ŁÓDŹ"));
}

#[test]
fn word_markers_are_ignored() {
    let fixture = Fixture::new();
    let plain = fixture.find(&["dieta"]);
    for query in ["Ġdieta", " dieta", "▁dieta", "ĠDIETA"] {
        assert_eq!(fixture.find(&[query]), plain, "{query:?}");
    }
}

#[test]
fn bare_forms_match_continuation_pieces_too() {
    let fixture = Fixture::new();
    let bare = fixture.find(&["owa"]);
    let tokens: Vec<String> = bare.iter().map(shown).collect();
    assert_eq!(tokens, ["owa", "#owa", "#owa", "owa -> #owa"]);
    assert_eq!(fixture.find(&["Ġowa"]), bare);
}

#[test]
fn tokens_are_whole_terms() {
    let fixture = Fixture::new();
    let comma = fixture.find(&["dieta,"]);
    assert_eq!(comma.len(), 1);
    assert_eq!(token(&comma[0]), Some("dieta,"));
    assert_eq!(fixture.find(&["("]).len(), 1);
    assert!(fixture.find(&["diet"]).is_empty());
    assert!(fixture.find(&["dieta owa"]).is_empty());
}

#[test]
fn diacritics_count_only_when_exact() {
    let fixture = Fixture::new();
    let exact = fixture.search(&Search {
        matching: Matching::Exact,
        ..Search::new(["lodz"])
    });
    assert!(exact.is_empty());
    assert_eq!(Search::new(["lodz"]).matching, Matching::Folded);
    let folded = fixture.search(&Search {
        matching: Matching::Folded,
        ..Search::new(["LODZ"])
    });
    let tokens: Vec<String> = folded.iter().map(shown).collect();
    assert_eq!(tokens, ["Łódź -> zdrowie", "łódź", "Łódź"]);
    // Folding still ignores markers and applies to the query as well.
    let folded_query = fixture.search(&Search {
        matching: Matching::Folded,
        ..Search::new(["Ġłódź"])
    });
    assert_eq!(folded_query, folded);
}

#[test]
fn terms_are_or_ed() {
    let fixture = Fixture::new();
    let both = fixture.find(&["dieta", "owa"]);
    assert_eq!(both.len(), 15);
    // A term given twice, in any spelling, counts once.
    assert_eq!(fixture.find(&["dieta", "Ġdieta", "DIETA"]).len(), 11);
    // Hits of both terms are ranked together.
    let ranks: Vec<u32> = both.iter().map(Hit::rank).collect();
    assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");
}
