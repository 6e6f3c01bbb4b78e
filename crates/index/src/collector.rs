//! Which entries of the matching documents count, and which are best?
//!
//! Ranking is not relevance: every match is equally "about" the token, and what
//! matters is how strongly the token stands in its list. So instead of BM25, a
//! custom collector walks each matching document's entries through the columns
//! (z, rank, score, layer, …), applies the filters there, counts, and keeps the
//! best `limit` entries in a bounded heap, reading the remaining columns only
//! for entries whose first sort key (|z|, rank or |score|, as the [`Sort`]
//! says) could still make the cut. The full match list is never
//! materialised, and scoring is disabled.
//!
//! A head's pair sits in the documents of both its tokens, yet must count once
//! when both match. So a search first collects which head tokens it matches
//! ([`HeadTokens`], a cheap pass over the matching documents alone); the main pass
//! then keeps such a pair only in its src token's document, as matched on both
//! sides. A pair search (`A -> B`) looks up `A`, and keeps the pairs that have it as
//! src and one of the tokens `B` matches as dst.
//!
//! Display forms are read once at open into a table per segment, so a hit costs a
//! lookup rather than a walk through the column's compressed dictionary.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use glossa_tables::UnitKind;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnIndex, ColumnValues, RowId, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyError};

use crate::schema::{self, Code};
use crate::{PairSide, Sort};

/// A column with one value per document.
type PerDocument = Arc<dyn ColumnValues<u64>>;

/// A column with one value per entry; the rows of a document's entries are found
/// through `Columns::rows` for the columns every kind writes, and through
/// `Columns::neuron_rows` or `Columns::head_rows` for a kind's own columns.
type PerEntry = Arc<dyn ColumnValues<u64>>;

/// The columns of one segment.
#[derive(Clone)]
pub(crate) struct Columns {
    kind: PerDocument,
    token_id: PerDocument,
    /// Each document's ordinal in `displays`.
    token: PerDocument,
    /// The segment's display forms, by ordinal.
    displays: Arc<[Box<str>]>,
    /// Maps a document to the rows of its entries in the columns of every kind.
    rows: ColumnIndex,
    layer: PerEntry,
    unit: PerEntry,
    polarity: PerEntry,
    rank: PerEntry,
    score: PerEntry,
    z: PerEntry,
    /// Maps a neuron document to the rows of its entries in the neurons' columns.
    neuron_rows: ColumnIndex,
    side: PerEntry,
    /// Maps a head document to the rows of its entries in the heads' columns.
    head_rows: ColumnIndex,
    circuit: PerEntry,
    role: PerEntry,
    partner: PerEntry,
    /// Neuron entries and head pairs, each pair counted once.
    entries: u32,
}

impl Columns {
    /// Opens the columns of `segment`; on failure, says what is wrong.
    pub(crate) fn open(segment: &SegmentReader) -> Result<Columns, String> {
        let fast = segment.fast_fields();
        // Every document has exactly one of these, so "first or default" is the value.
        let per_document = |name: &str| {
            fast.column_first_or_default::<u64>(name)
                .map_err(|error| error.to_string())
        };
        // A column no document wrote a value to is absent: a kind's own columns in
        // a segment without documents of that kind.
        let per_entry = |name: &str| -> Result<Column<u64>, String> {
            let column = fast
                .column_opt::<u64>(name)
                .map_err(|error| error.to_string())?;
            Ok(column.unwrap_or_else(|| Column::build_empty_column(segment.max_doc())))
        };
        let token = fast
            .str(schema::TOKEN)
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("the `{}` column is missing", schema::TOKEN))?;
        let displays = read_displays(&token)?;

