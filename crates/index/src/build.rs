//! How is an index written? Grouped by token, staged, then swapped in.
//!
//! Entries are buffered in blocks and written as one document per token and kind
//! of unit in each block (the schema module says why). A head's pair goes into the
//! documents of both its tokens, in the same block. The index is written in a
//! staging directory and swapped into place once tantivy has committed it (the
//! staging module says how).

use std::cmp::Reverse;
use std::collections::hash_map::{Entry as Slot, HashMap};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use glossa_forms::Dictionary;
use glossa_tables::{Circuit, Polarity, Side, UnitKind};
use tantivy::schema::Field;
use tantivy::{IndexWriter, TantivyDocument};

use crate::error::{io_error, tantivy_error};
use crate::normalize::{fold_normalized, is_continuation, normalize};
use crate::schema::{self, Code, Fields};
use crate::staging::{Replace, Staging};
use crate::{Error, HeadPairEntry, NeuronEntry, PairSide, Result};

/// The least memory tantivy accepts per indexing thread (its
/// `MEMORY_BUDGET_NUM_BYTES_MIN`, which it does not export).
const MIN_THREAD_BUDGET: usize = 15_000_000;

/// What a finished build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStats {
    /// Entries indexed: neuron entries and head pairs, each pair counted once.
    pub entries: u64,
    /// tantivy documents written: one per token, kind and block.
    pub documents: u64,
    /// Segments the index holds.
    pub segments: usize,
    /// Size of the index directory on disk, in bytes.
    pub bytes: u64,
    /// Wall time from the start of the build to the index being in place.
    pub elapsed: Duration,
}

/// Writes every entry into a fresh index at `dir`, replacing any index there once
/// the new one is complete.
///
/// `memory_budget_bytes` bounds the build's memory: half of it holds a block of
/// entries while they are grouped by token, the other half is shared by at most
/// `threads` tantivy indexing threads. tantivy wants at least 15 MB per thread, so
/// fewer threads are used when the budget is too small for all of them, and at
/// least one (the build fails if the budget cannot give even one its 15 MB).
///
/// A block takes 20 to 40 bytes per entry. One that holds all entries gives one
/// document per token and the smallest index; smaller blocks only add documents,
/// they never change what a search finds.
///
/// For entries that arrive from a fallible source, or for head pairs, use
/// [`IndexBuilder`].
pub fn build<'a>(
    dir: &Path,
    entries: impl IntoIterator<Item = NeuronEntry<'a>>,
    memory_budget_bytes: usize,
    threads: usize,
) -> Result<BuildStats> {
    let mut builder = IndexBuilder::create(dir, memory_budget_bytes, threads)?;
    for entry in entries {
        builder.add(&entry)?;
    }
    builder.finish()
}

/// An index being written: neuron entries and head pairs are added one by one,
/// then [`finish`](IndexBuilder::finish) puts the index in place.
///
/// Entries are gathered into blocks; when a block is full, each of its tokens
/// becomes one document (per kind of unit) holding all of that token's entries in
/// the block. Dropping a builder without finishing it discards its staging
/// directory and leaves any existing index untouched. An `add` or `add_pair` that
/// fails on a display form adds nothing; one that fails on writing leaves the
/// builder good only for dropping.
pub struct IndexBuilder {
    // Declared before `staging` so that tantivy's threads are joined before the
    // staging directory is removed under them.
    writer: IndexWriter,
    staging: Staging,
    fields: Fields,
    /// The display form of every token id seen, to catch an id shown two ways.
    tokens: HashMap<u32, Box<str>>,
    /// Where tokens' word forms come from, if anywhere.
    dictionary: Option<Dictionary>,
    /// The folded word forms of every token id that went into a document.
    forms: HashMap<u32, Vec<String>>,
    /// The current block's neuron entries, by token.
    neurons: HashMap<u32, Group<Row>>,
    /// The current block's head pairs, by token: each pair under both its tokens.
    heads: HashMap<u32, Group<PairRow>>,
    /// Memory held by the current block, in bytes.
    block_bytes: usize,
    /// Memory a block may hold before it is written, in bytes.
    block_budget: usize,
    entries: u64,
    documents: u64,
    started: Instant,
}

/// The entries of one token and kind within a block: one future document.
struct Group<R> {
    display: Box<str>,
    rows: Vec<R>,
}

