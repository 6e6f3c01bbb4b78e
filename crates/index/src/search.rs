//! How is the index read? Open once, then look terms up and rank what they find.
//!
//! A search is a union of whole-term lookups on one indexed field (the normalised
//! or the folded term); each matching document holds every entry of one token.
//! What happens to those documents, filtering, counting and ranking, is the
//! collector module's business.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glossa_tables::{Polarity, Side, UnitKind};
use serde::{Serialize, Serializer};
use tantivy::directory::error::OpenDirectoryError;
use tantivy::query::{BooleanQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, ReloadPolicy, Searcher, TantivyError, Term};

use crate::collector::{Columns, Filter, Found, HitCollector, Ranked};
use crate::normalize::{fold, normalize};
use crate::schema::{self, Code, Fields};
use crate::{Error, Result};

/// How many hits a [`Search`] returns unless told otherwise.
pub const DEFAULT_LIMIT: usize = 20;

/// What a query term must equal for an entry to match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Matching {
    /// Equal after [`normalize`](crate::normalize): case and word markers are
    /// ignored, diacritics are not (`lodz` does not find `Łódź`).
    #[default]
    Exact,
    /// Equal after [`fold`](crate::fold): diacritics are ignored as well
    /// (`lodz` finds `Łódź`).
    Folded,
}

/// A search: which tokens, in which lists, and how many hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The tokens to look for; an entry matches if its token matches any of them.
    pub terms: Vec<String>,
    /// Only this layer.
    pub layer: Option<u32>,
    /// Only this side.
    pub side: Option<Side>,
    /// Only this end of the lists.
    pub polarity: Option<Polarity>,
    /// Only this kind of unit.
    pub kind: Option<UnitKind>,
    /// At most this many hits; [`Index::count`] ignores it.
    pub limit: usize,
    /// How query terms are compared with tokens.
    pub matching: Matching,
}

impl Default for Search {
    /// No terms (which a search rejects), no filters, [`DEFAULT_LIMIT`] hits,
    /// [`Matching::Exact`].
    fn default() -> Search {
        Search {
            terms: Vec::new(),
            layer: None,
            side: None,
            polarity: None,
            kind: None,
            limit: DEFAULT_LIMIT,
            matching: Matching::Exact,
        }
    }
}

impl Search {
    /// A search for any of `terms`, with the defaults for everything else.
    pub fn new<T: Into<String>>(terms: impl IntoIterator<Item = T>) -> Search {
        Search {
            terms: terms.into_iter().map(Into::into).collect(),
            ..Search::default()
        }
    }
}

/// One matching entry, with every field of the [`Entry`](crate::Entry) it was
/// indexed from.
///
/// Serialises with the field names below and the enums as their table names
/// (`"neuron"`, `"key"`, `"top"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Whether the list belongs to a neuron or a head.
    #[serde(serialize_with = "as_name")]
    pub kind: UnitKind,
    /// The layer, counted from 0.
    pub layer: u32,
    /// The neuron's index within its layer.
    pub unit: u32,
    /// Which weight vector of the neuron was projected.
    #[serde(serialize_with = "as_name")]
    pub side: Side,
    /// Which end of the ranking the list holds.
    #[serde(serialize_with = "as_name")]
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest token.
    pub rank: u32,
    /// The token's id in the model's vocabulary.
    pub token_id: u32,
    /// The token's display form.
    pub token: String,
    /// The projection score that earned the token its rank.
    pub score: f32,
}

/// Serialises a table enum as the name its `Display` (that is, `as_str`) gives.
fn as_name<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// An open index, ready to answer searches.
///
/// The index is read as it was when opened; a rebuild puts a new index in place,
/// which a new `Index::open` sees.
pub struct Index {
    /// Where the index was opened from, for error messages.
    dir: PathBuf,
    searcher: Searcher,
    fields: Fields,
    /// The columns of every segment, opened once, in the searcher's segment order.
    segments: Arc<[Columns]>,
}

