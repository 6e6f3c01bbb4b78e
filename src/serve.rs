//! `glossa serve` and `glossa mcp`: the datasets named (or the one under
//! data/), opened once and served until stopped.

use std::path::PathBuf;

use anyhow::Result;
use glossa_load::HubOptions;
use glossa_serve::Catalog;

use crate::args::{DataArgs, McpArgs, ServeArgs};
use crate::resolve::{dataset_dir, note_rebuild};

/// `glossa serve`: pages and the JSON API over HTTP.
pub fn run(args: ServeArgs) -> Result<()> {
    let catalog = catalog(args.data)?;
    let names: Vec<String> = catalog.datasets().iter().map(|d| d.name.clone()).collect();
    glossa_serve::serve(catalog, args.bind, |addr| {
        eprintln!(
            "serving {} on http://{addr}/ (Ctrl-C stops)",
            names.join(", ")
        );
    })?;
    Ok(())
}

/// `glossa mcp`: MCP tools on standard input and output.
pub fn mcp(args: McpArgs) -> Result<()> {
    Ok(glossa_serve::serve_stdio(catalog(args.data)?)?)
}

/// Every `--data DIR`, or the one dataset under data/.
fn catalog(dirs: Vec<PathBuf>) -> Result<Catalog> {
    let dirs = if dirs.is_empty() {
        vec![dataset_dir(&DataArgs { data: None })?]
    } else {
        dirs
    };
    Ok(Catalog::open(
        &dirs,
        &HubOptions::from_env(),
        &note_rebuild,
    )?)
}
