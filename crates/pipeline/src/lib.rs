//! Run Glossa's stages end to end, and open the datasets they produce.
//!
//! [`extract`] takes an [`ExtractConfig`] (from flags or a pipeline TOML file)
//! through every stage: find and load the model, render its vocabulary,
//! project every feed-forward neuron, extract every attention head's VO and
//! QK pair lists, write the tables, build the index, and write the manifest
//! last. Progress goes to an [`Observer`], so the library
//! never draws to the terminal. [`Dataset`] opens a finished dataset for
//! `show`, `search` and `info`; the `*_figure` functions turn its lists into
//! the figures of `glossa plot`.
//!
//! A run locks its output directory ([`LOCK_FILE`]) and keeps a journal of
//! the tables it has written under [`RUN_DIR`], so that the same command
//! after an interruption resumes where the run stopped, with byte-identical
//! tables. [`verify`] checks a finished dataset against its manifest.

pub use config::{ExtractConfig, PipelineFile};
pub use dataset::{find_dataset, Dataset};
pub use error::{PipelineError, Result};
pub use extract::{extract, view, Summary};
pub use figures::{copying_figure, head_figure, neuron_figure, overview_figure, UnitFigure};
pub use heads::circuit_factors;
pub use index::rebuild_index;
pub use lock::{lock_holder, LockHolder, LOCK_FILE};
pub use observer::{Observer, Silent};
pub use resume::RUN_DIR;
pub use verify::{verify, Check, Verification};

mod config;
mod dataset;
mod error;
mod extract;
mod figures;
mod heads;
mod index;
mod lock;
mod observer;
mod pairs_filter;
mod resume;
mod verify;
