//! File patterns for hub datasets: `*` within a path segment, `**` across
//! segments, and the rest of glob syntax (`?`, `[abc]`, `{a,b}`) from `globset`.

use globset::{GlobBuilder, GlobMatcher};

use crate::error::{CorpusError, Result};

/// A compiled pattern over `/`-separated repository paths.
pub(crate) struct Pattern(GlobMatcher);

impl Pattern {
    /// Compiles `pattern`; malformed syntax (an unclosed `[` or `{`) is an error.
    pub(crate) fn new(pattern: &str) -> Result<Pattern> {
        let glob = GlobBuilder::new(pattern)
            // Without this `*` would also cross `/`, and `data/*.jsonl` would
            // read every subdirectory of `data`.
            .literal_separator(true)
            .build()
            .map_err(|source| CorpusError::Pattern {
                pattern: pattern.to_string(),
                source,
            })?;
        Ok(Pattern(glob.compile_matcher()))
    }

    /// Whether `path` matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        self.0.is_match(path)
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn matches(pattern: &str, path: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn stars_and_double_stars() {
        assert!(matches("data/*.jsonl", "data/train.jsonl"));
        assert!(!matches("data/*.jsonl", "data/sub/train.jsonl"));
        assert!(matches("data/**/*.jsonl", "data/sub/train.jsonl"));
        assert!(matches("data/**/*.jsonl", "data/train.jsonl"));
        assert!(matches("**/*.jsonl", "train.jsonl"));
        assert!(matches("**/*.jsonl", "a/b/train.jsonl"));
        assert!(!matches("data/*.jsonl", "data/train.csv"));
        assert!(!matches("*.jsonl", "data/train.jsonl"));
    }

    #[test]
    fn alternatives_and_classes() {
        assert!(matches("data/*.{jsonl,csv}", "data/train.csv"));
        assert!(matches(
            "data/train-0000[0-4].parquet",
            "data/train-00003.parquet"
        ));
        assert!(!matches(
            "data/train-0000[0-4].parquet",
            "data/train-00005.parquet"
        ));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        let error = Pattern::new("data/[ab.jsonl")
            .err()
            .expect("unclosed class");
        assert!(error.to_string().contains("data/[ab.jsonl"), "{error}");
        assert!(std::error::Error::source(&error).is_some());
    }
}
