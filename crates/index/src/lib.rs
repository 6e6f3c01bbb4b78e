//! A search index from tokens back to the units whose lists hold them.
//!
//! Glossa projects every feed-forward neuron into vocabulary space and keeps, for
//! each, its strongest tokens at both ends of both sides. This crate indexes those
//! lists so that the question can be asked the other way round: which neurons
//! have `dieta` among their strongest tokens, and how strongly?
//!
//! - [`build`] (or an [`IndexBuilder`]) writes one tantivy document per
//!   [`Entry`] into a fresh directory and swaps it into place when complete.
//! - [`Index::open`] and [`Index::search`] answer a [`Search`] with [`Hit`]s,
//!   ranked by where the token stands in its list, not by text relevance.
//! - [`normalize`] and [`fold`] decide what matches what, at index and query
//!   time alike: case, word-initial markers (`Ġ`, `▁`, a space) and the
//!   continuation `#` are ignored; diacritics only with [`Matching::Folded`].
//!
//! ```no_run
//! use glossa_index::{Index, Search};
//!
//! let index = Index::open("out/index")?;
//! for hit in index.search(&Search::new(["Ġdieta"]))? {
//!     println!("layer {} neuron {}: rank {}", hit.layer, hit.unit, hit.rank);
//! }
//! # Ok::<(), glossa_index::Error>(())
//! ```

pub use build::{build, BuildStats, IndexBuilder};
pub use entry::Entry;
pub use error::{Error, Result};
pub use normalize::{fold, normalize};
pub use search::{Hit, Index, Matching, Search, DEFAULT_LIMIT};

mod build;
mod collector;
mod entry;
mod error;
mod normalize;
mod schema;
mod search;
