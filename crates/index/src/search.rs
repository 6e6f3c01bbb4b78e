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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use serde::{Serialize, Serializer};
use tantivy::directory::error::OpenDirectoryError;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Query, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, ReloadPolicy, Searcher, TantivyError, Term};

use crate::collector::{Columns, Filter, Found, HeadTokens, Heads, HitCollector, Ranked};
use crate::normalize::{fold, normalize};
use crate::query::{escape_regex, Pattern, Shape};
use crate::schema::{self, Code, Fields};
use crate::{Error, PairSide, Result};

/// The arrows that separate the two tokens of a pair query.
const ARROWS: [&str; 2] = ["->", "→"];

/// How many hits a [`Search`] returns unless told otherwise.
pub const DEFAULT_LIMIT: usize = 20;

/// What a query term must equal for an entry to match.
///
/// The default is [`Matching::Folded`]: `lodz` and `łódź` find the same entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Matching {
    /// Equal after [`normalize`](crate::normalize): case and word markers are
    /// ignored, diacritics are not (`lodz` does not find `Łódź`).
    Exact,
    /// Equal after [`fold`](crate::fold): diacritics are ignored as well
    /// (`lodz` finds `Łódź`, `dieta` finds `dietą`).
    #[default]
    Folded,
}

/// A search: which tokens, in which lists, and how many hits.
///
/// Either `terms` or `pair` names what to look for, not both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The tokens to look for; a neuron entry matches if its token matches any of
    /// them, a head pair if either of its tokens does.
    ///
    /// Each term is read in the query syntax: `diet*` (a prefix), `dieta~1` or
    /// `dieta~2` (within that edit distance; `dieta~` is `dieta~1`), `#owa`
    /// (continuation pieces only; `owa` matches word-initial and continuation
    /// pieces alike), or a token matched whole. A malformed term (`*`, `~1`,
    /// `dieta~3`, `dieta~3x`) makes the search fail with [`Error::BadQuery`].
    pub terms: Vec<String>,
    /// A (src, dst) pair of tokens to look for instead of `terms`: a head pair
    /// matches if its src matches the first and its dst the second. Neuron
    /// entries never match a pair. Both are read in the query syntax of `terms`.
    pub pair: Option<(String, String)>,
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
    /// At most this many hits; [`Index::count`] ignores it.
    pub limit: usize,
    /// How query terms are compared with tokens.
    pub matching: Matching,
}

