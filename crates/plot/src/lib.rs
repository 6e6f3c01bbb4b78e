//! Pictures of a Glossa dataset, written as self-contained HTML or static SVG.
//!
//! The seed's plots take the k tokens a parameter vector scores highest,
//! place their embedding vectors in 2-D or 3-D with t-SNE, and draw a scatter
//! coloured by score, the token as label and the score on hover. This crate
//! has the two halves of that, and knows nothing of models or tables:
//!
//! - [`Tsne`] embeds vectors with exact t-SNE (perplexity 3 and a PCA
//!   initialisation by default; the same seed gives the same layout).
//! - Figures: a [`Scatter`] of labelled points (markers tell roles apart, lines
//!   join pairs), a [`HeatMap`] of a grid of values, a [`StripPlot`] of
//!   values per group over their quartiles. Every [`Figure`] renders as a
//!   static SVG for papers and as an HTML page that embeds that SVG with a few
//!   lines of inline script (tooltips, labels on and off, rotation of 3-D
//!   scatters); nothing is fetched, so pages work offline. [`save`] picks the
//!   format from the file name.
//! - [`concept_map`] sums the list entries that match a query into a layer ×
//!   unit-kind [`HeatMap`], by a chosen [`Measure`].
//!
//! SVG is written by hand, so output is byte-for-byte deterministic; all text
//! is escaped ([`escape`]) and the font stack covers Polish letters.

pub use colour::{viridis, ColourScale};
pub use error::{PlotError, Result};
pub use figure::{save, Figure, Format};
pub use heatmap::HeatMap;
pub use overview::{concept_map, Match, Measure};
pub use scatter::{Marker, Point, Scatter};
pub use strip::{Group, StripPlot};
pub use svg::{escape, number};
pub use tsne::{Embedding, Tsne};

mod colour;
mod error;
mod figure;
mod heatmap;
mod html;
mod overview;
mod scatter;
mod strip;
mod svg;
mod tsne;
