//! A labelled scatter of tokens, coloured by score, in 2-D or 3-D.

use std::fmt::Write;

use crate::colour::ColourScale;
use crate::figure::Figure;
use crate::svg::{self, escape, number, px};

/// How a point is drawn, so different roles can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Diamond,
}

impl Marker {
    /// The shape centred on the origin, `size` pixels across.
    fn shape(self, size: f64, fill: &str) -> String {
        let r = size / 2.0;
        let style = format!(r##"fill="{fill}" stroke="#222" stroke-width="0.6""##);
        match self {
            Marker::Circle => format!(r#"<circle r="{}" {style}/>"#, px(r)),
            Marker::Square => format!(
                r#"<rect x="{}" y="{}" width="{}" height="{}" {style}/>"#,
                px(-r * 0.9),
                px(-r * 0.9),
                px(size * 0.9),
                px(size * 0.9)
            ),
            Marker::Diamond => format!(
                r#"<path d="M0 {} L{} 0 L0 {} L{} 0 Z" {style}/>"#,
                px(-r * 1.25),
                px(r * 1.25),
                px(r * 1.25),
                px(-r * 1.25)
            ),
        }
    }
}

/// One point of a [`Scatter`].
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The text shown beside the point and in its tooltip (a token's display form).
    pub label: String,
    /// The value the colour encodes.
    pub score: f64,
    /// Coordinates: two, or three for a 3-D scatter (all points alike).
    pub position: Vec<f64>,
    pub marker: Marker,
    /// More tooltip lines, after the label and score.
    pub detail: String,
}

/// A scatter of labelled points coloured by score; lines may join pairs of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub title: String,
    /// A second line under the title: the method, the settings.
    pub subtitle: String,
    pub points: Vec<Point>,
    /// Pairs of point indices drawn as faint lines (a head's token pairs).
    pub links: Vec<(usize, usize)>,
    /// What each marker means, for the legend; empty when all points are alike.
    pub markers: Vec<(Marker, String)>,
    /// What the colour encodes ("score").
    pub score_label: String,
    /// Whether labels are drawn beside the points (in HTML: shown at first).
    pub labels: bool,
    pub width: u32,
    pub height: u32,
}

/// The fixed view of a 3-D scatter in the static picture (radians).
const YAW: f64 = 0.6;
const PITCH: f64 = 0.35;
const MARKER_SIZE: f64 = 10.0;

impl Scatter {
    /// A scatter of `points` with the default size (960 × 720) and no labels.
    pub fn new(title: impl Into<String>, points: Vec<Point>) -> Scatter {
        Scatter {
            title: title.into(),
            subtitle: String::new(),
            points,
            links: Vec::new(),
            markers: Vec::new(),
            score_label: "score".to_string(),
            labels: false,
            width: 960,
            height: 720,
        }
    }

    fn is_3d(&self) -> bool {
        self.points.first().is_some_and(|p| p.position.len() >= 3)
    }

    /// The plot area: left, top, right, bottom.
    fn area(&self) -> (f64, f64, f64, f64) {
        (
            40.0,
            if self.subtitle.is_empty() { 44.0 } else { 60.0 },
            self.width as f64 - 170.0,
            self.height as f64 - 30.0,
        )
    }

