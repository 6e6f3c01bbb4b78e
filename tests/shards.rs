//! Beyond one machine (issue 13): `extract --layers` writes a shard, a
//! dataset of some layers that is searchable and verifiable on its own, and
//! `glossa merge` joins the shards of every layer into the dataset an
//! unsharded run writes, table for table byte-identical, refusing shards that
//! do not belong together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use glossa_tables::{read_head_summary, LayerRange, Layout, Manifest, Table, TableKind};

use crate::common::{glossa, shipped_model_dir};

/// The options of every run here, apart from the layers.
const OPTIONS: [&str; 4] = ["--k", "10", "--head-k", "10"];

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("utf-8 path")
}

/// Asserts a clean failure: exit `code`, every needle in the message, no panic.
#[track_caller]
fn assert_fails(output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    for bad in ["panicked", "RUST_BACKTRACE"] {
        assert!(!err.contains(bad), "{err}");
    }
}

#[track_caller]
fn assert_succeeds(output: &Output) {
    assert!(output.status.success(), "{}", stderr(output));
}

/// `glossa extract --model MODEL --out OUT` with [`OPTIONS`] and `extra`.
fn extract(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "extract",
        "--quiet",
        "--model",
        path(model),
        "--out",
        path(out),
    ];
    args.extend_from_slice(&OPTIONS);
    args.extend_from_slice(extra);
    glossa(&args, out.parent().expect("a parent"))
}

/// `glossa merge --out OUT SHARD...`.
fn merge(out: &Path, shards: &[&Path]) -> Output {
    let mut args = vec!["merge", "--quiet", "--out", path(out)];
    args.extend(shards.iter().map(|s| path(s)));
    glossa(&args, out.parent().expect("a parent"))
}

/// The shipped model extracted whole, in three shards, and the shards merged.
struct Shipped {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Shipped {
    fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// Made once per test binary: `full`, the shards `s0` (layers 0–1), `s1`
/// (layer 2) and `s2` (layer 3), written with different thread counts and
/// each range syntax, and `merged`, made of them given out of order.
fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let model = shipped_model_dir();
        assert_succeeds(&extract(&model, &root.join("full"), &[]));
        for (name, layers, threads) in [("s0", "0..2", "1"), ("s1", "2", "2"), ("s2", "3..=3", "1")]
        {
            assert_succeeds(&extract(
                &model,
                &root.join(name),
                &["--layers", layers, "--threads", threads],
            ));
        }
        let (s0, s1, s2) = (root.join("s0"), root.join("s1"), root.join("s2"));
        assert_succeeds(&merge(&root.join("merged"), &[&s2, &s0, &s1]));
        Shipped { _tmp: tmp, root }
    })
}

fn manifest(dir: &Path) -> Manifest {
    Manifest::read(&Layout::new(dir)).expect("a readable manifest")
}

/// Every Parquet file of a dataset directory (the top level and the
/// per-layer folders), relative path → bytes.
fn parquet_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let layout = Layout::new(dir);
    let mut files = BTreeMap::new();
    let folders = std::iter::once((String::new(), dir.to_path_buf()))
        .chain(TableKind::PER_LAYER.map(|kind| (format!("{kind}/"), layout.layer_dir(kind))));
    for (prefix, folder) in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".parquet") {
                files.insert(
                    format!("{prefix}{name}"),
                    std::fs::read(entry.path()).unwrap(),
                );
            }
        }
    }
    files
}

/// Asserts that `merged` holds exactly the tables of `full`, byte for byte,
/// that its manifest records them alike, and that it passes `glossa verify`.
#[track_caller]
fn assert_same_dataset(merged: &Path, full: &Path) {
    let (got, want) = (parquet_files(merged), parquet_files(full));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the same table files"
    );
    assert!(want.len() > 3, "{:?}", want.keys());
    for (name, bytes) in &want {
        assert!(
            got[name] == *bytes,
            "{name} differs from the unsharded run's"
        );
    }
    let (a, b) = (manifest(merged), manifest(full));
    assert_eq!(a.tables, b.tables, "tables, their order, sizes and hashes");
    assert_eq!(a.card, b.card, "the dataset card");
    assert!(
        std::fs::read(Layout::new(merged).card()).unwrap()
            == std::fs::read(Layout::new(full).card()).unwrap(),
        "the card differs from the unsharded run's"
    );
    assert_eq!(a.row_counts, b.row_counts);
    assert_eq!(
        (&a.inputs, &a.shape, &a.vocabulary, a.schema_version),
        (&b.inputs, &b.shape, &b.vocabulary, b.schema_version)
    );
    let without_threads = |m: &Manifest| glossa_tables::Options {
        threads: 0,
        ..m.options.clone()
    };
    assert_eq!(without_threads(&a), without_threads(&b));
    assert_eq!(a.options.layers, None, "the merged dataset is no shard");
    let layout = Layout::new(merged);
    assert!(!layout.has_run_dir() && !layout.lock_file().exists());
    let verified = glossa(&["verify", "--data", path(merged)], merged);
    assert!(
        verified.status.success() && stdout(&verified).contains("every check passed"),
        "{}{}",
        stdout(&verified),
        stderr(&verified)
    );
}

