//! Character filters: which tokens may appear in a list at all.
//!
//! The seed's filters (`ascii`, `alnum`, `no-brackets`) throw away every
//! Polish token with a diacritic; the Unicode-aware ones (`alpha`, `word`)
//! keep them. Filters look at a token's text without its word-initial space.
//! Pieces holding part of a multi-byte character pass no character-class
//! filter: they are not letters of any script.

use std::fmt;
use std::str::FromStr;

use crate::vocabulary::{Token, Vocabulary};

/// One selectable filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharFilter {
    /// Only ASCII characters (the seed's `only_ascii`).
    Ascii,
    /// Only ASCII letters and digits (the seed's `only_alnum`).
    Alnum,
    /// No brackets of any kind: `()[]{}<>` (the seed's `exclude_brackets`).
    NoBrackets,
    /// Only letters, in any script (`dietą`, `łódź`).
    Alpha,
    /// Only letters and digits, in any script.
    Word,
    /// At least this many characters.
    MinLen(usize),
    /// No special tokens (`<|endoftext|>`).
    NoSpecial,
}

impl FromStr for CharFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<CharFilter, String> {
        Ok(match s {
            "ascii" => CharFilter::Ascii,
            "alnum" => CharFilter::Alnum,
            "no-brackets" => CharFilter::NoBrackets,
            "alpha" => CharFilter::Alpha,
            "word" => CharFilter::Word,
            "no-special" => CharFilter::NoSpecial,
            other => match other.strip_prefix("min-len=") {
                Some(n) => CharFilter::MinLen(n.parse().map_err(|_| {
                    format!("min-len needs a number of characters, as in min-len=3; got {other:?}")
                })?),
                None => {
                    return Err(format!(
                        "unknown filter {other:?}; expected ascii, alnum, no-brackets, alpha, word, no-special or min-len=N"
                    ))
                }
            },
        })
    }
}

impl fmt::Display for CharFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CharFilter::Ascii => f.write_str("ascii"),
            CharFilter::Alnum => f.write_str("alnum"),
            CharFilter::NoBrackets => f.write_str("no-brackets"),
            CharFilter::Alpha => f.write_str("alpha"),
            CharFilter::Word => f.write_str("word"),
            CharFilter::MinLen(n) => write!(f, "min-len={n}"),
            CharFilter::NoSpecial => f.write_str("no-special"),
        }
    }
}

/// What the filters test, per token; also written to the tokens table so
/// every filter can be reproduced in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharClasses {
    /// Every character is ASCII.
    pub ascii: bool,
    /// Non-empty, every character an ASCII letter or digit.
    pub alnum: bool,
    /// Contains a bracket.
    pub brackets: bool,
    /// Non-empty, every character a letter.
    pub alpha: bool,
    /// Non-empty, every character a letter or digit.
    pub word: bool,
    /// Number of characters (a byte of a partial character counts as one).
    pub chars: usize,
}

impl CharClasses {
    /// The classes of one token.
    pub fn of(token: &Token) -> CharClasses {
        let word = token.text.strip_prefix(' ').unwrap_or(&token.text);
        let whole = !token.fragment && !word.is_empty();
        CharClasses {
            ascii: !token.fragment && word.is_ascii(),
            alnum: whole && word.chars().all(|c| c.is_ascii_alphanumeric()),
            brackets: word.chars().any(|c| "()[]{}<>".contains(c)),
            alpha: whole && word.chars().all(char::is_alphabetic),
            word: whole && word.chars().all(char::is_alphanumeric),
            chars: token.chars,
        }
    }

    /// Whether a token with these classes passes `filter`.
    pub fn passes(&self, filter: CharFilter, special: bool) -> bool {
        match filter {
            CharFilter::Ascii => self.ascii,
            CharFilter::Alnum => self.alnum,
            CharFilter::NoBrackets => !self.brackets,
            CharFilter::Alpha => self.alpha,
            CharFilter::Word => self.word,
            CharFilter::MinLen(n) => self.chars >= n,
            CharFilter::NoSpecial => !special,
        }
    }
}

/// `allowed[t]`: whether token t passes every filter.
pub fn allowed_tokens(vocabulary: &Vocabulary, filters: &[CharFilter]) -> Vec<bool> {
    vocabulary
        .tokens()
        .iter()
        .map(|token| {
            let classes = CharClasses::of(token);
            filters.iter().all(|&f| classes.passes(f, token.special))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::Token;

    fn token(text: &str, special: bool, fragment: bool) -> Token {
        let word = text.strip_prefix(' ').unwrap_or(text);
        Token {
            // A fragment in these tests is one escaped byte.
            chars: if fragment { 1 } else { word.chars().count() },
            id: 0,
            piece: text.to_string(),
            text: text.to_string(),
            display: text.to_string(),
            special,
            added: special,
            word_initial: text.starts_with(' '),
            fragment,
        }
    }

    fn passes(text: &str, filter: &str) -> bool {
        let t = token(text, false, text.contains("<C5>"));
        CharClasses::of(&t).passes(filter.parse().unwrap(), false)
    }

    #[test]
    fn seed_filters_drop_polish_but_unicode_ones_keep_it() {
        assert!(passes(" dieta", "ascii") && passes(" dieta", "alnum"));
        assert!(!passes(" dietą", "ascii") && !passes(" łódź", "alnum"));
        assert!(passes(" dietą", "alpha") && passes(" żółw", "word"));
        assert!(passes("ą", "alpha"), "continuation pieces are letters too");
    }

    #[test]
    fn digits_brackets_fragments_and_specials() {
        assert!(passes(" 2024", "word") && !passes(" 2024", "alpha"));
        assert!(passes(" 2024", "alnum"));
        assert!(!passes("(", "no-brackets") && !passes(" [x]", "no-brackets"));
        assert!(passes(" dieta", "no-brackets"));
        for filter in ["ascii", "alnum", "alpha", "word"] {
            assert!(!passes("<C5>", filter), "{filter}");
        }
        assert!(!passes(",", "alpha") && !passes(" ", "word"));
        let special = token("<|endoftext|>", true, false);
        assert!(!CharClasses::of(&special).passes(CharFilter::NoSpecial, true));
        assert!(CharClasses::of(&special).passes(CharFilter::NoSpecial, false));
    }

    #[test]
    fn min_len_counts_characters_not_bytes() {
        assert!(passes(" łódź", "min-len=4") && !passes(" łódź", "min-len=5"));
    }

    #[test]
    fn filters_parse_and_print() {
        for text in [
            "ascii",
            "alnum",
            "no-brackets",
            "alpha",
            "word",
            "no-special",
            "min-len=3",
        ] {
            assert_eq!(text.parse::<CharFilter>().unwrap().to_string(), text);
        }
        assert!("min-len=x"
            .parse::<CharFilter>()
            .unwrap_err()
            .contains("min-len=3"));
        assert!("latin".parse::<CharFilter>().unwrap_err().contains("alpha"));
    }
}