/// What a neuron entry adds to its token's document.
#[derive(Debug, Clone, Copy)]
struct Row {
    layer: u32,
    unit: u32,
    side: Side,
    polarity: Polarity,
    rank: u32,
    score: f32,
    z: f32,
}

impl Row {
    /// The order in which searches rank entries by default. A document's rows
    /// are written in this order so that it reads best first; searches do not
    /// rely on it.
    fn order(&self) -> impl Ord {
        (
            Reverse(magnitude(self.z)),
            self.rank,
            self.layer,
            self.unit,
            self.side,
            self.polarity,
        )
    }
}

/// What a head pair adds to the document of one of its tokens.
#[derive(Debug, Clone, Copy)]
struct PairRow {
    layer: u32,
    head: u32,
    circuit: Circuit,
    polarity: Polarity,
    rank: u32,
    /// Which of the pair's tokens the document's token is.
    role: PairSide,
    /// The other token's id.
    partner: u32,
    score: f32,
    z: f32,
}

/// |x| as bits that order like it (for numbers; no NaN is ever indexed).
fn magnitude(x: f32) -> u32 {
    x.to_bits() & 0x7fff_ffff
}

impl PairRow {
    /// As [`Row::order`].
    fn order(&self) -> impl Ord {
        (
            Reverse(magnitude(self.z)),
            self.rank,
            self.layer,
            self.head,
            self.circuit,
            self.polarity,
            self.role,
            self.partner,
        )
    }
}

impl IndexBuilder {
    /// Starts a build that will end up at `dir`; see [`build`] for the budget.
    ///
    /// Fails at once with [`Error::NotAnIndex`] if `dir` exists and is neither
    /// empty nor an index, rather than after the work of building.
    pub fn create(dir: &Path, memory_budget_bytes: usize, threads: usize) -> Result<IndexBuilder> {
        IndexBuilder::create_with(dir, memory_budget_bytes, threads, Replace::IndexOrEmpty)
    }

    /// As [`create`](IndexBuilder::create), replacing what `replace` allows:
    /// [`Replace::Anything`] for a path that only ever holds this index, so that a
    /// damaged index, or a file in its place, is rebuilt rather than refused.
    pub fn create_with(
        dir: &Path,
        memory_budget_bytes: usize,
        threads: usize,
        replace: Replace,
    ) -> Result<IndexBuilder> {
        let started = Instant::now();
        let staging = Staging::create(dir, replace)?;
        let (schema, fields) = schema::schema();
        let failed = || tantivy_error(staging.target());
        let index = tantivy::Index::create_in_dir(staging.path(), schema).map_err(failed())?;
        let block_budget = memory_budget_bytes / 2;
        let writer_budget = memory_budget_bytes - block_budget;
        let threads = threads.clamp(1, (writer_budget / MIN_THREAD_BUDGET).max(1));
        let writer = index
            .writer_with_num_threads(threads, writer_budget)
            .map_err(failed())?;
        Ok(IndexBuilder {
            writer,
            staging,
            fields,
            tokens: HashMap::new(),
            dictionary: None,
            forms: HashMap::new(),
            neurons: HashMap::new(),
            heads: HashMap::new(),
            block_bytes: 0,
            block_budget,
            entries: 0,
            documents: 0,
            started,
        })
    }

    /// Indexes every token that `dictionary` knows as a word with the forms
    /// of its lemmas, so that a search for one form finds the others
    /// (continuation pieces are no words and get none).
    pub fn with_word_forms(mut self, dictionary: Dictionary) -> IndexBuilder {
        self.dictionary = Some(dictionary);
        self
    }

    /// Adds one neuron entry.
    ///
    /// Fails with [`Error::UnexpectedKind`] if the entry is not a neuron's, and
    /// with [`Error::TokenMismatch`] if its token id was seen before with another
    /// display form.
    pub fn add(&mut self, entry: &NeuronEntry<'_>) -> Result<()> {
        if entry.kind != UnitKind::Neuron {
            return Err(Error::UnexpectedKind { kind: entry.kind });
        }
        let row = Row {
            layer: entry.layer,
            unit: entry.unit,
            side: entry.side,
            polarity: entry.polarity,
            rank: entry.rank,
            score: entry.score,
            z: entry.z,
        };
        self.block_bytes += push(
            &mut self.neurons,
            &mut self.tokens,
            (entry.token_id, entry.token),
            row,
        )?;
        self.entries += 1;
        self.end_entry()
    }

