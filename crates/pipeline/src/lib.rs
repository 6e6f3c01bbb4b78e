//! Run Glossa's stages end to end, and open the datasets they produce.
//!
//! [`extract`] takes an [`ExtractConfig`] (from flags or a [`PipelineFile`])
//! through every stage: find and load the model, render its vocabulary,
//! project every feed-forward neuron, extract every attention head's VO and
//! QK pair lists, write the tables, build the index, and write the manifest
//! last. Progress goes to an [`Observer`], so the library never draws to the
//! terminal. Where each file goes is decided once, by
//! [`glossa_tables::Layout`].
//!
//! A run locks its output directory and keeps a journal of the tables it has
//! written, so that the same run after an interruption resumes where it
//! stopped, with byte-identical tables. [`verify`] checks a finished dataset
//! against its manifest.
//!
//! A run may be restricted to a range of layers ([`ExtractConfig::layers`]):
//! it writes a shard, a dataset of those layers only, and [`merge`] joins the
//! shards of every layer into the dataset an unsharded run writes, table for
//! table byte-identical.
//!
//! [`Dataset`] opens a finished dataset for `show`, `search` and `info`,
//! opening its index once per command ([`Dataset::index`]); the `*_figure`
//! functions turn its lists into the figures of `glossa plot`.

pub use config::{ExtractConfig, PipelineFile, WordForms};
pub use dataset::{find_dataset, Dataset};
pub use error::{PipelineError, Result};
pub use extract::{extract, Summary};
pub use figures::{copying_figure, head_figure, neuron_figure, overview_figure, UnitFigure};
pub use heads::circuit_factors;
pub use merge::merge;
pub use observer::{Observer, Silent};
pub use readings::{CircuitWeights, Reading};
pub use verify::{verify, Check, Verification};
pub use views::view;

mod config;
mod connections;
mod dataset;
mod error;
mod extract;
mod figures;
mod heads;
mod index;
mod lock;
mod merge;
mod observer;
mod output_dir;
mod pairs_filter;
mod readings;
mod resume;
mod verify;
mod views;
