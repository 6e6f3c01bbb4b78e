//! A strip plot: the values of each group as points over a box of their quartiles.

use std::fmt::Write;

use crate::colour::ColourScale;
use crate::figure::Figure;
use crate::svg::{self, escape, number, px, tick};

/// One group (a layer): its name and its values, each with a tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub values: Vec<(f64, String)>,
}

/// Groups side by side along x, values along y.
#[derive(Debug, Clone, PartialEq)]
pub struct StripPlot {
    pub title: String,
    pub subtitle: String,
    /// What the groups are ("layer").
    pub group_label: String,
    /// What the values are ("copying score").
    pub value_label: String,
    pub groups: Vec<Group>,
    /// The y range; by default the values' own.
    pub range: Option<(f64, f64)>,
}

/// Linear-interpolated quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (i, f) = (at.floor() as usize, at - at.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * f,
        None => sorted[i],
    }
}

impl Figure for StripPlot {
    fn title(&self) -> &str {
        &self.title
    }

    fn svg(&self) -> String {
        let (left, top) = (80.0, if self.subtitle.is_empty() { 60.0 } else { 76.0 });
        let band = ((720.0 - left - 40.0) / self.groups.len().max(1) as f64).clamp(40.0, 140.0);
        let plot_h = 380.0;
        let width = (left + band * self.groups.len() as f64 + 40.0).max(720.0) as u32;
        let height = (top + plot_h + 60.0) as u32;
        let all = self
            .groups
            .iter()
            .flat_map(|g| g.values.iter().map(|v| v.0));
        let (lo, hi) = self.range.unwrap_or_else(|| {
            let s = ColourScale::spanning(all.clone());
            (s.min, s.max)
        });
        let y_of = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo).max(1e-12));
        let colours = ColourScale { min: lo, max: hi };
        let mut out = String::new();
        svg::open(&mut out, width, height, "strip", "");
        svg::title(&mut out, width, &self.title, &self.subtitle);
        // Axis with five ticks, and a line at zero when the range crosses it.
        let axis_right = left + band * self.groups.len() as f64;
        for i in 0..=4 {
            let v = lo + (hi - lo) * i as f64 / 4.0;
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{y}" text-anchor="end" dominant-baseline="middle">{}</text>"##,
                px(left),
                px(axis_right),
                px(left - 6.0),
                escape(&tick(v)),
                y = px(y_of(v))
            );
        }
        if lo < 0.0 && hi > 0.0 {
            let _ = write!(
                out,
                r##"<line class="zero" x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#999" stroke-dasharray="4 3"/>"##,
                px(left),
                px(axis_right),
                y = px(y_of(0.0))
            );
        }
        let _ = write!(
            out,
            r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle" font-weight="bold">{}</text>"#,
            px(22.0),
            px(top + plot_h / 2.0),
            escape(&self.value_label)
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#,
            px((left + axis_right) / 2.0),
            px(top + plot_h + 44.0),
            escape(&self.group_label)
        );
        for (g, group) in self.groups.iter().enumerate() {
            let centre = left + band * (g as f64 + 0.5);
            let _ = write!(
                out,
                r#"<text class="group" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                px(centre),
                px(top + plot_h + 20.0),
                escape(&group.name)
            );
            let mut sorted: Vec<f64> = group
                .values
                .iter()
                .map(|v| v.0)
                .filter(|v| v.is_finite())
                .collect();
            sorted.sort_by(f64::total_cmp);
            if !sorted.is_empty() {
                let (q1, median, q3) = (
                    quantile(&sorted, 0.25),
                    quantile(&sorted, 0.5),
                    quantile(&sorted, 0.75),
                );
                let tip = format!(
                    "{} {}: {} values\nmedian {}, quartiles {} to {}",
                    self.group_label,
                    group.name,
                    sorted.len(),
                    number(median),
                    number(q1),
                    number(q3)
                );
                let _ = write!(
                    out,
                    r##"<g class="box" data-tip="{tip}"><line x1="{c}" y1="{}" x2="{c}" y2="{}" stroke="#777"/><rect x="{}" y="{}" width="{}" height="{}" fill="#f2f2f2" stroke="#777"/><line class="median" x1="{}" y1="{m}" x2="{}" y2="{m}" stroke="#333" stroke-width="2"/></g>"##,
                    px(y_of(sorted[0])),
                    px(y_of(sorted[sorted.len() - 1])),
                    px(centre - band * 0.3),
                    px(y_of(q3)),
                    px(band * 0.6),
                    px((y_of(q1) - y_of(q3)).max(1.0)),
                    px(centre - band * 0.3),
                    px(centre + band * 0.3),
                    tip = escape(&tip),
                    c = px(centre),
                    m = px(y_of(median))
                );
            }
            let m = group.values.len();
            for (i, (value, detail)) in group.values.iter().enumerate() {
                // Spread a group's points evenly across its band, in input order.
                let offset = if m > 1 {
                    band * 0.4 * (i as f64 / (m - 1) as f64 - 0.5)
                } else {
                    0.0
                };
                let tip = format!("{detail}\n{}: {}", self.value_label, number(*value));
                let _ = write!(
                    out,
                    r##"<circle class="pt" data-value="{value}" data-tip="{tip}" cx="{}" cy="{}" r="5" fill="{}" stroke="#222" stroke-width="0.6"><title>{tip}</title></circle>"##,
                    px(centre + offset),
                    px(y_of(*value)),
                    colours.colour(*value),
                    tip = escape(&tip)
                );
            }
        }
        out.push_str("</svg>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.5), 2.5);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 4.0);
    }
}
