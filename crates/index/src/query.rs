//! What does a query ask for? The query grammar, read once.
//!
//! A query's words name either tokens to look for or, around an arrow
//! (`dieta -> zdrowie`), a pair of them: a [`Lookup`]. Each token is a term: a
//! token to match whole (`dieta`), a prefix (`diet*`), or a token within an edit
//! distance (`dieta~1`, `dieta~2`; `dieta~` means 1). A leading `#` asks for
//! continuation pieces only (`#owa`); without it, a term matches word-initial and
//! continuation pieces alike. What "equal" means (case, word markers,
//! diacritics) is still [`normalize`](crate::normalize) or
//! [`fold`](crate::fold), as the search's [`Matching`](crate::Matching) says.

use crate::{Error, Result};

/// The arrows that separate the two tokens of a pair query.
const ARROWS: [&str; 2] = ["->", "→"];

/// What a [`Search`](crate::Search) looks for: tokens, or a pair of them.
///
/// Every token is read in the query syntax: `diet*` (a prefix), `dieta~1` or
/// `dieta~2` (within that edit distance; `dieta~` is `dieta~1`), `#owa`
/// (continuation pieces only; `owa` matches word-initial and continuation pieces
/// alike), or a token matched whole. A malformed one (`*`, `~1`, `dieta~3`,
/// `dieta~x`) makes the search fail with [`Error::BadQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Any of these tokens: a neuron entry matches if its token matches any of
    /// them, a head pair if either of its tokens does.
    Terms(Vec<String>),
    /// A (src, dst) pair of tokens: a head pair matches if its src matches the
    /// first and its dst the second. Neuron entries never match a pair.
    Pair(String, String),
}

impl Lookup {
    /// Reads the query `words`: the pair `A -> B` if they hold an arrow, else any
    /// of them.
    ///
    /// The arrow is `->` or `→`, standing alone (`dieta -> zdrowie`) or inside a
    /// word (`dieta->zdrowie`, `"dieta -> zdrowie"`); the text on either side of an
    /// arrow is split at white space, and each side must then hold exactly one
    /// token. Words without an arrow are kept whole, so `" "` looks for the space
    /// token. A word that is only an arrow is always read as one, so the arrow
    /// tokens themselves can only be looked for with [`Lookup::Terms`].
    ///
    /// Each token is then read in the query syntax described at [`Lookup`], and
    /// checked here, so that a malformed one is reported before any index is
    /// opened.
    ///
    /// Fails with [`Error::NoTerms`] if the words hold nothing to look for, and
    /// with [`Error::BadQuery`] for a malformed pair (`-> B`, `A ->`, `A B -> C`,
    /// `A -> B -> C`) or a malformed term (`*`, `~3x`, `dieta~9`).
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Lookup> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let lookup = Lookup::parse_words(&words)?;
        for term in lookup.terms() {
            Pattern::parse(term).map_err(|reason| Error::BadQuery {
                query: words.join(" "),
                reason: format!("{term:?}: {reason}"),
            })?;
        }
        Ok(lookup)
    }

    /// Every token the lookup names, in order.
    pub(crate) fn terms(&self) -> Vec<&str> {
        match self {
            Lookup::Terms(terms) => terms.iter().map(String::as_str).collect(),
            Lookup::Pair(src, dst) => vec![src, dst],
        }
    }

    /// [`Lookup::parse`] up to reading each token's syntax.
    fn parse_words(words: &[&str]) -> Result<Lookup> {
        let bad = |reason: &str| Error::BadQuery {
            query: words.join(" "),
            reason: reason.to_string(),
        };
        // Each word split at its arrows: `None` stands for an arrow.
        let mut pieces: Vec<Option<&str>> = Vec::new();
        for &word in words {
            if split_arrow(word).is_none() {
                if !word.is_empty() {
                    pieces.push(Some(word));
                }
                continue;
            }
            let mut rest = word;
            while let Some((before, after)) = split_arrow(rest) {
                pieces.extend(before.split_whitespace().map(Some));
                pieces.push(None);
                rest = after;
            }
            pieces.extend(rest.split_whitespace().map(Some));
        }
        let mut sides = pieces.split(Option::is_none);
        let (Some(src), dst, None) = (sides.next(), sides.next(), sides.next()) else {
            return Err(bad("a pair query has one arrow, between two tokens"));
        };
        let Some(dst) = dst else {
            let terms: Vec<String> = src.iter().flatten().map(|t| t.to_string()).collect();
            return if terms.is_empty() {
                Err(Error::NoTerms)
            } else {
                Ok(Lookup::Terms(terms))
            };
        };
        match (src, dst) {
            ([Some(src)], [Some(dst)]) => Ok(Lookup::Pair(src.to_string(), dst.to_string())),
            ([], _) => Err(bad("the arrow needs a token before it")),
            (_, []) => Err(bad("the arrow needs a token after it")),
            _ => Err(bad("a pair query has one token on each side of the arrow")),
        }
    }
}

/// The text before and after the first arrow in `text`, if it holds one.
fn split_arrow(text: &str) -> Option<(&str, &str)> {
    ARROWS
        .iter()
        .filter_map(|arrow| text.find(arrow).map(|at| (at, arrow.len())))
        .min()
        .map(|(at, len)| (&text[..at], &text[at + len..]))
}

