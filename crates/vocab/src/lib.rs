//! Render a tokenizer's vocabulary as text people can read.
//!
//! Every tokenizer family spells its pieces its own way, and [`Scheme`] reads
//! which one from the tokenizer's parts (model, normalizer, pre-tokenizer,
//! decoder), never from a model name:
//!
//! | scheme | families | word start | continuation | bytes |
//! | --- | --- | --- | --- | --- |
//! | byte-level BPE | GPT-2, Llama 3, Qwen | `Ġdieta` | `owa` | one stand-in character per byte (`ą` is `Äħ`) |
//! | SentencePiece (BPE, Unigram) | Llama 2, Mistral, Gemma, T5 | `▁dieta` | `owa` | `<0xC5>` byte-fallback pieces |
//! | WordPiece | BERT | `dieta` | `##owa` | none |
//! | word-level | `WordLevel` models | every piece | none | none |
//!
//! A [`Vocabulary`] reads every piece into the same form: its bytes, starting
//! with a space exactly when the piece starts a word (WordPiece pieces
//! without `##` get one). It renders them as text: complete UTF-8 characters
//! as themselves, bytes of a multi-byte character as escapes such as `<C5>`
//! (never as mojibake), and a short display form in the style of the paper's
//! tables (`dietą` for a word-initial piece, `#ą` for a continuation, `#<C5>`
//! for a byte of `ł`). So filters ([`CharClasses`]) and search see one
//! convention whatever the family.
//!
//! Control tokens are flagged [`Token::special`]: added tokens marked special
//! (`<|im_start|>`, `<s>`, `[CLS]`) and WordPiece's reserved slots
//! (`[unused0]`). Non-special added tokens (`<tool_call>`) are text, read from
//! their content, and flagged [`Token::added`].

pub use error::{Result, UnknownScheme, VocabError};
pub use filters::{allowed_tokens, CharClasses, CharFilter};
pub use render::render_bytes;
pub use scheme::Scheme;
pub use vocabulary::{Token, Vocabulary};

mod byte_level;
mod error;
mod filters;
mod render;
mod scheme;
mod vocabulary;
