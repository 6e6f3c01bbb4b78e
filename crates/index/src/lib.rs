//! A search index from tokens back to the units whose lists hold them.
//!
//! Glossa projects every feed-forward neuron into vocabulary space and keeps, for
//! each, its strongest tokens at both ends of both sides; for every attention
//! head, it keeps the strongest (src, dst) token pairs of its VO and QK circuits.
//! This crate indexes those lists so that the question can be asked the other way
//! round: which neurons have `dieta` among their strongest tokens, which heads
//! pair it with another token, and how strongly?
//!
//! - [`build`] (or an [`IndexBuilder`]) takes one [`NeuronEntry`] per token of
//!   each neuron list and one [`HeadPairEntry`] per pair of each head list,
//!   stores them as one tantivy document per token (and kind) whose columns hold
//!   all of that token's entries, a pair under both its tokens, and swaps the
//!   finished index into place. What it may replace there is a [`Replace`]
//!   policy; [`is_staging_leftover`] recognises what an interrupted build left
//!   beside the index.
//! - [`Index::open`] and [`Index::search`] answer a [`Search`] with [`Hit`]s (a
//!   [`NeuronHit`] or a [`HeadHit`]), ranked by how far each entry's score
//!   stands out of its own list's distribution (its z; or by rank or score, a
//!   [`Sort`]), not by text relevance; [`Index::page`] also counts them all. A search looks for a [`Lookup`]: terms, or a
//!   pair of them. [`Lookup::parse`] reads a query's words, including the pair
//!   search `dieta -> zdrowie`, prefixes (`diet*`), fuzzy terms (`dieta~1`) and
//!   continuation pieces (`#owa`); [`Search::validate`] refuses filters that
//!   contradict each other. [`Index::count_by_layer`] says in which layers the
//!   matching units sit. A damaged index is an [`Error::Corrupt`], never a crash.
//! - [`normalize`] and [`fold`] decide what matches what, at index and query
//!   time alike: case, Unicode composition, word-initial markers (`Ġ`, `▁`, a
//!   space) and the continuation `#` are ignored; diacritics too with
//!   [`Matching::Folded`], the default.
//!
//! ```no_run
//! use glossa_index::{Index, Search};
//!
//! let index = Index::open("out/index")?;
//! for hit in index.search(&Search::parse_terms(&["Ġdieta"])?)? {
//!     println!("layer {} {} {}: rank {}", hit.layer(), hit.kind(), hit.unit(), hit.rank());
//! }
//! # Ok::<(), glossa_index::Error>(())
//! ```

pub use build::{build, BuildStats, IndexBuilder};
pub use entry::{HeadPairEntry, NeuronEntry, PairSide};
pub use error::{Error, Result};
pub use hit::{HeadHit, Hit, NeuronHit};
pub use normalize::{fold, normalize};
pub use query::Lookup;
pub use search::{Index, LayerCount, Matching, Page, Search, Sort, DEFAULT_LIMIT};
pub use staging::{is_staging_leftover, Replace};

mod build;
mod collector;
mod damage;
mod entry;
mod error;
mod hit;
mod normalize;
mod query;
mod schema;
mod search;
mod staging;
