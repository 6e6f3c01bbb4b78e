//! File patterns for hub datasets: `*` within a path segment, `**` across segments.

/// Whether `path` (`/`-separated) matches `pattern`.
pub(crate) fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments(&pattern, &path)
}

fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            segments(&pattern[1..], path) || (!path.is_empty() && segments(pattern, &path[1..]))
        }
        (Some(p), Some(s)) => {
            segment(p.as_bytes(), s.as_bytes()) && segments(&pattern[1..], &path[1..])
        }
        _ => false,
    }
}

/// `*` matches any run of characters within one segment.
fn segment(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| segment(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && segment(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_double_stars() {
        assert!(matches("data/*.jsonl", "data/train.jsonl"));
        assert!(!matches("data/*.jsonl", "data/sub/train.jsonl"));
        assert!(matches("data/**/*.jsonl", "data/sub/train.jsonl"));
        assert!(matches("**/*.jsonl", "train.jsonl"));
        assert!(!matches("data/*.jsonl", "data/train.csv"));
    }
}
