use std::str::FromStr;

use glossa_synth::{synthetic_tokenizer, train_tokenizer, END_OF_TEXT, END_OF_TEXT_ID};
use tokenizers::Tokenizer;

use crate::support::shipped;

const PLANT_WORDS: [&str; 10] = [
    " dieta", " diety", " dietą", " dietę", " diecie", " łódź", " Łódź", " łodzi", " żółw",
    " zdrowie",
];

fn single_token(tokenizer: &Tokenizer, text: &str) -> u32 {
    let encoding = tokenizer.encode(text, false).expect("encodes");
    let ids = encoding.get_ids();
    assert_eq!(ids.len(), 1, "{text:?} encodes to {ids:?}");
    let decoded = tokenizer.decode(ids, false).expect("decodes");
    assert_eq!(decoded, text);
    ids[0]
}

#[test]
fn shipped_tokenizer_keeps_planted_words_whole() {
    let tokenizer = Tokenizer::from_str(&shipped().tokenizer_json).expect("loads");
    assert_eq!(tokenizer.get_vocab_size(true), 4096);
    for word in PLANT_WORDS {
        single_token(&tokenizer, word);
    }
    assert_eq!(tokenizer.token_to_id(END_OF_TEXT), Some(END_OF_TEXT_ID));
}

#[test]
fn shipped_tokenizer_round_trips_any_text() {
    let tokenizer = Tokenizer::from_str(&shipped().tokenizer_json).expect("loads");
    let text = "Zażółć gęślą jaźń, 3×7 = 21 — ☕ i 🐢 w Łodzi.\n\tKoniec.";
    let ids = tokenizer
        .encode(text, false)
        .expect("encodes")
        .get_ids()
        .to_vec();
    assert_eq!(tokenizer.decode(&ids, false).expect("decodes"), text);
}

#[test]
fn training_is_deterministic() {
    let texts: Vec<String> = [
        "Dieta i zdrowie idą w parze.",
        "Łódź płynie po jeziorze, a żółw śpi.",
        "Warzywa, owoce, dieta, dietetyk, dieta.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let first = train_tokenizer(&texts, 300).expect("trains");
    let second = train_tokenizer(&texts, 300).expect("trains");
    assert_eq!(first, second);
    let tokenizer = Tokenizer::from_str(&first).expect("loads");
    assert_eq!(tokenizer.get_vocab_size(true), 300);
    assert_eq!(tokenizer.token_to_id(END_OF_TEXT), Some(END_OF_TEXT_ID));
}

#[test]
fn training_rejects_a_vocabulary_without_merges() {
    assert!(train_tokenizer(&["abc".to_owned()], 257).is_err());
}

#[test]
fn synthetic_tokenizer_has_exactly_the_requested_size() {
    for size in [257, 300, 700, 5000] {
        let json = synthetic_tokenizer(size, 3).expect("builds");
        let tokenizer = Tokenizer::from_str(&json).expect("loads");
        assert_eq!(tokenizer.get_vocab_size(true), size);
        assert_eq!(tokenizer.token_to_id(END_OF_TEXT), Some(END_OF_TEXT_ID));
    }
    assert!(synthetic_tokenizer(256, 3).is_err());
}

#[test]
fn synthetic_tokenizer_is_byte_level_with_polish_pieces() {
    let json = synthetic_tokenizer(5000, 11).expect("builds");
    let tokenizer = Tokenizer::from_str(&json).expect("loads");
    for word in PLANT_WORDS {
        single_token(&tokenizer, word);
    }
    for letter in ["ą", "ż", "Ł"] {
        single_token(&tokenizer, letter);
    }
    let vocab = tokenizer.get_vocab(false);
    let spaced = vocab.keys().filter(|t| t.starts_with('Ġ') && t.len() > 3);
    assert!(
        spaced.count() > 1000,
        "most pseudo-words carry a leading space"
    );
    let text = "Zażółć gęślą jaźń — dieta 🐢";
    let ids = tokenizer
        .encode(text, false)
        .expect("encodes")
        .get_ids()
        .to_vec();
    assert_eq!(tokenizer.decode(&ids, false).expect("decodes"), text);
}

#[test]
fn synthetic_tokenizer_depends_only_on_its_seed() {
    let a = synthetic_tokenizer(1000, 5).expect("builds");
    assert_eq!(a, synthetic_tokenizer(1000, 5).expect("builds"));
    assert_ne!(a, synthetic_tokenizer(1000, 6).expect("builds"));
}
