//! Bounded property tests standing in for fuzzing the query syntax: any words,
//! however malformed, give a search or a clean error, never a panic, and any
//! search that parses runs against an index. `make fuzz` runs many more cases
//! (`GLOSSA_FUZZ_CASES`).

use glossa_index::{Error, Lookup, Matching, Search};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::support::Fixture;

/// Cases per property: few in the normal test run, many under `make fuzz`.
fn config() -> Config {
    let cases = std::env::var("GLOSSA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Characters the query syntax gives a meaning, Polish letters, regex
/// metacharacters, markers and some odd Unicode, so that random words hit
/// the parser's corners often.
fn word() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "dieta", "ł", "ó", "Ł", "*", "~", "~1", "~2", "~9", "~x", "#", "->", "→", "-", ">", " ",
        "Ġ", "▁", "\\", ".", "(", ")", "[", "]", "{", "}", "^", "$", "|", "+", "?", "0", "1",
        "255", "\u{301}", "\u{0}", "😀", "ß", "İ", "\t", "\n",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..8).prop_map(|p| p.concat()),
        any::<String>(),
    ]
}

fn words() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(), 0..5)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_words_parse_or_are_refused_cleanly(words in words()) {
        match Search::parse_terms(&words) {
            Ok(search) => {
                let named = match search.lookup {
                    Lookup::Terms(terms) => !terms.is_empty(),
                    Lookup::Pair(..) => true,
                };
                prop_assert!(named);
            }
            Err(Error::NoTerms | Error::BadQuery { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn any_parsed_search_runs(words in words(), exact in any::<bool>(), limit in 0usize..50) {
        thread_local!(static FIXTURE: Fixture = Fixture::new());
        if let Ok(search) = Search::parse_terms(&words) {
            let search = Search {
                limit,
                matching: if exact { Matching::Exact } else { Matching::Folded },
                ..search
            };
            FIXTURE.with(|fixture| {
                // A clean error (a term tantivy cannot turn into an automaton)
                // is acceptable; a panic is not.
                if let Ok(hits) = fixture.index.search(&search) {
                    assert!(hits.len() <= limit);
                }
                let _ = fixture.index.count_by_layer(&search);
            });
        }
    }
}

/// Long terms: a Levenshtein automaton or regex over thousands of characters
/// must stay bounded (or be refused), not exhaust memory or time.
#[test]
fn long_terms_stay_bounded() {
    let fixture = Fixture::new();
    for suffix in ["", "*", "~1", "~2"] {
        for length in [300, 5000] {
            let word = format!("{}{suffix}", "ż".repeat(length));
            let started = std::time::Instant::now();
            if let Ok(search) = Search::parse_terms(&[word]) {
                let _ = fixture.index.search(&search);
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{length} chars, {suffix:?}: {:?}",
                started.elapsed()
            );
        }
    }
}