/// Searches and unit lists of the shipped model, as a user asks them.
fn questions() -> Vec<Vec<&'static str>> {
    vec![
        vec!["search", "dieta", "--json", "--limit", "1000"],
        vec!["search", "dieta -> zdrowie", "--json", "--limit", "1000"],
        vec![
            "search", "lodz", "diet*", "--kind", "neuron", "--json", "--limit", "500",
        ],
        vec![
            "search",
            "zdrowie~1",
            "--kind",
            "head",
            "--circuit",
            "qk",
            "--json",
        ],
        vec!["search", "dieta", "--by-layer", "--json"],
        vec![
            "search", "dieta", "--layer", "3", "--json", "--limit", "1000",
        ],
        vec!["show", "neuron", "2", "17", "--format", "json", "--bottom"],
        vec!["show", "head", "3", "1", "--format", "json", "--bottom"],
    ]
}

/// `glossa ARGS --data DIR`, which must succeed and print something.
fn ask(question: &[&str], dir: &Path) -> String {
    let mut args = question.to_vec();
    args.extend_from_slice(&["--data", path(dir)]);
    let output = glossa(&args, dir);
    assert_succeeds(&output);
    let text = stdout(&output);
    assert!(!text.trim().is_empty(), "{args:?} printed nothing");
    text
}

#[test]
fn three_shards_merge_into_the_unsharded_dataset() {
    let shipped = shipped();
    let (merged, full) = (shipped.dir("merged"), shipped.dir("full"));
    assert_same_dataset(&merged, &full);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Layout::new(&merged).manifest()).unwrap())
            .unwrap();
    assert!(written["options"].get("layers").is_none(), "{written}");
    for question in questions() {
        assert_eq!(
            ask(&question, &merged),
            ask(&question, &full),
            "{question:?}"
        );
    }
    // `info` does not call it a shard.
    let info = glossa(&["info", "--data", path(&merged)], &merged);
    assert_succeeds(&info);
    assert!(!stdout(&info).contains("\nshard "), "{}", stdout(&info));
}

#[test]
fn a_shard_is_a_searchable_verifiable_dataset_of_its_own() {
    let shipped = shipped();
    let (shard, full) = (shipped.dir("s1"), shipped.dir("full"));
    let written = manifest(&shard);
    assert_eq!(written.options.layers, Some(LayerRange::new(2, 3).unwrap()));
    assert!(written.is_shard());
    let tables: Vec<Option<Table>> = written
        .tables
        .iter()
        .map(|t| Table::parse(&t.path))
        .collect();
    assert_eq!(
        tables,
        [
            Some(Table::Tokens),
            Some(Table::NeuronSummary(2)),
            Some(Table::Neurons(2)),
            Some(Table::Heads(2)),
            Some(Table::HeadSummary)
        ]
    );
    // Its tables of layer 2 are the unsharded run's; its summary holds layer 2 only.
    let (mine, theirs) = (parquet_files(&shard), parquet_files(&full));
    for table in [
        Table::Tokens,
        Table::NeuronSummary(2),
        Table::Neurons(2),
        Table::Heads(2),
    ] {
        assert!(mine[&table.path()] == theirs[&table.path()], "{table}");
    }
    let summary = read_head_summary(&Layout::new(&shard).table(Table::HeadSummary)).unwrap();
    assert_eq!(summary.len(), 4 * 2);
    assert!(summary.iter().all(|r| r.layer == 2));

    let verified = glossa(&["verify", "--data", path(&shard)], &shard);
    assert_succeeds(&verified);
    assert!(
        stdout(&verified).contains("a shard of layer 2 of 4"),
        "{}",
        stdout(&verified)
    );
    let info = glossa(&["info", "--data", path(&shard)], &shard);
    assert_succeeds(&info);
    assert!(
        stdout(&info).contains("shard     layer 2 of 4 (--layers 2..3)"),
        "{}",
        stdout(&info)
    );

    // Its search answers as the whole dataset's does within its layer.
    let search = ["search", "dieta", "--json", "--limit", "1000"];
    let layer_2 = [
        "search", "dieta", "--layer", "2", "--json", "--limit", "1000",
    ];
    assert_eq!(ask(&search, &shard), ask(&layer_2, &full));
    assert_eq!(
        ask(&["show", "neuron", "2", "17", "--format", "json"], &shard),
        ask(&["show", "neuron", "2", "17", "--format", "json"], &full)
    );
    // Layers it does not hold are refused, saying which it holds.
    for question in [
        vec!["show", "neuron", "1", "0"],
        vec!["show", "head", "3", "0"],
        vec!["search", "dieta", "--layer", "0"],
    ] {
        let mut args = question.clone();
        args.extend_from_slice(&["--data", path(&shard)]);
        assert_fails(
            &glossa(&args, &shard),
            1,
            &[
                "is not in this shard",
                "it holds layer 2 of the model's 4",
                "glossa merge",
            ],
        );
    }
    // A layer the model lacks is still that error, not a shard's.
    let mut args = vec!["show", "neuron", "7", "0", "--data"];
    args.push(path(&shard));
    assert_fails(&glossa(&args, &shard), 1, &["layer 7 does not exist"]);
}

