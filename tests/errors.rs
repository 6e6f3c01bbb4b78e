//! Every failure a new user can run into, through the binary: a message that
//! names the cause (and what to do), a non-zero exit code, never a panic or a
//! backtrace (issue 6). The hub cases talk to a local fake hub on 127.0.0.1,
//! never to the network.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{glossa_command, shipped_model_dir};

/// [`glossa_command`] with environment changes: an empty value removes the variable.
fn glossa(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = glossa_command(args, cwd);
    for (key, value) in env {
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
    }
    command.output().expect("glossa runs")
}

/// Asserts exit code `code`, every needle in the message, and no panic.
#[track_caller]
fn assert_error(output: &Output, code: i32, needles: &[&str]) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!err.contains(bad), "{err}");
    }
}

/// A fake hub on 127.0.0.1 that answers every request with `status`.
fn fake_hub(status: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let body = r#"{"error":"Repository not found"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

/// An address where nothing listens.
fn dead_hub() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

#[test]
fn hub_problems_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let online = |endpoint: &str, model: &str, revision: &str| {
        glossa(
            &[
                "extract",
                "--model",
                model,
                "--revision",
                revision,
                "--out",
                "out",
            ],
            tmp.path(),
            &[("HF_HUB_OFFLINE", ""), ("HF_ENDPOINT", endpoint)],
        )
    };
    // Unknown id (the hub answers 404, or 401 for ids it will not confirm).
    assert_error(
        &online(&fake_hub("404 Not Found"), "nobody/nothing", "main"),
        1,
        &["\"nobody/nothing\" was not found", "check the id"],
    );
    // Private or gated without a token: 401 names HF_TOKEN, 403 the licence.
    assert_error(
        &online(&fake_hub("401 Unauthorized"), "org/private", "main"),
        1,
        &["\"org/private\"", "HF_TOKEN"],
    );
    assert_error(
        &online(&fake_hub("403 Forbidden"), "org/gated", "main"),
        1,
        &["refused (gated or private)", "HF_TOKEN"],
    );
    assert_error(
        &online(&fake_hub("404 Not Found"), "org/model", "no-such-branch"),
        1,
        &["has no revision \"no-such-branch\""],
    );
    // Unreachable: the message offers the offline cache.
    assert_error(
        &online(&dead_hub(), "org/model", "main"),
        1,
        &["could not reach the Hugging Face hub", "HF_HUB_OFFLINE=1"],
    );
    // Offline with nothing cached.
    assert_error(
        &glossa(
            &["extract", "--model", "org/model", "--out", "out"],
            tmp.path(),
            &[],
        ),
        1,
        &["HF_HUB_OFFLINE is set", "not in the cache"],
    );
    // Not an id at all.
    assert_error(
        &glossa(&["extract", "--model", "a b c"], tmp.path(), &[]),
        1,
        &["neither an existing local directory nor a hub id"],
    );
}

/// A copy of the shipped model in `dir`, for damaging.
fn model_copy(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(shipped_model_dir().join(file), dir.join(file)).unwrap();
    }
    dir.to_path_buf()
}

/// A safetensors file as header entries and data.
struct Safetensors {
    header: serde_json::Map<String, serde_json::Value>,
    data: Vec<u8>,
}

impl Safetensors {
    fn read(path: &Path) -> Safetensors {
        let bytes = std::fs::read(path).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        Safetensors {
            header,
            data: bytes[8 + n..].to_vec(),
        }
    }

    fn bytes_with_header(&self, header: &serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
        let text = serde_json::to_vec(header).unwrap();
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&text);
        out.extend_from_slice(&self.data);
        out
    }

    fn write(&self, path: &Path) {
        std::fs::write(path, self.bytes_with_header(&self.header)).unwrap();
    }

    /// Removes `range` from the data, moving the offsets after it.
    fn cut(&mut self, range: std::ops::Range<usize>) {
        self.data.drain(range.clone());
        let removed = (range.end - range.start) as u64;
        for (name, entry) in self.header.iter_mut() {
            if name == "__metadata__" {
                continue;
            }
            for offset in entry["data_offsets"].as_array_mut().unwrap() {
                let value = offset.as_u64().unwrap();
                if value >= range.end as u64 {
                    *offset = (value - removed).into();
                }
            }
        }
    }

    /// Removes tensor `name` and its bytes.
    fn remove(&mut self, name: &str) {
        let range = self.range(name);
        self.header.remove(name);
        self.cut(range);
    }

    /// The byte range of tensor `name` in the data.
    fn range(&self, name: &str) -> std::ops::Range<usize> {
        let offsets = &self.header[name]["data_offsets"];
        offsets[0].as_u64().unwrap() as usize..offsets[1].as_u64().unwrap() as usize
    }
}

