//! A heat map: rows × columns of values, each cell coloured and printed.

use std::fmt::Write;

use crate::colour::ColourScale;
use crate::figure::Figure;
use crate::svg::{self, escape, number, px};

/// A grid of values (`None`: no value) with row and column names.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMap {
    pub title: String,
    pub subtitle: String,
    /// What the rows are ("layer") and their names, top to bottom.
    pub row_label: String,
    pub rows: Vec<String>,
    /// Column names, left to right.
    pub columns: Vec<String>,
    /// `values[row][column]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// Tooltip of each cell, `tips[row][column]` (may be empty).
    pub tips: Vec<Vec<String>>,
    /// What the colour encodes.
    pub value_label: String,
    /// Colour by the logarithm of the values (positive values spanning
    /// orders of magnitude, such as ratios); cells still print the values.
    pub log_scale: bool,
}

impl HeatMap {
    /// The cell with the largest value, as (row, column).
    pub fn peak(&self) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize, f64)> = None;
        for (r, row) in self.values.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if let Some(v) = value.filter(|v| v.is_finite()) {
                    if best.is_none_or(|(_, _, b)| v > b) {
                        best = Some((r, c, v));
                    }
                }
            }
        }
        best.map(|(r, c, _)| (r, c))
    }

    fn size(&self) -> (f64, f64, f64, f64, u32, u32) {
        let cell_w = 120.0;
        let cell_h = (360.0 / self.rows.len().max(1) as f64).clamp(18.0, 40.0);
        let left = 90.0;
        let top = if self.subtitle.is_empty() { 80.0 } else { 96.0 };
        let width = (left + cell_w * self.columns.len() as f64 + 220.0).max(560.0);
        let height = (top + cell_h * self.rows.len() as f64 + 40.0).max(360.0);
        (cell_w, cell_h, left, top, width as u32, height as u32)
    }
}

impl Figure for HeatMap {
    fn title(&self) -> &str {
        &self.title
    }

    fn svg(&self) -> String {
        let (cell_w, cell_h, left, top, width, height) = self.size();
        let mut out = String::new();
        svg::open(&mut out, width, height, "heatmap", "");
        svg::title(&mut out, width, &self.title, &self.subtitle);
        // On a log scale the colour encodes ln(value); values at or below zero
        // take the low end.
        let colour_of = |v: f64| {
            if self.log_scale {
                v.max(1e-300).ln()
            } else {
                v
            }
        };
        let finite: Vec<f64> = self
            .values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| v.is_finite() && (!self.log_scale || *v > 0.0))
            .map(colour_of)
            .collect();
        // The scale starts at 0 (linear) or at a ratio of 1 (log).
        let scale = ColourScale::spanning(finite.iter().copied().chain([0.0]));
        let peak = self.peak();
        for (c, name) in self.columns.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text class="column" x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#,
                px(left + cell_w * (c as f64 + 0.5)),
                px(top - 8.0),
                escape(name)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" font-weight="bold">{}</text>"#,
            px(left - 10.0),
            px(top - 8.0),
            escape(&self.row_label)
        );
        for (r, name) in self.rows.iter().enumerate() {
            let y = top + cell_h * r as f64;
            let _ = write!(
                out,
                r#"<text class="row" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
                px(left - 10.0),
                px(y + cell_h / 2.0),
                escape(name)
            );
            for c in 0..self.columns.len() {
                let x = left + cell_w * c as f64;
                let value = self
                    .values
                    .get(r)
                    .and_then(|row| row.get(c))
                    .copied()
                    .flatten();
                let tip = self
                    .tips
                    .get(r)
                    .and_then(|row| row.get(c))
                    .cloned()
                    .unwrap_or_default();
                let tip = format!(
                    "{} {}, {}\n{}: {}{}{}",
                    self.row_label,
                    name,
                    self.columns[c],
                    self.value_label,
                    value.map_or("none".to_string(), number),
                    if tip.is_empty() { "" } else { "\n" },
                    tip
                );
                let (fill, text, ink) = match value {
                    Some(v) => {
                        let light = scale.position(colour_of(v)) > 0.6;
                        (
                            scale.colour(colour_of(v)),
                            number(v),
                            if light { "#222" } else { "#fff" },
                        )
                    }
                    None => ("#eee".to_string(), "–".to_string(), "#888"),
                };
                let is_peak = peak == Some((r, c));
                let _ = write!(
                    out,
                    r##"<rect class="cell{}" data-row="{r}" data-column="{c}" data-value="{}" data-tip="{}" x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="{}" stroke-width="{}"><title>{}</title></rect>"##,
                    if is_peak { " peak" } else { "" },
                    value.map_or(String::new(), |v| v.to_string()),
                    escape(&tip),
                    px(x + 1.0),
                    px(y + 1.0),
                    px(cell_w - 2.0),
                    px(cell_h - 2.0),
                    if is_peak { "#d62728" } else { "none" },
                    if is_peak { 3 } else { 0 },
                    escape(&tip)
                );
                let _ = write!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" fill="{ink}" pointer-events="none">{}</text>"#,
                    px(x + cell_w / 2.0),
                    px(y + cell_h / 2.0),
                    escape(&text)
                );
            }
        }
        let legend_x = left + cell_w * self.columns.len() as f64 + 40.0;
        let legend_h = (cell_h * self.rows.len() as f64).max(120.0) - 20.0;
        let tick = |v: f64| if self.log_scale { v.exp() } else { v };
        svg::colour_legend(
            &mut out,
            legend_x,
            top + 10.0,
            legend_h,
            &scale,
            &self.value_label,
            &tick,
        );
        out.push_str("</svg>");
        out
    }
}
