//! How is an index written? Grouped by token, staged, then swapped in.
//!
//! Entries are buffered in blocks and written as one document per token and kind
//! of unit in each block (the schema module says why).
//!
//! The index is built in a fresh sibling of the target directory (same parent,
//! hence same file system) and only moved into place once tantivy has committed
//! it, so a reader finds either the previous complete index or the new complete
//! one, never a half-written one. Replacing an existing index takes two renames
//! (old aside, new in), so for an instant between them the path is empty; a reader
//! arriving then gets [`Error::Missing`]. Readers that already opened the old
//! index keep reading it: its files stay alive until they let go.

use std::cmp::Reverse;
use std::collections::hash_map::{Entry as Slot, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use glossa_tables::{Polarity, Side, UnitKind};
use tantivy::{IndexWriter, TantivyDocument};

use crate::normalize::{fold_normalized, normalize};
use crate::schema::{self, Code, Fields};
use crate::{Entry, Error, Result};

/// The file tantivy writes last when it commits; its presence marks an index.
const META_FILE: &str = "meta.json";

/// What a finished build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStats {
    /// Entries indexed.
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
/// entries while they are grouped by token, the other half is shared by tantivy's
/// `threads` indexing threads, which want at least 15 MB each (a `threads` of 0
/// counts as 1). A block takes 20 to 40 bytes per entry; one that holds all
/// entries gives one document per token and the smallest index, but smaller
/// blocks only add documents, not matches. For entries
/// that arrive from fallible sources, use [`IndexBuilder`].
pub fn build<'a>(
    dir: &Path,
    entries: impl IntoIterator<Item = Entry<'a>>,
    memory_budget_bytes: usize,
    threads: usize,
) -> Result<BuildStats> {
    let mut builder = IndexBuilder::create(dir, memory_budget_bytes, threads)?;
    for entry in entries {
        builder.add(&entry)?;
    }
    builder.finish()
}

/// An index being written: entries are added one by one, then
/// [`finish`](IndexBuilder::finish) puts the index in place.
///
/// Entries are gathered into blocks; when a block is full, each of its tokens
/// becomes one document (per kind of unit) holding all of that token's entries in
/// the block. Dropping a builder without finishing it discards its staging
/// directory and leaves any existing index untouched.
pub struct IndexBuilder {
    dir: PathBuf,
    // Declared before `staging` so that tantivy's threads are joined before the
    // staging directory is removed under them.
    writer: IndexWriter,
    staging: Staging,
    fields: Fields,
    /// The display form of every token id seen, to catch an id shown two ways.
    tokens: HashMap<u32, Box<str>>,
    /// The current block's entries, by kind and token.
    block: HashMap<(UnitKind, u32), Group>,
    /// Memory held by the current block, in bytes.
    block_bytes: usize,
    /// Memory a block may hold before it is written, in bytes.
    block_budget: usize,
    entries: u64,
    documents: u64,
    started: Instant,
}

/// The entries of one token and kind within a block: one future document.
struct Group {
    display: Box<str>,
    rows: Vec<Row>,
}

/// What an entry adds to its token's document.
#[derive(Debug, Clone, Copy)]
struct Row {
    layer: u32,
    unit: u32,
    side: Side,
    polarity: Polarity,
    rank: u32,
    score: f32,
}

impl Row {
    /// The order in which searches rank entries. Rows are written in this order
    /// only so that equal builds give equal indexes; searches do not rely on it.
    fn order(&self) -> impl Ord {
        let strength = self.score.to_bits() & 0x7fff_ffff;
        (
            self.rank,
            Reverse(strength),
            self.layer,
            self.unit,
            self.side,
            self.polarity,
        )
    }
}

impl IndexBuilder {
    /// Starts a build that will end up at `dir`; see [`build`] for the budget.
    ///
    /// Fails at once with [`Error::NotAnIndex`] if `dir` exists and is neither
    /// empty nor an index, rather than after the work of building.
    pub fn create(dir: &Path, memory_budget_bytes: usize, threads: usize) -> Result<IndexBuilder> {
        let started = Instant::now();
        check_replaceable(dir)?;
        let parent = parent_of(dir);
        fs::create_dir_all(parent).map_err(io_error("creating", parent))?;
        let staging = Staging::create(sibling(dir, "building")?)?;

        let (schema, fields) = schema::schema();
        let index = tantivy::Index::create_in_dir(&staging.path, schema)?;
        let block_budget = memory_budget_bytes / 2;
        let writer =
            index.writer_with_num_threads(threads.max(1), memory_budget_bytes - block_budget)?;
        Ok(IndexBuilder {
            dir: dir.to_path_buf(),
            writer,
            staging,
            fields,
            tokens: HashMap::new(),
            block: HashMap::new(),
            block_bytes: 0,
            block_budget,
            entries: 0,
            documents: 0,
            started,
        })
    }