        // The entry columns share a row index only if each holds exactly one value
        // per entry (of its kind), as every build writes them.
        let aligned = |column: Column<u64>, name: &str, entries: u32| {
            if column.values.num_vals() == entries {
                Ok(column.values)
            } else {
                Err(format!(
                    "the `{name}` column does not have one value per entry"
                ))
            }
        };
        let rank = per_entry(schema::RANK)?;
        let shared = |name: &str| aligned(per_entry(name)?, name, rank.values.num_vals());
        let side = per_entry(schema::SIDE)?;
        let circuit = per_entry(schema::CIRCUIT)?;
        let head = |name: &str| aligned(per_entry(name)?, name, circuit.values.num_vals());
        let own = u64::from(side.values.num_vals()) + u64::from(circuit.values.num_vals());
        if own != u64::from(rank.values.num_vals()) {
            return Err("the neurons' and the heads' columns do not add up to the entries".into());
        }
        let role = head(schema::ROLE)?;
        // A pair is indexed once as src (or as both), and once more as dst unless
        // both are the same token. No more than `role` holds, so no more than u32.
        let dst_postings = role
            .iter()
            .filter(|&code| code == PairSide::Dst.code())
            .count() as u32;
        let entries = rank.values.num_vals() - dst_postings;
        Ok(Columns {
            kind: per_document(schema::KIND)?,
            token_id: per_document(schema::TOKEN_ID)?,
            token: token.ords().clone().first_or_default_col(u64::MAX),
            displays,
            layer: shared(schema::LAYER)?,
            unit: shared(schema::UNIT)?,
            polarity: shared(schema::POLARITY)?,
            score: shared(schema::SCORE)?,
            z: shared(schema::Z)?,
            neuron_rows: side.index,
            side: side.values,
            role,
            partner: head(schema::PARTNER)?,
            head_rows: circuit.index,
            circuit: circuit.values,
            rows: rank.index,
            rank: rank.values,
            entries,
        })
    }

    /// The number of entries in the segment: neuron entries and head pairs, each
    /// pair counted once.
    pub(crate) fn entries(&self) -> u32 {
        self.entries
    }

    /// The display form of a document's token.
    pub(crate) fn display(&self, doc: DocId) -> Option<&str> {
        let ord = usize::try_from(self.token.get_val(doc)).ok()?;
        self.displays.get(ord).map(|display| &**display)
    }

    /// The token id and display form of every head document.
    pub(crate) fn head_tokens(&self) -> impl Iterator<Item = (u64, Option<&str>)> + '_ {
        let head = UnitKind::Head.code();
        (0..self.kind.num_vals())
            .filter(move |&doc| self.kind.get_val(doc) == head)
            .map(|doc| (self.token_id.get_val(doc), self.display(doc)))
    }

    /// The first sort key of the entry in `row` of the shared columns, read
    /// from one column: enough to rule most entries out.
    fn primary(&self, sort: Sort, row: RowId) -> u64 {
        match sort {
            Sort::Z => weakness(self.z.get_val(row)),
            Sort::Rank => self.rank.get_val(row),
            Sort::Score => weakness(self.score.get_val(row)),
        }
    }

    /// The sort key of the entry in `row`: smaller is better.
    fn key(&self, sort: Sort, row: RowId) -> (u64, u64) {
        let rank = self.rank.get_val(row);
        match sort {
            Sort::Z => (weakness(self.z.get_val(row)), rank),
            Sort::Rank => (rank, weakness(self.score.get_val(row))),
            Sort::Score => (weakness(self.score.get_val(row)), rank),
        }
    }

    /// The ranking key of a neuron entry of document `doc`: `row` in the shared
    /// columns, `own` in the neurons' ones.
    fn neuron(&self, sort: Sort, doc: DocId, row: RowId, own: RowId) -> Ranked {
        Ranked {
            key: self.key(sort, row),
            layer: self.layer.get_val(row),
            unit: self.unit.get_val(row),
            kind: UnitKind::Neuron.code(),
            list: self.side.get_val(own),
            polarity: self.polarity.get_val(row),
            token_id: self.token_id.get_val(doc),
            dst_token_id: 0,
            matched: 0,
            rank: self.rank.get_val(row),
            score: self.score.get_val(row),
            z: self.z.get_val(row),
        }
    }

    /// The ranking key of a head pair of document `doc`: `row` in the shared
    /// columns, `own` in the heads' ones; `role` and `partner` already read there.
    fn head(
        &self,
        sort: Sort,
        doc: DocId,
        (row, own): (RowId, RowId),
        (role, partner): (PairSide, u64),
        matched: PairSide,
    ) -> Ranked {
        let token_id = self.token_id.get_val(doc);
        let (src, dst) = match role {
            PairSide::Dst => (partner, token_id),
            PairSide::Src | PairSide::Both => (token_id, partner),
        };
        Ranked {
            key: self.key(sort, row),
            layer: self.layer.get_val(row),
            unit: self.unit.get_val(row),
            kind: UnitKind::Head.code(),
            list: self.circuit.get_val(own),
            polarity: self.polarity.get_val(row),
            token_id: src,
            dst_token_id: dst,
            matched: matched.code(),
            rank: self.rank.get_val(row),
            score: self.score.get_val(row),
            z: self.z.get_val(row),
        }
    }
}

