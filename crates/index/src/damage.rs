//! How is a damaged index told apart from a bug? It is reported, never a crash.
//!
//! An index is derived data: a truncated copy or a full disk must give
//! [`Error::Corrupt`], which callers answer by rebuilding. tantivy trusts its
//! files, though, and panics on some damage (a segment file shorter than its
//! footer underflows a slice). Two defences:
//!
//! - [`check_footers`] reads the end of every segment file at open, so the
//!   commonest damage, truncation, is named precisely before tantivy reads a byte;
//! - [`contained`] runs every call into a segment's data under
//!   `catch_unwind`, turning whatever damage the footers cannot show into an
//!   error. The panic message is kept for the error, not printed: a panic hook,
//!   installed once, stays silent for panics raised inside [`contained`] on the
//!   same thread and hands every other panic to the hook that was there before.

use std::any::Any;
use std::cell::Cell;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use crate::error::io_error;
use crate::{Error, Result};

/// The magic number that ends every file tantivy writes (its
/// `FOOTER_MAGIC_NUMBER`, which it does not export).
const FOOTER_MAGIC: u32 = 1337;

/// The largest footer tantivy reads (its `FOOTER_MAX_LEN`).
const FOOTER_MAX_LEN: u32 = 50_000;

/// The footer's length and magic number: two little-endian `u32`s.
const FOOTER_TAIL: u64 = 8;

thread_local! {
    /// Whether this thread is inside [`contained`], whose panics are errors.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read`, which reads the index in `dir`, reporting a panic inside it as
/// [`Error::Corrupt`] and keeping its message off standard error.
pub(crate) fn contained<T>(dir: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = CONTAINED.with(|flag| flag.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(read));
    CONTAINED.with(|flag| flag.set(outer));
    result.unwrap_or_else(|payload| {
        Err(Error::Corrupt {
            dir: dir.to_path_buf(),
            reason: format!("reading it failed: {}", panic_message(&*payload)),
        })
    })
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "a panic without a message"
    }
}

/// Checks that every file in `dir` whose name starts with one of `segments` (the
/// ids of the index's segments) ends in a well-formed tantivy footer, naming the
/// first file that does not.
pub(crate) fn check_footers(dir: &Path, segments: &[String]) -> Result<()> {
    for file in fs::read_dir(dir).map_err(io_error("listing", dir))? {
        let file = file.map_err(io_error("listing", dir))?;
        let name = file.file_name().to_string_lossy().into_owned();
        if !segments.iter().any(|segment| name.starts_with(segment)) {
            continue;
        }
        let path = file.path();
        if let Some(problem) = footer_problem(&path).map_err(io_error("reading", &path))? {
            return Err(Error::Corrupt {
                dir: dir.to_path_buf(),
                reason: format!("its file {name} {problem}"),
            });
        }
    }
    Ok(())
}

/// What is wrong with the footer of the file at `path`, if anything.
fn footer_problem(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < FOOTER_TAIL {
        return Ok(Some(format!(
            "is truncated ({len} bytes, shorter than a footer)"
        )));
    }
    file.seek(SeekFrom::End(-(FOOTER_TAIL as i64)))?;
    let mut tail = [0; FOOTER_TAIL as usize];
    file.read_exact(&mut tail)?;
    let [a, b, c, d, e, f, g, h] = tail;
    let footer_len = u32::from_le_bytes([a, b, c, d]);
    if u32::from_le_bytes([e, f, g, h]) != FOOTER_MAGIC {
        return Ok(Some(
            "does not end in a footer (truncated or overwritten)".into(),
        ));
    }
    if footer_len > FOOTER_MAX_LEN || len < u64::from(footer_len) + FOOTER_TAIL {
        return Ok(Some(format!(
            "has a footer of {footer_len} bytes that does not fit in its {len}"
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_panic_is_an_error() {
        let dir = Path::new("some/index");
        let error = contained(dir, || -> Result<()> { panic!("bad slice") }).expect_err("fails");
        assert!(
            matches!(&error, Error::Corrupt { dir: named, reason } if named == dir && reason.contains("bad slice")),
            "{error}"
        );
        // Nested calls restore the outer state; values and errors pass through.
        let value = contained(dir, || contained(dir, || Ok(7)));
        assert_eq!(value.ok(), Some(7));
        assert!(!CONTAINED.with(Cell::get));
    }

    #[test]
    fn footers_are_checked() {
        let root = tempfile::TempDir::new().expect("temporary directory");
        let write = |name: &str, bytes: &[u8]| fs::write(root.path().join(name), bytes);
        let mut good = b"body{}".to_vec();
        good.extend(2u32.to_le_bytes());
        good.extend(FOOTER_MAGIC.to_le_bytes());
        write("seg.idx", &good).expect("writes");
        write("other.idx", b"1234567").expect("writes");
        let segments = ["seg".to_string()];
        check_footers(root.path(), &segments).expect("a good footer passes");

        for (bytes, problem) in [
            (&b"1234567"[..], "truncated"),
            (&good[..good.len() - 1], "does not end in a footer"),
            (&good[good.len() - 9..], "does not fit"),
        ] {
            write("seg.term", bytes).expect("writes");
            let error = check_footers(root.path(), &segments).expect_err("fails");
            let message = error.to_string();
            assert!(
                message.contains("seg.term") && message.contains(problem),
                "{message}"
            );
        }
    }
}
