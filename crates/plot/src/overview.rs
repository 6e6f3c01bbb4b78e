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
    /// (score − mean) / std of the entry's list.
    pub z: f64,
    /// Where the entry is, for the tooltip ("neuron 17 top: dieta").
    pub what: String,
}

/// What the grid's colour shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The largest |z| among the cell's matching entries: how many standard
    /// deviations the strongest match stands out of its own list's scores.
    /// A token that is merely frequent (a large-norm embedding ranks high in
    /// many random lists) stays low; a unit built around the token stands
    /// far above, whatever the scale of its list.
    Peak,
    /// How many lists of the cell hold a matching entry.
    Lists,
}

impl Measure {
    /// The name the colour legend shows.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Peak => "largest |z| of a match",
            Measure::Lists => "lists with a match",
        }
    }
}

/// The grid of a concept map: `layers` rows, one column per name in
/// `columns`; `extracted[column]` says whether the column's lists exist (a
/// cell without lists has no value, one whose lists hold no match has 0).
pub fn concept_map(
    title: impl Into<String>,
    subtitle: impl Into<String>,
    layers: usize,
    columns: Vec<String>,
    matches: &[Match],
    extracted: &[bool],
    measure: Measure,
) -> HeatMap {
    #[derive(Default)]
    struct Cell {
        lists: BTreeSet<u64>,
        inverse_rank: f64,
        /// |z|, what, rank, score.
        best: Option<(f64, String, u32, f64)>,
    }
    let mut cells: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    for m in matches {
        let cell = cells.entry((m.layer, m.column)).or_default();
        cell.lists.insert(m.list);
        cell.inverse_rank += 1.0 / m.rank.max(1) as f64;
        let strength = m.z.abs();
        if cell.best.as_ref().is_none_or(|(b, ..)| strength > *b) {
            cell.best = Some((strength, m.what.clone(), m.rank, m.score));
        }
    }
    let mut values = vec![vec![None; columns.len()]; layers];
    let mut tips = vec![vec![String::new(); columns.len()]; layers];
    for layer in 0..layers {
        for column in 0..columns.len() {
            let has_lists = extracted.get(column).copied().unwrap_or(false);
            let cell = cells.get(&(layer, column));
            let lists = cell.map_or(0, |c| c.lists.len());
            let peak = cell.and_then(|c| c.best.as_ref());
            values[layer][column] = match measure {
                Measure::Lists => (has_lists || cell.is_some()).then_some(lists as f64),
                Measure::Peak => match peak {
                    Some((strength, ..)) => Some(*strength),
                    None => has_lists.then_some(0.0),
                },
            };
            let mut tip = format!(
                "{lists} lists with a match, Σ 1/rank {}",
                number(cell.map_or(0.0, |c| c.inverse_rank))
            );
            if let Some((strength, what, rank, score)) = peak {
                tip.push_str(&format!(
                    "\nstrongest: {what} (rank {rank}, score {}, |z| {})",
                    number(*score),
                    number(*strength)
                ));
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
        // |z| spans orders of magnitude: a planted head's pair stands 1000
        // standard deviations out, an ordinary list's rank 1 a few.
        log_scale: measure == Measure::Peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(layer: usize, list: u64, rank: u32, score: f64, z: f64) -> Match {
        Match {
            layer,
            column: 0,
            list,
            rank,
            score,
            z,
            what: format!("unit {list}"),
        }
    }

    #[test]
    fn a_strong_unit_outweighs_many_weak_ones() {
        // Layer 0: the token leads ten lists, with ordinary z.
        // Layer 1: one list holds it at rank 4 (a smaller score, another
        // list's scale) 20 standard deviations out.
        let mut matches: Vec<Match> = (0..10).map(|u| entry(0, u, 1, 0.06, 3.0)).collect();
        matches.push(entry(1, 3, 4, -0.01, -20.0));
        let columns = vec!["value".to_string(), "gate".to_string()];
        let peak = concept_map(
            "t",
            "",
            2,
            columns.clone(),
            &matches,
            &[true, false],
            Measure::Peak,
        );
        assert_eq!(peak.peak(), Some((1, 0)));
        assert_eq!(peak.values[1][0], Some(20.0));
        assert_eq!(peak.values[0][0], Some(3.0));
        assert_eq!(peak.values[0][1], None, "no gate lists");
        let lists = concept_map(
            "t",
            "",
            2,
            columns,
            &matches,
            &[true, false],
            Measure::Lists,
        );
        assert_eq!(lists.peak(), Some((0, 0)));
        assert_eq!(lists.values[0][0], Some(10.0));
    }
}
