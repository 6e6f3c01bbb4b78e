//! `glossa plot` and `glossa show --format` on the shipped model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{glossa, shipped_model_dir};

fn succeeds(output: Output) -> String {
    assert!(
        output.status.success(),
        "glossa failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// The shipped model extracted into a temporary directory, and the dataset in it.
fn dataset() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let model = shipped_model_dir();
    succeeds(glossa(
        &[
            "extract",
            "--quiet",
            "--model",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    (tmp, out)
}

/// Runs `glossa plot ARGS --data DS --out FILE` and returns the file's text.
fn plot(tmp: &Path, data: &Path, args: &[&str], file: &str) -> String {
    let out = tmp.join(file);
    let mut all: Vec<&str> = vec!["plot"];
    all.extend_from_slice(args);
    all.extend([
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    succeeds(glossa(&all, tmp));
    std::fs::read_to_string(&out).expect("the plot was written")
}

/// The value of attribute `name` in the first tag of `text`.
fn attribute<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let tag = &text[..text.find('>')?];
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// Every element whose class attribute is `class`, from its `<` on.
fn elements<'a>(text: &'a str, class: &str) -> Vec<&'a str> {
    let needle = format!(" class=\"{class}\"");
    text.match_indices(&needle)
        .map(|(at, _)| &text[text[..at].rfind('<').unwrap()..])
        .collect()
}

/// The scatter's points: token and screen position.
fn points(svg: &str) -> Vec<(String, f64, f64)> {
    elements(svg, "pt")
        .into_iter()
        .map(|p| {
            let token = attribute(p, "data-token").expect("a token").to_string();
            let at = attribute(p, "transform").expect("a position");
            let inner = at.trim_start_matches("translate(");
            let inner = &inner[..inner.find(')').unwrap()];
            let (x, y) = inner.split_once(',').unwrap();
            (token, x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

const PLANTED: [&str; 5] = ["dieta", "diety", "dietą", "dietę", "diecie"];

#[test]
fn plot_of_the_planted_value_neuron_clusters_its_tokens() {
    let (tmp, data) = dataset();
    let svg = plot(
        tmp.path(),
        &data,
        &["neuron", "2", "17", "--side", "value", "--labels"],
        "neuron.svg",
    );
    assert_eq!(attribute(&svg, "width"), Some("960"));
    assert_eq!(attribute(&svg, "height"), Some("720"));
    let points = points(&svg);
    assert_eq!(points.len(), 50, "the whole stored list (k = 50)");
    let mut positions: Vec<String> = points.iter().map(|p| format!("{} {}", p.1, p.2)).collect();
    positions.sort();
    positions.dedup();
    assert_eq!(positions.len(), 50, "distinct positions");
    // Each planted token's four nearest neighbours are the other planted forms.
    for planted in PLANTED {
        let me = points
            .iter()
            .find(|p| p.0 == planted)
            .expect("planted token");
        let mut others: Vec<&(String, f64, f64)> =
            points.iter().filter(|p| p.0 != planted).collect();
        others.sort_by(|a, b| {
            let d = |p: &(String, f64, f64)| (p.1 - me.1).powi(2) + (p.2 - me.2).powi(2);
            d(a).total_cmp(&d(b))
        });
        for near in &others[..4] {
            assert!(
                PLANTED.contains(&near.0.as_str()),
                "{planted}'s near neighbour {} is not a planted form",
                near.0
            );
        }
        assert!(
            svg.contains(&format!(">{planted}</text>")),
            "label {planted}"
        );
    }
    assert!(svg.contains("layer 2, neuron 17: value vector, top 50 tokens"));
}

#[test]
fn plot_html_is_self_contained_and_labels_every_token() {
    let (tmp, data) = dataset();
    let page = plot(
        tmp.path(),
        &data,
        &["neuron", "1", "101", "--side", "key", "--k", "20"],
        "neuron.html",
    );
    let outside = page
        .match_indices("http")
        .filter(|(at, _)| !page[*at..].starts_with("http://www.w3.org/2000/svg\""))
        .count();
    assert_eq!(outside, 0, "nothing is fetched");
    assert!(!page.contains(" src=") && !page.contains("<link"));
    let list = succeeds(glossa(
        &[
            "show",
            "neuron",
            "1",
            "101",
            "--limit",
            "20",
            "--format",
            "json",
            "--data",
            data.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    let keys: Vec<String> = list
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["side"] == "key")
        .map(|v| v["token"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 20);
    for token in &keys {
        let escaped = token
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        assert!(
            page.contains(&format!(">{escaped}</text>")),
            "label {token}"
        );
    }
    assert!(keys.iter().any(|t| t == "łódź") && keys.iter().any(|t| t == "Łódź"));
    assert_eq!(elements(&page, "pt").len(), 20);
}

#[test]
fn plot_is_deterministic_for_a_seed() {
    let (tmp, data) = dataset();
    let args = ["neuron", "2", "17", "--side", "value", "--seed", "7"];
    let a = plot(tmp.path(), &data, &args, "a.svg");
    let b = plot(tmp.path(), &data, &args, "b.svg");
    assert_eq!(a, b);
    let c = plot(
        tmp.path(),
        &data,
        &["neuron", "2", "17", "--side", "value", "--seed", "8"],
        "c.svg",
    );
    assert_ne!(points(&a), points(&c), "the seed is used");
}

#[test]
fn plot_head_marks_src_and_dst_tokens() {
    let (tmp, data) = dataset();
    let svg = plot(
        tmp.path(),
        &data,
        &["head", "2", "2", "--circuit", "qk", "--k", "10"],
        "head.svg",
    );
    let marker = |token: &str| -> &str {
        let p = elements(&svg, "pt")
            .into_iter()
            .find(|p| attribute(p, "data-token") == Some(token))
            .unwrap_or_else(|| panic!("{token} is plotted"));
        let shape = &p[p.find("</title>").unwrap() + 9..];
        &shape[..shape.find(' ').unwrap()]
    };
    assert_eq!(marker("zdrowie"), "rect", "a key (dst) token is a square");
    assert_eq!(
        marker("diecie"),
        "circle",
        "a query (src) token is a circle"
    );
    assert!(svg.contains("query (src)") && svg.contains("key (dst)"));
    assert!(elements(&svg, "link").len() >= 9, "pairs are joined");
}

#[test]
fn plot_in_3d_and_normalized() {
    let (tmp, data) = dataset();
    let page = plot(
        tmp.path(),
        &data,
        &[
            "neuron",
            "2",
            "17",
            "--side",
            "value",
            "--3d",
            "--normalized",
            "--bottom",
        ],
        "n3.html",
    );
    assert!(page.contains(r#"data-3d="1""#));
    assert_eq!(page.matches(" data-z=\"").count(), 50);
    assert!(page.contains("bottom 50 tokens") && page.contains("unit length"));
}

#[test]
fn plot_refuses_more_tokens_than_the_table_holds() {
    let (tmp, data) = dataset();
    let out = glossa(
        &[
            "plot",
            "neuron",
            "2",
            "17",
            "--side",
            "value",
            "--k",
            "51",
            "--data",
            data.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("51 tokens asked for")
            && message.contains("hold 50")
            && message.contains("lower --k"),
        "{message}"
    );
    let wrong_format = glossa(
        &[
            "plot",
            "copying",
            "--data",
            data.to_str().unwrap(),
            "--out",
            "x.png",
        ],
        tmp.path(),
    );
    assert!(String::from_utf8_lossy(&wrong_format.stderr).contains(".svg"));
}

#[test]
fn plot_says_how_to_find_a_moved_model() {
    let (tmp, data) = dataset();
    let out = glossa(
        &[
            "plot",
            "neuron",
            "2",
            "17",
            "--side",
            "value",
            "--data",
            data.to_str().unwrap(),
            "--model",
            tmp.path().join("gone").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
}

#[test]
fn plot_finds_a_local_model_named_relative_to_another_directory() {
    // Extracted from the repository root with a relative --model, plotted
    // from a temporary directory: the manifest's absolute model_dir is used.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    succeeds(glossa(
        &[
            "extract",
            "--quiet",
            "--model",
            "data/models/tiny-polish-gpt2",
            "--out",
            data.to_str().unwrap(),
        ],
        root,
    ));
    let svg = plot(
        tmp.path(),
        &data,
        &["neuron", "2", "17", "--side", "value"],
        "n.svg",
    );
    assert_eq!(points(&svg).len(), 50);
}

#[test]
fn overview_for_dieta_highlights_the_planted_units() {
    let (tmp, data) = dataset();
    let svg = plot(tmp.path(), &data, &["overview", "dieta"], "overview.svg");
    let cells = elements(&svg, "cell");
    let value = |layer: usize, column: usize| -> f64 {
        let cell = elements(&svg, "cell")
            .into_iter()
            .chain(elements(&svg, "cell peak"))
            .find(|c| {
                attribute(c, "data-row") == Some(&layer.to_string())
                    && attribute(c, "data-column") == Some(&column.to_string())
            })
            .expect("a cell");
        attribute(cell, "data-value").unwrap().parse().unwrap()
    };
    assert_eq!(cells.len() + elements(&svg, "cell peak").len(), 16);
    // Column 1 is neuron values, each cell the largest |z| of dieta in that
    // layer's value lists: the planted neuron (layer 2) stands well above
    // every other layer, though dieta sits in lists of every layer.
    for layer in [0, 1, 3] {
        assert!(
            value(2, 1) > 1.3 * value(layer, 1),
            "layer 2 ({}) vs layer {layer} ({})",
            value(2, 1),
            value(layer, 1)
        );
    }
    // The planted heads: QK pair head in layer 2 (column 3), copy head in layer 3 (column 2).
    assert!((0..4).all(|l| l == 2 || value(2, 3) > 10.0 * value(l, 3)));
    assert!((0..4).all(|l| l == 3 || value(3, 2) > 10.0 * value(l, 2)));

    // Counting lists alone does not single the layer out: dieta is everywhere.
    let lists = plot(
        tmp.path(),
        &data,
        &["overview", "dieta", "--measure", "lists"],
        "lists.svg",
    );
    assert!(lists.contains("lists with a match"));
}

#[test]
fn copying_plot_shows_the_copy_head() {
    let (tmp, data) = dataset();
    let svg = plot(tmp.path(), &data, &["copying"], "copying.svg");
    let points = elements(&svg, "pt");
    assert_eq!(points.len(), 16, "4 layers × 4 heads");
    let best = points
        .iter()
        .max_by(|a, b| {
            let v = |p: &&str| attribute(p, "data-value").unwrap().parse::<f64>().unwrap();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    assert!(attribute(best, "data-tip")
        .unwrap()
        .starts_with("layer 3 head 1"));
    let html = plot(tmp.path(), &data, &["copying"], "copying.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
}

#[test]
fn show_formats_carry_the_list_columns() {
    let (tmp, data) = dataset();
    let data = data.to_str().unwrap();
    let csv = succeeds(glossa(
        &[
            "show", "neuron", "2", "17", "--format", "csv", "--data", data,
        ],
        tmp.path(),
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "layer,neuron,side,polarity,rank,token_id,token,score,z"
    );
    assert_eq!(lines.len(), 1 + 2 * 50, "both sides, top lists, all ranks");
    let planted = lines
        .iter()
        .find_map(|l| l.strip_prefix("2,17,value,top,1,397,dieta,"))
        .unwrap_or_else(|| panic!("the planted token leads the value list: {csv}"));
    let score: f64 = planted
        .split(',')
        .next()
        .and_then(|score| score.parse().ok())
        .expect("a score, then z");
    assert!((score - 1.4428).abs() < 1e-3, "{score}");
    let bottom = succeeds(glossa(
        &[
            "show", "neuron", "2", "17", "--format", "csv", "--bottom", "--limit", "3", "--data",
            data,
        ],
        tmp.path(),
    ));
    assert_eq!(bottom.lines().count(), 1 + 2 * 2 * 3);

    let json = succeeds(glossa(
        &[
            "show", "head", "2", "2", "--format", "json", "--limit", "1", "--data", data,
        ],
        tmp.path(),
    ));
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 2, "VO and QK, rank 1 each");
    let qk = rows.iter().find(|r| r["circuit"] == "qk").unwrap();
    assert_eq!(qk["src_token"], "dieta");
    assert_eq!(qk["dst_token"], "zdrowie");
    assert_eq!(
        qk["src_token_id"], 397,
        "the id of dieta, as in the neuron list"
    );
    for key in [
        "layer",
        "head",
        "polarity",
        "rank",
        "src_token_id",
        "dst_token_id",
        "score",
    ] {
        assert!(qk.get(key).is_some(), "{key}");
    }
    // The default is the table people read.
    let table = succeeds(glossa(
        &["show", "neuron", "2", "17", "--data", data],
        tmp.path(),
    ));
    assert!(table.starts_with("layer 2, neuron 17: top tokens"));
}

/// Debian's Chromium, or `GLOSSA_CHROMIUM`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GLOSSA_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome"];
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The DOM of `page` after its scripts ran, from headless Chromium.
fn dump_dom(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 DOM")
}

#[test]
fn html_plots_run_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI needs Chromium for this test: apt-get install chromium (.ci/run does)");
        }
        eprintln!(
            "SKIPPED html_plots_run_in_headless_chromium: no chromium on PATH \
             (apt-get install chromium, or set GLOSSA_CHROMIUM)"
        );
        return;
    };
    let (tmp, data) = dataset();
    let pages = [
        (
            vec!["neuron", "2", "17", "--side", "value", "--labels"],
            "n2d.html",
            50,
        ),
        (
            vec!["neuron", "2", "17", "--side", "value", "--3d"],
            "n3d.html",
            50,
        ),
        (
            vec!["head", "3", "1", "--circuit", "vo", "--k", "30"],
            "head.html",
            0,
        ),
        (vec!["overview", "dieta"], "overview.html", 0),
        (vec!["copying"], "copying.html", 16),
    ];
    for (args, file, expected_points) in pages {
        plot(tmp.path(), &data, &args, file);
        let dom = dump_dom(&browser, &tmp.path().join(file));
        assert!(
            dom.contains(r#"data-ready="1""#),
            "{file}: the page's script did not finish"
        );
        assert!(
            !dom.contains("data-error="),
            "{file}: a script error occurred"
        );
        let points = elements(&dom, "pt").len();
        if expected_points > 0 {
            assert_eq!(points, expected_points, "{file}");
        } else {
            assert!(points > 0 || dom.contains("class=\"cell"), "{file}");
        }
        if file == "n2d.html" {
            for planted in PLANTED {
                assert!(dom.contains(&format!(">{planted}</text>")), "{planted}");
            }
            assert!(dom.contains(r##"<g class="labels" fill="#222" display="inline">"##));
        }
        if file == "n3d.html" {
            assert_eq!(dom.matches(" data-z=\"").count(), 50);
        }
    }
}
