//! How is the index read? Open once, then look terms up and rank what they find.
//!
//! A search is a union of lookups on one indexed field (the normalised or the
//! folded term): whole terms, prefixes (a regular expression over the term
//! dictionary) and fuzzy terms (a Levenshtein automaton over it), each narrowed
//! to continuation pieces when the query word starts with `#`; the query module
//! reads the words. Each matching document holds every entry of one token.
//! What happens to those documents, filtering, counting and ranking, is the
//! collector module's business.
//!
//! A pair search (`A -> B`) looks up `A` the same way, after collecting which
//! tokens `B` matches; see the collector module.
//!
//! Every read of the index's data runs inside [`contained`], so that a damaged
//! index is an error, not a crash (the damage module says why).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use serde::Serialize;
use tantivy::collector::Collector;
use tantivy::directory::error::OpenDirectoryError;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Query, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, ReloadPolicy, Searcher, TantivyError, Term};

use crate::collector::{Columns, Filter, Found, HeadTokens, Heads, HitCollector, Ranked};
use crate::damage::{check_footers, contained};
use crate::error::tantivy_error;
use crate::normalize::{fold, normalize};
use crate::query::{escape_regex, Pattern, Shape};
use crate::schema::{self, Code, Fields};
use crate::{Error, HeadHit, Hit, Lookup, NeuronHit, PairSide, Result};

/// How many hits a [`Search`] returns unless told otherwise.
pub const DEFAULT_LIMIT: usize = 20;

/// What a query term must equal for an entry to match.
///
/// The default is [`Matching::Folded`]: `lodz` and `łódź` find the same
/// entries, and so do `dieta` and `diecie`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Matching {
    /// Equal after [`normalize`](crate::normalize): case and word markers are
    /// ignored, diacritics and inflection are not (`lodz` does not find
    /// `Łódź`, `diecie` does not find `dieta`).
    Exact,
    /// Equal after [`fold`](crate::fold): diacritics are ignored as well
    /// (`lodz` finds `Łódź`, `dieta` finds `dietą`); and a whole word also
    /// matches every token indexed with it among its word forms (`diecie`
    /// finds `dieta`, `diety`), where the index was built with a dictionary.
    #[default]
    Folded,
}

/// The order hits are ranked in.
///
/// Ties go on to the rank (or |score|), then layer, unit, kind (neurons
/// first), side or circuit, and polarity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// |z| falling: how far each score stands out of its own list's
    /// distribution, so that lists on different scales compare. A bottom
    /// list's entries have negative z and rank by their magnitude.
    #[default]
    Z,
    /// Rank in the list rising, then |score| falling.
    Rank,
    /// |score| falling, then rank rising.
    Score,
}

/// A search: which tokens, in which lists, and how many hits.
///
/// [`Search::validate`] says whether the filters can ever be met together;
/// every search checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// What to look for: tokens, or a (src, dst) pair of them.
    pub lookup: Lookup,
    /// Only this layer.
    pub layer: Option<u32>,
    /// Only this side; neurons only, so setting it leaves out heads.
    pub side: Option<Side>,
    /// Only this circuit; heads only, so setting it leaves out neurons.
    pub circuit: Option<Circuit>,
    /// Only this end of the lists.
    pub polarity: Option<Polarity>,
    /// Only this kind of unit.
    pub kind: Option<UnitKind>,
    /// At most this many hits, at least 1; [`Index::count`] ignores it.
    pub limit: usize,
    /// How query terms are compared with tokens.
    pub matching: Matching,
    /// The order of the hits.
    pub sort: Sort,
}

impl From<Lookup> for Search {
    /// A search for `lookup` with no filters, [`DEFAULT_LIMIT`] hits,
    /// [`Matching::Folded`] and [`Sort::Z`].
    fn from(lookup: Lookup) -> Search {
        Search {
            lookup,
            layer: None,
            side: None,
            circuit: None,
            polarity: None,
            kind: None,
            limit: DEFAULT_LIMIT,
            matching: Matching::Folded,
            sort: Sort::Z,
        }
    }
}

/// The best hits of a search, and how many entries match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// At most the search's limit, best first.
    pub hits: Vec<Hit>,
    /// Every matching entry that passes the filters, however many were kept.
    pub total: usize,
}

/// Where the matches of a search live: one layer and kind of unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerCount {
    pub layer: u32,
    pub kind: UnitKind,
    /// Distinct units (neurons or heads) with a matching entry.
    pub units: u64,
    /// The best of those entries, by the search's [`Sort`].
    pub strongest: Hit,
}

impl Search {
    /// A search for any of `terms`, with the defaults for everything else.
    pub fn new<T: Into<String>>(terms: impl IntoIterator<Item = T>) -> Search {
        Search::from(Lookup::Terms(terms.into_iter().map(Into::into).collect()))
    }

