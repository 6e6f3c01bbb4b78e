//! Regression tests for the defects found by adversarial use (issue 14), each
//! named after what it guards and run through the binary as a user runs it.

use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use crate::common::{glossa, glossa_command, shipped_model_dir};

/// Extracts the shipped model with short lists into `cwd/ds`, `extra` flags added.
fn extract_into(cwd: &Path, out: &str, extra: &[&str]) -> Output {
    let model = shipped_model_dir();
    let mut args = vec![
        "extract",
        "--quiet",
        "--model",
        model.to_str().unwrap(),
        "--out",
        out,
        "--k",
        "5",
        "--head-k",
        "5",
    ];
    args.extend_from_slice(extra);
    glossa(&args, cwd)
}

fn dataset() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let output = extract_into(tmp.path(), "ds", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    tmp
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code 1, every needle in standard error, and no panic.
#[track_caller]
fn assert_fails(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn issue14_a_closed_pipe_ends_the_command_quietly() {
    let tmp = dataset();
    // Far more output than a pipe buffers, so that writing must hit the closed pipe.
    let mut child = glossa_command(
        &[
            "search", "--data", "ds", "--json", "--limit", "1000000", "a*", "e*", "i*", "o*", "#*",
            "d*", "s*", "p*",
        ],
        tmp.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader is gone (`| head -c 16`).
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn issue17_an_error_on_a_closed_standard_error_still_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    // The reader is gone before glossa writes (`2>&1 | head -0`).
    drop(reader);
    let status = glossa_command(&["info", "--data", "missing"], tmp.path())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "no panic (101), no success");
}

#[test]
fn issue17_candle_errors_carry_no_backtrace() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("model.gguf"), "not a GGUF file at all").unwrap();
    let output = glossa_command(
        &["extract", "--model", "model.gguf", "--out", "ds"],
        tmp.path(),
    )
    .env("RUST_BACKTRACE", "1")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("unknown magic"), "{message}");
    assert!(message.lines().count() <= 4, "{message}");
}

#[cfg(target_os = "linux")]
#[test]
fn issue14_a_full_disk_on_standard_output_is_an_error() {
    let tmp = dataset();
    for args in [
        &["info", "--data", "ds"][..],
        &["show", "neuron", "2", "17", "--data", "ds"],
        &["search", "dieta", "--data", "ds"],
        &["verify", "--data", "ds"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = glossa_command(args, tmp.path())
            .stdout(full)
            .output()
            .unwrap();
        assert_fails(
            &output,
            &["could not write to standard output", "No space left"],
        );
    }
}

#[test]
fn issue14_list_lengths_beyond_the_rank_column_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    for flag in ["--k", "--head-k"] {
        let output = glossa(
            &[
                "extract",
                "--model",
                model.to_str().unwrap(),
                "--out",
                "out",
                flag,
                "65536",
            ],
            tmp.path(),
        );
        assert_fails(&output, &["65536 entries", "between 1 and 65535"]);
    }
    assert!(!tmp.path().join("out").exists(), "no directory left behind");
}

#[test]
fn issue14_a_manifest_of_another_schema_version_is_refused_everywhere() {
    let tmp = dataset();
    let path = tmp.path().join("ds/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["schema_version"] = 99.into();
    std::fs::write(&path, manifest.to_string()).unwrap();
    for args in [
        &["search", "dieta", "--data", "ds"][..],
        &["show", "neuron", "2", "17", "--data", "ds"],
        &["show", "head", "2", "2", "--data", "ds"],
        &["info", "--data", "ds"],
        &["index", "--data", "ds"],
        &["plot", "copying", "--data", "ds", "--out", "c.svg"],
        &[
            "plot", "overview", "dieta", "--data", "ds", "--out", "o.svg",
        ],
    ] {
        assert_fails(
            &glossa(args, tmp.path()),
            &["schema version 99", "reads version"],
        );
    }
    assert!(!tmp.path().join("c.svg").exists());
}

#[test]
fn issue14_corpus_options_without_a_token_list_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for extra in [&["--max-tokens", "10"][..], &["--text-column", "body"]] {
        assert_fails(
            &extract_into(tmp.path(), "out", extra),
            &["applies only to a corpus token list", "--token-list"],
        );
    }
}

#[test]
fn issue14_searches_outside_the_dataset_are_refused() {
    let tmp = dataset();
    assert_fails(
        &glossa(
            &["search", "dieta", "--data", "ds", "--layer", "99"],
            tmp.path(),
        ),
        &["layer 99 does not exist", "layers 0–3"],
    );
    assert_fails(
        &glossa(
            &[
                "search",
                "dieta",
                "--data",
                "ds",
                "--layer",
                "9",
                "--by-layer",
            ],
            tmp.path(),
        ),
        &["layer 9 does not exist"],
    );
}