    /// Adds one head pair, under its src token and under its dst token (once, if
    /// they are the same token).
    ///
    /// Fails with [`Error::TokenMismatch`] if either token id was seen before with
    /// another display form, or if src and dst share an id but not a display form.
    pub fn add_pair(&mut self, pair: &HeadPairEntry<'_>) -> Result<()> {
        let src = (pair.src_token_id, pair.src_token);
        let dst = (pair.dst_token_id, pair.dst_token);
        // Both checked before either is added, so that a mismatch adds nothing.
        known_display(&mut self.tokens, src)?;
        known_display(&mut self.tokens, dst)?;
        let row = |role, partner| PairRow {
            layer: pair.layer,
            head: pair.head,
            circuit: pair.circuit,
            polarity: pair.polarity,
            rank: pair.rank,
            role,
            partner,
            score: pair.score,
            z: pair.z,
        };
        if src.0 == dst.0 {
            let both = row(PairSide::Both, src.0);
            self.block_bytes += push(&mut self.heads, &mut self.tokens, src, both)?;
        } else {
            let as_src = row(PairSide::Src, dst.0);
            self.block_bytes += push(&mut self.heads, &mut self.tokens, src, as_src)?;
            let as_dst = row(PairSide::Dst, src.0);
            self.block_bytes += push(&mut self.heads, &mut self.tokens, dst, as_dst)?;
        }
        self.entries += 1;
        self.end_entry()
    }

    /// Writes the block if the entry just added filled it.
    fn end_entry(&mut self) -> Result<()> {
        if self.block_bytes >= self.block_budget {
            self.write_block()?;
        }
        Ok(())
    }

    /// Hands the current block to tantivy, one document per token and kind.
    fn write_block(&mut self) -> Result<()> {
        let f = self.fields;
        // Sorted so that equal input gives documents in equal order.
        let mut neurons: Vec<_> = self.neurons.drain().collect();
        neurons.sort_unstable_by_key(|&(token_id, _)| token_id);
        for (token_id, mut group) in neurons {
            group.rows.sort_unstable_by_key(Row::order);
            let forms = self.forms_of(token_id, &group.display);
            let mut doc = document(&f, UnitKind::Neuron, token_id, &group.display, forms);
            // Field by field: tantivy sorts a document's values by field (stably),
            // which costs nothing when they already are.
            let rows = &group.rows;
            add_all(&mut doc, f.layer, rows, |row| row.layer.into());
            add_all(&mut doc, f.unit, rows, |row| row.unit.into());
            add_all(&mut doc, f.polarity, rows, |row| row.polarity.code());
            add_all(&mut doc, f.rank, rows, |row| row.rank.into());
            add_all(&mut doc, f.score, rows, |row| row.score.to_bits().into());
            add_all(&mut doc, f.z, rows, |row| row.z.to_bits().into());
            add_all(&mut doc, f.side, rows, |row| row.side.code());
            self.writer
                .add_document(doc)
                .map_err(tantivy_error(self.staging.target()))?;
            self.documents += 1;
        }
        let mut heads: Vec<_> = self.heads.drain().collect();
        heads.sort_unstable_by_key(|&(token_id, _)| token_id);
        for (token_id, mut group) in heads {
            group.rows.sort_unstable_by_key(PairRow::order);
            let forms = self.forms_of(token_id, &group.display);
            let mut doc = document(&f, UnitKind::Head, token_id, &group.display, forms);
            let rows = &group.rows;
            add_all(&mut doc, f.layer, rows, |row| row.layer.into());
            add_all(&mut doc, f.unit, rows, |row| row.head.into());
            add_all(&mut doc, f.polarity, rows, |row| row.polarity.code());
            add_all(&mut doc, f.rank, rows, |row| row.rank.into());
            add_all(&mut doc, f.score, rows, |row| row.score.to_bits().into());
            add_all(&mut doc, f.z, rows, |row| row.z.to_bits().into());
            add_all(&mut doc, f.circuit, rows, |row| row.circuit.code());
            add_all(&mut doc, f.role, rows, |row| row.role.code());
            add_all(&mut doc, f.partner, rows, |row| row.partner.into());
            self.writer
                .add_document(doc)
                .map_err(tantivy_error(self.staging.target()))?;
            self.documents += 1;
        }
        self.block_bytes = 0;
        Ok(())
    }

