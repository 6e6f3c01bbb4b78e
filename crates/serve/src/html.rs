//! The pieces every page is made of: the frame, links, token labels, bars.
//!
//! Pages are rendered on the server as plain strings; every text that comes
//! from a dataset goes through [`escape`], every URL part through [`url_part`].

use std::fmt::Write;

use axum::response::Html;
pub use glossa_plot::escape;

/// The stylesheet and the script, compiled into the binary: nothing is
/// fetched from elsewhere, so the pages work offline.
pub const STYLE: &str = include_str!("assets/style.css");
pub const SCRIPT: &str = include_str!("assets/app.js");

/// `text` as one path segment: everything but ASCII letters, digits, `-`
/// and `_` is %-escaped, so that `/`, `.` and `..` stay inside the segment.
pub fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Where a dataset's pages live.
pub fn base(dataset: &str) -> String {
    format!("/d/{}", url_part(dataset))
}

pub fn neuron_url(dataset: &str, layer: u32, neuron: u32) -> String {
    format!("{}/neuron/{layer}/{neuron}", base(dataset))
}

pub fn head_url(dataset: &str, layer: u32, head: u32) -> String {
    format!("{}/head/{layer}/{head}", base(dataset))
}

pub fn layer_url(dataset: &str, layer: u32) -> String {
    format!("{}/layer/{layer}", base(dataset))
}

pub fn token_url(dataset: &str, token: &str) -> String {
    format!("{}/token/{}", base(dataset), url_part(token.trim()))
}

/// A token as a link to its page; a word-initial space shows as a faint `␣`.
pub fn token_link(dataset: &str, token: &str) -> String {
    format!(
        r#"<a class="tok" href="{}">{}</a>"#,
        token_url(dataset, token),
        token_label(token)
    )
}

/// A token's display form, its leading space made visible.
pub fn token_label(token: &str) -> String {
    match token.strip_prefix(' ') {
        Some(rest) => format!(r#"<span class="sp">␣</span>{}"#, escape(rest)),
        None => escape(token),
    }
}

/// A score and a bar as long as its share of `max` (by absolute value).
pub fn score_cell(score: f32, max: f32) -> String {
    let share = if max > 0.0 {
        (score.abs() / max * 100.0).min(100.0)
    } else {
        0.0
    };
    let sign = if score < 0.0 { " neg" } else { "" };
    format!(
        r#"<td class="score"><span class="bar{sign}" style="width:{share:.1}%"></span><span class="num">{score:.4}</span></td>"#
    )
}

/// A whole page: the header (with the dataset's name and a search box when
/// the page belongs to one), then `body`.
pub fn page(title: &str, dataset: Option<&str>, body: &str) -> Html<String> {
    let mut nav = String::new();
    if let Some(dataset) = dataset {
        let _ = write!(
            nav,
            r#"<a class="ds" href="{base}">{name}</a>
<form class="jump" action="{base}/search" method="get" role="search"><input name="q" placeholder="search tokens…" aria-label="search tokens"></form>"#,
            base = base(dataset),
            name = escape(dataset),
        );
    }
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Glossa</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/style.css"><script src="/assets/app.js" defer></script></head>
<body><header><a class="home" href="/">Glossa</a>{nav}</header>
<main>{body}</main></body></html>
"#,
        title = escape(title),
    ))
}

/// `<a href=url>text</a>` when `url` is some, else the text alone.
pub fn maybe_link(url: Option<String>, text: &str) -> String {
    match url {
        Some(url) => format!(r#"<a href="{url}">{text}</a>"#),
        None => format!(r#"<span class="off">{text}</span>"#),
    }
}
