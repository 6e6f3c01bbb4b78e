//! Token lists from corpora: which tokens occur in a collection of texts.
//!
//! The paper restricts lists to tokens seen in a corpus (`only_from_list`),
//! optionally only the most frequent ones (`max_tokens_num`). A
//! [`CorpusSource`] names the texts — a text file or directory of them, a
//! JSONL, CSV or Parquet file with a text column, or a dataset on the Hugging
//! Face hub with a file pattern — and [`count_tokens`] tokenizes them in
//! parallel into a [`TokenCounts`].

pub use error::{CorpusError, Result};
pub use source::{CorpusSource, TextFormat};
pub use tokens::{count_tokens, TokenCounts};

mod error;
mod pattern;
mod read;
mod source;
mod tokens;
