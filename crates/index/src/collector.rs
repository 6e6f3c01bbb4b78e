//! Which entries of the matching documents count, and which are best?
//!
//! Ranking is not relevance: every match is equally "about" the token, and what
//! matters is how strongly the token stands in its list. So instead of BM25, a
//! custom collector walks each matching document's entries through the columns
//! (rank, score, layer, …), applies the filters there, counts, and keeps the best
//! `limit` entries in a bounded heap, reading the remaining columns only for
//! entries whose rank could still make the cut. The full match list is never
//! materialised, and scoring is disabled.
//!
//! Display forms are read once at open into a table per segment, so a hit costs a
//! lookup rather than a walk through the column's compressed dictionary.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnIndex, ColumnValues, RowId, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyError};

use crate::schema;

/// A column with one value per document.
type PerDocument = Arc<dyn ColumnValues<u64>>;

/// A column with one value per entry; the entries of a document are found through
/// [`Columns::entries`].
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
    /// Maps a document to the rows of its entries, in every per-entry column.
    entries: ColumnIndex,
    layer: PerEntry,
    unit: PerEntry,
    side: PerEntry,
    polarity: PerEntry,
    rank: PerEntry,
    score: PerEntry,
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
        let per_entry = |name: &str| -> Result<Column<u64>, String> {
            fast.u64(name).map_err(|error| error.to_string())
        };
        let token = fast
            .str(schema::TOKEN)
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("the `{}` column is missing", schema::TOKEN))?;
        let displays = read_displays(&token)?;

        let rank = per_entry(schema::RANK)?;
        let values = |column: Column<u64>, name: &str| {
            // The entry columns share the rank column's rows only if each holds
            // exactly one value per entry, as every build writes them.
            if column.values.num_vals() == rank.values.num_vals() {
                Ok(column.values)
            } else {
                Err(format!(
                    "the `{name}` column does not have one value per entry"
                ))
            }
        };
        Ok(Columns {
            kind: per_document(schema::KIND)?,
            token_id: per_document(schema::TOKEN_ID)?,
            token: token.ords().clone().first_or_default_col(u64::MAX),
            displays,
            layer: values(per_entry(schema::LAYER)?, schema::LAYER)?,
            unit: values(per_entry(schema::UNIT)?, schema::UNIT)?,
            side: values(per_entry(schema::SIDE)?, schema::SIDE)?,
            polarity: values(per_entry(schema::POLARITY)?, schema::POLARITY)?,
            score: values(per_entry(schema::SCORE)?, schema::SCORE)?,
            entries: rank.index,
            rank: rank.values,
        })
    }

    /// The number of entries in the segment.
    pub(crate) fn entries(&self) -> u32 {
        self.rank.num_vals()
    }

    /// The display form of a document's token.
    pub(crate) fn display(&self, doc: DocId) -> Option<&str> {
        let ord = usize::try_from(self.token.get_val(doc)).ok()?;
        self.displays.get(ord).map(|display| &**display)
    }

    /// The ranking key of the entry in `row`, which belongs to document `doc`.
    fn row(&self, doc: DocId, row: RowId) -> Ranked {
        let score = self.score.get_val(row);
        Ranked {
            rank: self.rank.get_val(row),
            // The f32 bit pattern without its sign bit orders like |score|.
            strength: Reverse(score & 0x7fff_ffff),
            layer: self.layer.get_val(row),
            unit: self.unit.get_val(row),
            side: self.side.get_val(row),
            polarity: self.polarity.get_val(row),
            kind: self.kind.get_val(doc),
            token_id: self.token_id.get_val(doc),
            score,
        }
    }
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

/// The filters of a search, as column codes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    pub(crate) kind: Option<u64>,
    pub(crate) layer: Option<u64>,
    pub(crate) side: Option<u64>,
    pub(crate) polarity: Option<u64>,
}

impl Filter {
    /// Whether the filters look at individual entries, not just documents.
    fn per_entry(&self) -> bool {
        self.layer.is_some() || self.side.is_some() || self.polarity.is_some()
    }

