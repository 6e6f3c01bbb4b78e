//! Where in a model a concept lives: list entries matching a query, summed
//! into a layer × unit-kind grid.

use std::collections::{BTreeMap, BTreeSet};

use crate::heatmap::HeatMap;
use crate::svg::number;

/// One list entry that matches the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The row of the grid (the layer).
    pub layer: usize,
    /// The column of the grid (neuron key, neuron value, head VO, head QK).
    pub column: usize,
    /// Identifies the entry's list within its cell (unit and polarity).
    pub list: u64,
    /// 1 = strongest.
    pub rank: u32,
    pub score: f64,
    /// Where the entry is, for the tooltip ("neuron 17 top: dieta").
    pub what: String,
}

/// What the grid's colour shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The largest |score| among the cell's matching entries, divided by the
    /// median |score| that the cell's lists hold at rank 1: how many times
    /// stronger than a typical list's leading entry the strongest match is.
    /// A token that is merely frequent (a large-norm embedding ranks high in
    /// many random lists) stays near 1; a unit built around the token stands
    /// far above.
    Peak,
    /// How many lists of the cell hold a matching entry.
    Lists,
}

impl Measure {
    /// The name the colour legend shows.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Peak => "× typical rank 1",
            Measure::Lists => "lists with a match",
        }
    }
}

/// The grid of a concept map: `layers` rows, one column per name in
/// `columns`; `typical[layer][column]` is the median rank-1 |score| of the
/// cell's lists (needed by [`Measure::Peak`]; `None` where the cell has no
/// lists).
pub fn concept_map(
    title: impl Into<String>,
    subtitle: impl Into<String>,
    layers: usize,
    columns: Vec<String>,
    matches: &[Match],
    typical: &[Vec<Option<f64>>],
    measure: Measure,
) -> HeatMap {
    #[derive(Default)]
    struct Cell {
        lists: BTreeSet<u64>,
        inverse_rank: f64,
        best: Option<(f64, String, u32)>,
    }
    let mut cells: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    for m in matches {
        let cell = cells.entry((m.layer, m.column)).or_default();
        cell.lists.insert(m.list);
        cell.inverse_rank += 1.0 / m.rank.max(1) as f64;
        let strength = m.score.abs();
        if cell.best.as_ref().is_none_or(|(b, _, _)| strength > *b) {
            cell.best = Some((strength, m.what.clone(), m.rank));
        }
    }
    let mut values = vec![vec![None; columns.len()]; layers];
    let mut tips = vec![vec![String::new(); columns.len()]; layers];
    for layer in 0..layers {
        for column in 0..columns.len() {
            let base = typical
                .get(layer)
                .and_then(|row| row.get(column))
                .copied()
                .flatten();
            let cell = cells.get(&(layer, column));
            let lists = cell.map_or(0, |c| c.lists.len());
            let peak = cell.and_then(|c| c.best.as_ref());
            values[layer][column] = match measure {
                Measure::Lists => base.map(|_| lists as f64).or(cell.map(|_| lists as f64)),
                Measure::Peak => match (peak, base) {
                    (Some((strength, _, _)), Some(base)) if base > 0.0 => Some(strength / base),
                    (None, Some(_)) => Some(0.0),
                    _ => None,
                },
            };
            let mut tip = format!(
                "{lists} lists with a match, Σ 1/rank {}",
                number(cell.map_or(0.0, |c| c.inverse_rank))
            );
            if let Some((strength, what, rank)) = peak {
                tip.push_str(&format!(
                    "\nstrongest: {what} (rank {rank}, |score| {})",
                    number(*strength)
                ));
            }
            if let Some(base) = base {
                tip.push_str(&format!("\ntypical rank-1 |score| {}", number(base)));
            }
            tips[layer][column] = tip;
        }
    }
    HeatMap {
        title: title.into(),
        subtitle: subtitle.into(),
        row_label: "layer".to_string(),
        rows: (0..layers).map(|l| l.to_string()).collect(),
        columns,
        values,
        tips,
        value_label: measure.label().to_string(),
        // Ratios span orders of magnitude: a planted unit can be 1000 times typical.
        log_scale: measure == Measure::Peak,
    }
}

/// The median of `values` (`None` when empty).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(layer: usize, list: u64, rank: u32, score: f64) -> Match {
        Match {
            layer,
            column: 0,
            list,
            rank,
            score,
            what: format!("unit {list}"),
        }
    }

    #[test]
    fn a_strong_unit_outweighs_many_weak_ones() {
        // Layer 0: the token leads ten lists with ordinary scores.
        // Layer 1: one list holds it with a score 20 times the typical.
        let mut matches: Vec<Match> = (0..10).map(|u| entry(0, u, 1, 0.06)).collect();
        matches.push(entry(1, 3, 1, 1.2));
        let typical = vec![vec![Some(0.05)], vec![Some(0.06)]];
        let columns = vec!["value".to_string()];
        let peak = concept_map(
            "t",
            "",
            2,
            columns.clone(),
            &matches,
            &typical,
            Measure::Peak,
        );
        assert_eq!(peak.peak(), Some((1, 0)));
        assert!((peak.values[1][0].unwrap() - 20.0).abs() < 1e-9);
        assert!((peak.values[0][0].unwrap() - 1.2).abs() < 1e-9);
        let lists = concept_map("t", "", 2, columns, &matches, &typical, Measure::Lists);
        assert_eq!(lists.peak(), Some((0, 0)));
        assert_eq!(lists.values[0][0], Some(10.0));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