    /// Screen positions (and depth for 3-D) of every point.
    fn screen(&self) -> Vec<(f64, f64, f64)> {
        let (left, top, right, bottom) = self.area();
        let (cx, cy) = ((left + right) / 2.0, (top + bottom) / 2.0);
        if self.is_3d() {
            let radius = self.radius_3d();
            return self
                .unit_ball()
                .iter()
                .map(|&[x, y, z]| {
                    let (x1, z1) = (
                        x * YAW.cos() + z * YAW.sin(),
                        -x * YAW.sin() + z * YAW.cos(),
                    );
                    let (y2, z2) = (
                        y * PITCH.cos() - z1 * PITCH.sin(),
                        y * PITCH.sin() + z1 * PITCH.cos(),
                    );
                    (cx + radius * x1, cy - radius * y2, z2)
                })
                .collect();
        }
        let coordinate = |p: &Point, c: usize| p.position.get(c).copied().unwrap_or(0.0);
        let range = |c: usize| {
            self.points
                .iter()
                .map(|p| coordinate(p, c))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let ((x0, x1), (y0, y1)) = (range(0), range(1));
        // One scale for both axes: t-SNE distances mean the same in every direction.
        let scale = 0.94
            * f64::min(
                (right - left) / (x1 - x0).max(1e-12),
                (bottom - top) / (y1 - y0).max(1e-12),
            );
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        self.points
            .iter()
            .map(|p| {
                (
                    cx + scale * (coordinate(p, 0) - mx),
                    cy - scale * (coordinate(p, 1) - my),
                    0.0,
                )
            })
            .collect()
    }

    /// 3-D positions centred and scaled into the unit ball.
    fn unit_ball(&self) -> Vec<[f64; 3]> {
        let n = self.points.len().max(1) as f64;
        let mean: Vec<f64> = (0..3)
            .map(|c| self.points.iter().map(|p| p.position[c]).sum::<f64>() / n)
            .collect();
        let centred: Vec<[f64; 3]> = self
            .points
            .iter()
            .map(|p| {
                [
                    p.position[0] - mean[0],
                    p.position[1] - mean[1],
                    p.position[2] - mean[2],
                ]
            })
            .collect();
        let reach = centred
            .iter()
            .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
            .fold(0.0, f64::max)
            .max(1e-12);
        centred
            .into_iter()
            .map(|v| [v[0] / reach, v[1] / reach, v[2] / reach])
            .collect()
    }

    fn radius_3d(&self) -> f64 {
        let (left, top, right, bottom) = self.area();
        0.47 * f64::min(right - left, bottom - top)
    }

    fn tip(point: &Point) -> String {
        let mut tip = format!("{}\nscore {}", point.label, number(point.score));
        if !point.detail.is_empty() {
            tip.push('\n');
            tip.push_str(&point.detail);
        }
        tip
    }

    fn render(&self, labels_present: bool, labels_shown: bool) -> String {
        let mut out = String::new();
        let (left, top, right, bottom) = self.area();
        let view = if self.is_3d() {
            format!(
                r#" data-3d="1" data-cx="{}" data-cy="{}" data-radius="{}" data-yaw="{YAW}" data-pitch="{PITCH}""#,
                px((left + right) / 2.0),
                px((top + bottom) / 2.0),
                px(self.radius_3d())
            )
        } else {
            String::new()
        };
        svg::open(&mut out, self.width, self.height, "scatter", &view);
        svg::title(&mut out, self.width, &self.title, &self.subtitle);
        let _ = write!(
            out,
            r##"<rect class="frame" x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
            px(left),
            px(top),
            px(right - left),
            px(bottom - top)
        );
        let scale = ColourScale::spanning(self.points.iter().map(|p| p.score));
        let at = self.screen();
        if !self.links.is_empty() {
            out.push_str(r##"<g class="links" stroke="#888" stroke-opacity="0.35">"##);
            for &(a, b) in &self.links {
                if a < at.len() && b < at.len() {
                    let _ = write!(
                        out,
                        r#"<line class="link" data-a="{a}" data-b="{b}" x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                        px(at[a].0),
                        px(at[a].1),
                        px(at[b].0),
                        px(at[b].1)
                    );
                }
            }
            out.push_str("</g>");
        }
        // Far points first, so near ones are drawn over them (all at depth 0 in 2-D).
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by(|&a, &b| at[a].2.total_cmp(&at[b].2).then(a.cmp(&b)));
        let ball = if self.is_3d() {
            self.unit_ball()
        } else {
            Vec::new()
        };
        out.push_str(r#"<g class="points">"#);
        for &i in &order {
            let point = &self.points[i];
            let (x, y, depth) = at[i];
            let tip = escape(&Self::tip(point));
            let _ = write!(
                out,
                r#"<g class="pt" data-i="{i}" data-token="{}" data-score="{}" data-tip="{tip}""#,
                escape(&point.label),
                point.score
            );
            if let Some([bx, by, bz]) = ball.get(i) {
                let _ = write!(
                    out,
                    r#" data-x="{:.5}" data-y="{:.5}" data-z="{:.5}" transform="translate({},{}) scale({:.3})""#,
                    bx,
                    by,
                    bz,
                    px(x),
                    px(y),
                    1.0 + 0.25 * depth
                );
            } else {
                let _ = write!(out, r#" transform="translate({},{})""#, px(x), px(y));
            }
            let _ = write!(
                out,
                "><title>{tip}</title>{}</g>",
                point.marker.shape(MARKER_SIZE, &scale.colour(point.score))
            );
        }
        out.push_str("</g>");
        if labels_present {
            let _ = write!(
                out,
                r##"<g class="labels" fill="#222" display="{}">"##,
                if labels_shown { "inline" } else { "none" }
            );
            for (i, point) in self.points.iter().enumerate() {
                let _ = write!(
                    out,
                    r#"<text class="label" data-i="{i}" x="{}" y="{}">{}</text>"#,
                    px(at[i].0 + 7.0),
                    px(at[i].1 + 4.0),
                    escape(&point.label)
                );
            }
            out.push_str("</g>");
        }
        let legend_x = self.width as f64 - 140.0;
        let legend_height = (self.height as f64 - 260.0).max(80.0);
        svg::colour_legend(
            &mut out,
            legend_x,
            90.0,
            legend_height,
            &scale,
            &self.score_label,
            &|v| v,
        );
        let mut y = 90.0 + legend_height + 40.0;
        for (marker, meaning) in &self.markers {
            let _ = write!(
                out,
                r#"<g class="marker-legend" transform="translate({},{})">{}<text x="12" y="4">{}</text></g>"#,
                px(legend_x + 6.0),
                px(y),
                marker.shape(MARKER_SIZE, "#bbb"),
                escape(meaning)
            );
            y += 22.0;
        }
        out.push_str("</svg>");
        out
    }
}

impl Figure for Scatter {
    fn title(&self) -> &str {
        &self.title
    }

    fn svg(&self) -> String {
        self.render(self.labels, self.labels)
    }

    /// The page always carries the labels, hidden unless asked for, so the
    /// checkbox can show them.
    fn html_svg(&self) -> String {
        self.render(true, self.labels)
    }

    fn labels_toggle(&self) -> Option<bool> {
        Some(self.labels)
    }
}
