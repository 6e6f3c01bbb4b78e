//! Writing Parquet files (and any other file of a dataset) atomically, with
//! explicit writer properties; their hashes.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use arrow_array::{Float32Array, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::columns::Columns;
use crate::error::{Result, TableError};
use crate::kinds::{Circuit, Side};
use crate::layout::TableKind;

/// One written file: what the manifest and the resume journal record of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path relative to the dataset directory, `/`-separated.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Writer settings; the defaults suit Glossa's tables.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Rows per row group: bounds the writer's buffer and lets readers skip
    /// groups by their statistics.
    pub row_group_rows: usize,
    /// zstd level.
    pub zstd_level: i32,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            row_group_rows: 128 * 1024,
            zstd_level: 3,
        }
    }
}

/// Writes `batches` to `dir/relative` atomically and describes the result.
///
/// The data goes to a temporary file in the same directory, is synced, then
/// renamed over the target, so a reader sees either nothing or the whole file.
pub fn write_table(
    dir: &Path,
    relative: &str,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
    options: TableOptions,
) -> Result<FileRecord> {
    let path = dir.join(relative);
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(TableError::io(parent))?;
    let rows = replace_atomically(&path, |temporary| {
        write_file(temporary, schema, batches, options)
    })?;
    let (sha256, bytes) = sha256_file(&path)?;
    Ok(FileRecord {
        path: relative.to_string(),
        rows,
        bytes,
        sha256,
    })
}

/// Copies the file `from` to `to` atomically and durably (as
/// [`write_atomically`] writes), hashing it on the way: the sha256 (hex) and
/// size of what was copied. Creates the directory of `to` if need be.
pub fn copy_atomically(from: &Path, to: &Path) -> Result<(String, u64)> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(TableError::io(parent))?;
    }
    replace_atomically(to, |temporary| copy_hashing(from, temporary))
}

/// Copies `from` to a new file `to`, synced, returning the sha256 (hex) and
/// size of what was copied.
fn copy_hashing(from: &Path, to: &Path) -> Result<(String, u64)> {
    let mut source = File::open(from).map_err(TableError::io(from))?;
    let mut target = File::create(to).map_err(TableError::io(to))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = source.read(&mut buffer).map_err(TableError::io(from))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        target.write_all(&buffer[..n]).map_err(TableError::io(to))?;
        bytes += n as u64;
    }
    target.sync_all().map_err(TableError::io(to))?;
    Ok((hex(&hasher.finalize()), bytes))
}

/// Writes `bytes` to `path` atomically and durably: a reader (or a restart
/// after power loss) finds the old file or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_atomically(path, |temporary| {
        let write = || -> std::io::Result<()> {
            let mut file = File::create(temporary)?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        write().map_err(TableError::io(temporary))
    })
}

/// Runs `write` on a temporary file beside `path`, which it must leave
/// synced, then renames that file over `path`. On failure the temporary file
/// is removed and `path` is left as it was.
fn replace_atomically<T>(path: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let temporary = temporary_path(path);
    let result = write(&temporary).and_then(|value| {
        std::fs::rename(&temporary, path).map_err(TableError::io(path))?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `.NAME.PID.tmp` beside `path`: hidden, and recognisable as the leftover of
/// an interrupted write.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_file(
    path: &Path,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
    options: TableOptions,
) -> Result<u64> {
    let file = File::create(path).map_err(TableError::io(path))?;
    let zstd = ZstdLevel::try_new(options.zstd_level).map_err(TableError::parquet(path))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(options.row_group_rows))
        .set_created_by(format!("glossa {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(BufWriter::new(file), schema, Some(properties))
        .map_err(TableError::parquet(path))?;
    let mut rows = 0u64;
    for batch in batches {
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(TableError::parquet(path))?;
    }
    let mut inner = writer.into_inner().map_err(TableError::parquet(path))?;
    inner.flush().map_err(TableError::io(path))?;
    let file = inner.into_inner().map_err(|e| TableError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(TableError::io(path))?;
    Ok(rows)
}

/// The sha256 (hex) and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).map_err(TableError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(TableError::io(path))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex(&hasher.finalize()), bytes))
}

/// The sha256 (hex) of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The number of rows a Parquet file's footer declares; fails if the file is
/// not Parquet (or its footer is damaged).
pub fn parquet_rows(path: &Path) -> Result<u64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = File::open(path).map_err(TableError::io(path))?;
    let reader = SerializedFileReader::new(file).map_err(TableError::parquet(path))?;
    let rows = reader.metadata().file_metadata().num_rows();
    Ok(rows.max(0) as u64)
}

/// The first NaN or infinite value of a list table's `score` and `z`
/// columns, with the column's name, reading those columns alone; `None`
/// when every value is finite.
pub fn first_non_finite_score(path: &Path) -> Result<Option<(&'static str, f32)>> {
    const COLUMNS: [&str; 2] = ["score", "z"];
    for batch in read_columns(path, &COLUMNS)? {
        let columns = Columns::new(&batch, path);
        for column in COLUMNS {
            let values = columns.get::<Float32Array>(column)?;
            if let Some(bad) = values.values().iter().find(|s| !s.is_finite()) {
                return Ok(Some((column, *bad)));
            }
        }
    }
    Ok(None)
}

/// One row of a list table, reduced to what its z is checked with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListScore {
    pub layer: u32,
    /// The neuron or head.
    pub unit: u32,
    /// The side or circuit, as the table names it.
    pub list: &'static str,
    pub score: f32,
    pub z: f32,
}

/// Every row of the list table of `kind` (neurons or heads) at `path`,
/// decoding only the five columns a [`ListScore`] holds.
pub fn read_list_scores(path: &Path, kind: TableKind) -> Result<Vec<ListScore>> {
    use arrow_array::{StringArray, UInt16Array, UInt32Array};

    let schema_error = |column| TableError::Schema {
        path: path.to_path_buf(),
        column,
        version: crate::schema::SCHEMA_VERSION,
    };
    let (unit, list) = match kind {
        TableKind::Neurons => ("neuron", "side"),
        TableKind::Heads => ("head", "circuit"),
        _ => return Err(schema_error("score")),
    };
    let mut rows = Vec::new();
    for batch in read_columns(path, &["layer", unit, list, "score", "z"])? {
        let columns = Columns::new(&batch, path);
        let layers = columns.get::<UInt16Array>("layer")?;
        let lists = columns.get::<StringArray>(list)?;
        let (score, z) = (
            columns.get::<Float32Array>("score")?,
            columns.get::<Float32Array>("z")?,
        );
        // A neuron's index is 32 bits wide, a head's 16.
        let units: Vec<u32> = match kind {
            TableKind::Neurons => columns.get::<UInt32Array>(unit)?.values().to_vec(),
            _ => columns
                .get::<UInt16Array>(unit)?
                .values()
                .iter()
                .map(|&u| u32::from(u))
                .collect(),
        };
        for (i, unit) in units.into_iter().enumerate() {
            let name = lists.value(i);
            let list = match kind {
                TableKind::Neurons => columns.parse::<Side>(list, name)?.as_str(),
                _ => columns.parse::<Circuit>(list, name)?.as_str(),
            };
            rows.push(ListScore {
                layer: u32::from(layers.value(i)),
                unit,
                list,
                score: score.value(i),
                z: z.value(i),
            });
        }
    }
    Ok(rows)
}

/// Every batch of a Parquet file, with only the named columns decoded.
fn read_columns(path: &Path, names: &[&str]) -> Result<Vec<RecordBatch>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ProjectionMask;

    let file = File::open(path).map_err(TableError::io(path))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(TableError::parquet(path))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), names.iter().copied());
    builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(TableError::parquet(path))?
        .map(|batch| batch.map_err(TableError::from))
        .collect()
}

