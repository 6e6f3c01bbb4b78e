//! Building, replacing and opening: atomic swaps and clear failures.

use std::fs;

use glossa_index::{
    build, is_staging_leftover, Error, Index, IndexBuilder, NeuronEntry, Replace, Search,
};
use glossa_tables::{Polarity, Side};
use tempfile::TempDir;

use crate::support::{entries, listing, neuron, pairs, Fixture, BUDGET};

fn only(token_id: u32, token: &'static str) -> Vec<NeuronEntry<'static>> {
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
        matches!(&error, Error::NotAnIndex { dir, .. } if dir == root.path()),
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
    assert!(
        matches!(&error, Error::Tantivy { dir, .. } if *dir == tiny),
        "{error}"
    );
    assert!(
        error.to_string().contains("tiny"),
        "names the index: {error}"
    );
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
        message.contains("nowhere") && message.contains("no search index"),
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
        assert!(
            error.to_string().contains("can be rebuilt from the tables"),
            "{error}"
        );
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

#[test]
fn truncated_segment_files_are_reported_not_panicked_on() {
    let fixture = Fixture::new();
    let dir = fixture.dir();
    let mut truncated = Vec::new();
    for name in listing(&dir) {
        if name.ends_with(".idx") || name.ends_with(".term") {
            fs::write(dir.join(&name), b"1234567").expect("damages");
            truncated.push(name);
        }
    }
    assert!(!truncated.is_empty());
    let error = Index::open(&dir).err().expect("fails");
    let message = error.to_string();
    assert!(
        matches!(&error, Error::Corrupt { dir: named, .. } if *named == dir)
            && truncated.iter().any(|name| message.contains(name.as_str()))
            && message.contains("truncated"),
        "{message}"
    );
}

#[test]
fn any_damage_to_a_segment_file_is_an_error_or_harmless() {
    let root = TempDir::new().expect("temporary directory");
    let pristine = root.path().join("pristine");
    crate::support::build_both(&pristine, &entries(), &pairs());
    let files: Vec<String> = listing(&pristine)
        .into_iter()
        .filter(|name| !name.ends_with(".json") && !name.ends_with(".lock"))
        .collect();
    assert!(!files.is_empty());
    // Each way of damaging one file: what is left of its bytes.
    type Damage = fn(&[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 4] = [
        ("empty", |_| Vec::new()),
        ("seven bytes", |bytes| bytes[..bytes.len().min(7)].to_vec()),
        ("half", |bytes| bytes[..bytes.len() / 2].to_vec()),
        ("zeroed body", |bytes| {
            // The footer (its last 8 bytes and what they announce) is kept.
            let keep = bytes.len().saturating_sub(64);
            let mut damaged = vec![0; keep];
            damaged.extend_from_slice(&bytes[keep..]);
            damaged
        }),
    ];
    for file in &files {
        for (how, damage) in damages {
            let dir = root.path().join("damaged");
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir(&dir).expect("creates");
            for name in listing(&pristine) {
                fs::copy(pristine.join(&name), dir.join(&name)).expect("copies");
            }
            let bytes = fs::read(pristine.join(file)).expect("reads");
            fs::write(dir.join(file), damage(&bytes)).expect("damages");
            let outcome = Index::open(&dir).and_then(|index| {
                let search = Search {
                    limit: 100,
                    ..Search::new(["dieta", "owa*", "zdrowie~1"])
                };
                index.search(&search)?;
                index.count_by_layer(&search)?;
                Ok(index.entries())
            });
            match outcome {
                Ok(_) | Err(Error::Corrupt { .. }) => {}
                Err(other) => panic!("{file}, {how}: {other}"),
            }
        }
    }
}

#[test]
fn a_derived_index_is_replaced_whatever_is_there() {
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("index");
    let derived = |dir: &std::path::Path| {
        let mut builder =
            IndexBuilder::create_with(dir, BUDGET, 1, Replace::Anything).expect("starts");
        builder.add(&only(900, "nowy")[0]).expect("adds");
        builder.finish().expect("finishes")
    };
    type Break = fn(&std::path::Path);
    let breakages: [(&str, Break, &str); 3] = [
        (
            "meta.json deleted",
            |dir| fs::remove_file(dir.join("meta.json")).expect("deletes"),
            "no meta.json",
        ),
        (
            "a file",
            |dir| {
                fs::remove_dir_all(dir).expect("deletes");
                fs::write(dir, "not an index").expect("writes");
            },
            "it is a file",
        ),
        (
            "other files",
            |dir| {
                fs::remove_dir_all(dir).expect("deletes");
                fs::create_dir(dir).expect("creates");
                fs::write(dir.join("notes.txt"), "x").expect("writes");
            },
            "no meta.json",
        ),
    ];
    for (what, breakage, found) in breakages {
        build(&dir, entries(), BUDGET, 1).expect("builds");
        breakage(&dir);
        // A path someone chose is not replaced, and the refusal names it.
        let error = build(&dir, only(900, "nowy"), BUDGET, 1).expect_err("refuses");
        let message = error.to_string();
        assert!(
            matches!(&error, Error::NotAnIndex { dir: named, .. } if *named == dir)
                && message.contains(found)
                && message.contains(&format!("remove {}", dir.display())),
            "{what}: {message}"
        );
        // A derived index is.
        derived(&dir);
        let index = Index::open(&dir).expect("opens");
        assert_eq!(index.entries(), 1, "{what}");
        assert_eq!(listing(root.path()), ["index"], "{what}");
    }
    // Over a sound index, or nothing at all, it builds as ever.
    derived(&dir);
    fs::remove_dir_all(&dir).expect("deletes");
    derived(&dir);
    assert_eq!(Index::open(&dir).expect("opens").entries(), 1);
}

#[test]
fn leftovers_of_an_interrupted_build_are_recognised() {
    let root = TempDir::new().expect("temporary directory");
    let dir = root.path().join("index");
    let builder = IndexBuilder::create(&dir, BUDGET, 1).expect("starts");
    let staging: Vec<String> = listing(root.path());
    assert_eq!(staging.len(), 1);
    let leftover = root.path().join(&staging[0]);
    assert!(is_staging_leftover(&dir, &leftover), "{staging:?}");
    assert!(!is_staging_leftover(&dir, &dir));
    drop(builder);
    assert!(listing(root.path()).is_empty());
}