    /// The folded word forms of the token (id, display form), looked up once.
    fn forms_of(&mut self, token_id: u32, display: &str) -> &[String] {
        let dictionary = &self.dictionary;
        self.forms
            .entry(token_id)
            .or_insert_with(|| match dictionary {
                Some(dictionary) if !is_continuation(display) => {
                    let mut forms: Vec<String> = dictionary
                        .family(&normalize(display))
                        .iter()
                        .map(|form| fold_normalized(form))
                        .collect();
                    forms.dedup();
                    forms
                }
                _ => Vec::new(),
            })
    }

    /// Writes the last block, commits, waits for tantivy's merges, and moves the
    /// index into place, replacing what was at the target directory.
    pub fn finish(mut self) -> Result<BuildStats> {
        self.write_block()?;
        let IndexBuilder {
            mut writer,
            staging,
            entries,
            documents,
            started,
            ..
        } = self;
        let failed = || tantivy_error(staging.target());
        writer.commit().map_err(failed())?;
        let index = writer.index().clone();
        writer.wait_merging_threads().map_err(failed())?;
        let segments = index.searchable_segment_metas().map_err(failed())?.len();
        let bytes = dir_size(staging.path())?;
        staging.replace()?;
        Ok(BuildStats {
            entries,
            documents,
            segments,
            bytes,
            elapsed: started.elapsed(),
        })
    }
}

/// Adds `row` to the group of the token (id, display form) in `groups`; returns
/// the memory this took, in bytes.
///
/// Fails if the token id was seen before with another display form.
fn push<R>(
    groups: &mut HashMap<u32, Group<R>>,
    tokens: &mut HashMap<u32, Box<str>>,
    (token_id, token): (u32, &str),
    row: R,
) -> Result<usize> {
    let mut bytes = 0;
    let group = match groups.entry(token_id) {
        Slot::Occupied(group) => group.into_mut(),
        Slot::Vacant(slot) => {
            let display: Box<str> = known_display(tokens, (token_id, token))?.into();
            bytes += size_of::<(u32, Group<R>)>() + display.len();
            slot.insert(Group {
                display,
                rows: Vec::new(),
            })
        }
    };
    if *group.display != *token {
        return Err(mismatch(token_id, &group.display, token));
    }
    let capacity = group.rows.capacity();
    group.rows.push(row);
    // Count what the block really holds, growth slack included.
    bytes += (group.rows.capacity() - capacity) * size_of::<R>();
    Ok(bytes)
}

/// The display form recorded for the token (id, display form), recording it if
/// the id is new; fails if the id was recorded with another one.
fn known_display<'t>(
    tokens: &'t mut HashMap<u32, Box<str>>,
    (token_id, token): (u32, &str),
) -> Result<&'t str> {
    let display = tokens.entry(token_id).or_insert_with(|| token.into());
    if **display == *token {
        Ok(display)
    } else {
        Err(mismatch(token_id, display, token))
    }
}

fn mismatch(token_id: u32, known: &str, token: &str) -> Error {
    Error::TokenMismatch {
        token_id,
        first: known.to_string(),
        second: token.to_string(),
    }
}

/// A document of `kind` for the token (id, display form) with its folded word
/// `forms`, its entries still to add.
fn document(
    f: &Fields,
    kind: UnitKind,
    token_id: u32,
    display: &str,
    forms: &[String],
) -> TantivyDocument {
    let term = normalize(display);
    let folded = fold_normalized(&term);
    let mut doc = TantivyDocument::new();
    doc.add_text(f.term, &term);
    doc.add_text(f.folded, &folded);
    for form in forms {
        doc.add_text(f.forms, form);
    }
    doc.add_u64(f.continuation, u64::from(is_continuation(display)));
    doc.add_text(f.token, display);
    doc.add_u64(f.token_id, token_id.into());
    doc.add_u64(f.kind, kind.code());
    doc
}

/// Adds one value of `field` per row, in row order.
fn add_all<R>(doc: &mut TantivyDocument, field: Field, rows: &[R], value: impl Fn(&R) -> u64) {
    rows.iter().for_each(|row| doc.add_u64(field, value(row)));
}

