//! Counting the tokens of a corpus.

use std::path::PathBuf;

use rayon::prelude::*;
use tokenizers::Tokenizer;

use crate::error::{CorpusError, Result};
use crate::read::texts;
use crate::source::TextFormat;

/// How often each token id occurs in a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCounts {
    counts: Vec<u64>,
}

impl TokenCounts {
    /// Counts from a saved list of (token id, count).
    pub fn from_pairs(
        vocabulary: usize,
        pairs: impl IntoIterator<Item = (u32, u64)>,
    ) -> TokenCounts {
        let mut counts = vec![0; vocabulary];
        for (id, count) in pairs {
            if let Some(slot) = counts.get_mut(id as usize) {
                *slot += count;
            }
        }
        TokenCounts { counts }
    }

    /// The count of every token id.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Tokens seen at least once, most frequent first (ties by id), at most
    /// `max_tokens` of them when given.
    pub fn seen(&self, max_tokens: Option<usize>) -> Vec<(u32, u64)> {
        let mut seen: Vec<(u32, u64)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(id, &c)| (id as u32, c))
            .collect();
        seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if let Some(max) = max_tokens {
            seen.truncate(max);
        }
        seen
    }
}

/// Tokenizes every text of `files` with `tokenizer` and counts the
/// tokens, in parallel; `progress(n)` after every `n` texts.
pub fn count_tokens(
    files: &[PathBuf],
    tokenizer: &Tokenizer,
    text_column: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<TokenCounts> {
    let vocabulary = tokenizer.get_vocab_size(true);
    let mut counts = vec![0u64; vocabulary];
    for file in files {
        let format = TextFormat::of(file).unwrap_or(TextFormat::Text);
        let texts = texts(file, format, text_column)?;
        let partial = texts
            .par_chunks(256)
            .map(|chunk| {
                let mut local = vec![0u64; vocabulary];
                for text in chunk {
                    let encoding = tokenizer
                        .encode(text.as_str(), false)
                        .map_err(|source| CorpusError::Encoding { source })?;
                    for &id in encoding.get_ids() {
                        if let Some(slot) = local.get_mut(id as usize) {
                            *slot += 1;
                        }
                    }
                }
                progress(chunk.len());
                Ok::<_, CorpusError>(local)
            })
            .try_reduce(
                || vec![0u64; vocabulary],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    Ok(a)
                },
            )?;
        counts.iter_mut().zip(partial).for_each(|(x, y)| *x += y);
    }
    Ok(TokenCounts { counts })
}