#[test]
fn a_range_of_every_layer_is_an_ordinary_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("all");
    assert_succeeds(&extract(&shipped_model_dir(), &out, &["--layers", "0..=3"]));
    assert_eq!(manifest(&out).options.layers, None);
    assert_same_dataset(&out, &shipped().dir("full"));
}

#[test]
fn layers_outside_the_model_or_holding_none_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let out = tmp.path().join("out");
    for layers in ["2..9", "4", "0..=4"] {
        assert_fails(
            &extract(&model, &out, &["--layers", layers]),
            1,
            &[
                "reach past the model's last layer",
                "it has 4 layers (0–3)",
                "hint: --layers takes a range",
            ],
        );
        assert!(!out.exists(), "a refused run leaves no directory behind");
    }
    // Refused before anything is read: no layer range holds nothing or runs backwards.
    for (layers, needle) in [
        ("3..3", "3..3 holds no layer"),
        ("3..1", "3..1 runs backwards"),
        ("3..=1", "3..=1 runs backwards"),
        ("2..=1", "2..=1 holds no layer"),
        ("one", "\"one\" is not a layer range"),
        ("1..", "is not a layer range"),
    ] {
        assert_fails(&extract(&model, &out, &["--layers", layers]), 2, &[needle]);
        assert!(!out.exists());
    }
}

