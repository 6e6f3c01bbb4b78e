//! What a run has written so far: its tables, their row counts, the time
//! each stage took, and the journal that lets an interrupted run resume.

use std::collections::BTreeMap;
use std::time::Instant;

use glossa_tables::{write_table, FileRecord, Layout, RecordBatch, Table, TableKind, TableOptions};

use crate::error::Result;
use crate::resume::Journal;

/// The books of one run, kept in step with its journal.
pub(super) struct Ledger {
    layout: Layout,
    /// Tables of the dataset, in the order they were written or kept.
    tables: Vec<FileRecord>,
    row_counts: BTreeMap<TableKind, u64>,
    timings: BTreeMap<String, f64>,
    journal: Journal,
    /// Files an interrupted run of the same configuration already wrote.
    done: BTreeMap<String, FileRecord>,
}

/// What the manifest records of a finished run's books.
pub(super) struct Closed {
    pub(super) tables: Vec<FileRecord>,
    pub(super) row_counts: BTreeMap<TableKind, u64>,
    pub(super) timings: BTreeMap<String, f64>,
    pub(super) journal: Journal,
}

impl Ledger {
    pub(super) fn new(
        layout: Layout,
        journal: Journal,
        done: BTreeMap<String, FileRecord>,
        timings: BTreeMap<String, f64>,
    ) -> Ledger {
        Ledger {
            layout,
            tables: Vec::new(),
            row_counts: BTreeMap::new(),
            timings,
            journal,
            done,
        }
    }

    pub(super) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Adds the seconds since `started` to `stage`.
    pub(super) fn time(&mut self, stage: &str, started: Instant) {
        self.add_seconds(stage, started.elapsed().as_secs_f64());
    }

    pub(super) fn add_seconds(&mut self, stage: &str, seconds: f64) {
        *self.timings.entry(stage.to_string()).or_default() += seconds;
    }

    /// Writes a table of the dataset and records it in the journal.
    pub(super) fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()> {
        let record = self.write_file(&table.path(), table.kind(), batch)?;
        self.list(table.kind(), record);
        Ok(())
    }

    /// Writes a file of `kind`'s schema at `relative` and records it in the
    /// journal, without listing it in the manifest (a part a resumed run reuses).
    pub(super) fn write_file(
        &mut self,
        relative: &str,
        kind: TableKind,
        batch: RecordBatch,
    ) -> Result<FileRecord> {
        let record = write_table(
            self.layout.dir(),
            relative,
            kind.schema(),
            [batch],
            TableOptions::default(),
        )?;
        self.journal.record(&record, &self.timings)?;
        Ok(record)
    }

    fn list(&mut self, kind: TableKind, record: FileRecord) {
        *self.row_counts.entry(kind).or_default() += record.rows;
        self.tables.push(record);
    }

    /// Lists `table` as written if an interrupted run of the same
    /// configuration wrote it; `false` if it must be computed.
    pub(super) fn reuse(&mut self, table: Table) -> bool {
        match self.done.get(&table.path()).cloned() {
            Some(record) => {
                self.list(table.kind(), record);
                true
            }
            None => false,
        }
    }

    /// Whether an interrupted run wrote the file at `relative`.
    pub(super) fn was_done(&self, relative: &str) -> bool {
        self.done.contains_key(relative)
    }

    /// The tables listed so far.
    pub(super) fn tables(&self) -> &[FileRecord] {
        &self.tables
    }

    /// The books, for the manifest; the journal goes once the manifest is written.
    pub(super) fn close(self) -> Closed {
        Closed {
            tables: self.tables,
            row_counts: self.row_counts,
            timings: self.timings,
            journal: self.journal,
        }
    }
}