    fn accepts_document(&self, columns: &Columns, doc: DocId) -> bool {
        self.kind
            .is_none_or(|kind| columns.kind.get_val(doc) == kind)
    }

    fn accepts_entry(&self, columns: &Columns, row: RowId) -> bool {
        let passes = |wanted: Option<u64>, column: &PerEntry| {
            wanted.is_none_or(|wanted| column.get_val(row) == wanted)
        };
        passes(self.layer, &columns.layer)
            && passes(self.side, &columns.side)
            && passes(self.polarity, &columns.polarity)
    }
}
/// A matching entry's column values, in the order hits are ranked: deriving `Ord`
/// compares the fields top to bottom. `kind`, `token_id` and the signed score come
/// last only to make the order total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ranked {
    pub(crate) rank: u64,
    pub(crate) strength: Reverse<u64>,
    pub(crate) layer: u64,
    pub(crate) unit: u64,
    pub(crate) side: u64,
    pub(crate) polarity: u64,
    pub(crate) kind: u64,
    pub(crate) token_id: u64,
    pub(crate) score: u64,
}

/// What a search collects: the number of matches and the best of them, in order.
pub(crate) struct Found {
    pub(crate) count: usize,
    pub(crate) best: Vec<(Ranked, DocAddress)>,
}

/// Counts the matches that pass the filters and keeps the best `limit` of them.
pub(crate) struct HitCollector {
    pub(crate) segments: Arc<[Columns]>,
    pub(crate) filter: Filter,
    pub(crate) limit: usize,
}

impl Collector for HitCollector {
    type Fruit = Found;
    type Child = SegmentHits;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        _segment: &SegmentReader,
    ) -> tantivy::Result<SegmentHits> {
        let columns = self.segments.get(segment_ord as usize).ok_or_else(|| {
            TantivyError::InternalError(format!("segment {segment_ord} was not opened"))
        })?;
        Ok(SegmentHits {
            segment_ord,
            columns: columns.clone(),
            filter: self.filter,
            limit: self.limit,
            count: 0,
            best: BinaryHeap::with_capacity(self.limit.saturating_add(1).min(1 << 16)),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Found>) -> tantivy::Result<Found> {
        let count = segments.iter().map(|found| found.count).sum();
        let mut best: Vec<_> = segments.into_iter().flat_map(|found| found.best).collect();
        best.sort_unstable();
        best.truncate(self.limit);
        Ok(Found { count, best })
    }
}

/// The collector's work on one segment.
pub(crate) struct SegmentHits {
    segment_ord: SegmentOrdinal,
    columns: Columns,
    filter: Filter,
    limit: usize,
    count: usize,
    /// A max-heap: its top is the worst of the best, the first to be pushed out.
    best: BinaryHeap<(Ranked, DocId)>,
}

impl SegmentCollector for SegmentHits {
    type Fruit = Found;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let columns = &self.columns;
        if !self.filter.accepts_document(columns, doc) {
            return;
        }
        let rows = columns.entries.value_row_ids(doc);
        if self.limit == 0 && !self.filter.per_entry() {
            // Counting only, and every entry of the document passes.
            self.count += rows.len();
            return;
        }
        for row in rows {
            if !self.filter.accepts_entry(columns, row) {
                continue;
            }
            self.count += 1;
            if self.limit == 0 {
                continue;
            }
            if self.best.len() >= self.limit {
                // Most entries lose on rank alone; skip reading their other columns.
                let rank = columns.rank.get_val(row);
                if self.best.peek().is_some_and(|(worst, _)| rank > worst.rank) {
                    continue;
                }
            }
            self.best.push((columns.row(doc, row), doc));
            if self.best.len() > self.limit {
                self.best.pop();
            }
        }
    }

    fn harvest(self) -> Found {
        let segment_ord = self.segment_ord;
        Found {
            count: self.count,
            best: self
                .best
                .into_iter()
                .map(|(row, doc_id)| (row, DocAddress::new(segment_ord, doc_id)))
                .collect(),
        }
    }
}