/// A stored f32 bit pattern turned into a key that is smaller the larger the
/// magnitude: the bits without their sign order like |x|.
fn weakness(bits: u64) -> u64 {
    u64::from(u32::MAX) - (bits & 0x7fff_ffff)
}

/// Every display form in a segment's token column, by ordinal.
fn read_displays(token: &StrColumn) -> Result<Arc<[Box<str>]>, String> {
    let mut displays = Vec::with_capacity(token.num_terms());
    let mut stream = token
        .dictionary()
        .stream()
        .map_err(|error| error.to_string())?;
    while let Some((bytes, _)) = stream.next() {
        let display = std::str::from_utf8(bytes)
            .map_err(|_| "a token's display form is not UTF-8".to_string())?;
        displays.push(display.into());
    }
    Ok(displays.into())
}

/// Which entries of the matching documents a search wants, with the filters as
/// column codes.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    /// Whether neuron entries may match.
    pub(crate) neurons: bool,
    /// How head pairs may match; `None` if they may not.
    pub(crate) heads: Option<Heads>,
    pub(crate) layer: Option<u64>,
    /// Neurons only.
    pub(crate) side: Option<u64>,
    /// Heads only.
    pub(crate) circuit: Option<u64>,
    pub(crate) polarity: Option<u64>,
    /// The order the best are kept in.
    pub(crate) sort: Sort,
}

/// How a head pair found through one of its tokens matches a search.
#[derive(Debug, Clone)]
pub(crate) enum Heads {
    /// A search for terms, which match these head tokens: a pair matches through
    /// either token, and counts once when both match.
    Terms(Arc<HashSet<u64>>),
    /// A pair search, whose src term was looked up and whose dst term matches
    /// these head tokens: a pair matches through its src token if its dst is one
    /// of them.
    Pair(Arc<HashSet<u64>>),
}

impl Heads {
    /// What a pair matched, given the `role` of the document's token in it and
    /// the `partner` token; `None` if the pair does not count here.
    fn matched(&self, role: PairSide, partner: u64) -> Option<PairSide> {
        match (self, role) {
            (Heads::Terms(_), PairSide::Both) => Some(PairSide::Both),
            (Heads::Terms(tokens), PairSide::Src) if tokens.contains(&partner) => {
                Some(PairSide::Both)
            }
            (Heads::Terms(_), PairSide::Src) => Some(PairSide::Src),
            // Counted in the src token's document, which matches as well.
            (Heads::Terms(tokens), PairSide::Dst) if tokens.contains(&partner) => None,
            (Heads::Terms(_), PairSide::Dst) => Some(PairSide::Dst),
            (Heads::Pair(dst), PairSide::Src | PairSide::Both) if dst.contains(&partner) => {
                Some(PairSide::Both)
            }
            (Heads::Pair(_), _) => None,
        }
    }
}

impl Filter {
    /// Whether the filters look at individual neuron entries, not just documents.
    fn per_neuron_entry(&self) -> bool {
        self.layer.is_some() || self.side.is_some() || self.polarity.is_some()
    }

    /// Whether the entry in `row` of the shared columns passes the filters.
    fn accepts(&self, columns: &Columns, row: RowId) -> bool {
        let passes = |wanted: Option<u64>, column: &PerEntry| {
            wanted.is_none_or(|wanted| column.get_val(row) == wanted)
        };
        passes(self.layer, &columns.layer) && passes(self.polarity, &columns.polarity)
    }
}

/// A matching entry's column values, in the order hits are ranked: deriving `Ord`
/// compares the fields top to bottom. The fields after `polarity` come last only to
/// make the order total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ranked {
    /// The search's [`Sort`] key, smaller first: (|z| falling, rank),
    /// (rank, |score| falling) or (|score| falling, rank).
    pub(crate) key: (u64, u64),
    pub(crate) layer: u64,
    pub(crate) unit: u64,
    pub(crate) kind: u64,
    /// A neuron's side, a head's circuit.
    pub(crate) list: u64,
    pub(crate) polarity: u64,
    /// A neuron entry's token, a head pair's src token.
    pub(crate) token_id: u64,
    /// A head pair's dst token; 0 for a neuron entry.
    pub(crate) dst_token_id: u64,
    /// The [`PairSide`] code of what a head pair matched; 0 for a neuron entry.
    pub(crate) matched: u64,
    pub(crate) rank: u64,
    pub(crate) score: u64,
    pub(crate) z: u64,
}