fn edit_config(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
}

#[test]
fn broken_checkpoints_are_named_not_panicked_on() {
    let tmp = tempfile::tempdir().unwrap();
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, Vec<&str>)> = vec![
        (
            "no-config",
            Box::new(|d: &Path| std::fs::remove_file(d.join("config.json")).unwrap()),
            vec!["has no config.json"],
        ),
        (
            "no-tokenizer",
            Box::new(|d: &Path| std::fs::remove_file(d.join("tokenizer.json")).unwrap()),
            vec!["has no tokenizer.json"],
        ),
        (
            "no-weights",
            Box::new(|d: &Path| std::fs::remove_file(d.join("model.safetensors")).unwrap()),
            vec!["holds no weights", "model.safetensors"],
        ),
        (
            "config-not-json",
            Box::new(|d: &Path| std::fs::write(d.join("config.json"), "{ n_layer: 4").unwrap()),
            vec!["invalid config.json"],
        ),
        (
            "tokenizer-not-json",
            Box::new(|d: &Path| std::fs::write(d.join("tokenizer.json"), "[1, 2").unwrap()),
            vec!["tokenizer.json"],
        ),
        (
            "mamba",
            Box::new(|d: &Path| edit_config(d, |c| c["model_type"] = "mamba".into())),
            vec![
                "unsupported architecture \"mamba\"",
                "supported: gpt2, gptj",
            ],
        ),
        (
            "no-model-type",
            Box::new(|d: &Path| {
                edit_config(d, |c| {
                    c.as_object_mut().unwrap().remove("model_type");
                })
            }),
            vec!["config.json has no model_type", "supported: gpt2"],
        ),
        (
            "zero-heads",
            Box::new(|d: &Path| edit_config(d, |c| c["n_head"] = 0.into())),
            vec!["invalid config.json", "n_head is 0"],
        ),
        (
            "huge-dimension",
            Box::new(|d: &Path| edit_config(d, |c| c["n_embd"] = (u64::MAX / 2).into())),
            vec!["invalid config.json", "n_embd"],
        ),
        (
            "missing-tensor",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                file.remove("h.2.mlp.c_proj.weight");
                file.write(&d.join("model.safetensors"));
            }),
            vec!["no tensor \"h.2.mlp.c_proj.weight\"", "GPT-2"],
        ),
        (
            "shape-contradicts-config",
            Box::new(|d: &Path| edit_config(d, |c| c["n_inner"] = 512.into())),
            vec![
                "h.0.mlp.c_fc.weight",
                "has shape [64, 256]",
                "implies [64, 512]",
            ],
        ),
        (
            "more-layers-than-stored",
            Box::new(|d: &Path| edit_config(d, |c| c["n_layer"] = 6.into())),
            vec!["no tensor \"h.4."],
        ),
        (
            "truncated",
            Box::new(|d: &Path| {
                let path = d.join("model.safetensors");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 1000]).unwrap();
            }),
            vec!["not a valid safetensors file", "truncated or corrupted"],
        ),
        (
            "header-length-beyond-file",
            Box::new(|d: &Path| {
                let path = d.join("model.safetensors");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
                std::fs::write(&path, bytes).unwrap();
            }),
            vec!["not a valid safetensors file", "truncated or corrupted"],
        ),
        (
            "header-not-json",
            Box::new(|d: &Path| {
                let path = d.join("model.safetensors");
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[8..16].copy_from_slice(b"garbage!");
                std::fs::write(&path, bytes).unwrap();
            }),
            vec!["not a valid safetensors file"],
        ),
        (
            "overlapping-offsets",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                let range = file.range("h.0.attn.c_attn.weight");
                let offsets = &mut file.header["h.0.attn.c_attn.weight"]["data_offsets"];
                *offsets = serde_json::json!([range.start - 64, range.end - 64]);
                file.write(&d.join("model.safetensors"));
            }),
            vec!["not a valid safetensors file"],
        ),
        (
            "wrong-dtype-size",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                file.header["h.1.mlp.c_fc.weight"]["dtype"] = "F16".into();
                file.write(&d.join("model.safetensors"));
            }),
            vec!["not a valid safetensors file"],
        ),
        (
            "integer-weights",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                file.header["h.1.mlp.c_fc.weight"]["dtype"] = "I32".into();
                file.write(&d.join("model.safetensors"));
            }),
            vec!["h.1.mlp.c_fc.weight", "dtype I32", "F32, F16 and BF16"],
        ),
        (
            "nan-weight",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                let at = file.range("h.1.attn.c_proj.weight").start + 4 * 10;
                file.data[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
                file.write(&d.join("model.safetensors"));
            }),
            vec![
                "h.1.attn.c_proj.weight",
                "non-finite value (NaN) at element 10",
            ],
        ),
        (
            "inf-weight",
            Box::new(|d: &Path| {
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                let at = file.range("wte.weight").start + 4 * 3;
                file.data[at..at + 4].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
                file.write(&d.join("model.safetensors"));
            }),
            vec!["wte.weight", "non-finite value (-inf)"],
        ),
        (
            "tokenizer-larger-than-embedding",
            Box::new(|d: &Path| {
                // A checkpoint of 1000 embedding rows with a 4096-token tokenizer.
                let mut file = Safetensors::read(&d.join("model.safetensors"));
                let range = file.range("wte.weight");
                file.cut(range.start + 1000 * 64 * 4..range.end);
                file.header["wte.weight"]["shape"] = serde_json::json!([1000, 64]);
                file.write(&d.join("model.safetensors"));
                edit_config(d, |c| c["vocab_size"] = 1000.into());
            }),
            vec![
                "tokenizer has 4096 tokens",
                "only 1000 rows",
                "does not belong",
            ],
        ),
    ];
    for (name, damage, needles) in &cases {
        let dir = model_copy(&tmp.path().join(name));
        damage(&dir);
        let output = glossa(
            &[
                "extract",
                "--model",
                dir.to_str().unwrap(),
                "--out",
                &format!("out-{name}"),
            ],
            tmp.path(),
            &[],
        );
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(1), "{name}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{name}: {needle:?} not in: {err}");
        }
        assert!(!err.contains("panicked"), "{name}: {err}");
        // A run that fails before writing anything leaves nothing behind:
        // no dataset, no lock, not even the empty directory.
        let out = tmp.path().join(format!("out-{name}"));
        assert!(!out.exists(), "{name}");
    }
}

