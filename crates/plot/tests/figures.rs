//! The SVG and HTML a figure writes.

use glossa_plot::{save, Figure, Format, Group, HeatMap, Marker, Point, Scatter, StripPlot};

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

fn tokens() -> Vec<&'static str> {
    vec![
        "dieta",
        "diety",
        "dietą",
        "dietę",
        "diecie",
        "łódź",
        "Łódź",
        "łodzi",
        "zdrowie",
        "#ą",
        "<b>",
        "a&b",
        "\"quoted\"",
    ]
}

fn scatter(labels: bool, dims: usize) -> Scatter {
    let points = tokens()
        .into_iter()
        .enumerate()
        .map(|(i, token)| Point {
            label: token.to_string(),
            score: i as f64 * 0.5 - 1.0,
            position: (0..dims)
                .map(|c| ((i * (c + 3)) as f64).sin() * 10.0)
                .collect(),
            marker: [Marker::Circle, Marker::Square, Marker::Diamond][i % 3],
            detail: format!("token id {i}"),
        })
        .collect();
    Scatter {
        labels,
        subtitle: "t-SNE, perplexity 3".to_string(),
        markers: vec![(Marker::Circle, "src".to_string())],
        links: vec![(0, 1), (2, 3)],
        ..Scatter::new("layer 2, neuron 17: value, top", points)
    }
}

fn escaped(token: &str) -> String {
    token
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn svg_has_its_size_and_one_distinct_point_per_token() {
    for dims in [2, 3] {
        let svg = scatter(false, dims).svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(attribute(&svg, "width"), Some("960"));
        assert_eq!(attribute(&svg, "height"), Some("720"));
        assert_eq!(attribute(&svg, "viewBox"), Some("0 0 960 720"));
        let points = elements(&svg, "pt");
        assert_eq!(
            points.len(),
            tokens().len(),
            "{dims}-D: one element per point"
        );
        let mut positions: Vec<&str> = points
            .iter()
            .map(|p| attribute(p, "transform").expect("positioned"))
            .collect();
        positions.sort();
        positions.dedup();
        assert_eq!(
            positions.len(),
            tokens().len(),
            "{dims}-D: distinct positions"
        );
        // Not blank: several colours, inside the canvas.
        let mut fills: Vec<&str> = points
            .iter()
            .map(|p| attribute(&p[p.find("</title>").unwrap() + 8..], "fill").unwrap_or(""))
            .filter(|f| f.starts_with('#'))
            .collect();
        fills.sort();
        fills.dedup();
        assert!(
            fills.len() > 5,
            "{dims}-D: colours encode the score: {fills:?}"
        );
        for position in positions {
            let inner = position
                .trim_start_matches("translate(")
                .split(')')
                .next()
                .unwrap();
            let (x, y) = inner.split_once(',').unwrap();
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((0.0..960.0).contains(&x) && (0.0..720.0).contains(&y));
        }
        assert!(svg.contains("linearGradient"), "a colour legend");
        assert!(svg.contains("layer 2, neuron 17: value, top"), "the title");
    }
}

#[test]
fn svg_labels_are_optional_and_escaped() {
    let without = scatter(false, 2).svg();
    assert!(elements(&without, "label").is_empty());
    let with = scatter(true, 2).svg();
    let labels = elements(&with, "label");
    assert_eq!(labels.len(), tokens().len());
    for token in tokens() {
        assert!(
            with.contains(&format!(">{}</text>", escaped(token))),
            "label {token}"
        );
    }
    assert!(!with.contains("<b>"), "markup in a token is escaped");
}

#[test]
fn html_is_self_contained_and_has_every_label() {
    let page = scatter(false, 2).html();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    // Nothing is fetched: the only URL is the SVG namespace name.
    let outside = page
        .match_indices("http")
        .filter(|(at, _)| !page[*at..].starts_with("http://www.w3.org/2000/svg\""))
        .count();
    assert_eq!(outside, 0, "no external references");
    for forbidden in [" src=", "<link", "@import", "url(http"] {
        assert!(!page.contains(forbidden), "{forbidden}");
    }
    assert!(page.contains("<script>") && page.contains("data-ready"));
    for token in tokens() {
        assert!(
            page.contains(&format!(">{}</text>", escaped(token))),
            "label {token} in the page"
        );
        assert!(page.contains(&format!("data-token=\"{}\"", escaped(token))));
    }
    // Labels are in the page but hidden until asked for.
    assert!(page.contains(r##"<g class="labels" fill="#222" display="none">"##));
    assert!(scatter(true, 2).html().contains(r#"display="inline">"#));
}

#[test]
fn a_3d_page_carries_its_view() {
    let page = scatter(true, 3).html();
    assert!(page.contains(r#"data-3d="1""#));
    assert_eq!(page.matches(" data-z=\"").count(), tokens().len());
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(scatter(true, 2).html(), scatter(true, 2).html());
    assert_eq!(scatter(true, 3).svg(), scatter(true, 3).svg());
}

#[test]
fn heat_map_marks_its_peak() {
    let map = HeatMap {
        title: "where dieta lives".to_string(),
        subtitle: String::new(),
        row_label: "layer".to_string(),
        rows: (0..4).map(|l| l.to_string()).collect(),
        columns: vec!["key".to_string(), "value".to_string()],
        values: vec![
            vec![Some(1.0), Some(1.2)],
            vec![Some(0.5), None],
            vec![Some(1.1), Some(19.5)],
            vec![Some(0.9), Some(1.0)],
        ],
        tips: vec![vec![String::new(); 2]; 4],
        value_label: "peak strength".to_string(),
        log_scale: false,
    };
    assert_eq!(map.peak(), Some((2, 1)));
    let svg = map.svg();
    let cells = elements(&svg, "cell");
    assert_eq!(cells.len(), 7);
    let peak = elements(&svg, "cell peak");
    assert_eq!(peak.len(), 1);
    assert_eq!(attribute(peak[0], "data-row"), Some("2"));
    assert_eq!(attribute(peak[0], "data-column"), Some("1"));
    assert!(svg.contains(">19.50</text>"));
}

#[test]
fn strip_plot_draws_every_value() {
    let plot = StripPlot {
        title: "copying scores".to_string(),
        subtitle: String::new(),
        group_label: "layer".to_string(),
        value_label: "copying score".to_string(),
        groups: (0..3)
            .map(|l| Group {
                name: l.to_string(),
                values: (0..4)
                    .map(|h| (h as f64 / 4.0 - 0.3 * l as f64, format!("head {h}")))
                    .collect(),
            })
            .collect(),
        range: Some((-1.0, 1.0)),
    };
    let svg = plot.svg();
    assert_eq!(elements(&svg, "pt").len(), 12);
    assert_eq!(svg.matches("class=\"median\"").count(), 3);
    assert!(svg.contains("class=\"zero\""));
}

#[test]
fn the_file_name_picks_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let figure = scatter(true, 2);
    let html = dir.path().join("plot.html");
    assert_eq!(save(&figure, &html).unwrap(), Format::Html);
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    let svg = dir.path().join("plot.SVG");
    assert_eq!(save(&figure, &svg).unwrap(), Format::Svg);
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), figure.svg());
    let error = save(&figure, &dir.path().join("plot.png")).unwrap_err();
    assert!(error.to_string().contains(".html"), "{error}");
}