    /// Adds one entry.
    ///
    /// Fails with [`Error::TokenMismatch`] if the entry's token id was seen
    /// before with another display form.
    pub fn add(&mut self, entry: &Entry<'_>) -> Result<()> {
        let group = match self.block.entry((entry.kind, entry.token_id)) {
            Slot::Occupied(group) => group.into_mut(),
            Slot::Vacant(slot) => {
                let display = known_display(&mut self.tokens, entry)?;
                self.block_bytes += size_of::<((UnitKind, u32), Group)>() + display.len();
                slot.insert(Group {
                    display,
                    rows: Vec::new(),
                })
            }
        };
        if *group.display != *entry.token {
            return Err(mismatch(entry, &group.display));
        }
        let capacity = group.rows.capacity();
        group.rows.push(Row {
            layer: entry.layer,
            unit: entry.unit,
            side: entry.side,
            polarity: entry.polarity,
            rank: entry.rank,
            score: entry.score,
        });
        // Count what the block really holds, growth slack included.
        self.block_bytes += (group.rows.capacity() - capacity) * size_of::<Row>();
        self.entries += 1;
        if self.block_bytes >= self.block_budget {
            self.write_block()?;
        }
        Ok(())
    }

    /// Hands the current block to tantivy, one document per token and kind.
    fn write_block(&mut self) -> Result<()> {
        let mut groups: Vec<_> = self.block.drain().collect();
        // Sorted so that equal input gives documents in equal order.
        groups.sort_unstable_by_key(|&(key, _)| key);
        let f = &self.fields;
        for ((kind, token_id), mut group) in groups {
            group.rows.sort_unstable_by_key(Row::order);
            let term = normalize(&group.display);
            let folded = fold_normalized(&term);
            let mut doc = TantivyDocument::new();
            doc.add_text(f.term, &term);
            doc.add_text(f.folded, &folded);
            doc.add_text(f.token, &group.display);
            doc.add_u64(f.token_id, token_id.into());
            doc.add_u64(f.kind, kind.code());
            // Field by field: tantivy sorts a document's values by field (stably),
            // which costs nothing when they already are.
            let rows = &group.rows;
            rows.iter()
                .for_each(|row| doc.add_u64(f.layer, row.layer.into()));
            rows.iter()
                .for_each(|row| doc.add_u64(f.unit, row.unit.into()));
            rows.iter()
                .for_each(|row| doc.add_u64(f.side, row.side.code()));
            rows.iter()
                .for_each(|row| doc.add_u64(f.polarity, row.polarity.code()));
            rows.iter()
                .for_each(|row| doc.add_u64(f.rank, row.rank.into()));
            rows.iter()
                .for_each(|row| doc.add_u64(f.score, row.score.to_bits().into()));
            self.writer.add_document(doc)?;
            self.documents += 1;
        }
        self.block_bytes = 0;
        Ok(())
    }

    /// Writes the last block, commits, waits for tantivy's merges, and moves the
    /// index into place, replacing whatever index was at the target directory.
    pub fn finish(mut self) -> Result<BuildStats> {
        self.write_block()?;
        let IndexBuilder {
            dir,
            mut writer,
            staging,
            entries,
            documents,
            started,
            ..
        } = self;
        writer.commit()?;
        let index = writer.index().clone();
        writer.wait_merging_threads()?;
        let segments = index.searchable_segment_metas()?.len();
        let bytes = dir_size(&staging.path)?;
        staging.replace(&dir)?;
        Ok(BuildStats {
            entries,
            documents,
            segments,
            bytes,
            elapsed: started.elapsed(),
        })
    }
}

/// The display form recorded for the entry's token id, recording it if the id is
/// new; fails if the id was recorded with another one.
fn known_display(tokens: &mut HashMap<u32, Box<str>>, entry: &Entry<'_>) -> Result<Box<str>> {
    let display = tokens
        .entry(entry.token_id)
        .or_insert_with(|| entry.token.into());
    if **display == *entry.token {
        Ok(display.clone())
    } else {
        Err(mismatch(entry, display))
    }
}

fn mismatch(entry: &Entry<'_>, known: &str) -> Error {
    Error::TokenMismatch {
        token_id: entry.token_id,
        first: known.to_string(),
        second: entry.token.to_string(),
    }
}

/// A staging directory that removes itself unless it was moved into place.
struct Staging {
    path: PathBuf,
    moved: bool,
}

impl Staging {
    fn create(path: PathBuf) -> Result<Staging> {
        fs::create_dir(&path).map_err(io_error("creating", &path))?;
        Ok(Staging { path, moved: false })
    }

