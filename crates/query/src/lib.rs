//! SQL over a Glossa dataset's tables, through polars.
//!
//! [`Catalog::open`] registers every table kind a dataset's manifest lists
//! under its name (`neurons`, `neuron_summary`, `heads`, `head_summary`,
//! `tokens`, `token_list`, `connections`) as a lazy Parquet scan of its
//! files, so a query reads only the columns and row groups it needs, and
//! the view `unit_stats` ([`UNIT_STATS`]) over both summaries: every
//! neuron side's and head circuit's statistics in one table; [`Catalog::query`] runs
//! one SQL statement through polars' SQL front end and collects the
//! [`Answer`], which [`Answer::write`] prints as an aligned table, CSV or
//! JSON lines, or stores as Parquet ([`Format`]).
//!
//! polars is large; it is this crate's alone, so only the binary pays for
//! it, and only with the features that reading the tables and the SQL
//! researchers write need (the workspace's `Cargo.toml` lists them).

pub use answer::{Answer, Format};
pub use catalog::{Catalog, UNIT_STATS};
pub use error::{QueryError, Result};

mod answer;
mod catalog;
mod error;