/// Total size of the files directly in `dir` (a tantivy index is flat).
fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for file in fs::read_dir(dir).map_err(io_error("listing", dir))? {
        let file = file.map_err(io_error("listing", dir))?;
        let metadata = file
            .metadata()
            .map_err(io_error("inspecting", &file.path()))?;
        total += metadata.len();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Index, Search};

    const VOCAB: [&str; 5] = ["dieta", "#owa", "Łódź", "(", "DIETA"];

    /// Every list of a small model, each token drawn from `VOCAB` by formula.
    fn entries() -> Vec<NeuronEntry<'static>> {
        let mut entries = Vec::new();
        for layer in 0..3 {
            for unit in 0..4 {
                for &side in Side::ALL {
                    for &polarity in Polarity::ALL {
                        for rank in 1..=5 {
                            let token_id = (layer * 7 + unit * 3 + rank) % 5;
                            let magnitude = (10 - rank) as f32 + (unit as f32) / 8.0;
                            entries.push(NeuronEntry {
                                kind: UnitKind::Neuron,
                                layer,
                                unit,
                                side,
                                polarity,
                                rank,
                                token_id,
                                token: VOCAB[token_id as usize],
                                score: match polarity {
                                    Polarity::Top => magnitude,
                                    Polarity::Bottom => -magnitude,
                                },
                                z: match polarity {
                                    Polarity::Top => magnitude / 2.0,
                                    Polarity::Bottom => -magnitude / 2.0,
                                },
                            });
                        }
                    }
                }
            }
        }
        entries
    }

    /// Every list of a few heads, each pair drawn from `VOCAB` by formula: some
    /// with one token twice, some with two tokens that match alike.
    fn pairs() -> Vec<HeadPairEntry<'static>> {
        let mut pairs = Vec::new();
        for layer in 0..3 {
            for head in 0..2 {
                for &circuit in Circuit::ALL {
                    for &polarity in Polarity::ALL {
                        for rank in 1..=4 {
                            let src = (layer * 5 + head * 3 + rank) % 5;
                            let dst = (layer + head * 2 + rank * 3) % 5;
                            pairs.push(HeadPairEntry {
                                layer,
                                head,
                                circuit,
                                polarity,
                                rank,
                                src_token_id: src,
                                src_token: VOCAB[src as usize],
                                dst_token_id: dst,
                                dst_token: VOCAB[dst as usize],
                                score: (8 - rank) as f32 - (head as f32) / 4.0,
                                z: (9 - rank) as f32 + (layer as f32) / 8.0,
                            });
                        }
                    }
                }
            }
        }
        pairs
    }

    fn build_with_block_budget(dir: &Path, block_budget: Option<usize>) -> BuildStats {
        let mut builder = IndexBuilder::create(dir, 64 << 20, 2).expect("starts");
        if let Some(budget) = block_budget {
            builder.block_budget = budget;
        }
        for entry in entries() {
            builder.add(&entry).expect("adds");
        }
        for pair in pairs() {
            builder.add_pair(&pair).expect("adds");
        }
        builder.finish().expect("finishes")
    }

    #[test]
    fn block_size_changes_documents_not_hits() {
        let root = tempfile::TempDir::new().expect("temporary directory");
        let whole = build_with_block_budget(&root.path().join("whole"), None);
        // A one-byte budget writes every entry as a document of its own, and every
        // pair as one document per token.
        let single = build_with_block_budget(&root.path().join("single"), Some(1));
        assert_eq!(whole.documents, 10);
        let (pairs, same) = pairs().iter().fold((0, 0), |(all, same), pair| {
            let one = u64::from(pair.src_token_id == pair.dst_token_id);
            (all + 1, same + one)
        });
        assert!(same > 0);
        let neuron_entries = entries().len() as u64;
        assert_eq!(single.documents, neuron_entries + 2 * pairs - same);
        assert_eq!(whole.entries, neuron_entries + pairs);
        assert_eq!(whole.entries, single.entries);

        let whole = Index::open(root.path().join("whole")).expect("opens");
        let single = Index::open(root.path().join("single")).expect("opens");
        assert_eq!(whole.entries(), single.entries());
        let searches = ["dieta", "owa", "łódź", "("]
            .into_iter()
            .map(|term| Search::new([term]))
            .chain([Search::pair("dieta", "owa"), Search::pair("(", "dieta")]);
        for search in searches {
            for layer in [None, Some(1)] {
                for circuit in [None, Some(Circuit::Qk)] {
                    let search = Search {
                        layer,
                        circuit,
                        limit: 1000,
                        ..search.clone()
                    };
                    let hits = whole.search(&search).expect("searches");
                    assert!(!hits.is_empty(), "{search:?}");
                    assert_eq!(hits, single.search(&search).expect("searches"));
                    assert_eq!(whole.count(&search).ok(), Some(hits.len()));
                    assert_eq!(single.count(&search).ok(), Some(hits.len()));
                }
            }
        }
    }
}