/// Copies the directory `from` (files and folders) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn merge_says_which_shards_do_not_belong_together() {
    let shipped = shipped();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (s0, s1, s2, full) = (
        shipped.dir("s0"),
        shipped.dir("s1"),
        shipped.dir("s2"),
        shipped.dir("full"),
    );
    let model = shipped_model_dir();
    // Shards that do not fit: overlapping, of other options, of another
    // model (the same weights, but a config.json that is not the same file).
    let overlapping = root.join("layers-1-2");
    assert_succeeds(&extract(&model, &overlapping, &["--layers", "1..3"]));
    let other_k = root.join("k5");
    assert_succeeds(&glossa(
        &[
            "extract",
            "--quiet",
            "--model",
            path(&model),
            "--out",
            path(&other_k),
            "--k",
            "5",
            "--head-k",
            "10",
            "--layers",
            "3",
        ],
        root,
    ));
    let other_model = root.join("other-model");
    copy_dir(&model, &other_model);
    let config = other_model.join("config.json");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push('\n');
    std::fs::write(&config, text).unwrap();
    let other_inputs = root.join("other-inputs");
    assert_succeeds(&extract(&other_model, &other_inputs, &["--layers", "3"]));

    let out = root.join("merged");
    let cases: Vec<(Vec<&Path>, Vec<&str>)> = vec![
        (
            vec![&s0, &s2],
            vec![
                "layer 2 of the model's 4 layers is in no shard",
                "(layers 0–1)",
                "(layer 3)",
                "hint: extract the missing layers",
                "--layers 2..3",
            ],
        ),
        (
            vec![&s2, &s0],
            vec!["layer 2 of the model's 4 layers is in no shard"],
        ),
        (
            vec![&s1],
            vec!["layers 0–1, layer 3 of the model's 4 layers are in no shard"],
        ),
        (
            vec![&s0, &s1, &s2, &overlapping],
            vec![
                "layers 1–2 are in more than one shard",
                "layers-1-2 (layers 1–2)",
                "s0 (layers 0–1)",
                "s1 (layer 2)",
                "hint: give every layer to exactly one shard",
            ],
        ),
        (
            vec![&s0, &s1, &s2, &full],
            vec!["layers 0–3 are in more than one shard", "full (layers 0–3)"],
        ),
        (
            vec![&s0, &s1, &s2, &s1],
            vec!["layer 2 is in more than one shard"],
        ),
        (
            vec![&s0, &s1, &other_k],
            vec![
                "are not shards of one extraction",
                "their options differ (k: 5 and 10)",
                "k5",
                "hint: extract the odd shard again",
            ],
        ),
        (
            vec![&s0, &s1, &other_inputs],
            vec![
                "their model files differ (config.json: sha256",
                "other-inputs",
            ],
        ),
    ];
    for (shards, needles) in cases {
        let output = merge(&out, &shards);
        assert_fails(&output, 1, &needles);
        assert!(
            !out.exists(),
            "a refused merge writes nothing: {}",
            stderr(&output)
        );
    }

    // Directories that are no finished shard.
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let unfinished = root.join("unfinished");
    copy_dir(&s1, &unfinished);
    let layout = Layout::new(&unfinished);
    std::fs::remove_file(layout.manifest()).unwrap();
    std::fs::create_dir_all(layout.run_dir()).unwrap();
    let old_schema = root.join("old-schema");
    copy_dir(&s1, &old_schema);
    let manifest_path = Layout::new(&old_schema).manifest();
    let text = std::fs::read_to_string(&manifest_path).unwrap();
    let mut written: serde_json::Value = serde_json::from_str(&text).unwrap();
    written["schema_version"] = serde_json::json!(2);
    std::fs::write(&manifest_path, written.to_string()).unwrap();
    let missing = root.join("missing");
    for (shard, needles) in [
        (
            &empty,
            vec![
                "cannot merge",
                "is not a complete Glossa dataset (no manifest.json)",
                "hint: each SHARD is the output directory of a finished `glossa extract --layers A..B`",
            ],
        ),
        (&missing, vec!["cannot merge", "is not a directory"]),
        (
            &unfinished,
            vec![
                "cannot merge",
                "holds an interrupted extraction",
                "hint: rerun the same `glossa extract` command",
            ],
        ),
        (
            &old_schema,
            vec!["cannot merge", "the tables follow schema version 2"],
        ),
    ] {
        let output = merge(&out, &[&s0, shard, &s2]);
        assert_fails(&output, 1, &needles);
        assert!(!out.exists(), "{}", stderr(&output));
    }

    // Never into one of the shards, nor beside foreign files.
    assert_fails(
        &merge(&s0, &[&s0, &s1, &s2]),
        1,
        &[
            "is one of the shards being merged",
            "hint: name a new directory with --out",
        ],
    );
    let foreign = root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    assert_fails(
        &merge(&foreign, &[&s0, &s1, &s2]),
        1,
        &[
            "is not empty and holds no Glossa dataset",
            "hint: name a new or empty directory with --out",
        ],
    );
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
    // Without any shard, clap refuses.
    assert_fails(
        &glossa(&["merge", "--out", path(&out)], root),
        2,
        &["SHARD"],
    );
}