/// A unit, as (layer, [`UnitKind`] code, unit) column values.
pub(crate) type Unit = (u64, u64, u64);

/// A layer and [`UnitKind`] code.
pub(crate) type Cell = (u64, u64);

/// What a search collects: the number of matches and the best of them, in order,
/// and, if asked for, every unit with a match and the best match of each
/// layer and kind.
pub(crate) struct Found {
    pub(crate) count: usize,
    pub(crate) best: Vec<(Ranked, DocAddress)>,
    pub(crate) units: HashSet<Unit>,
    pub(crate) leaders: HashMap<Cell, (Ranked, DocAddress)>,
}

/// Counts the matches that pass the filters and keeps the best `limit` of them;
/// with `units`, also gathers the units they belong to.
pub(crate) struct HitCollector {
    pub(crate) segments: Arc<[Columns]>,
    pub(crate) filter: Filter,
    pub(crate) limit: usize,
    pub(crate) units: bool,
}

impl Collector for HitCollector {
    type Fruit = Found;
    type Child = SegmentHits;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        _segment: &SegmentReader,
    ) -> tantivy::Result<SegmentHits> {
        Ok(SegmentHits {
            segment_ord,
            columns: segment_columns(&self.segments, segment_ord)?,
            filter: self.filter.clone(),
            best: Best {
                limit: self.limit,
                count: 0,
                // Room for the limit plus the one entry pushed before the worst is
                // dropped; an outsized limit grows the heap only as entries arrive.
                heap: BinaryHeap::with_capacity(self.limit.saturating_add(1).min(1 << 16)),
                units: self.units.then(Units::default),
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Found>) -> tantivy::Result<Found> {
        let count = segments.iter().map(|found| found.count).sum();
        let mut best = Vec::new();
        let mut units = HashSet::new();
        let mut leaders: HashMap<Cell, (Ranked, DocAddress)> = HashMap::new();
        for found in segments {
            best.extend(found.best);
            units.extend(found.units);
            for (cell, leader) in found.leaders {
                let slot = leaders.entry(cell).or_insert(leader);
                *slot = (*slot).min(leader);
            }
        }
        best.sort_unstable();
        best.truncate(self.limit);
        Ok(Found {
            count,
            best,
            units,
            leaders,
        })
    }
}

/// The columns of the segment `segment_ord`, as opened with the index.
fn segment_columns(segments: &[Columns], segment_ord: SegmentOrdinal) -> tantivy::Result<Columns> {
    segments
        .get(segment_ord as usize)
        .cloned()
        .ok_or_else(|| TantivyError::InternalError(format!("segment {segment_ord} was not opened")))
}

/// The collector's work on one segment.
pub(crate) struct SegmentHits {
    segment_ord: SegmentOrdinal,
    columns: Columns,
    filter: Filter,
    best: Best,
}

/// The count of matches so far, and the best of them.
struct Best {
    limit: usize,
    count: usize,
    /// A max-heap: its top is the worst of the best, the first to be pushed out.
    heap: BinaryHeap<(Ranked, DocId)>,
    /// Every unit with a match, if the search wants them.
    units: Option<Units>,
}

/// The units with a match, and the best match of each layer and kind.
#[derive(Default)]
struct Units {
    units: HashSet<Unit>,
    leaders: HashMap<Cell, (Ranked, DocId)>,
}

impl Best {
    /// Counts a match of document `doc` whose first sort key is `primary`, and
    /// keeps it if it is among the best; `ranked` is called only if that key
    /// can make the cut.
    fn offer(&mut self, doc: DocId, primary: u64, ranked: impl FnOnce() -> Ranked) {
        self.count += 1;
        if let Some(units) = &mut self.units {
            // Gathering units is a pass of its own, with no hits kept.
            let ranked = ranked();
            units.units.insert((ranked.layer, ranked.kind, ranked.unit));
            let leader = units
                .leaders
                .entry((ranked.layer, ranked.kind))
                .or_insert((ranked, doc));
            *leader = (*leader).min((ranked, doc));
            return;
        }
        if self.limit == 0 {
            return;
        }
        if self.heap.len() >= self.limit {
            // Most entries lose on their first key alone; skip reading their
            // other columns.
            if self
                .heap
                .peek()
                .is_some_and(|(worst, _)| primary > worst.key.0)
            {
                return;
            }
        }
        self.heap.push((ranked(), doc));
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }
}

impl SegmentCollector for SegmentHits {
    type Fruit = Found;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let SegmentHits {
            columns,
            filter,
            best,
            ..
        } = self;
        let rows = columns.rows.value_row_ids(doc);
        match UnitKind::from_code(columns.kind.get_val(doc)) {
            Some(UnitKind::Neuron) if filter.neurons => {
                collect_neuron(columns, filter, best, doc, rows);
            }
            Some(UnitKind::Head) => {
                if let Some(heads) = &filter.heads {
                    collect_head(columns, filter, heads, best, doc, rows);
                }
            }
            _ => {}
        }
    }

    fn harvest(self) -> Found {
        let segment_ord = self.segment_ord;
        let address = |(ranked, doc_id)| (ranked, DocAddress::new(segment_ord, doc_id));
        let units = self.best.units.unwrap_or_default();
        Found {
            count: self.best.count,
            units: units.units,
            leaders: units
                .leaders
                .into_iter()
                .map(|(cell, leader)| (cell, address(leader)))
                .collect(),
            best: self.best.heap.into_iter().map(address).collect(),
        }
    }
}

/// Offers the entries of neuron document `doc`, which sit in `rows`.
fn collect_neuron(
    columns: &Columns,
    filter: &Filter,
    best: &mut Best,
    doc: DocId,
    rows: Range<RowId>,
) {
    if best.limit == 0 && best.units.is_none() && !filter.per_neuron_entry() {
        // Counting only, and every entry of the document passes.
        best.count += rows.len();
        return;
    }
    let own = columns.neuron_rows.value_row_ids(doc);
    if own.len() != rows.len() {
        // A damaged document; `Columns::open` checked the totals only.
        return;
    }
    for (row, own) in rows.zip(own) {
        let side = filter
            .side
            .is_none_or(|side| columns.side.get_val(own) == side);
        if !side || !filter.accepts(columns, row) {
            continue;
        }
        best.offer(doc, columns.primary(filter.sort, row), || {
            columns.neuron(filter.sort, doc, row, own)
        });
    }
}

/// Offers the pairs of head document `doc`, which sit in `rows`.
fn collect_head(
    columns: &Columns,
    filter: &Filter,
    heads: &Heads,
    best: &mut Best,
    doc: DocId,
    rows: Range<RowId>,
) {
    let own = columns.head_rows.value_row_ids(doc);
    if own.len() != rows.len() {
        return;
    }
    for (row, own) in rows.zip(own) {
        let circuit = filter
            .circuit
            .is_none_or(|circuit| columns.circuit.get_val(own) == circuit);
        if !circuit || !filter.accepts(columns, row) {
            continue;
        }
        let Some(role) = PairSide::from_code(columns.role.get_val(own)) else {
            continue;
        };
        let partner = columns.partner.get_val(own);
        let Some(matched) = heads.matched(role, partner) else {
            continue;
        };
        best.offer(doc, columns.primary(filter.sort, row), || {
            columns.head(filter.sort, doc, (row, own), (role, partner), matched)
        });
    }
}

/// Collects the token ids of the matching head documents.
pub(crate) struct HeadTokens {
    pub(crate) segments: Arc<[Columns]>,
}

impl Collector for HeadTokens {
    type Fruit = HashSet<u64>;
    type Child = SegmentHeadTokens;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        _segment: &SegmentReader,
    ) -> tantivy::Result<SegmentHeadTokens> {
        Ok(SegmentHeadTokens {
            columns: segment_columns(&self.segments, segment_ord)?,
            tokens: HashSet::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<HashSet<u64>>) -> tantivy::Result<HashSet<u64>> {
        Ok(segments.into_iter().flatten().collect())
    }
}

/// [`HeadTokens`]' work on one segment.
pub(crate) struct SegmentHeadTokens {
    columns: Columns,
    tokens: HashSet<u64>,
}

impl SegmentCollector for SegmentHeadTokens {
    type Fruit = HashSet<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.columns.kind.get_val(doc) == UnitKind::Head.code() {
            self.tokens.insert(self.columns.token_id.get_val(doc));
        }
    }

    fn harvest(self) -> HashSet<u64> {
        self.tokens
    }
}