    /// Moves the staged index to `dir`, setting aside and then deleting any index
    /// already there.
    fn replace(self, dir: &Path) -> Result<()> {
        let exists = dir.symlink_metadata().is_ok();
        if !exists {
            return self.move_to(dir);
        }
        // Checked again: the directory may have changed while the index was built.
        check_replaceable(dir)?;
        let old = sibling(dir, "replaced")?;
        fs::rename(dir, &old).map_err(io_error("setting aside the previous index", dir))?;
        if let Err(error) = self.move_to(dir) {
            // Put the previous index back; if even that fails, the error above is
            // still the one worth reporting, and `old` holds the index intact.
            let _ = fs::rename(&old, dir);
            return Err(error);
        }
        fs::remove_dir_all(&old).map_err(io_error(
            "the new index is in place, but deleting the previous one failed at",
            &old,
        ))
    }

    fn move_to(mut self, dir: &Path) -> Result<()> {
        fs::rename(&self.path, dir).map_err(io_error("moving the finished index to", dir))?;
        self.moved = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.moved {
            return;
        }
        // A failed or abandoned build; there is no caller left to tell if the
        // cleanup fails, and a leftover dot-directory harms nothing.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Refuses a target that exists and is neither an index nor an empty directory:
/// replacing it would delete something this crate did not write.
fn check_replaceable(dir: &Path) -> Result<()> {
    let metadata = match dir.symlink_metadata() {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io_error("inspecting", dir)(error)),
    };
    if !metadata.is_dir() {
        return Err(Error::NotAnIndex {
            dir: dir.to_path_buf(),
        });
    }
    if dir.join(META_FILE).is_file() {
        return Ok(());
    }
    let mut contents = fs::read_dir(dir).map_err(io_error("listing", dir))?;
    match contents.next() {
        None => Ok(()),
        Some(_) => Err(Error::NotAnIndex {
            dir: dir.to_path_buf(),
        }),
    }
}

/// The directory that holds `dir` (the current one for a bare name).
fn parent_of(dir: &Path) -> &Path {
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A fresh hidden path beside `dir`, unique within this process and among
/// processes, for `purpose` ("building", "replaced").
fn sibling(dir: &Path, purpose: &str) -> Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dir.file_name().ok_or_else(|| Error::Io {
        what: "choosing a staging directory beside",
        path: dir.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "the index path must end in a directory name",
        ),
    })?;
    let mut staged = std::ffi::OsString::from(".");
    staged.push(name);
    staged.push(format!(
        ".{purpose}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(parent_of(dir).join(staged))
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

/// Wraps an I/O failure with what was being done and where.
fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { what, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Index, Search};

    const VOCAB: [&str; 5] = ["dieta", "#owa", "Łódź", "(", "DIETA"];

    /// Every list of a small model, each token drawn from `VOCAB` by formula.
    fn entries() -> Vec<Entry<'static>> {
        let mut entries = Vec::new();
        for layer in 0..3 {
            for unit in 0..4 {
                for &side in Side::ALL {
                    for &polarity in Polarity::ALL {
                        for rank in 1..=5 {
                            let token_id = (layer * 7 + unit * 3 + rank) % 5;
                            let magnitude = (10 - rank) as f32 + (unit as f32) / 8.0;
                            entries.push(Entry {
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
                            });
                        }
                    }
                }
            }
        }
        entries
    }

    fn build_with_block_budget(dir: &Path, block_budget: Option<usize>) -> BuildStats {
        let mut builder = IndexBuilder::create(dir, 64 << 20, 2).expect("starts");
        if let Some(budget) = block_budget {
            builder.block_budget = budget;
        }
        for entry in entries() {
            builder.add(&entry).expect("adds");
        }
        builder.finish().expect("finishes")
    }

    #[test]
    fn block_size_changes_documents_not_hits() {
        let root = tempfile::TempDir::new().expect("temporary directory");
        let whole = build_with_block_budget(&root.path().join("whole"), None);
        // A one-byte budget writes every entry as a document of its own.
        let single = build_with_block_budget(&root.path().join("single"), Some(1));
        assert_eq!(whole.documents, 5);
        assert_eq!(single.documents, single.entries);
        assert_eq!(whole.entries, single.entries);

        let whole = Index::open(root.path().join("whole")).expect("opens");
        let single = Index::open(root.path().join("single")).expect("opens");
        for term in ["dieta", "owa", "łódź", "("] {
            for layer in [None, Some(1)] {
                let search = Search {
                    layer,
                    limit: 1000,
                    ..Search::new([term])
                };
                let hits = whole.search(&search).expect("searches");
                assert!(!hits.is_empty());
                assert_eq!(hits, single.search(&search).expect("searches"));
                assert_eq!(whole.count(&search).ok(), Some(hits.len()));
            }
        }
    }
}