    /// A search for head pairs from `src` to `dst`, with the defaults for
    /// everything else.
    pub fn pair(src: impl Into<String>, dst: impl Into<String>) -> Search {
        Search::from(Lookup::Pair(src.into(), dst.into()))
    }

    /// A search for the query `words` (see [`Lookup::parse`]), with the defaults
    /// for everything else.
    pub fn parse_terms<S: AsRef<str>>(words: &[S]) -> Result<Search> {
        Lookup::parse(words).map(Search::from)
    }

    /// Checks that the filters can be met together and leave room for a hit.
    ///
    /// Fails with [`Error::InvalidSearch`], naming what contradicts what, for a
    /// circuit with the neuron kind, a side with the head kind, a side with a
    /// circuit, a pair with the neuron kind or with a side, or a limit of 0.
    pub fn validate(&self) -> Result<()> {
        self.validate_filters()?;
        if self.limit == 0 {
            return Err(invalid("a limit of 0 leaves room for no hit".into()));
        }
        Ok(())
    }

    /// [`Search::validate`] but for the limit, which counting ignores.
    fn validate_filters(&self) -> Result<()> {
        let neurons_only = self.kind == Some(UnitKind::Neuron);
        if let Some(circuit) = self.circuit {
            if neurons_only {
                return Err(invalid(format!(
                    "a circuit ({circuit}) belongs to heads, but the kind asks for neurons only"
                )));
            }
            if let Some(side) = self.side {
                return Err(invalid(format!(
                    "a side ({side}) belongs to neurons and a circuit ({circuit}) to heads; \
                     a search takes one or the other"
                )));
            }
        }
        if let Some(side) = self.side {
            if self.kind == Some(UnitKind::Head) {
                return Err(invalid(format!(
                    "a side ({side}) belongs to neurons, but the kind asks for heads only"
                )));
            }
        }
        if let Lookup::Pair(src, dst) = &self.lookup {
            let pair = format!("a pair ({src} -> {dst}) is only found in heads");
            if neurons_only {
                return Err(invalid(format!(
                    "{pair}, but the kind asks for neurons only"
                )));
            }
            if let Some(side) = self.side {
                return Err(invalid(format!(
                    "{pair}, but a side ({side}) belongs to neurons"
                )));
            }
        }
        Ok(())
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidSearch { reason }
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
    /// The display form of every token that a head pair holds, by token id: a
    /// pair is found through one of its tokens, and shows both.
    head_tokens: HashMap<u64, Box<str>>,
    /// Neuron entries and head pairs, each pair counted once.
    entries: u64,
}

impl Index {
    /// Opens the index in `dir`.
    ///
    /// Fails with [`Error::Missing`] if `dir` does not exist, and with
    /// [`Error::Corrupt`] if it does not hold a complete, undamaged index of this
    /// version.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        let dir = dir.as_ref();
        contained(dir, || Index::open_unguarded(dir))
    }

    /// [`Index::open`], outside [`contained`].
    fn open_unguarded(dir: &Path) -> Result<Index> {
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
        let segment_ids: Vec<String> = index
            .searchable_segment_metas()
            .map_err(|error| corrupt(error.to_string()))?
            .iter()
            .map(|meta| meta.id().uuid_string())
            .collect();
        check_footers(dir, &segment_ids)?;
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
        let mut head_tokens = HashMap::new();
        for columns in &segments {
            for (token_id, display) in columns.head_tokens() {
                let display =
                    display.ok_or_else(|| corrupt("a token has no display form".into()))?;
                head_tokens
                    .entry(token_id)
                    .or_insert_with(|| display.into());
            }
        }
        let entries = segments
            .iter()
            .map(|columns| u64::from(columns.entries()))
            .sum();
        Ok(Index {
            dir: dir.to_path_buf(),
            searcher,
            fields,
            segments: segments.into(),
            head_tokens,
            entries,
        })
    }

    /// The number of entries indexed: neuron entries and head pairs, each pair
    /// counted once. Read at open, so it never touches the index's files.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The best `search.limit` matches, neurons and heads ranked together in
    /// the search's [`Sort`] order (by default |z| falling). A head pair whose
    /// tokens both match is one hit.
    ///
    /// Fails with [`Error::InvalidSearch`] if [`Search::validate`] does, with
    /// [`Error::NoTerms`] if the search names no term, with [`Error::BadQuery`]
    /// if a term is malformed, and with [`Error::Corrupt`] if the index turns out
    /// to be damaged.
    pub fn search(&self, search: &Search) -> Result<Vec<Hit>> {
        Ok(self.page(search)?.hits)
    }