impl Default for Search {
    /// No terms and no pair (which a search rejects), no filters,
    /// [`DEFAULT_LIMIT`] hits, [`Matching::Folded`].
    fn default() -> Search {
        Search {
            terms: Vec::new(),
            pair: None,
            layer: None,
            side: None,
            circuit: None,
            polarity: None,
            kind: None,
            limit: DEFAULT_LIMIT,
            matching: Matching::Folded,
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

    /// A search for head pairs from `src` to `dst`, with the defaults for
    /// everything else.
    pub fn pair(src: impl Into<String>, dst: impl Into<String>) -> Search {
        Search {
            pair: Some((src.into(), dst.into())),
            ..Search::default()
        }
    }

    /// A search for the query `words`, with the defaults for everything else: the
    /// pair search `A -> B` if they hold an arrow, else a search for any of them.
    ///
    /// The arrow is `->` or `→`, standing alone (`dieta -> zdrowie`) or inside a
    /// word (`dieta->zdrowie`, `"dieta -> zdrowie"`); the text on either side of an
    /// arrow is split at white space, and each side must then hold exactly one
    /// token. Words without an arrow are kept whole, so `" "` looks for the space
    /// token. A word that is only an arrow is always read as one, so the arrow
    /// tokens themselves can only be looked for with [`Search::new`].
    ///
    /// Each token is then read in the query syntax described at
    /// [`Search::terms`] (`diet*`, `dieta~1`, `#owa`), and checked here, so that
    /// a malformed one is reported before any index is opened.
    ///
    /// Fails with [`Error::NoTerms`] if the words hold nothing to look for, and
    /// with [`Error::BadQuery`] for a malformed pair (`-> B`, `A ->`, `A B -> C`,
    /// `A -> B -> C`) or a malformed term (`*`, `~3x`, `dieta~9`).
    pub fn parse_terms<S: AsRef<str>>(words: &[S]) -> Result<Search> {
        let search = Search::parse_words(words)?;
        let words = || {
            words
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let pair = search.pair.iter().flat_map(|(src, dst)| [src, dst]);
        for term in search.terms.iter().chain(pair) {
            Pattern::parse(term).map_err(|reason| Error::BadQuery {
                query: words(),
                reason: format!("{term:?}: {reason}"),
            })?;
        }
        Ok(search)
    }

    /// [`Search::parse_terms`] up to reading each token's syntax.
    fn parse_words<S: AsRef<str>>(words: &[S]) -> Result<Search> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let bad = |reason: &str| Error::BadQuery {
            query: words.join(" "),
            reason: reason.to_string(),
        };
        // Each word split at its arrows: `None` stands for an arrow.
        let mut pieces: Vec<Option<&str>> = Vec::new();
        for &word in &words {
            if split_arrow(word).is_none() {
                if !word.is_empty() {
                    pieces.push(Some(word));
                }
                continue;
            }
            let mut rest = word;
            while let Some((before, after)) = split_arrow(rest) {
                pieces.extend(before.split_whitespace().map(Some));
                pieces.push(None);
                rest = after;
            }
            pieces.extend(rest.split_whitespace().map(Some));
        }
        let mut sides = pieces.split(Option::is_none);
        let (Some(src), dst, None) = (sides.next(), sides.next(), sides.next()) else {
            return Err(bad("a pair query has one arrow, between two tokens"));
        };
        let Some(dst) = dst else {
            let terms: Vec<&str> = src.iter().flatten().copied().collect();
            return if terms.is_empty() {
                Err(Error::NoTerms)
            } else {
                Ok(Search::new(terms))
            };
        };
        match (src, dst) {
            ([Some(src)], [Some(dst)]) => Ok(Search::pair(*src, *dst)),
            ([], _) => Err(bad("the arrow needs a token before it")),
            (_, []) => Err(bad("the arrow needs a token after it")),
            _ => Err(bad("a pair query has one token on each side of the arrow")),
        }
    }
}

/// The text before and after the first arrow in `text`, if it holds one.
fn split_arrow(text: &str) -> Option<(&str, &str)> {
    ARROWS
        .iter()
        .filter_map(|arrow| text.find(arrow).map(|at| (at, arrow.len())))
        .min()
        .map(|(at, len)| (&text[..at], &text[at + len..]))
}

/// One matching neuron entry or head pair, with every field of the
/// [`Entry`](crate::Entry) or [`PairEntry`](crate::PairEntry) it was indexed from.
///
/// The fields that only one kind has are `None` for the other: a neuron hit has
/// `side`, `token_id` and `token`; a head hit has `circuit`, the `src_…` and
/// `dst_…` fields, and `matched`. Serialises with the field names below, leaving
/// out the `None`s, and the enums as their table names (`"neuron"`, `"key"`,
/// `"top"`, `"vo"`, `"src"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Whether the list belongs to a neuron or a head.
    #[serde(serialize_with = "as_name")]
    pub kind: UnitKind,
    /// The layer, counted from 0.
    pub layer: u32,
    /// The neuron's or head's index within its layer.
    pub unit: u32,
    /// Neurons: which weight vector of the neuron was projected.
    #[serde(
        serialize_with = "as_some_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub side: Option<Side>,
    /// Heads: which matrix of the head the list comes from.
    #[serde(
        serialize_with = "as_some_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub circuit: Option<Circuit>,
    /// Which end of the ranking the list holds.
    #[serde(serialize_with = "as_name")]
    pub polarity: Polarity,
    /// The position in the list, 1 for the strongest token or pair.
    pub rank: u32,
    /// Neurons: the token's id in the model's vocabulary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<u32>,
    /// Neurons: the token's display form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The score that earned the token or pair its rank.
    pub score: f32,
    /// Heads: the src token's id (VO: attended; QK: query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_token_id: Option<u32>,
    /// Heads: the src token's display form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_token: Option<String>,
    /// Heads: the dst token's id (VO: promoted; QK: key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_token_id: Option<u32>,
    /// Heads: the dst token's display form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_token: Option<String>,
    /// Heads: which of the pair's tokens matched the search; [`PairSide::Both`]
    /// for every hit of a pair search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<PairSide>,
}

/// Serialises a table enum as the name its `Display` (that is, `as_str`) gives.
fn as_name<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// As [`as_name`], for a field that is left out when `None`.
fn as_some_name<T: Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
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
        Ok(Index {
            dir: dir.to_path_buf(),
            searcher,
            fields,
            segments: segments.into(),
            head_tokens,
        })
    }

    /// The number of entries indexed: neuron entries and head pairs, each pair
    /// counted once.
    pub fn entries(&self) -> u64 {
        self.segments
            .iter()
            .map(|columns| u64::from(columns.entries()))
            .sum()
    }

    /// The best `search.limit` matches, neurons and heads ranked together: rank
    /// ascending (rank 1 first), then |score| descending, then layer, unit, kind
    /// (neurons first), side or circuit, polarity ascending. A head pair whose
    /// tokens both match is one hit.
    ///
    /// Fails with [`Error::NoTerms`] if the search names no term and no pair, and
    /// with [`Error::BadQuery`] if it names both.
    pub fn search(&self, search: &Search) -> Result<Vec<Hit>> {
        let found = self.collect(search, search.limit, false)?;
        found
            .best
            .into_iter()
            .map(|(ranked, address)| self.hit(ranked, address))
            .collect()
    }

    /// How many entries match `search`, ignoring its limit; fails as
    /// [`search`](Index::search) does.
    pub fn count(&self, search: &Search) -> Result<usize> {
        Ok(self.collect(search, 0, false)?.count)
    }

    /// Where in the model the matches of `search` live: for each layer and kind
    /// of unit, the number of distinct units (neurons or heads) with at least one
    /// matching entry that passes the filters. Sorted by layer, then kind
    /// (neurons first); layers and kinds without a match are left out. Ignores
    /// the limit; fails as [`search`](Index::search) does.
    pub fn count_by_layer(&self, search: &Search) -> Result<Vec<(u32, UnitKind, u64)>> {
        let found = self.collect(search, 0, true)?;
        let mut counts: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        for &(layer, kind, _) in &found.units {
            *counts.entry((layer, kind)).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((layer, kind), units)| {
                let corrupt = |what: &str| Error::Corrupt {
                    dir: self.dir.clone(),
                    reason: format!("{what} of an entry is invalid"),
                };
                let layer = u32::try_from(layer).map_err(|_| corrupt("the layer"))?;
                let kind = UnitKind::from_code(kind).ok_or_else(|| corrupt("the kind"))?;
                Ok((layer, kind, units))
            })
            .collect()
    }

    /// Counts the matches of `search` and keeps the best `limit`; with `units`,
    /// also gathers every matching unit.
    fn collect(&self, search: &Search, limit: usize, units: bool) -> Result<Found> {
        let lookup = |terms: &[&String]| self.lookup(search.matching, terms);
        let heads_wanted =
            search.kind.is_none_or(|kind| kind == UnitKind::Head) && search.side.is_none();
        let (query, neurons, heads) = match &search.pair {
            None => {
                let terms: Vec<&String> = search.terms.iter().collect();
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
            Some((src, dst)) => {
                if !search.terms.is_empty() {
                    return Err(Error::BadQuery {
                        query: format!("{} {src} -> {dst}", search.terms.join(" ")),
                        reason: "a pair search takes no other terms".to_string(),
                    });
                }
                let query = lookup(&[src])?;
                let dst = lookup(&[dst])?;
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
            },
            limit,
            units,
        };
        Ok(self.searcher.search(query.as_ref(), &collector)?)
    }

    /// The union of the lookups of `terms`, each read in the query syntax and
    /// compared as `matching` says. Prefixes and fuzzy terms walk the term
    /// dictionary, not the documents.
    ///
    /// Fails with [`Error::NoTerms`] if there are none, and with
    /// [`Error::BadQuery`] if one is malformed.
    fn lookup(&self, matching: Matching, terms: &[&String]) -> Result<Box<dyn Query>> {
        let (field, key): (Field, fn(&str) -> String) = match matching {
            Matching::Exact => (self.fields.term, normalize),
            Matching::Folded => (self.fields.folded, fold),
        };
        // Distinct after normalisation: "dieta" and "DIETA" are one lookup.
        let mut keys = BTreeSet::new();
        for term in terms {
            let bad = |reason: String| Error::BadQuery {
                query: term.to_string(),
                reason,
            };
            let pattern = Pattern::parse(term).map_err(bad)?;
            let text = key(pattern.text);
            if text.is_empty() && pattern.shape != Shape::Whole {
                return Err(bad("the term is empty once normalised".into()));
            }
            keys.insert((text, pattern.shape, pattern.continuation));
        }
        let mut queries = Vec::with_capacity(keys.len());
        for (text, shape, continuation) in keys {
            let query: Box<dyn Query> = match shape {
                Shape::Whole => Box::new(TermQuery::new(
                    Term::from_field_text(field, &text),
                    IndexRecordOption::Basic,
                )),
                Shape::Prefix => Box::new(RegexQuery::from_pattern(
                    &format!("{}.*", escape_regex(&text)),
                    field,
                )?),
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
        Ok(self.searcher.search(query, &collector)?)
    }

    /// Decodes a collected row and looks up the display forms of its tokens.
    fn hit(&self, ranked: Ranked, address: DocAddress) -> Result<Hit> {
        let corrupt = |what: &str| Error::Corrupt {
            dir: self.dir.clone(),
            reason: format!("{what} of an entry in document {address:?} is invalid"),
        };
        let small = |value: u64, what: &str| u32::try_from(value).map_err(|_| corrupt(what));
        let mut hit = Hit {
            kind: UnitKind::from_code(ranked.kind).ok_or_else(|| corrupt("the kind"))?,
            layer: small(ranked.layer, "the layer")?,
            unit: small(ranked.unit, "the unit")?,
            side: None,
            circuit: None,
            polarity: Polarity::from_code(ranked.polarity)
                .ok_or_else(|| corrupt("the polarity"))?,
            rank: small(ranked.rank, "the rank")?,
            token_id: None,
            token: None,
            score: f32::from_bits(small(ranked.score, "the score")?),
            src_token_id: None,
            src_token: None,
            dst_token_id: None,
            dst_token: None,
            matched: None,
        };
        match hit.kind {
            UnitKind::Neuron => {
                let token = self
                    .segments
                    .get(address.segment_ord as usize)
                    .and_then(|columns| columns.display(address.doc_id))
                    .ok_or_else(|| corrupt("the token"))?;
                hit.side = Some(Side::from_code(ranked.list).ok_or_else(|| corrupt("the side"))?);
                hit.token_id = Some(small(ranked.token_id, "the token id")?);
                hit.token = Some(token.to_string());
            }
            UnitKind::Head => {
                let display = |token_id: u64, what: &str| {
                    self.head_tokens
                        .get(&token_id)
                        .map(|display| display.to_string())
                        .ok_or_else(|| corrupt(what))
                };
                hit.circuit =
                    Some(Circuit::from_code(ranked.list).ok_or_else(|| corrupt("the circuit"))?);
                hit.src_token_id = Some(small(ranked.token_id, "the src token id")?);
                hit.src_token = Some(display(ranked.token_id, "the src token")?);
                hit.dst_token_id = Some(small(ranked.dst_token_id, "the dst token id")?);
                hit.dst_token = Some(display(ranked.dst_token_id, "the dst token")?);
                hit.matched =
                    Some(PairSide::from_code(ranked.matched).ok_or_else(|| corrupt("the match"))?);
            }
        }
        Ok(hit)
    }
}
