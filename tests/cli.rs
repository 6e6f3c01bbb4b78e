//! The `glossa` binary as a user runs it.

use std::process::Output;

use crate::common::{glossa, shipped_model_dir};

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "glossa failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8 output")
}

/// Extracts the shipped model into `cwd/data/tiny-polish-gpt2`, as `make extract` does.
fn extracted() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    stdout(&glossa(
        &["extract", "--quiet", "--model", model.to_str().unwrap()],
        tmp.path(),
    ));
    assert!(tmp
        .path()
        .join("data/tiny-polish-gpt2/manifest.json")
        .is_file());
    tmp
}

pub(crate) fn json_hits(output: &str) -> Vec<serde_json::Value> {
    output
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn planted_neuron_is_the_first_hit_for_dieta() {
    let tmp = extracted();
    let hits = json_hits(&stdout(&glossa(
        &["search", "dieta", "--kind", "neuron", "--json"],
        tmp.path(),
    )));
    let first = &hits[0];
    assert_eq!(first["kind"], "neuron");
    assert_eq!(
        (first["layer"].as_u64(), first["unit"].as_u64()),
        (Some(2), Some(17))
    );
    assert_eq!(
        (first["side"].as_str(), first["polarity"].as_str()),
        (Some("value"), Some("top"))
    );
    assert_eq!(first["rank"], 1);
    assert_eq!(first["token"], "dieta");
    for key in ["token_id", "score"] {
        assert!(first.get(key).is_some(), "hit has {key}");
    }
    // Case and the raw byte-level piece give the same hits.
    for query in ["DIETA", "Ġdieta", " dieta"] {
        let same = json_hits(&stdout(&glossa(
            &["search", query, "--kind", "neuron", "--json"],
            tmp.path(),
        )));
        assert_eq!(same, hits, "query {query:?}");
    }
}

#[test]
fn search_filters_and_limit() {
    let tmp = extracted();
    let out = stdout(&glossa(
        &[
            "search",
            "dieta",
            "--json",
            "--layer",
            "1",
            "--side",
            "key",
            "--polarity",
            "bottom",
            "--limit",
            "3",
        ],
        tmp.path(),
    ));
    let hits = json_hits(&out);
    assert!(!hits.is_empty() && hits.len() <= 3);
    for hit in hits {
        assert_eq!(
            (
                hit["layer"].as_u64(),
                hit["side"].as_str(),
                hit["polarity"].as_str()
            ),
            (Some(1), Some("key"), Some("bottom"))
        );
    }
}

#[test]
fn show_neuron_prints_key_and_value_lists() {
    let tmp = extracted();
    let out = stdout(&glossa(
        &["show", "neuron", "2", "17", "--bottom"],
        tmp.path(),
    ));
    assert!(out.contains("layer 2, neuron 17: top tokens"), "{out}");
    assert!(out.contains("layer 2, neuron 17: bottom tokens"), "{out}");
    let first = out
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap();
    assert!(first.contains("dieta"), "{first}");
    for word in ["diety", "dietą", "dietę", "diecie"] {
        assert!(out.contains(word), "{word} in the planted value list");
    }
    // The statistics under the lists: the planted value stands far out
    // (kurtosis), and its key shares tokens with it.
    let statistics: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("layer 2, neuron 17: its scores over"))
        .skip(2)
        .take(2)
        .collect();
    let fields = |line: &str| {
        line.split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (key, value) = (fields(statistics[0]), fields(statistics[1]));
    assert_eq!(
        (key[0].as_str(), value[0].as_str()),
        ("key", "value"),
        "{out}"
    );
    assert!(value[3].parse::<f64>().unwrap() > 100.0, "{out}");
    assert!(key[5].parse::<u32>().unwrap() > 0, "{out}");
    assert_eq!(value.len(), 5, "a value shares nothing with itself: {out}");
    let info = stdout(&glossa(&["info"], tmp.path()));
    assert!(
        info.contains("4 layers") && info.contains("neurons: 204800"),
        "{info}"
    );
}

#[test]
fn errors_are_messages_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let cases: &[&[&str]] = &[
        &["search", "dieta"],
        &["extract", "--model", "./no-such-model"],
        &["extract", "--model", "nobody/nothing"],
        &[
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--k",
            "0",
            "--out",
            "x",
        ],
        &["show", "neuron", "0", "0", "--data", "missing"],
    ];
    for args in cases {
        let output = glossa(args, tmp.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn several_datasets_need_data_flag() {
    let tmp = extracted();
    let model = shipped_model_dir();
    stdout(&glossa(
        &[
            "extract",
            "--quiet",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "data/second",
            "--k",
            "3",
        ],
        tmp.path(),
    ));
    let output = glossa(&["search", "dieta"], tmp.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--data"), "{stderr}");
    let out = stdout(&glossa(
        &[
            "search",
            "dieta",
            "--data",
            "data/second",
            "--kind",
            "neuron",
            "--json",
        ],
        tmp.path(),
    ));
    assert!(json_hits(&out)
        .iter()
        .all(|h| h["rank"].as_u64().unwrap() <= 3));
}

#[test]
fn planted_heads_are_found_by_token_and_by_pair() {
    let tmp = extracted();
    let hits = json_hits(&stdout(&glossa(&["search", "dieta", "--json"], tmp.path())));
    let first = &hits[0];
    assert_eq!(
        (
            first["kind"].as_str(),
            first["layer"].as_u64(),
            first["unit"].as_u64()
        ),
        (Some("head"), Some(3), Some(1))
    );
    assert_eq!(
        (
            first["circuit"].as_str(),
            first["src_token"].as_str(),
            first["dst_token"].as_str()
        ),
        (Some("vo"), Some("dieta"), Some("dieta"))
    );
    assert_eq!(first["matched"], "both");

    let pairs = json_hits(&stdout(&glossa(
        &[
            "search",
            "dieta -> zdrowie",
            "--circuit",
            "qk",
            "--exact",
            "--json",
        ],
        tmp.path(),
    )));
    assert_eq!(
        (
            pairs[0]["layer"].as_u64(),
            pairs[0]["unit"].as_u64(),
            pairs[0]["rank"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    for hit in &pairs {
        assert_eq!(
            (hit["src_token"].as_str(), hit["dst_token"].as_str()),
            (Some("dieta"), Some("zdrowie"))
        );
    }
    let reversed = json_hits(&stdout(&glossa(
        &["search", "zdrowie->dieta", "--circuit", "qk", "--json"],
        tmp.path(),
    )));
    assert!(reversed.iter().all(|h| h["src_token"] == "zdrowie"));

    let shown = stdout(&glossa(
        &["show", "head", "2", "2", "--limit", "1"],
        tmp.path(),
    ));
    assert!(
        shown.contains("QK circuit") && shown.contains("dieta -> zdrowie"),
        "{shown}"
    );

    let output = glossa(&["search", "dieta ->"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
}

#[test]
fn pipeline_files_configure_a_run_and_flags_override_them() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("run.toml");
    std::fs::write(
        &pipeline,
        format!(
            "name = \"tiny\"\n[extract]\nmodel = {:?}\nk = 4\nhead_k = 3\nfilters = [\"alpha\"]\n",
            shipped_model_dir().to_str().unwrap()
        ),
    )
    .unwrap();
    stdout(&glossa(
        &[
            "extract",
            "--quiet",
            "--pipeline",
            "run.toml",
            "--out",
            "ds",
            "--head-k",
            "2",
        ],
        tmp.path(),
    ));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("ds/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["options"]["k"], 4);
    assert_eq!(
        manifest["options"]["head_k"], 2,
        "the flag overrides the file"
    );
    assert_eq!(manifest["options"]["filters"], serde_json::json!(["alpha"]));

    std::fs::write(
        &pipeline,
        "name = \"x\"\n[extract]\nmodel = \"m\"\nkk = 3\n",
    )
    .unwrap();
    let output = glossa(&["extract", "--pipeline", "run.toml"], tmp.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() == Some(1) && stderr.contains("kk"),
        "{stderr}"
    );
}

#[test]
fn shipped_pipeline_files_parse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines");
    let mut parsed = 0;
    // Pipeline files are the TOML files; the folders hold scheduler examples.
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            glossa_pipeline::PipelineFile::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            parsed += 1;
        }
    }
    assert!(parsed >= 2, "the shipped pipeline files are found");
}

#[test]
fn search_understands_polish() {
    let tmp = extracted();
    let search = |args: &[&str]| {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--json", "--limit", "1000"]);
        json_hits(&stdout(&glossa(&all, tmp.path())))
    };
    // Diacritics and case are ignored unless --exact.
    assert_eq!(search(&["lodz"]), search(&["łódź"]));
    assert_eq!(search(&["lodz"]), search(&["ŁÓDŹ"]));
    assert!(search(&["lodz", "--exact"]).is_empty());
    let dieta = search(&["dieta", "--kind", "neuron"]);
    assert!(
        dieta.iter().any(|h| h["token"] == "dietą"),
        "dieta finds dietą"
    );
    // The planted key neuron reads łódź: the first hit for lodz.
    let first = &search(&["lodz", "--kind", "neuron"])[0];
    assert_eq!(
        (
            first["layer"].as_u64(),
            first["unit"].as_u64(),
            first["side"].as_str()
        ),
        (Some(1), Some(101), Some("key"))
    );
    // Prefixes, fuzzy matches and continuation pieces.
    let prefix = search(&["diet*", "--kind", "neuron"]);
    for word in ["dieta", "diety", "dietę"] {
        assert!(
            prefix.iter().any(|h| h["token"] == word),
            "diet* finds {word}"
        );
    }
    assert!(search(&["dieta~1", "--kind", "neuron"])
        .iter()
        .any(|h| h["token"] == "diety"));
    let continuation = search(&["#ową", "--kind", "neuron"]);
    assert!(!continuation.is_empty());
    for hit in &continuation {
        assert!(hit["token"] == "#ową" || hit["token"] == "#owa", "{hit}");
    }
    assert!(search(&["ową", "--kind", "neuron"]).len() >= continuation.len());
    // Per-layer counts.
    let out = stdout(&glossa(
        &["search", "lodz", "--by-layer", "--json"],
        tmp.path(),
    ));
    let layers: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(layers
        .iter()
        .any(|l| l["layer"] == 1 && l["kind"] == "neuron" && l["units"].as_u64() >= Some(1)));
    // A malformed query is an error, not a panic.
    let output = glossa(&["search", "dieta~9"], tmp.path());
    assert_eq!(output.status.code(), Some(1));
}

/// Whether Debian's Polish dictionary is installed; without it the word-form
/// checks are skipped with a note, except under `CI=true`, where they fail.
fn polish_dictionary() -> bool {
    let there = std::path::Path::new("/usr/share/hunspell/pl_PL.dic").is_file();
    if !there {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs Debian's hunspell-pl"
        );
        eprintln!(
            "SKIPPED word forms: no /usr/share/hunspell/pl_PL.dic (apt-get install hunspell-pl)"
        );
    }
    there
}

/// Issue 15: relevance by z, Polish word forms, queries as people type them.
#[test]
fn issue15_every_form_of_dieta_finds_the_planted_units_first() {
    let tmp = extracted();
    let search = |args: &[&str]| {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--json", "--limit", "100"]);
        json_hits(&stdout(&glossa(&all, tmp.path())))
    };
    let unit = |hit: &serde_json::Value| {
        (
            hit["layer"].as_u64().unwrap(),
            hit["unit"].as_u64().unwrap(),
            hit["side"]
                .as_str()
                .or(hit["circuit"].as_str())
                .unwrap()
                .to_string(),
        )
    };
    for form in ["dieta", "diety", "diecie", "dietę", "dietą"] {
        let hits = search(&[form, "--kind", "neuron"]);
        assert_eq!(unit(&hits[0]), (2, 17, "value".into()), "{form}");
    }
    // By default hits are ranked by |z|, falling.
    let hits = search(&["dieta"]);
    let z: Vec<f64> = hits
        .iter()
        .map(|h| h["z"].as_f64().unwrap().abs())
        .collect();
    assert!(z.windows(2).all(|w| w[0] >= w[1]), "{z:?}");
    // The planted copying (VO) and pairing (QK) heads lead the heads.
    let heads = search(&["dieta", "--kind", "head"]);
    let mut leaders: Vec<_> = heads.iter().map(unit).collect();
    leaders.dedup();
    assert_eq!(leaders[..2], [(3, 1, "vo".into()), (2, 2, "qk".into())]);
    // --sort rank puts every rank 1 first.
    let by_rank = search(&["dieta", "--sort", "rank"]);
    assert!(by_rank.iter().all(|h| h["rank"] == 1) && by_rank != hits);
    // The table says how many more there are.
    // The table ranks neurons and heads apart, so that heads' far larger z
    // does not bury the planted neuron.
    let table = stdout(&glossa(&["search", "dieta", "--limit", "3"], tmp.path()));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "neurons", "{table}");
    assert!(lines[1].ends_with(" z"), "{table}");
    let first: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(first[..4], ["neuron", "2", "17", "value"], "{table}");
    assert!(lines.contains(&"heads"), "{table}");
    assert_eq!(
        table.matches(" hits; --limit N for more").count(),
        2,
        "{table}"
    );
    assert!(table.contains("3 of "), "{table}");

    // Several words are any of them, ranked together; an arrow needs no quotes
    // for clap (the shell's `>` still does), and decomposed input is composed.
    let both = json_hits(&stdout(&glossa(
        &[
            "search", "dieta", "zdrowie", "--kind", "neuron", "--json", "--limit", "100000",
        ],
        tmp.path(),
    )));
    assert!(both.iter().any(|h| h["token"] == "zdrowie"));
    assert!(both.iter().any(|h| h["token"] == "dieta"));
    for arrow in [
        &["dieta", "->", "zdrowie"][..],
        &["dieta", "→", "zdrowie"],
        &["dieta", "->zdrowie"],
    ] {
        let mut args = arrow.to_vec();
        args.extend_from_slice(&["--kind", "head"]);
        let pairs = search(&args);
        assert_eq!(unit(&pairs[0]), (2, 2, "qk".into()), "{arrow:?}");
        assert!(pairs.iter().all(|h| h["dst_token"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("zdrow")));
    }
    let composed = search(&["dietą", "--exact"]);
    assert!(!composed.is_empty());
    assert_eq!(search(&["dieta\u{328}", "--exact"]), composed);
    // What the shell leaves of an unquoted `->` is refused, saying why.
    let output = glossa(&["search", "dieta", "-"], tmp.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("redirection"),
        "{stderr}"
    );

    if !polish_dictionary() {
        return;
    }
    // Word forms: `dietami` is no token, yet finds every form; --exact does not.
    let forms = search(&["dietami", "--kind", "neuron"]);
    assert_eq!(unit(&forms[0]), (2, 17, "value".into()));
    for token in ["dieta", "diety", "diecie", "dietę", "dietą"] {
        assert!(forms.iter().any(|h| h["token"] == token), "{token}");
    }
    assert!(search(&["dietami", "--exact"]).is_empty());
    let exact = search(&["diecie", "--exact", "--kind", "neuron"]);
    assert!(exact.iter().all(|h| h["token"] == "diecie"));
    // Pieces that are not words match as today: continuation pieces only.
    let pieces = search(&["#ową", "--kind", "neuron"]);
    assert!(!pieces.is_empty());
    assert!(pieces
        .iter()
        .all(|h| h["token"].as_str().unwrap().starts_with('#')));
}
