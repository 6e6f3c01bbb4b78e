//! When does a query match a token? One function answers for both sides.
//!
//! The index stores, for every token, its *term*: its display form passed
//! through [`normalize`]. A query term goes through the same function before it is
//! looked up, so the two can never drift apart. Terms are whole tokens: nothing is
//! split on punctuation or spaces, because `(` and `dieta,` are tokens in their own
//! right.

use tantivy::tokenizer::{AsciiFoldingFilter, RawTokenizer, TextAnalyzer, TokenStream};
use unicode_normalization::UnicodeNormalization;

/// Characters that mark a word-initial piece in raw tokenizer vocabularies: GPT-2's
/// byte-level `Ġ`, SentencePiece's `▁`, and the plain space they stand for.
const WORD_MARKERS: [char; 3] = ['Ġ', '▁', ' '];

/// The prefix of a continuation piece in the display form (`#owa`).
const CONTINUATION_MARKER: char = '#';

/// The term under which a token is indexed and a query term is looked up.
///
/// Four steps, in this order:
/// 1. a leading word marker (`Ġ`, `▁` or a space) is dropped, so the raw piece
///    `Ġdieta` and the query ` dieta` both become `dieta`;
/// 2. a leading `#` is dropped, so the continuation piece `#owa` matches `owa`;
/// 3. the rest is lowercased by Unicode rules (`Łódź` becomes `łódź`);
/// 4. and brought to Unicode normal form C, so that a letter typed as a base
///    letter and a combining mark (`a` + U+0328, as some keyboards and file
///    systems write `ą`) is the same term as the precomposed one.
///
/// A marker is only dropped when something follows it: the token that is just a
/// space, or just `#`, must still have a term of its own.
pub fn normalize(text: &str) -> String {
    let text = strip_leading(text, &WORD_MARKERS);
    let text = strip_leading(text, &[CONTINUATION_MARKER]);
    // Composed after lowercasing: lowercasing can itself leave a decomposed
    // sequence (`İ` becomes `i` + U+0307).
    text.to_lowercase().nfc().collect()
}

/// The diacritic-insensitive term: [`normalize`], then folded to ASCII where a
/// folding exists (`Łódź` becomes `lodz`, `Straße` becomes `strasse`).
pub fn fold(text: &str) -> String {
    fold_normalized(&normalize(text))
}

/// Folds a term that has already been through [`normalize`].
///
/// Kept apart from [`fold`] because normalising twice is not always the same as
/// once (`# x` becomes ` x`, then `x`): the index folds the term it stores, exactly
/// as a query folds the term it looks up.
///
/// tantivy's own folding table is used, through a single-token analyzer, so the
/// mapping is the one its users know.
pub(crate) fn fold_normalized(term: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(term);
    // The raw tokenizer yields exactly one token; should it ever yield none, the
    // unfolded term is the honest fallback.
    match stream.next() {
        Some(token) => token.text.clone(),
        None => term.to_string(),
    }
}

/// Whether the display form `token` is a continuation piece: `#` followed by
/// something (the token that is just `#` is not).
pub(crate) fn is_continuation(token: &str) -> bool {
    token.len() > 1 && token.starts_with(CONTINUATION_MARKER)
}

/// Drops one leading character from `markers` when anything follows it.
fn strip_leading<'t>(text: &'t str, markers: &[char]) -> &'t str {
    match text.strip_prefix(markers) {
        Some(rest) if !rest.is_empty() => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_case_are_ignored() {
        for query in [
            "dieta", "DIETA", "Ġdieta", " dieta", "▁Dieta", "#dieta", "Ġ#dieta",
        ] {
            assert_eq!(normalize(query), "dieta", "{query:?}");
        }
        assert_eq!(normalize("Łódź"), "łódź");
    }

    #[test]
    fn a_lone_marker_keeps_its_term() {
        assert_eq!(normalize(" "), " ");
        assert_eq!(normalize("#"), "#");
        assert_eq!(normalize("##"), "#");
        assert_eq!(normalize("Ġ#"), "#");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn nothing_is_split() {
        assert_eq!(normalize("dieta,"), "dieta,");
        assert_eq!(normalize("("), "(");
        assert_eq!(normalize("<C5>"), "<c5>");
    }

    #[test]
    fn decomposed_letters_are_composed() {
        let decomposed = "DIETA\u{328}";
        assert_eq!(normalize(decomposed), "dietą");
        assert_eq!(fold(decomposed), "dieta");
        assert_eq!(normalize("Ło\u{301}dz\u{301}"), normalize("Łódź"));
    }

    #[test]
    fn folding_removes_diacritics() {
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("#ÓWA"), "owa");
        assert_eq!(fold("lodz"), "lodz");
    }
}