    /// [`search`](Index::search), with the number of matches beyond the
    /// hits kept: counted in the same pass.
    pub fn page(&self, search: &Search) -> Result<Page> {
        search.validate()?;
        contained(&self.dir, || {
            let found = self.collect(search, search.limit, false)?;
            let hits = found
                .best
                .into_iter()
                .map(|(ranked, address)| self.hit(ranked, address))
                .collect::<Result<_>>()?;
            Ok(Page {
                hits,
                total: found.count,
            })
        })
    }

    /// How many entries match `search`, ignoring its limit; fails as
    /// [`search`](Index::search) does, but for the limit.
    pub fn count(&self, search: &Search) -> Result<usize> {
        search.validate_filters()?;
        contained(&self.dir, || Ok(self.collect(search, 0, false)?.count))
    }

    /// Where in the model the matches of `search` live: for each layer and kind
    /// of unit, the number of distinct units (neurons or heads) with at least one
    /// matching entry that passes the filters, and the best such entry by the
    /// search's [`Sort`]. Sorted by layer, then kind (neurons first); layers and
    /// kinds without a match are left out. Ignores the limit; fails as
    /// [`count`](Index::count) does.
    pub fn count_by_layer(&self, search: &Search) -> Result<Vec<LayerCount>> {
        search.validate_filters()?;
        contained(&self.dir, || {
            let found = self.collect(search, 0, true)?;
            let mut counts: BTreeMap<(u64, u64), u64> = BTreeMap::new();
            for &(layer, kind, _) in &found.units {
                *counts.entry((layer, kind)).or_default() += 1;
            }
            counts
                .into_iter()
                .map(|(cell, units)| {
                    let corrupt = || Error::Corrupt {
                        dir: self.dir.clone(),
                        reason: "a layer's matches have no best entry".into(),
                    };
                    let &(ranked, address) = found.leaders.get(&cell).ok_or_else(corrupt)?;
                    let strongest = self.hit(ranked, address)?;
                    Ok(LayerCount {
                        layer: strongest.layer(),
                        kind: strongest.kind(),
                        units,
                        strongest,
                    })
                })
                .collect()
        })
    }

    /// Counts the matches of `search` and keeps the best `limit`; with `units`,
    /// also gathers every matching unit.
    fn collect(&self, search: &Search, limit: usize, units: bool) -> Result<Found> {
        let lookup = |terms: &[&str]| self.lookup(search.matching, terms);
        let heads_wanted =
            search.kind.is_none_or(|kind| kind == UnitKind::Head) && search.side.is_none();
        let (query, neurons, heads) = match &search.lookup {
            Lookup::Terms(terms) => {
                let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
                let query = lookup(&terms)?;
                let neurons = search.kind.is_none_or(|kind| kind == UnitKind::Neuron)
                    && search.circuit.is_none();
                let heads = if heads_wanted {
                    Some(Heads::Terms(Arc::new(self.head_tokens_of(&*query)?)))
                } else {
                    None
                };
                (query, neurons, heads)
            }
            Lookup::Pair(src, dst) => {
                let query = lookup(&[src.as_str()])?;
                let dst = lookup(&[dst.as_str()])?;
                let heads = if heads_wanted {
                    Some(Heads::Pair(Arc::new(self.head_tokens_of(&*dst)?)))
                } else {
                    None
                };
                (query, false, heads)
            }
        };
        let collector = HitCollector {
            segments: Arc::clone(&self.segments),
            filter: Filter {
                neurons,
                heads,
                layer: search.layer.map(u64::from),
                side: search.side.map(Code::code),
                circuit: search.circuit.map(Code::code),
                polarity: search.polarity.map(Code::code),
                sort: search.sort,
            },
            limit,
            units,
        };
        self.run(query.as_ref(), &collector)
    }