/// Reads every batch of a Parquet file.
pub(crate) fn read_batches(path: &Path) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(TableError::io(path))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(TableError::parquet(path))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(TableError::parquet(path))?;
    reader
        .map(|batch| batch.map_err(TableError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{schema, token_list_batch};

    fn batch() -> RecordBatch {
        token_list_batch(
            &(0..5000u32)
                .map(|i| (i, u64::from(i) * 7))
                .collect::<Vec<_>>(),
        )
    }

    /// Whether `error` has an I/O error of `kind` among its causes.
    fn caused_by(error: &TableError, kind: std::io::ErrorKind) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cause {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == kind)
            {
                return true;
            }
            cause = e.source();
        }
        false
    }

    #[test]
    fn a_copy_is_hashed_like_the_original_and_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let original = write_table(
            tmp.path(),
            "a/t.parquet",
            schema::token_list(),
            [batch()],
            TableOptions::default(),
        )
        .unwrap();
        let (sha256, bytes) = copy_atomically(
            &tmp.path().join("a/t.parquet"),
            &tmp.path().join("b/c/t.parquet"),
        )
        .unwrap();
        assert_eq!((bytes, &sha256), (original.bytes, &original.sha256));
        assert_eq!(
            sha256_file(&tmp.path().join("b/c/t.parquet")).unwrap(),
            (sha256, bytes)
        );
        let names: Vec<_> = std::fs::read_dir(tmp.path().join("b/c"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["t.parquet"]);
        let missing = copy_atomically(&tmp.path().join("missing"), &tmp.path().join("d"));
        assert!(missing.unwrap_err().to_string().contains("missing"));
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".tmp") && n != "d"),
            "{names:?}"
        );
    }

    #[test]
    fn writes_are_deterministic_and_atomic() {
        let tmp = tempfile::tempdir().unwrap();
        let a = write_table(
            tmp.path(),
            "a/t.parquet",
            schema::token_list(),
            [batch()],
            TableOptions::default(),
        )
        .unwrap();
        let b = write_table(
            tmp.path(),
            "b/t.parquet",
            schema::token_list(),
            [batch()],
            TableOptions::default(),
        )
        .unwrap();
        assert_eq!((a.sha256, a.rows), (b.sha256, b.rows));
        assert_eq!(parquet_rows(&tmp.path().join("a/t.parquet")).unwrap(), 5000);
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("a"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, ["t.parquet"]);
    }

    /// A full disk, as Linux offers one: every write to /dev/full fails with ENOSPC.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_an_error_that_says_so_and_leaves_no_file() {
        let full = Path::new("/dev/full");
        if std::fs::OpenOptions::new().write(true).open(full).is_err() {
            eprintln!("/dev/full is not writable here; skipping");
            return;
        }
        let error = write_file(
            full,
            schema::token_list(),
            [batch()],
            TableOptions::default(),
        )
        .unwrap_err();
        assert!(
            caused_by(&error, std::io::ErrorKind::StorageFull),
            "{error:?}"
        );
        assert!(error.to_string().contains("/dev/full"), "{error}");

        // Through write_table: its temporary file is made a link to /dev/full.
        let tmp = tempfile::tempdir().unwrap();
        let temporary = tmp
            .path()
            .join(format!(".t.parquet.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(full, &temporary).unwrap();
        let error = write_table(
            tmp.path(),
            "t.parquet",
            schema::token_list(),
            [batch()],
            TableOptions::default(),
        )
        .unwrap_err();
        assert!(
            caused_by(&error, std::io::ErrorKind::StorageFull),
            "{error:?}"
        );
        assert!(!tmp.path().join("t.parquet").exists());
        assert!(!temporary.exists(), "the temporary file is removed");
    }
}
