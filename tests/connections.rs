//! Neuron-to-neuron connections (issue 17): every list equals a float64
//! brute force over every pair of neurons in different layers, on the
//! shipped model here and on a gated family model in `families.rs`;
//! `show neuron` prints them, `glossa query` and `verify` read them, and a
//! dataset with them merges from shards like any other.

use std::path::Path;

use glossa_synth::presets;
use glossa_tables::{read_connection_rows, ConnectionRow, Direction, Polarity, Side, Table};

use crate::common::{glossa, gpt2_neuron, shipped_model_dir};

/// One vector per neuron of one layer, as float64.
pub type Vectors = Vec<Vec<f64>>;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Checks every connection list of the dataset in `dir` against the scores
/// of `values[l][i]` (what neuron i of layer l writes) and, per read side,
/// `reads[l][j]` (what neuron j of layer l reads through that side), `k`
/// at each end: the reference's neurons in the reference's order, a
/// different neuron only at a tie within float32 rounding.
pub fn assert_connections_match(
    dir: &Path,
    values: &[Vectors],
    reads: &[(Side, Vec<Vectors>)],
    k: usize,
) {
    let layers = values.len();
    let mut checked = 0;
    for layer in 0..layers {
        let rows = read_connection_rows(&dir.join(Table::Connections(layer).path()), None)
            .expect("connections table readable");
        let mut expected_rows = 0;
        for (side, keys) in reads {
            for neuron in 0..values[layer].len() {
                let mut lists = Vec::new();
                if layer + 1 < layers {
                    let scores: Vec<(usize, usize, f64)> = (layer + 1..layers)
                        .flat_map(|later| {
                            keys[later]
                                .iter()
                                .enumerate()
                                .map(move |(j, key)| (later, j, dot(&values[layer][neuron], key)))
                        })
                        .collect();
                    lists.push((Direction::Downstream, scores));
                }
                if layer > 0 {
                    let scores: Vec<(usize, usize, f64)> = (0..layer)
                        .flat_map(|earlier| {
                            values[earlier].iter().enumerate().map(move |(j, value)| {
                                (earlier, j, dot(value, &keys[layer][neuron]))
                            })
                        })
                        .collect();
                    lists.push((Direction::Upstream, scores));
                }
                for (direction, scores) in lists {
                    for polarity in [Polarity::Top, Polarity::Bottom] {
                        let got: Vec<&ConnectionRow> = rows
                            .iter()
                            .filter(|r| {
                                r.neuron as usize == neuron
                                    && r.direction == direction
                                    && r.side == *side
                                    && r.polarity == polarity
                            })
                            .collect();
                        let what =
                            format!("layer {layer} neuron {neuron} {direction} {side} {polarity}");
                        check_list(&what, &got, &scores, polarity, k);
                        expected_rows += k;
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(rows.len(), expected_rows, "rows of layer {layer}");
    }
    assert!(checked > 0);
}

#[track_caller]
fn check_list(
    what: &str,
    got: &[&ConnectionRow],
    scores: &[(usize, usize, f64)],
    polarity: Polarity,
    k: usize,
) {
    let mut order: Vec<&(usize, usize, f64)> = scores.iter().collect();
    order.sort_by(|a, b| {
        let by_score = match polarity {
            Polarity::Top => b.2.total_cmp(&a.2),
            Polarity::Bottom => a.2.total_cmp(&b.2),
        };
        by_score.then((a.0, a.1).cmp(&(b.0, b.1)))
    });
    let scale = scores.iter().fold(0f64, |m, s| m.max(s.2.abs())).max(1e-30);
    let tolerance = 2e-5 * scale;
    let score_of = |layer: usize, neuron: usize| {
        scores
            .iter()
            .find(|s| (s.0, s.1) == (layer, neuron))
            .map(|s| s.2)
            .unwrap_or_else(|| panic!("{what}: {layer}:{neuron} is no candidate"))
    };
    assert_eq!(got.len(), k, "{what}: length");
    for (rank, (row, want)) in got.iter().zip(order).enumerate() {
        assert_eq!(row.rank as usize, rank + 1, "{what}: ranks in order");
        assert!(
            (row.score as f64 - want.2).abs() <= tolerance,
            "{what} rank {}: score {} vs reference {}",
            rank + 1,
            row.score,
            want.2
        );
        let (layer, neuron) = (row.other_layer as usize, row.other_neuron as usize);
        assert!(
            (layer, neuron) == (want.0, want.1)
                || (score_of(layer, neuron) - want.2).abs() <= tolerance,
            "{what} rank {}: {layer}:{neuron} vs reference {}:{}",
            rank + 1,
            want.0,
            want.1
        );
    }
}

/// The shipped GPT-2's values (rows of `c_proj`) and keys (columns of
/// `c_fc`), from the generator's own weights.
fn shipped_vectors() -> (Vec<Vectors>, Vec<Vectors>) {
    let model = presets::shipped().expect("generator");
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    for layer in 0..model.spec.n_layer {
        let (layer_keys, layer_values) = (0..model.spec.n_inner)
            .map(|neuron| gpt2_neuron(&model, layer, neuron))
            .unzip();
        keys.push(layer_keys);
        values.push(layer_values);
    }
    (values, keys)
}

#[test]
fn connections_of_the_shipped_model_match_a_float64_brute_force() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let output = glossa(
        &[
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "ds",
            "--no-heads",
            "--k",
            "5",
            "--connections",
            "7",
        ],
        tmp.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tmp.path().join("ds");
    let (values, keys) = shipped_vectors();
    assert_connections_match(&dir, &values, &[(Side::Key, keys)], 7);

    let verified = glossa(&["verify", "--data", "ds"], tmp.path());
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    // show neuron prints them under the lists, as layer:neuron.
    let shown = glossa(
        &["show", "neuron", "1", "3", "--data", "ds", "--bottom"],
        tmp.path(),
    );
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    for needle in [
        "later neurons its value excites most (downstream, top)",
        "later neurons its value inhibits most (downstream, bottom)",
        "earlier neurons that excite it most (upstream, top)",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
    let first = read_connection_rows(&dir.join(Table::Connections(1).path()), Some(3)).unwrap();
    let top = &first[0];
    assert!(
        text.contains(&format!("{}:{}", top.other_layer, top.other_neuron)),
        "{text}"
    );

    // SQL reads them as the table `connections`.
    let answered = glossa(
        &[
            "query",
            "SELECT count(*) AS n FROM connections WHERE direction = 'upstream'",
            "--data",
            "ds",
            "--format",
            "csv",
        ],
        tmp.path(),
    );
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    // Layers 1-3 look upstream: 3 layers × 256 neurons × top and bottom × 7.
    assert_eq!(
        String::from_utf8_lossy(&answered.stdout),
        format!("n\n{}\n", 3 * 256 * 2 * 7)
    );

    // A list longer than a layer has neurons is refused before anything is computed.
    let refused = glossa(
        &[
            "extract",
            "--model",
            model.to_str().unwrap(),
            "--out",
            "too-long",
            "--connections",
            "257",
        ],
        tmp.path(),
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("256"));
    assert!(!tmp.path().join("too-long").exists());
}

#[test]
fn shards_with_connections_merge_into_the_unsharded_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let model = shipped_model_dir();
    let model = model.to_str().unwrap();
    let extract = |out: &str, layers: Option<&str>| {
        let mut args = vec![
            "extract",
            "--model",
            model,
            "--out",
            out,
            "--no-heads",
            "--k",
            "3",
            "--connections",
            "4",
        ];
        if let Some(layers) = layers {
            args.extend(["--layers", layers]);
        }
        let output = glossa(&args, tmp.path());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    extract("full", None);
    extract("a", Some("0..2"));
    extract("b", Some("2..4"));
    let merged = glossa(&["merge", "--out", "merged", "b", "a"], tmp.path());
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    for layer in 0..4 {
        let path = Table::Connections(layer).path();
        assert!(
            std::fs::read(tmp.path().join("merged").join(&path)).unwrap()
                == std::fs::read(tmp.path().join("full").join(&path)).unwrap(),
            "{path} differs from the unsharded run's"
        );
    }
    assert!(
        std::fs::read(tmp.path().join("merged/README.md")).unwrap()
            == std::fs::read(tmp.path().join("full/README.md")).unwrap()
    );
    let verified = glossa(&["verify", "--data", "merged"], tmp.path());
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}