#[test]
fn issue14_output_that_is_not_a_dataset_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("mine")).unwrap();
    std::fs::write(tmp.path().join("mine/notes.txt"), "my notes").unwrap();
    assert_fails(
        &extract_into(tmp.path(), "mine", &[]),
        &["mine is not empty and holds no Glossa dataset", "--force"],
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join("mine")).unwrap().count(),
        1
    );

    std::fs::write(tmp.path().join("a-file"), "x").unwrap();
    assert_fails(
        &extract_into(tmp.path(), "a-file", &[]),
        &["a-file is a file, not a directory"],
    );
}

#[test]
fn issue14_restrictions_that_leave_no_token_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("empty.txt"), "").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--filter", "min-len=40"],
            "no token passes the filters min-len=40",
        ),
        (&["--token-list", "empty.txt"], "the token list is empty"),
        (
            &["--token-list", "empty.txt", "--filter", "alpha"],
            "the token list is empty",
        ),
        (&["--token-list", "/dev/null"], "the token list is empty"),
    ];
    for (extra, needle) in cases {
        assert_fails(&extract_into(tmp.path(), "out", extra), &[needle]);
    }
}

#[test]
fn issue14_show_checks_what_the_dataset_holds() {
    let tmp = dataset();
    // A layer file replaced by another layer's.
    std::fs::copy(
        tmp.path().join("ds/neurons/layer-001.parquet"),
        tmp.path().join("ds/neurons/layer-002.parquet"),
    )
    .unwrap();
    assert_fails(
        &glossa(&["show", "neuron", "2", "17", "--data", "ds"], tmp.path()),
        &["holds rows of layer 1, not of layer 2"],
    );

    let output = extract_into(tmp.path(), "neurons-only", &["--no-heads"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_fails(
        &glossa(
            &["show", "head", "0", "0", "--data", "neurons-only"],
            tmp.path(),
        ),
        &["holds no head lists", "without --no-heads"],
    );
    assert_fails(
        &glossa(&["search", "dieta", "--data", "missing"], tmp.path()),
        &["missing is not a directory"],
    );
}

#[test]
fn issue14_pipeline_files_are_found_by_name_and_read_relative_to_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let pipelines = tmp.path().join("pipelines");
    std::fs::create_dir_all(pipelines.join("models")).unwrap();
    let model = pipelines.join("models/tiny");
    std::fs::create_dir_all(&model).unwrap();
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(shipped_model_dir().join(file), model.join(file)).unwrap();
    }
    std::fs::write(
        pipelines.join("tiny.toml"),
        "name = \"tiny\"\n[extract]\nmodel = \"models/tiny\"\nk = 4\nhead_k = 3\nfilters = [\"alpha\"]\n",
    )
    .unwrap();
    let output = glossa(
        &[
            "extract",
            "--quiet",
            "--pipeline",
            "tiny",
            "--out",
            "ds",
            "--filter",
            "word",
        ],
        tmp.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("ds/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["options"]["k"], 4);
    assert_eq!(
        manifest["options"]["filters"],
        serde_json::json!(["word"]),
        "the flag replaces the file's filters"
    );

    let output = glossa(&["extract", "--pipeline", "nonesuch"], tmp.path());
    assert_fails(&output, &["no pipeline file \"nonesuch\""]);
    assert_eq!(stderr(&output).matches("No such file").count(), 0);
}

#[test]
fn issue14_a_failed_run_leaves_no_empty_directories() {
    let tmp = tempfile::tempdir().unwrap();
    // A hub id that cannot be resolved offline.
    let output = glossa(&["extract", "--model", "nobody/nothing"], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!tmp.path().join("data").exists(), "data/ was left behind");
}

#[test]
fn issue14_info_is_a_readable_summary() {
    let tmp = dataset();
    let output = glossa(&["info", "--data", "ds"], tmp.path());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    for needle in [
        "4 layers, 4 heads",
        "k = 5 tokens",
        "k = 5 pairs",
        "filters   none",
        "4096 selectable of 4096",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert!(!text.contains('{'), "no raw JSON:\n{text}");
}

#[test]
fn issue14_scores_that_overflow_are_refused_before_any_table() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("huge");
    std::fs::create_dir_all(&model).unwrap();
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(shipped_model_dir().join(file), model.join(file)).unwrap();
    }
    // Every entry of wte (tied: the unembedding too) is 1e30: finite weights
    // whose dot products overflow float32.
    let mut bytes = std::fs::read(shipped_model_dir().join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    assert_eq!(header["wte.weight"]["dtype"], "F32");
    let offsets = &header["wte.weight"]["data_offsets"];
    let start = 8 + header_len + offsets[0].as_u64().unwrap() as usize;
    let end = 8 + header_len + offsets[1].as_u64().unwrap() as usize;
    for value in bytes[start..end].chunks_exact_mut(4) {
        value.copy_from_slice(&1e30f32.to_le_bytes());
    }
    std::fs::write(model.join("model.safetensors"), bytes).unwrap();

    let output = glossa(
        &[
            "extract", "--model", "huge", "--out", "out", "--head-k", "3",
        ],
        tmp.path(),
    );
    // Neuron scores (≈ 1e29) are finite; head circuits E·W·Eᵀ (≈ 1e59) are not.
    assert_fails(
        &output,
        &["head 0 vo", "is not a finite number", "overflow"],
    );
    let written: Vec<_> = std::fs::read_dir(tmp.path().join("out/heads"))
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(written.is_empty(), "no head table holds it: {written:?}");
    assert!(!tmp.path().join("out/manifest.json").exists());
}

/// Rewrites one table of the dataset in `tmp/ds` and makes the manifest
/// agree with the new file, so only its contents are wrong.
fn replace_table(
    tmp: &tempfile::TempDir,
    table: glossa_tables::Table,
    batch: glossa_tables::RecordBatch,
) {
    use glossa_tables::{write_table, Layout, TableOptions};

    let layout = Layout::new(tmp.path().join("ds"));
    let record = write_table(
        layout.dir(),
        &table.path(),
        table.kind().schema(),
        [batch],
        TableOptions::default(),
    )
    .unwrap();
    let path = layout.manifest();
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for entry in manifest["tables"].as_array_mut().unwrap() {
        if entry["path"] == table.path() {
            entry["sha256"] = record.sha256.clone().into();
            entry["bytes"] = record.bytes.into();
        }
    }
    std::fs::write(&path, manifest.to_string()).unwrap();
}

#[test]
fn issue17_verify_checks_the_neuron_statistics() {
    use glossa_tables::{neuron_summary_batch, read_neuron_summary, Side, Table};

    let table = Table::NeuronSummary(1);
    let path = table.path();
    for (change, needle) in [
        (0, "records a value overlap of Some("),
        (1, "has entropy 99"),
        (2, "has kurtosis -2.5"),
    ] {
        let tmp = dataset();
        let mut rows = read_neuron_summary(&tmp.path().join("ds").join(&path)).unwrap();
        let row = rows.iter_mut().find(|r| r.side == Side::Key).unwrap();
        match change {
            0 => row.value_overlap = row.value_overlap.map(|o| o + 1),
            1 => row.entropy = 99.0,
            _ => row.kurtosis = Some(-2.5),
        }
        replace_table(&tmp, table, neuron_summary_batch(&rows).unwrap());
        let output = glossa(&["verify", "--data", "ds"], tmp.path());
        assert_eq!(output.status.code(), Some(3));
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.contains("FAIL  statistics"), "{report}");
        assert!(report.contains(needle), "{needle}: {report}");
    }
}

#[test]
fn issue14_verify_checks_that_every_score_is_finite() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float32Array, StringArray, UInt16Array, UInt32Array};
    use glossa_tables::{RecordBatch, Table, TableKind};

    let tmp = dataset();
    // One list entry whose score is infinite, as a writer without the check
    // would have stored it.
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt16Array::from(vec![0u16])),
        Arc::new(UInt32Array::from(vec![0u32])),
        Arc::new(StringArray::from(vec!["key"])),
        Arc::new(StringArray::from(vec!["top"])),
        Arc::new(UInt16Array::from(vec![1u16])),
        Arc::new(UInt32Array::from(vec![7u32])),
        Arc::new(StringArray::from(vec!["x"])),
        Arc::new(Float32Array::from(vec![f32::INFINITY])),
        Arc::new(Float32Array::from(vec![1.0])),
    ];
    let batch = RecordBatch::try_new(TableKind::Neurons.schema(), columns).unwrap();
    replace_table(&tmp, Table::Neurons(0), batch);

    let output = glossa(&["verify", "--data", "ds"], tmp.path());
    assert_eq!(output.status.code(), Some(3));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("FAIL  scores         neurons/layer-000.parquet holds the score inf"),
        "{report}"
    );
}
