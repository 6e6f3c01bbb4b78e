//! The colour scale: viridis, perceptually uniform and readable in grey.

/// Viridis sampled at nine evenly spaced points (matplotlib's values).
const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x28, 0x78],
    [0x3e, 0x49, 0x89],
    [0x31, 0x68, 0x8e],
    [0x26, 0x82, 0x8e],
    [0x1f, 0x9e, 0x89],
    [0x35, 0xb7, 0x79],
    [0x6e, 0xce, 0x58],
    [0xfd, 0xe7, 0x25],
];

/// A linear map from `[min, max]` onto viridis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourScale {
    pub min: f64,
    pub max: f64,
}

impl ColourScale {
    /// The scale spanning `values` (a unit range around a single value).
    pub fn spanning(values: impl IntoIterator<Item = f64>) -> ColourScale {
        let (min, max) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if !min.is_finite() {
            return ColourScale { min: 0.0, max: 1.0 };
        }
        if max - min < 1e-12 {
            return ColourScale {
                min: min - 0.5,
                max: max + 0.5,
            };
        }
        ColourScale { min, max }
    }

    /// Where `value` sits on the scale, clamped to [0, 1].
    pub fn position(&self, value: f64) -> f64 {
        ((value - self.min) / (self.max - self.min)).clamp(0.0, 1.0)
    }

    /// The colour of `value` as `#rrggbb`.
    pub fn colour(&self, value: f64) -> String {
        viridis(self.position(value))
    }
}

/// Viridis at `t` in [0, 1], as `#rrggbb`.
pub fn viridis(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let channel = |c: usize| {
        let (a, b) = (VIRIDIS[i][c] as f64, VIRIDIS[i + 1][c] as f64);
        (a + (b - a) * f).round() as u8
    };
    format!("#{:02x}{:02x}{:02x}", channel(0), channel(1), channel(2))
}

/// Nine stops for an SVG `<linearGradient>` from the scale's low end to its high end.
pub(crate) fn gradient_stops() -> String {
    (0..VIRIDIS.len())
        .map(|i| {
            let t = i as f64 / (VIRIDIS.len() - 1) as f64;
            format!(r#"<stop offset="{:.3}" stop-color="{}"/>"#, t, viridis(t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_of_the_scale() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
        let scale = ColourScale::spanning([2.0, 4.0]);
        assert_eq!(scale.colour(4.0), "#fde725");
        assert_eq!(scale.colour(10.0), "#fde725");
        assert_eq!(scale.position(3.0), 0.5);
    }
}
