//! Flags resolved into library values, for every command that takes them.

use std::path::{Path, PathBuf};

use anyhow::Result;
use glossa_index::{Matching, Sort};
use glossa_pipeline::{find_dataset, Dataset};
use glossa_query::Format;
use glossa_tables::{Circuit, EmbeddingChoice, Polarity, Side, UnitKind};

use crate::args::{
    CircuitArg, DataArgs, EmbeddingArg, KindArg, PolarityArg, QueryFormatArg, SideArg, SortArg,
};

/// Where datasets live unless `--data` says otherwise.
const DATA_ROOT: &str = "data";

/// The dataset `--data` names, or the one under `data/`.
pub fn dataset_dir(args: &DataArgs) -> Result<PathBuf> {
    Ok(match &args.data {
        Some(dir) => dir.clone(),
        None => find_dataset(Path::new(DATA_ROOT))?,
    })
}

pub fn open_dataset(args: &DataArgs) -> Result<Dataset> {
    Ok(Dataset::open(&dataset_dir(args)?)?)
}

/// Says why the index is rebuilt before a command reads it.
pub fn note_rebuild(problem: &str) {
    eprintln!("note: {problem}; rebuilding it from the tables");
}

/// Token matching of `search` and `plot overview`: `--exact` keeps
/// diacritics and word forms apart.
pub fn matching(exact: bool) -> Matching {
    if exact {
        Matching::Exact
    } else {
        Matching::Folded
    }
}

impl From<QueryFormatArg> for Format {
    fn from(format: QueryFormatArg) -> Format {
        match format {
            QueryFormatArg::Table => Format::Table,
            QueryFormatArg::Csv => Format::Csv,
            QueryFormatArg::Json => Format::JsonLines,
            QueryFormatArg::Parquet => Format::Parquet,
        }
    }
}

impl From<SortArg> for Sort {
    fn from(sort: SortArg) -> Sort {
        match sort {
            SortArg::Z => Sort::Z,
            SortArg::Rank => Sort::Rank,
            SortArg::Score => Sort::Score,
        }
    }
}

impl From<SideArg> for Side {
    fn from(side: SideArg) -> Side {
        match side {
            SideArg::Gate => Side::Gate,
            SideArg::Key => Side::Key,
            SideArg::Value => Side::Value,
        }
    }
}

impl From<PolarityArg> for Polarity {
    fn from(polarity: PolarityArg) -> Polarity {
        match polarity {
            PolarityArg::Top => Polarity::Top,
            PolarityArg::Bottom => Polarity::Bottom,
        }
    }
}

impl From<KindArg> for UnitKind {
    fn from(kind: KindArg) -> UnitKind {
        match kind {
            KindArg::Neuron => UnitKind::Neuron,
            KindArg::Head => UnitKind::Head,
        }
    }
}

impl From<CircuitArg> for Circuit {
    fn from(circuit: CircuitArg) -> Circuit {
        match circuit {
            CircuitArg::Vo => Circuit::Vo,
            CircuitArg::Qk => Circuit::Qk,
        }
    }
}

impl From<EmbeddingArg> for EmbeddingChoice {
    fn from(embedding: EmbeddingArg) -> EmbeddingChoice {
        match embedding {
            EmbeddingArg::ReadWrite => EmbeddingChoice::ReadWrite,
            EmbeddingArg::Output => EmbeddingChoice::Output,
        }
    }
}