/// The largest edit distance a fuzzy term may ask for.
pub(crate) const MAX_DISTANCE: u8 = 2;

/// How a term is compared with the indexed terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Shape {
    /// Equal to the whole term.
    Whole,
    /// Starting with the term.
    Prefix,
    /// Within this many edits (insertions, deletions, substitutions,
    /// transpositions) of the term.
    Fuzzy(u8),
}

/// One query word, read: its text (still to be normalised), its shape, and
/// whether it wants continuation pieces only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pattern<'w> {
    pub(crate) text: &'w str,
    pub(crate) shape: Shape,
    pub(crate) continuation: bool,
}

impl<'w> Pattern<'w> {
    /// Reads `word`; on failure, says what is wrong with it.
    ///
    /// A trailing `*` makes a prefix; a last `~` followed by nothing or by letters
    /// and digits makes a fuzzy term, whose distance must then be valid
    /// (`dieta~3x` and `dieta~x` are refused). A leading `#` with something after
    /// it asks for continuation pieces. A `*` or `~` elsewhere is part of the
    /// token (`a*b`, `~/`).
    pub(crate) fn parse(word: &'w str) -> Result<Pattern<'w>, String> {
        let (text, shape) = if let Some((text, distance)) = fuzzy_suffix(word) {
            let distance = parse_distance(distance)?;
            if text.ends_with('*') && text.len() > 1 {
                return Err("a term is either a prefix (`*`) or fuzzy (`~`), not both".into());
            }
            (text, Shape::Fuzzy(distance))
        } else if let Some(text) = word.strip_suffix('*') {
            (text, Shape::Prefix)
        } else {
            (word, Shape::Whole)
        };
        let (text, continuation) = match text.strip_prefix('#') {
            Some(rest) if !rest.is_empty() => (rest, true),
            _ => (text, false),
        };
        if text.is_empty() && shape != Shape::Whole {
            let what = match shape {
                Shape::Prefix => "`*` needs some text before it",
                _ => "`~` needs some text before it",
            };
            return Err(what.into());
        }
        Ok(Pattern {
            text,
            shape,
            continuation,
        })
    }
}

/// The text before and the suffix after a fuzzy `~`, if `word` ends in one.
///
/// A suffix of letters and digits is taken as a (possibly mistyped) distance,
/// so that `dieta~x` is refused rather than looked for as a token nobody has.
fn fuzzy_suffix(word: &str) -> Option<(&str, &str)> {
    let (text, suffix) = word.rsplit_once('~')?;
    let fuzzy = suffix.chars().all(char::is_alphanumeric);
    fuzzy.then_some((text, suffix))
}

/// The edit distance that follows a `~`: 1 if none is given.
fn parse_distance(digits: &str) -> Result<u8, String> {
    if digits.is_empty() {
        return Ok(1);
    }
    match digits.parse::<u8>() {
        Ok(distance) if distance <= MAX_DISTANCE => Ok(distance),
        Ok(_) => Err(format!(
            "the edit distance after `~` is at most {MAX_DISTANCE}"
        )),
        Err(_) => Err(format!(
            "`~` makes a fuzzy term and is followed by nothing or by an edit distance \
             up to {MAX_DISTANCE} (`dieta~`, `dieta~1`, `dieta~2`)"
        )),
    }
}

/// `text` with every character a regular expression gives a meaning escaped, so
/// that it matches itself.
pub(crate) fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(word: &str) -> (&str, Shape, bool) {
        let pattern = Pattern::parse(word).expect("parses");
        (pattern.text, pattern.shape, pattern.continuation)
    }

    #[test]
    fn words_read_as_patterns() {
        assert_eq!(parsed("dieta"), ("dieta", Shape::Whole, false));
        assert_eq!(parsed("diet*"), ("diet", Shape::Prefix, false));
        assert_eq!(parsed("dieta~"), ("dieta", Shape::Fuzzy(1), false));
        assert_eq!(parsed("dieta~2"), ("dieta", Shape::Fuzzy(2), false));
        assert_eq!(parsed("#owa"), ("owa", Shape::Whole, true));
        assert_eq!(parsed("#ow*"), ("ow", Shape::Prefix, true));
        // Lone markers and inner symbols are tokens of their own.
        assert_eq!(parsed("#"), ("#", Shape::Whole, false));
        assert_eq!(parsed("a~/"), ("a~/", Shape::Whole, false));
        assert_eq!(parsed("~/"), ("~/", Shape::Whole, false));
        assert_eq!(parsed("a*b"), ("a*b", Shape::Whole, false));
        assert_eq!(parsed("**"), ("*", Shape::Prefix, false));
    }

    #[test]
    fn malformed_words_are_refused() {
        for word in [
            "*", "~", "~1", "~3x", "dieta~3", "dieta~9", "dieta~1x", "diet*~1", "dieta~x", "a~b",
            "dieta~ą",
        ] {
            assert!(Pattern::parse(word).is_err(), "{word:?}");
        }
        let error = Pattern::parse("dieta~x").expect_err("refused");
        assert!(error.contains("`dieta~1`"), "{error}");
    }

    #[test]
    fn regex_escapes_its_syntax() {
        assert_eq!(escape_regex("a.b(c)*"), "a\\.b\\(c\\)\\*");
        assert_eq!(escape_regex("łódź"), "łódź");
    }
}
