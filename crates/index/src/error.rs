//! What can go wrong while building or reading the index.

use std::io;
use std::path::{Path, PathBuf};

use glossa_tables::UnitKind;

/// Every failure this crate reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index directory does not exist.
    #[error("no search index at {}", dir.display())]
    Missing {
        /// The directory that was asked for.
        dir: PathBuf,
    },

    /// The directory exists but does not hold an index this crate can read: it is
    /// empty, damaged, or was written by an incompatible version.
    #[error(
        "{} does not hold a readable search index ({reason}); it can be rebuilt from the tables",
        dir.display()
    )]
    Corrupt {
        /// The directory that was opened.
        dir: PathBuf,
        /// What was found wrong, in words.
        reason: String,
    },

    /// A build was asked to replace something that does not look like an index.
    /// Replacing it would delete whatever it holds, so the build refuses (unless
    /// told with [`Replace::Anything`](crate::Replace::Anything) that the path
    /// only ever holds the index).
    #[error(
        "refusing to replace {}: {found}, not a search index; remove {} to build the index there",
        dir.display(),
        dir.display()
    )]
    NotAnIndex {
        /// The path that would have been replaced.
        dir: PathBuf,
        /// What is there instead of an index, in words.
        found: &'static str,
    },

    /// One token id came with two display forms; the index keeps one per id.
    #[error("token id {token_id} is shown both as {first:?} and as {second:?}")]
    TokenMismatch {
        /// The token id.
        token_id: u32,
        /// The display form seen first.
        first: String,
        /// The display form that disagreed with it.
        second: String,
    },

    /// A [`NeuronEntry`](crate::NeuronEntry) of a kind other than neuron was
    /// added; a head's entries are [`HeadPairEntry`](crate::HeadPairEntry)s.
    #[error(
        "a NeuronEntry describes a neuron's list, not a {kind}'s; head pairs are added as HeadPairEntry"
    )]
    UnexpectedKind {
        /// The kind the entry named.
        kind: UnitKind,
    },

    /// A search named no term to look for.
    #[error("a search needs at least one term")]
    NoTerms,

    /// A query could not be understood: a malformed pair (`-> B`, `A ->`,
    /// `A -> B -> C`) or a malformed term (`*`, `dieta~x`, a prefix too long).
    #[error("cannot search for {query:?}: {reason}")]
    BadQuery {
        /// The query as given, its words joined by spaces.
        query: String,
        /// What is wrong with it, in words.
        reason: String,
    },

    /// A search that could never return a hit: its filters contradict each other
    /// or what it looks for (a circuit with neurons only, a pair with a side), or
    /// its limit is 0.
    #[error("invalid search: {reason}")]
    InvalidSearch {
        /// What contradicts what, in words.
        reason: String,
    },

    /// A file system operation on the index directory or its staging sibling failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// The operation, as a phrase ("creating", "renaming ... to").
        what: &'static str,
        /// The path it was applied to.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },

    /// tantivy failed while writing or searching the index in `dir`.
    #[error("the search index in {}: {source}", dir.display())]
    Tantivy {
        /// The index directory.
        dir: PathBuf,
        /// What tantivy reported.
        #[source]
        source: tantivy::TantivyError,
    },
}

/// Wraps an I/O failure with what was being done and where.
pub(crate) fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { what, path, source }
}

/// Wraps a tantivy failure with the index directory; a failed read or write
/// of a file (a full disk) becomes [`Error::Io`], so that its kind reaches
/// whoever reports it.
pub(crate) fn tantivy_error(dir: &Path) -> impl FnOnce(tantivy::TantivyError) -> Error {
    let dir = dir.to_path_buf();
    move |source| match source {
        tantivy::TantivyError::IoError(io) => Error::Io {
            what: "writing the search index in",
            path: dir,
            source: io::Error::new(io.kind(), io.to_string()),
        },
        source => Error::Tantivy { dir, source },
    }
}

/// The result of every fallible operation of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
