//! Render a tokenizer's vocabulary as text people can read.
//!
//! Byte-level BPE vocabularies (GPT-2 and its descendants) store each token as
//! a string of stand-in characters, one per byte: `Ġ` is a space, and a
//! Polish `ą` is the two characters `Ä…`. A [`Vocabulary`] maps every token
//! back to its bytes and renders them: complete UTF-8 characters as text,
//! pieces of a multi-byte character as byte escapes such as `<C5>` (never as
//! mojibake), and a short display form in the style of the paper's tables
//! (`dietą` for a word-initial piece, `#ą` for a continuation).

pub use error::{Result, VocabError};
pub use filters::{allowed_tokens, CharClasses, CharFilter};
pub use render::render_bytes;
pub use vocabulary::{Token, Vocabulary};

mod byte_level;
mod error;
mod filters;
mod render;
mod vocabulary;
