//! Browse Glossa datasets in a browser, and let agents query them.
//!
//! A [`Catalog`] opens each dataset once ([`glossa_pipeline::Dataset`]), with
//! its search index; the model it came from is loaded on the first picture
//! that needs it, and a dataset whose model has moved is still served, its
//! pages without the t-SNE scatters.
//!
//! - [`serve`] answers HTTP on a tokio runtime ([`router`] builds the routes,
//!   for tests and embedding): HTML pages under `/` and `/d/NAME/…` (search
//!   as you type, neuron, head, token, layer and dataset pages, each at a
//!   stable URL), over a JSON API under `/api/v1/`. Everything the pages
//!   need is compiled in; nothing is fetched from elsewhere.
//! - [`serve_stdio`] answers the Model Context Protocol on standard input
//!   and output ([`McpServer`]): tools `search`, `show_neuron`, `show_head`
//!   and `info`, answering with the API's JSON.
//!
//! Both read only. A request that cannot be answered gets an [`ApiError`]
//! with a 4xx status (unknown dataset, layer or unit; malformed or overlong
//! query); only a fault of the server's own files is a 500.

pub use answers::{SearchParams, MAX_LIMIT, MAX_QUERY};
pub use catalog::{Catalog, Served};
pub use error::{ApiError, ServeError};
pub use mcp::{serve_stdio, McpServer};
pub use server::{router, serve};

mod answers;
mod api;
mod catalog;
mod error;
mod html;
mod mcp;
mod pages;
mod pictures;
mod server;
