//! Building, replacing and opening: atomic swaps and clear failures.

use std::fs;

use glossa_index::{build, Entry, Error, Index, IndexBuilder, Search};
use glossa_tables::{Polarity, Side};
use tempfile::TempDir;

use crate::support::{entries, listing, neuron, pairs, Fixture, BUDGET};

fn only(token_id: u32, token: &'static str) -> Vec<Entry<'static>> {
    vec![neuron(
        (3, 1, Side::Key, Polarity::Top),
        1,
        (token_id, token),
        1.0,
    )]
}

#[test]
fn rebuilding_replaces_the_index_whole() {
    let fixture = Fixture::new();
    let dir = fixture.dir();
    let stats = build(&dir, only(900, "nowy"), BUDGET, 1).expect("rebuild");
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.documents, 1);
    assert!(stats.bytes > 0);

    let reopened = Index::open(&dir).expect("reopens");
    assert_eq!(reopened.entries(), 1);
    assert_eq!(reopened.count(&Search::new(["nowy"])).expect("count"), 1);
    assert_eq!(reopened.count(&Search::new(["dieta"])).expect("count"), 0);
    // No staging or set-aside directory is left beside the index.
    let parent = dir.parent().expect("has a parent");
    assert_eq!(listing(parent), ["index"]);
}

#[test]
fn an_open_index_survives_a_rebuild() {
    let fixture = Fixture::new();
    build(&fixture.dir(), only(900, "nowy"), BUDGET, 1).expect("rebuild");
    // The handle opened before still reads the index it opened.
    assert_eq!(fixture.find(&["dieta"]).len(), 11);
}

#[test]
fn a_failed_build_leaves_the_old_index() {
    let fixture = Fixture::new();
    let dir = fixture.dir();
    let before = listing(&dir);

    // The same token id under two display forms stops the build.
    let clash = vec![
        neuron((0, 0, Side::Key, Polarity::Top), 1, (100, "dieta"), 1.0),
        neuron((0, 1, Side::Key, Polarity::Top), 1, (100, "other"), 1.0),
    ];
    let error = build(&dir, clash, BUDGET, 1).expect_err("mismatch");
    assert!(
        matches!(&error, Error::TokenMismatch { token_id: 100, first, second } if first == "dieta" && second == "other"),
        "{error}"
    );

    // An abandoned builder changes nothing either.
    let mut builder = IndexBuilder::create(&dir, BUDGET, 1).expect("starts");
    builder.add(&only(900, "nowy")[0]).expect("adds");
    drop(builder);

    assert_eq!(listing(&dir), before);
    assert_eq!(listing(dir.parent().expect("has a parent")), ["index"]);
    let reopened = Index::open(&dir).expect("old index opens");
    assert_eq!(reopened.entries(), (entries().len() + pairs().len()) as u64);
}

#[test]
fn a_directory_that_is_not_an_index_is_not_replaced() {
    let root = TempDir::new().expect("temporary directory");
    let precious = root.path().join("notes.txt");
    fs::write(&precious, "keep me").expect("writes");
    let error = build(root.path(), only(1, "a"), BUDGET, 1).expect_err("refuses");
    assert!(
        matches!(&error, Error::NotAnIndex { dir } if dir == root.path()),
        "{error}"
    );
    assert_eq!(
        fs::read_to_string(&precious).expect("still there"),
        "keep me"
    );

    // An empty directory, or a fresh path with missing parents, is fine.
    let empty = root.path().join("empty");
    fs::create_dir(&empty).expect("creates");
    build(&empty, only(1, "a"), BUDGET, 1).expect("builds into an empty directory");
    let nested = root.path().join("a/b/index");
    build(&nested, only(1, "a"), BUDGET, 1).expect("builds under new parents");
    assert_eq!(Index::open(&nested).expect("opens").entries(), 1);
}

#[test]
fn budgets_bound_threads_and_fail_cleanly() {
    let root = TempDir::new().expect("temporary directory");
    // More threads than the budget can feed: fewer are used.
    let many = root.path().join("many");
    build(&many, entries(), BUDGET, 64).expect("builds with fewer threads");
    assert_eq!(
        Index::open(&many).expect("opens").entries(),
        entries().len() as u64
    );
    // Too little for even one thread: an error, not a panic.
    let tiny = root.path().join("tiny");
    let error = build(&tiny, entries(), 1 << 20, 1).expect_err("too small");
    assert!(matches!(error, Error::Tantivy(_)), "{error}");
    assert!(!tiny.exists());
    assert!(listing(root.path())
        .iter()
        .all(|name| !name.starts_with('.')));
}

#[test]
fn an_empty_build_gives_an_empty_index() {
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("index");
    let stats = build(&dir, Vec::new(), BUDGET, 2).expect("builds");
    assert_eq!((stats.entries, stats.documents), (0, 0));
    let index = Index::open(&dir).expect("opens");
    assert_eq!(index.entries(), 0);
    assert!(index
        .search(&Search::new(["dieta"]))
        .expect("searches")
        .is_empty());
}

#[test]
fn opening_a_missing_directory_says_so() {
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("nowhere");
    let error = Index::open(&dir).err().expect("fails");
    assert!(
        matches!(&error, Error::Missing { dir: named } if *named == dir),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("nowhere") && message.contains("glossa index"),
        "{message}"
    );
}

#[test]
fn opening_garbage_says_it_is_corrupt() {
    let root = TempDir::new().expect("temporary directory");
    // Each case: a directory name and the files put in it.
    type Files = &'static [(&'static str, &'static [u8])];
    let cases: [(&str, Files); 3] = [
        ("empty", &[]),
        ("junk", &[("data.bin", b"\x00\x01garbage")]),
        (
            "bad-meta",
            &[("meta.json", b"{ not json"), ("x.idx", b"junk")],
        ),
    ];
    for (name, files) in cases {
        let dir = root.path().join(name);
        fs::create_dir(&dir).expect("creates");
        for (file, contents) in files {
            fs::write(dir.join(file), contents).expect("writes");
        }
        let error = Index::open(&dir).err().expect("fails");
        assert!(
            matches!(&error, Error::Corrupt { dir: named, .. } if *named == dir),
            "{name}: {error}"
        );
        assert!(error.to_string().contains("glossa index"), "{error}");
    }

    // A plain file where the directory should be.
    let file = root.path().join("file");
    fs::write(&file, "not a directory").expect("writes");
    assert!(matches!(Index::open(&file), Err(Error::Corrupt { .. })));
}

#[test]
fn opening_an_index_with_a_damaged_segment_says_it_is_corrupt() {
    let fixture = Fixture::new();
    let dir = fixture.dir();
    for name in listing(&dir) {
        if name.ends_with(".fast") {
            fs::write(dir.join(&name), b"truncated").expect("damages");
        }
    }
    let error = Index::open(&dir).err().expect("fails");
    assert!(matches!(error, Error::Corrupt { .. }), "{error}");
}
