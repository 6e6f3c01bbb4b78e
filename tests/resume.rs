//! Interrupted runs resume, concurrent runs are refused, and `glossa verify`
//! tells a trustworthy dataset from a damaged one (issue 6).

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use glossa_tables::Layout;

use crate::common::{glossa, glossa_command, shipped_model_dir};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a clean failure: `code`, a message naming the problem, no panic.
fn assert_fails(output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

/// The extraction command every test here runs (one thread: slow enough to
/// be interrupted part-way).
fn extract_args(out: &str) -> Vec<String> {
    [
        "extract",
        "--model",
        shipped_model_dir().to_str().unwrap(),
        "--out",
        out,
        "--threads",
        "1",
        "--k",
        "20",
        "--head-k",
        "20",
    ]
    .map(String::from)
    .to_vec()
}

fn spawn_extract(out: &str, cwd: &Path) -> Child {
    let args = extract_args(out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = glossa_command(&args, cwd);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // Ctrl-C's SIGINT kills as it would in a terminal, even when these tests
    // run as a background job (which inherits SIGINT ignored).
    // SAFETY: signal() is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command.spawn().expect("glossa starts")
}

fn run_extract(out: &str, cwd: &Path) -> Output {
    let args = extract_args(out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    glossa(&args, cwd)
}

/// Every table file under `dir`, relative path → bytes.
fn tables(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for folder in ["", "neurons", "heads"] {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".parquet") && !name.starts_with('.') {
                let relative = if folder.is_empty() {
                    name
                } else {
                    format!("{folder}/{name}")
                };
                found.push((relative, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn manifest_tables(dir: &Path) -> serde_json::Value {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["tables"].clone()
}

/// An uninterrupted run of [`extract_args`], made once per test binary.
fn reference() -> &'static Path {
    static REFERENCE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> =
        std::sync::OnceLock::new();
    let (_, dir) = REFERENCE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let output = run_extract("ref", tmp.path());
        assert!(output.status.success(), "{}", stderr(&output));
        let dir = tmp.path().join("ref");
        (tmp, dir)
    });
    dir
}

/// Polls until `path` exists or `child` exits; true if it appeared first.
fn wait_for(path: &Path, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return path.exists();
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    false
}

fn assert_identical_to_reference(dir: &Path) {
    let got = tables(dir);
    let want = tables(reference());
    assert_eq!(
        got.iter().map(|t| &t.0).collect::<Vec<_>>(),
        want.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in got.iter().zip(&want) {
        assert!(a == b, "{name} differs from the uninterrupted run's");
    }
    assert_eq!(manifest_tables(dir), manifest_tables(reference()));
    let card = |dir: &Path| std::fs::read(Layout::new(dir).card()).unwrap();
    assert!(
        card(dir) == card(reference()),
        "the card differs from the uninterrupted run's"
    );
    let verified = glossa(&["verify", "--data", dir.to_str().unwrap()], dir);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[test]
fn killed_run_is_not_a_dataset_and_resumes_to_identical_tables() {
    let tmp = tempfile::tempdir().unwrap();
    // Killed as soon as the first layer table is in place; if the run was
    // too quick to catch (a loaded machine), try again in a fresh directory.
    let mut caught = None;
    for attempt in 0..5 {
        let out = format!("run-{attempt}");
        let mut child = spawn_extract(&out, tmp.path());
        let appeared = wait_for(
            &tmp.path().join(&out).join("neurons/layer-000.parquet"),
            &mut child,
        );
        let _ = child.kill();
        child.wait().unwrap();
        let dir = tmp.path().join(&out);
        if appeared && !dir.join("manifest.json").exists() {
            caught = Some(out);
            break;
        }
    }
    let out = caught.expect("an extraction was interrupted part-way");
    let dir = tmp.path().join(&out);

    // (a) Not taken as a finished dataset, and the message says what to do.
    let data = dir.to_str().unwrap();
    for args in [
        vec!["info", "--data", data],
        vec!["search", "dieta", "--data", data],
        vec!["show", "neuron", "0", "0", "--data", data],
    ] {
        assert_fails(
            &glossa(&args, tmp.path()),
            1,
            &["interrupted extraction", "rerun the same `glossa extract`"],
        );
    }
    // Without --data too, when it is the only run under data/.
    let data_root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data_root.path().join("data")).unwrap();
    let status = Command::new("cp")
        .args([
            "-r",
            data,
            data_root.path().join("data/x").to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    assert_fails(
        &glossa(&["info"], data_root.path()),
        1,
        &["data/x holds an interrupted extraction"],
    );
    let verified = glossa(&["verify", "--data", data], tmp.path());
    assert_eq!(verified.status.code(), Some(3));
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(
        report.contains("FAIL") && report.contains("interrupted"),
        "{report}"
    );

    // (b) The same command resumes (a stale lock is taken over) and gives
    // the tables of an uninterrupted run.
    let output = run_extract(&out, tmp.path());
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("resuming the interrupted run"), "{err}");
    assert!(err.contains("of 4 neuron layers"), "{err}");
    assert!(!Layout::new(&dir).run_dir().exists());
    assert!(!Layout::new(&dir).lock_file().exists());
    assert_identical_to_reference(&dir);

    // A changed configuration starts over instead of mixing runs.
    let mut child = spawn_extract(&out, tmp.path());
    wait_for(&Layout::new(&dir).journal(), &mut child);
    wait_for(&dir.join("tokens.parquet"), &mut child);
    let _ = child.kill();
    child.wait().unwrap();
    let model = shipped_model_dir();
    let output = glossa(
        &[
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--out",
            &out,
            "--k",
            "5",
            "--no-heads",
        ],
        tmp.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("resuming"), "{}", stderr(&output));
    assert!(!dir
        .join("heads")
        .read_dir()
        .is_ok_and(|mut d| d.next().is_some()));
}

#[test]
fn kills_at_random_points_never_change_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("seed {seed}");
    let mut state = seed | 1;
    let mut random = move |below: u64| {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
    };
    // How long a whole run takes here, to spread the kills over it.
    let started = Instant::now();
    let _ = reference();
    let whole = started.elapsed().as_micros().max(1000) as u64;
    let mut interrupted = 0;
    for round in 0..6 {
        let mut child = spawn_extract("ds", tmp.path());
        std::thread::sleep(Duration::from_micros(random(whole)));
        // kill -9, or Ctrl-C (SIGINT, which glossa does not catch).
        let signal = if round % 2 == 0 {
            libc::SIGKILL
        } else {
            libc::SIGINT
        };
        // SAFETY: kill() on the pid of our own child, not yet reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let status = child.wait().unwrap();
        match status.signal() {
            Some(s) => {
                assert_eq!(s, signal);
                interrupted += 1;
            }
            None => assert!(status.success(), "seed {seed}: {status}"),
        }
    }
    eprintln!("{interrupted} of 6 runs interrupted");
    let output = run_extract("ds", tmp.path());
    assert!(output.status.success(), "seed {seed}: {}", stderr(&output));
    assert_identical_to_reference(&tmp.path().join("ds"));
}

#[test]
fn force_starts_over() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_extract("ds", tmp.path()).status.success());
    std::fs::create_dir_all(Layout::new(tmp.path().join("ds")).run_dir()).unwrap();
    std::fs::write(tmp.path().join("ds/neurons/layer-009.parquet"), b"stale").unwrap();
    let mut args = extract_args("ds");
    args.push("--force".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = glossa(&args, tmp.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
    assert!(!tmp.path().join("ds/neurons/layer-009.parquet").exists());
    assert_identical_to_reference(&tmp.path().join("ds"));
}

#[test]
fn a_second_run_on_the_same_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    // Two real extractions: the second starts while the first holds the lock.
    let mut refused = None;
    for _ in 0..5 {
        let mut first = spawn_extract("ds", tmp.path());
        if !wait_for(&Layout::new(&dir).journal(), &mut first) {
            first.wait().unwrap();
            continue;
        }
        let second = run_extract("ds", tmp.path());
        let still_running = first.try_wait().unwrap().is_none();
        let status = first.wait().unwrap();
        assert!(status.success(), "the first run is undisturbed");
        if still_running {
            refused = Some((second, first.id()));
            break;
        }
    }
    let (second, pid) = refused.expect("a run overlapped another");
    assert_fails(
        &second,
        1,
        &["in use by another extraction", &format!("pid {pid}")],
    );
    assert_identical_to_reference(&dir);
}

#[test]
fn a_held_lock_refuses_and_a_dead_one_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ds");
    std::fs::create_dir_all(&dir).unwrap();
    // This process plays a live run holding the lock.
    let lock = std::fs::File::create(Layout::new(&dir).lock_file()).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(
        Layout::new(&dir).lock_file(),
        r#"{"pid": 4242, "host": "elsewhere", "started": 0}"#,
    )
    .unwrap();
    assert_fails(
        &run_extract("ds", tmp.path()),
        1,
        &["in use by another extraction", "pid 4242 on elsewhere"],
    );
    // Nor is the directory a dataset while the lock is held.
    std::fs::create_dir_all(Layout::new(&dir).run_dir()).unwrap();
    assert_fails(
        &glossa(&["info", "--data", "ds"], tmp.path()),
        1,
        &["still running", "pid 4242"],
    );
    // The holder dies without removing its lock file: taken over, with a note.
    drop(lock);
    let output = run_extract("ds", tmp.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("taking over the lock") && stderr(&output).contains("pid 4242"),
        "{}",
        stderr(&output)
    );
    assert!(!Layout::new(&dir).lock_file().exists());
    assert_identical_to_reference(&dir);
}

#[test]
fn verify_names_every_kind_of_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        let dir = tmp.path().join(name);
        let status = Command::new("cp")
            .args(["-r", reference().to_str().unwrap(), dir.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
        dir
    };
    let verify = |dir: &Path| {
        let output = glossa(&["verify", "--data", dir.to_str().unwrap()], tmp.path());
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
        (output.status.code(), report)
    };
    let (code, report) = verify(&copy("intact"));
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("every check passed"), "{report}");

    type Damage = Box<dyn Fn(&Path)>;
    let damaged: Vec<(&str, Damage, &str)> = vec![
        (
            "flipped",
            Box::new(|d: &Path| {
                let path = d.join("neurons/layer-002.parquet");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[100] ^= 1;
                std::fs::write(&path, bytes).unwrap();
            }),
            "neurons/layer-002.parquet: sha256",
        ),
        (
            "truncated",
            Box::new(|d: &Path| {
                let path = d.join("heads/layer-001.parquet");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            }),
            "heads/layer-001.parquet has",
        ),
        (
            "missing",
            Box::new(|d: &Path| std::fs::remove_file(d.join("tokens.parquet")).unwrap()),
            "tokens.parquet is missing",
        ),
        (
            "unlisted",
            Box::new(|d: &Path| {
                std::fs::copy(
                    d.join("neurons/layer-000.parquet"),
                    d.join("neurons/layer-007.parquet"),
                )
                .unwrap();
            }),
            "neurons/layer-007.parquet is not in the manifest",
        ),
        (
            "edited-card",
            Box::new(|d: &Path| {
                let mut card = std::fs::read_to_string(d.join("README.md")).unwrap();
                card.push_str("\nOur own notes.\n");
                std::fs::write(d.join("README.md"), card).unwrap();
            }),
            "README.md differs from the card the manifest records",
        ),
        (
            "no-card",
            Box::new(|d: &Path| std::fs::remove_file(d.join("README.md")).unwrap()),
            "README.md is missing",
        ),
        (
            "no-manifest",
            Box::new(|d: &Path| std::fs::remove_file(d.join("manifest.json")).unwrap()),
            "no manifest.json",
        ),
        (
            "bad-manifest",
            Box::new(|d: &Path| std::fs::write(d.join("manifest.json"), "{ not json").unwrap()),
            "not a Glossa manifest",
        ),
        (
            "schema",
            Box::new(|d: &Path| edit_manifest(d, |m| m["schema_version"] = 99.into())),
            "schema version 99",
        ),
        (
            "rows",
            Box::new(|d: &Path| edit_manifest(d, |m| m["tables"][1]["rows"] = 7.into())),
            "the manifest says 7",
        ),
        (
            "no-index",
            Box::new(|d: &Path| std::fs::remove_dir_all(d.join("index")).unwrap()),
            "the search index is missing",
        ),
        (
            "bad-index",
            Box::new(|d: &Path| std::fs::write(d.join("index/meta.json"), "garbage").unwrap()),
            "the search index cannot be read",
        ),
        (
            "stale-index",
            Box::new(|d: &Path| {
                edit_manifest(d, |m| {
                    let rows = m["row_counts"]["neurons"].as_u64().unwrap();
                    m["row_counts"]["neurons"] = (rows + 1).into();
                })
            }),
            "stale",
        ),
    ];
    for (name, damage, needle) in &damaged {
        let dir = copy(name);
        damage(&dir);
        let (code, report) = verify(&dir);
        assert_eq!(code, Some(3), "{name}: {report}");
        assert!(
            report.contains(needle),
            "{name}: {needle:?} not in {report}"
        );
        assert!(report.contains("FAIL"), "{name}: {report}");
    }

    // search mends a missing or unreadable index by itself, and says so.
    for name in ["no-index", "bad-index"] {
        let output = glossa(&["search", "dieta", "--json", "--data", name], tmp.path());
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains("rebuilding it from the tables"));
        assert!(!output.stdout.is_empty());
        let (code, report) = verify(&tmp.path().join(name));
        assert_eq!(code, Some(0), "{name}: {report}");
    }
    // ... but a damaged table makes the rebuild fail with the file's name.
    let dir = copy("bad-table-no-index");
    std::fs::write(dir.join("neurons/layer-001.parquet"), b"not parquet").unwrap();
    std::fs::remove_dir_all(dir.join("index")).unwrap();
    assert_fails(
        &glossa(
            &["search", "dieta", "--data", "bad-table-no-index"],
            tmp.path(),
        ),
        1,
        &["neurons/layer-001.parquet"],
    );
}

fn edit_manifest(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}