#[test]
fn a_damaged_shard_stops_the_merge_and_the_same_merge_resumes_once_it_is_whole() {
    let shipped = shipped();
    let tmp = tempfile::tempdir().unwrap();
    let (s0, s1, s2) = (shipped.dir("s0"), shipped.dir("s1"), shipped.dir("s2"));
    // A copy of s1 whose layer table was changed after its extraction.
    let damaged = tmp.path().join("s1");
    copy_dir(&s1, &damaged);
    let table = Layout::new(&damaged).table(Table::Neurons(2));
    let mut bytes = std::fs::read(&table).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&table, bytes).unwrap();

    let out = tmp.path().join("merged");
    assert_fails(
        &merge(&out, &[&s0, &damaged, &s2]),
        1,
        &[
            "cannot be trusted as a shard",
            "neurons/layer-002.parquet differs from what its manifest records",
            "hint: `glossa verify --data SHARD`",
        ],
    );
    let layout = Layout::new(&out);
    assert!(
        !layout.is_finished(),
        "an interrupted merge writes no manifest"
    );
    assert!(
        !layout.table(Table::Neurons(2)).exists(),
        "the bad copy is gone"
    );
    // What it left is not taken for a dataset, and says how to finish it.
    assert_fails(
        &glossa(&["info", "--data", path(&out)], tmp.path()),
        1,
        &[
            "holds an interrupted merge",
            "rerun the same `glossa merge` command",
        ],
    );
    let verified = glossa(&["verify", "--data", path(&out)], tmp.path());
    assert_eq!(verified.status.code(), Some(3));
    assert!(
        stdout(&verified).contains("interrupted merge"),
        "{}",
        stdout(&verified)
    );

    // The same shards, whole again: the merge resumes and finishes.
    std::fs::copy(Layout::new(&s1).table(Table::Neurons(2)), &table).unwrap();
    let output = merge(&out, &[&s0, &damaged, &s2]);
    assert_succeeds(&output);
    assert!(
        stderr(&output).contains("resuming the interrupted merge"),
        "{}",
        stderr(&output)
    );
    assert_same_dataset(&out, &shipped.dir("full"));
}

#[test]
fn shards_of_a_gated_grouped_query_model_merge_into_its_unsharded_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = glossa_synth::family_preset("llama3-sharded").expect("a preset of 3 gated layers");
    let model = glossa_synth::FamilyModel::new(spec).expect("preset builds");
    let model_dir = tmp.path().join("model");
    model.write(&model_dir).expect("writes");
    let options = ["--fold-norm", "--filter", "no-special"];
    let full = tmp.path().join("full");
    assert_succeeds(&extract(&model_dir, &full, &options));
    assert!(manifest(&full).shape.gated);
    let mut shards = Vec::new();
    for layers in ["1..3", "0"] {
        let shard = tmp.path().join(format!("shard-{layers}"));
        let mut args = options.to_vec();
        args.extend_from_slice(&["--layers", layers]);
        assert_succeeds(&extract(&model_dir, &shard, &args));
        shards.push(shard);
    }
    let merged = tmp.path().join("merged");
    let shards: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    assert_succeeds(&merge(&merged, &shards));
    assert_same_dataset(&merged, &full);
}

/// An interrupted shard resumes as a shard of the same layers; the same
/// directory with other layers starts over.
#[cfg(unix)]
#[test]
fn the_layer_range_is_part_of_what_a_resumed_run_must_match() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let shard_args = |out: &str, layers: &str| -> Vec<String> {
        [
            "extract",
            "--model",
            path(&model),
            "--out",
            out,
            "--threads",
            "1",
            "--k",
            "20",
            "--head-k",
            "20",
            "--layers",
            layers,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        glossa(&args, tmp.path())
    };
    // Killed once its journal and its first layer table (layer 2's) are in
    // place; false if the run was too quick to catch.
    let interrupt = |out: &str, layers: &str| -> bool {
        let args = shard_args(out, layers);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = crate::common::glossa_command(&args, tmp.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("glossa starts");
        let dir = tmp.path().join(out);
        let layout = Layout::new(&dir);
        let first = layout.table(Table::Neurons(2));
        // The journal is written once the files of an earlier run are gone.
        let caught = || layout.journal().exists() && first.exists();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline && !caught() {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(300));
        }
        let caught = caught();
        let _ = child.kill();
        child.wait().unwrap();
        caught && !layout.is_finished()
    };
    let out = (0..8)
        .map(|attempt| format!("shard-{attempt}"))
        .find(|out| interrupt(out, "2..4"))
        .expect("an extraction was interrupted part-way");
    let dir = tmp.path().join(&out);

    // Merging it is refused, saying how to finish it.
    let whole = tmp.path().join("whole");
    let s0 = shipped().dir("s0");
    assert_fails(
        &merge(&tmp.path().join("merged"), &[&s0, &dir]),
        1,
        &[
            "holds an interrupted extraction",
            "rerun the same `glossa extract`",
        ],
    );

    // The same layers resume, and give the tables an uninterrupted run gives.
    let output = run(&shard_args(&out, "2..4"));
    assert_succeeds(&output);
    let err = stderr(&output);
    assert!(err.contains("resuming the interrupted run"), "{err}");
    assert!(err.contains("of 2 neuron layers"), "{err}");
    assert!(err.contains("of 2 head layers"), "{err}");
    assert_succeeds(&run(&shard_args("fresh", "2..4")));
    assert_eq!(
        parquet_files(&dir),
        parquet_files(&tmp.path().join("fresh"))
    );
    assert_eq!(
        manifest(&dir).tables,
        manifest(&tmp.path().join("fresh")).tables
    );

    // Other layers in the same directory start over, and say why.
    assert!((0..8).any(|_| interrupt(&out, "2..4")), "interrupted again");
    let output = run(&shard_args(&out, "0..2"));
    assert_succeeds(&output);
    let err = stderr(&output);
    assert!(!err.contains("resuming"), "{err}");
    assert!(
        err.contains("a different configuration or different inputs (layers differ)"),
        "{err}"
    );
    let held: Vec<String> = parquet_files(&dir).into_keys().collect();
    assert_eq!(
        held,
        [
            "head_summary.parquet",
            "heads/layer-000.parquet",
            "heads/layer-001.parquet",
            "neuron_summary/layer-000.parquet",
            "neuron_summary/layer-001.parquet",
            "neurons/layer-000.parquet",
            "neurons/layer-001.parquet",
            "tokens.parquet"
        ]
    );
    // Both halves make the whole model's dataset.
    assert_succeeds(&run(&shard_args("second", "2..=3")));
    assert_succeeds(&merge(&whole, &[&dir, &tmp.path().join("second")]));
    let reference = tmp.path().join("reference");
    let mut args: Vec<String> = shard_args("reference", "0");
    args.truncate(args.len() - 2);
    assert_succeeds(&run(&args));
    assert_same_dataset(&whole, &reference);
}