    /// The union of the lookups of `terms`, each read in the query syntax and
    /// compared as `matching` says. Prefixes and fuzzy terms walk the term
    /// dictionary, not the documents.
    ///
    /// Fails with [`Error::NoTerms`] if there are none, and with
    /// [`Error::BadQuery`] if one is malformed or too long to look up.
    fn lookup(&self, matching: Matching, terms: &[&str]) -> Result<Box<dyn Query>> {
        let (field, key): (Field, fn(&str) -> String) = match matching {
            Matching::Exact => (self.fields.term, normalize),
            Matching::Folded => (self.fields.folded, fold),
        };
        // Distinct after normalisation: "dieta" and "DIETA" are one lookup.
        let mut keys = BTreeMap::new();
        for &term in terms {
            let bad = |reason: String| Error::BadQuery {
                query: term.to_string(),
                reason,
            };
            let pattern = Pattern::parse(term).map_err(bad)?;
            let text = key(pattern.text);
            if text.is_empty() && pattern.shape != Shape::Whole {
                return Err(bad("the term is empty once normalised".into()));
            }
            keys.entry((text, pattern.shape, pattern.continuation))
                .or_insert(term);
        }
        let mut queries = Vec::with_capacity(keys.len());
        for ((text, shape, continuation), term) in keys {
            let whole = |field| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &text),
                    IndexRecordOption::Basic,
                ))
            };
            let query: Box<dyn Query> = match shape {
                // A word also finds the tokens whose lemmas it inflects;
                // continuation pieces are no words.
                Shape::Whole if matching == Matching::Folded && !continuation => {
                    Box::new(BooleanQuery::union(vec![
                        whole(field),
                        whole(self.fields.forms),
                    ]))
                }
                Shape::Whole => whole(field),
                // The escaped pattern is always valid, so the only way to fail is
                // an automaton over tantivy's size limit: a prefix too long.
                Shape::Prefix => Box::new(
                    RegexQuery::from_pattern(&format!("{}.*", escape_regex(&text)), field)
                        .map_err(|_| Error::BadQuery {
                            query: term.to_string(),
                            reason: format!(
                                "the prefix is too long to look up ({} characters); shorten it",
                                text.chars().count()
                            ),
                        })?,
                ),
                Shape::Fuzzy(distance) => Box::new(FuzzyTermQuery::new(
                    Term::from_field_text(field, &text),
                    distance,
                    true,
                )),
            };
            let query = if continuation {
                let flag = Term::from_field_u64(self.fields.continuation, 1);
                Box::new(BooleanQuery::intersection(vec![
                    query,
                    Box::new(TermQuery::new(flag, IndexRecordOption::Basic)),
                ]))
            } else {
                query
            };
            queries.push(query);
        }
        match queries.len() {
            0 => Err(Error::NoTerms),
            1 => Ok(queries.remove(0)),
            _ => Ok(Box::new(BooleanQuery::union(queries))),
        }
    }

    /// The ids of the head tokens that `query` matches.
    fn head_tokens_of(&self, query: &dyn Query) -> Result<HashSet<u64>> {
        let collector = HeadTokens {
            segments: Arc::clone(&self.segments),
        };
        self.run(query, &collector)
    }

    /// Runs `query` through `collector`.
    fn run<C: Collector>(&self, query: &dyn Query, collector: &C) -> Result<C::Fruit> {
        self.searcher
            .search(query, collector)
            .map_err(tantivy_error(&self.dir))
    }

    /// Decodes a collected row and looks up the display forms of its tokens.
    fn hit(&self, ranked: Ranked, address: DocAddress) -> Result<Hit> {
        let corrupt = |what: &str| Error::Corrupt {
            dir: self.dir.clone(),
            reason: format!("{what} of an entry in document {address:?} is invalid"),
        };
        let small = |value: u64, what: &str| u32::try_from(value).map_err(|_| corrupt(what));
        let kind = UnitKind::from_code(ranked.kind).ok_or_else(|| corrupt("the kind"))?;
        let layer = small(ranked.layer, "the layer")?;
        let unit = small(ranked.unit, "the unit")?;
        let polarity =
            Polarity::from_code(ranked.polarity).ok_or_else(|| corrupt("the polarity"))?;
        let rank = small(ranked.rank, "the rank")?;
        let score = f32::from_bits(small(ranked.score, "the score")?);
        let z = f32::from_bits(small(ranked.z, "the z")?);
        Ok(match kind {
            UnitKind::Neuron => {
                let token = self
                    .segments
                    .get(address.segment_ord as usize)
                    .and_then(|columns| columns.display(address.doc_id))
                    .ok_or_else(|| corrupt("the token"))?;
                Hit::Neuron(NeuronHit {
                    layer,
                    neuron: unit,
                    side: Side::from_code(ranked.list).ok_or_else(|| corrupt("the side"))?,
                    polarity,
                    rank,
                    token_id: small(ranked.token_id, "the token id")?,
                    token: token.to_string(),
                    score,
                    z,
                })
            }
            UnitKind::Head => {
                let display = |token_id: u64, what: &str| {
                    self.head_tokens
                        .get(&token_id)
                        .map(|display| display.to_string())
                        .ok_or_else(|| corrupt(what))
                };
                Hit::Head(HeadHit {
                    layer,
                    head: unit,
                    circuit: Circuit::from_code(ranked.list)
                        .ok_or_else(|| corrupt("the circuit"))?,
                    polarity,
                    rank,
                    score,
                    z,
                    src_token_id: small(ranked.token_id, "the src token id")?,
                    src_token: display(ranked.token_id, "the src token")?,
                    dst_token_id: small(ranked.dst_token_id, "the dst token id")?,
                    dst_token: display(ranked.dst_token_id, "the dst token")?,
                    matched: PairSide::from_code(ranked.matched)
                        .ok_or_else(|| corrupt("the match"))?,
                })
            }
        })
    }
}
