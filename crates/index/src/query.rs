//! What does a query word ask for? The syntax of one term, read once.
//!
//! A word is a token to match whole (`dieta`), a prefix (`diet*`), or a token
//! within an edit distance (`dieta~1`, `dieta~2`; `dieta~` means 1). A leading
//! `#` asks for continuation pieces only (`#owa`); without it, a word matches
//! word-initial and continuation pieces alike. What "equal" means (case, word
//! markers, diacritics) is still [`normalize`](crate::normalize) or
//! [`fold`](crate::fold), as the search's [`Matching`](crate::Matching) says.

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
    /// A trailing `*` makes a prefix; a last `~` followed by nothing or by digits
    /// makes a fuzzy term (a `~` followed by anything else is part of the token,
    /// unless a digit comes first: `dieta~3x` is refused). A leading `#` with
    /// something after it asks for continuation pieces. A `*` or `~` elsewhere is
    /// part of the token.
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

/// The text before and the digits after a fuzzy `~`, if `word` ends in one.
fn fuzzy_suffix(word: &str) -> Option<(&str, &str)> {
    let (text, suffix) = word.rsplit_once('~')?;
    let fuzzy = suffix.is_empty() || suffix.starts_with(|c: char| c.is_ascii_digit());
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
            "`~` is followed by an edit distance, a number up to {MAX_DISTANCE}"
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
        assert_eq!(parsed("a~b"), ("a~b", Shape::Whole, false));
        assert_eq!(parsed("a*b"), ("a*b", Shape::Whole, false));
        assert_eq!(parsed("**"), ("*", Shape::Prefix, false));
    }

    #[test]
    fn malformed_words_are_refused() {
        for word in [
            "*", "~", "~1", "~3x", "dieta~3", "dieta~9", "dieta~1x", "diet*~1",
        ] {
            assert!(Pattern::parse(word).is_err(), "{word:?}");
        }
    }

    #[test]
    fn regex_escapes_its_syntax() {
        assert_eq!(escape_regex("a.b(c)*"), "a\\.b\\(c\\)\\*");
        assert_eq!(escape_regex("łódź"), "łódź");
    }
}
