//! Small helpers for writing SVG by hand: escaping, numbers, the legend.

use std::fmt::Write;

use crate::colour::{gradient_stops, ColourScale};

/// Escapes text for XML and HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0; show them as escapes.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with two decimals: enough for a screen, stable across runs.
pub(crate) fn px(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded == 0.0 {
        "0".to_string()
    } else {
        format!("{rounded}")
    }
}

/// A value for people: four significant digits.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_string()
    } else if (1e-3..1e4).contains(&magnitude) {
        let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.3e}")
    }
}

/// An axis tick: at most three decimals, no trailing zeros.
pub(crate) fn tick(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// The opening tag of a figure's SVG, with a white background and a font that
/// has Polish letters on every platform.
/// `attributes` are added to the tag as they are.
pub(crate) fn open(out: &mut String, width: u32, height: u32, class: &str, attributes: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="{class}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Noto Sans, Arial, sans-serif" font-size="12"{attributes}>"#
    );
    let _ = write!(
        out,
        r#"<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
}

/// The title and an optional subtitle, centred at the top.
pub(crate) fn title(out: &mut String, width: u32, title: &str, subtitle: &str) {
    let _ = write!(
        out,
        r#"<text class="title" x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        width / 2,
        escape(title)
    );
    if !subtitle.is_empty() {
        let _ = write!(
            out,
            r##"<text class="subtitle" x="{}" y="42" text-anchor="middle" fill="#555">{}</text>"##,
            width / 2,
            escape(subtitle)
        );
    }
}

/// A vertical colour bar at (`x`, `y`), `height` tall, labelled with the
/// scale's ends and middle (written through `tick`, which maps a position on
/// the scale back to the value shown) and with `label` above.
pub(crate) fn colour_legend(
    out: &mut String,
    x: f64,
    y: f64,
    height: f64,
    scale: &ColourScale,
    label: &str,
    tick: &dyn Fn(f64) -> f64,
) {
    let _ = write!(
        out,
        r#"<g class="legend"><defs><linearGradient id="scale" x1="0" y1="1" x2="0" y2="0">{}</linearGradient></defs>"#,
        gradient_stops()
    );
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" font-weight="bold">{}</text>"#,
        px(x),
        px(y - 8.0),
        escape(label)
    );
    let _ = write!(
        out,
        r##"<rect x="{}" y="{}" width="16" height="{}" fill="url(#scale)" stroke="#333" stroke-width="0.5"/>"##,
        px(x),
        px(y),
        px(height)
    );
    for (t, value) in [
        (0.0, scale.min),
        (0.5, (scale.min + scale.max) / 2.0),
        (1.0, scale.max),
    ] {
        let ty = y + height * (1.0 - t);
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333"/><text x="{}" y="{}" dominant-baseline="middle">{}</text>"##,
            px(x + 16.0),
            px(ty),
            px(x + 20.0),
            px(ty),
            px(x + 23.0),
            px(ty),
            escape(&number(tick(value)))
        );
    }
    out.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_keeps_polish() {
        assert_eq!(
            escape(r#"<łódź & "dietą">'"#),
            "&lt;łódź &amp; &quot;dietą&quot;&gt;&#39;"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(1.44275), "1.443");
        assert_eq!(number(-0.0123456), "-0.01235");
        assert_eq!(number(12345.0), "1.234e4");
        assert_eq!(px(1.23456), "1.23");
        assert_eq!(px(-0.001), "0");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(-1.0), "-1");
        assert_eq!(tick(-0.0001), "0");
    }
}