impl Index {
    /// Opens the index in `dir`.
    ///
    /// Fails with [`Error::Missing`] if `dir` does not exist, and with
    /// [`Error::Corrupt`] if it does not hold a complete index of this version.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref();
        let corrupt = |reason: String| Error::Corrupt {
            dir: dir.to_path_buf(),
            reason,
        };
        let index = match tantivy::Index::open_in_dir(dir) {
            Ok(index) => index,
            Err(TantivyError::OpenDirectoryError(OpenDirectoryError::DoesNotExist(_))) => {
                return Err(Error::Missing {
                    dir: dir.to_path_buf(),
                })
            }
            Err(error) => return Err(corrupt(error.to_string())),
        };
        let (expected, fields) = schema::schema();
        if index.schema() != expected {
            return Err(corrupt(
                "its fields differ from the ones this version writes".to_string(),
            ));
        }
        let reader = index
            .reader_builder()
            // A built index never changes in place; there is nothing to reload.
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|error| corrupt(error.to_string()))?;
        let searcher = reader.searcher();
        let segments = searcher
            .segment_readers()
            .iter()
            .map(Columns::open)
            .collect::<Result<Vec<_>, String>>()
            .map_err(corrupt)?;
        Ok(Index {
            dir: dir.to_path_buf(),
            searcher,
            fields,
            segments: segments.into(),
        })
    }

    /// The number of entries indexed.
    pub fn entries(&self) -> u64 {
        self.segments
            .iter()
            .map(|columns| u64::from(columns.entries()))
            .sum()
    }

    /// The best `search.limit` matches: rank ascending (rank 1 first), then
    /// |score| descending, then layer, unit, side, polarity ascending.
    pub fn search(&self, search: &Search) -> Result<Vec<Hit>> {
        let found = self.collect(search, search.limit)?;
        found
            .best
            .into_iter()
            .map(|(row, address)| self.hit(row, address))
            .collect()
    }

    /// How many entries match `search`, ignoring its limit.
    pub fn count(&self, search: &Search) -> Result<usize> {
        Ok(self.collect(search, 0)?.count)
    }

    fn collect(&self, search: &Search, limit: usize) -> Result<Found> {
        let query = self.query(search)?;
        let collector = HitCollector {
            segments: Arc::clone(&self.segments),
            filter: Filter {
                kind: search.kind.map(Code::code),
                layer: search.layer.map(u64::from),
                side: search.side.map(Code::code),
                polarity: search.polarity.map(Code::code),
            },
            limit,
        };
        Ok(self.searcher.search(query.as_ref(), &collector)?)
    }

    /// The union of the search's terms, each looked up as one whole term.
    fn query(&self, search: &Search) -> Result<Box<dyn Query>> {
        let (field, key): (Field, fn(&str) -> String) = match search.matching {
            Matching::Exact => (self.fields.term, normalize),
            Matching::Folded => (self.fields.folded, fold),
        };
        // Distinct after normalisation: "dieta" and "DIETA" are one lookup.
        let keys: BTreeSet<String> = search.terms.iter().map(|term| key(term)).collect();
        let mut queries: Vec<Box<dyn Query>> = keys
            .iter()
            .map(|key| {
                let term = Term::from_field_text(field, key);
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>
            })
            .collect();
        match queries.len() {
            0 => Err(Error::NoTerms),
            1 => Ok(queries.remove(0)),
            _ => Ok(Box::new(BooleanQuery::union(queries))),
        }
    }

    /// Decodes a collected row and looks up the token's display form.
    fn hit(&self, row: Ranked, address: DocAddress) -> Result<Hit> {
        let corrupt = |what: &str| Error::Corrupt {
            dir: self.dir.clone(),
            reason: format!("{what} of an entry in document {address:?} is invalid"),
        };
        let small = |value: u64, what: &str| u32::try_from(value).map_err(|_| corrupt(what));
        let token = self
            .segments
            .get(address.segment_ord as usize)
            .and_then(|columns| columns.display(address.doc_id))
            .ok_or_else(|| corrupt("the token"))?;
        Ok(Hit {
            kind: UnitKind::from_code(row.kind).ok_or_else(|| corrupt("the kind"))?,
            layer: small(row.layer, "the layer")?,
            unit: small(row.unit, "the unit")?,
            side: Side::from_code(row.side).ok_or_else(|| corrupt("the side"))?,
            polarity: Polarity::from_code(row.polarity).ok_or_else(|| corrupt("the polarity"))?,
            rank: small(row.rank, "the rank")?,
            token_id: small(row.token_id, "the token id")?,
            token: token.to_string(),
            score: f32::from_bits(small(row.score, "the score")?),
        })
    }
}