/// Stands in for Slurm's `sbatch`: runs the job at once (each task of an
/// array in turn, with its SLURM_ARRAY_TASK_ID), logs its arguments and
/// output to $SBATCH_LOG, and prints a job id as `--parsable` does.
#[cfg(unix)]
const SBATCH: &str = r#"#!/usr/bin/env bash
echo "sbatch $*" >> "$SBATCH_LOG"
array=""
script=""
for arg in "$@"; do
    case "$arg" in
        --array=*) array="${arg#--array=}" ;;
        -*) ;;
        *) script="$arg" ;;
    esac
done
export SLURM_CPUS_PER_TASK=1
if [ -n "$array" ]; then
    for i in $(seq "${array%-*}" "${array#*-}"); do
        SLURM_ARRAY_TASK_ID="$i" bash "$script" >> "$SBATCH_LOG" 2>&1 || exit 1
    done
    echo "100;cluster"
else
    bash "$script" >> "$SBATCH_LOG" 2>&1 || exit 1
    echo 101
fi
"#;

#[cfg(unix)]
#[test]
fn the_slurm_example_extracts_an_array_of_shards_and_merges_them() {
    use std::os::unix::fs::PermissionsExt;

    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let sbatch = bin.join("sbatch");
    std::fs::write(&sbatch, SBATCH).unwrap();
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = tmp.path().join("sbatch.log");
    let work = tmp.path().join("work");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/slurm/extract-array.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .current_dir(tmp.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("SBATCH_LOG", &log)
        .env("MODEL", shipped_model_dir())
        .env("LAYERS", "4")
        .env("SHARDS", "3")
        .env("WORK", &work)
        .env("ARGS", OPTIONS.join(" "))
        .env("GLOSSA", env!("CARGO_BIN_EXE_glossa"))
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", tmp.path().join("no-cache"))
        .output()
        .expect("bash runs");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_succeeds(&output);
    assert!(
        stdout(&output).contains("submitted extraction array 100 (3 tasks) and merge job 101"),
        "{}\n{log_text}",
        stdout(&output)
    );
    for needle in [
        "sbatch --parsable --array=0-2 ",
        "sbatch --parsable --dependency=afterok:100 ",
        "task 0 of 3: layers 0..1",
        "task 1 of 3: layers 1..2",
        "task 2 of 3: layers 2..4",
        "every check passed",
    ] {
        assert!(log_text.contains(needle), "{needle:?} not in:\n{log_text}");
    }
    for (i, (start, end)) in [(0, 1), (1, 2), (2, 4)].into_iter().enumerate() {
        let shard = manifest(&work.join(format!("shard-{i}")));
        assert_eq!(
            shard.options.layers,
            Some(LayerRange::new(start, end).unwrap())
        );
    }
    assert_same_dataset(&work.join("dataset"), &shipped().dir("full"));
}