#[test]
fn bad_options_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let model = model.to_str().unwrap();
    let extract = |extra: &[&str]| {
        let mut args = vec!["extract", "--model", model, "--out", "out"];
        args.extend_from_slice(extra);
        glossa(&args, tmp.path(), &[])
    };
    assert_error(
        &extract(&["--k", "0"]),
        1,
        &["neuron lists of 0 entries", "between 1 and 65535", "--k"],
    );
    assert_error(
        &extract(&["--k", "5000"]),
        1,
        &["lists of 5000 tokens", "only 4096 pass", "lower --k"],
    );
    assert_error(
        &extract(&["--k", "10", "--filter", "min-len=40"]),
        1,
        &["no token passes the filters min-len=40", "--filter"],
    );
    assert_error(
        &extract(&["--head-k", "0"]),
        1,
        &["head lists of 0 entries"],
    );
    assert_error(
        &extract(&["--filter", "klingon"]),
        1,
        &["invalid character filter", "unknown filter \"klingon\""],
    );
    assert_error(
        &extract(&["--no-heads", "--no-neurons"]),
        1,
        &["leave nothing to extract"],
    );
    // Usage errors are clap's, exit code 2.
    let output = extract(&["--k", "many"]);
    assert_eq!(output.status.code(), Some(2));
    let output = glossa(&["extract"], tmp.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    let output = glossa(&["frobnicate"], tmp.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unwritable_output_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    // A path under a regular file can never be created, even by root.
    std::fs::write(tmp.path().join("a-file"), b"").unwrap();
    let output = glossa(
        &[
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "a-file/out",
        ],
        tmp.path(),
        &[],
    );
    assert_error(
        &output,
        1,
        &["a-file/out", "hint: a part of the path is a file"],
    );

    // A read-only directory. Root may write anywhere, so as root the run
    // drops to the unprivileged `nobody` (uid 65534) for this case.
    let readonly = tmp.path().join("readonly");
    std::fs::create_dir(&readonly).unwrap();
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: getuid is always safe.
    let root = unsafe { libc::getuid() } == 0;
    let binary = Path::new(env!("CARGO_BIN_EXE_glossa"));
    if root && !reachable_by_anyone(binary) {
        eprintln!(
            "running as root, and {} is not reachable by other users; skipping the read-only case",
            binary.display()
        );
        return;
    }
    let model = model_copy(&tmp.path().join("model"));
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_glossa"));
    command
        .args([
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "readonly/out",
        ])
        .current_dir(tmp.path())
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("RUST_BACKTRACE");
    if root {
        use std::os::unix::process::CommandExt;
        // SAFETY: setgid/setuid are async-signal-safe, as pre_exec requires.
        unsafe {
            command.pre_exec(|| {
                if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let output = command.output().expect("glossa runs");
    assert_error(
        &output,
        1,
        &[
            "readonly/out",
            "Permission denied",
            "hint: the path is not writable",
        ],
    );
    std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether a user with no rights but "other" may execute `path`.
fn reachable_by_anyone(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode());
    mode(path) & 0o005 == 0o005 && path.ancestors().skip(1).all(|dir| mode(dir) & 0o001 != 0)
}

#[test]
fn dataset_commands_explain_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    assert_error(
        &glossa(&["search", "dieta"], tmp.path(), &[]),
        1,
        &["no dataset in data", "glossa extract"],
    );
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    for args in [
        &["info", "--data", "empty"][..],
        &["search", "dieta", "--data", "empty"],
        &["show", "head", "0", "0", "--data", "empty"],
        &["index", "--data", "empty"],
    ] {
        assert_error(
            &glossa(args, tmp.path(), &[]),
            1,
            &["empty is not a complete Glossa dataset"],
        );
    }
    let output = glossa(&["verify", "--data", "missing"], tmp.path(), &[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stdout).contains("missing is not a directory"));
}

#[test]
fn malformed_queries_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let output = glossa(
        &[
            "extract",
            "--quiet",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "ds",
            "--k",
            "5",
            "--head-k",
            "5",
        ],
        tmp.path(),
        &[],
    );
    assert!(output.status.success());
    let cases: &[(&[&str], &str)] = &[
        (&["dieta~9"], "edit distance after `~` is at most 2"),
        (
            &["dieta~1x"],
            "followed by nothing or by an edit distance up to 2",
        ),
        (&["*"], "`*` needs some text before it"),
        (&["~"], "`~` needs some text before it"),
        (&["dieta ->"], "the arrow needs a token after it"),
        (&["-> dieta"], "the arrow needs a token before it"),
        (&["a -> b -> c"], "one arrow"),
        (&["a b -> c"], "one token on each side"),
        (&["diet*~1"], "either a prefix"),
        (&[""], "at least one term"),
    ];
    // An arrow needs no `--` before it: no flag starts with `->`.
    let output = glossa(&["search", "--data", "ds", "-> dieta"], tmp.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the arrow needs a token before it"),
        "{stderr}"
    );
    for (terms, needle) in cases {
        // `--`: a term may start with `-` (without it, clap's usage error, exit 2).
        let mut args = vec!["search", "--data", "ds", "--"];
        args.extend_from_slice(terms);
        let output = glossa(&args, tmp.path(), &[]);
        assert_eq!(output.status.code(), Some(1), "{terms:?}");
        assert_error(&output, 1, &[needle]);
    }
}

/// `--device cuda` in a build without the `cuda` feature is refused before
/// anything is written, saying how to build one that has it; an unknown
/// device is a usage error.
#[test]
fn a_device_this_build_lacks_is_refused_up_front() {
    if glossa_project::Device::CUDA_BUILT {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let model = model.to_str().unwrap();
    let output = glossa(
        &[
            "extract", "--model", model, "--out", "out", "--device", "cuda",
        ],
        tmp.path(),
        &[],
    );
    assert_error(&output, 1, &["built without CUDA", "--features cuda"]);
    assert!(!tmp.path().join("out").exists());
    let output = glossa(
        &[
            "extract", "--model", model, "--out", "out", "--device", "gpu",
        ],
        tmp.path(),
        &[],
    );
    assert_error(
        &output,
        2,
        &["unknown device \"gpu\"", "cpu, cuda or cuda:N"],
    );
}
