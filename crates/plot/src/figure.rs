//! What every figure can do, and writing one to a file.

use std::path::Path;

use crate::error::{PlotError, Result};
use crate::html;

/// A figure: a static SVG picture, and an interactive HTML page around it.
pub trait Figure {
    /// The title, shown at the top and used as the page title.
    fn title(&self) -> &str;

    /// The static picture, for papers.
    fn svg(&self) -> String;

    /// The picture the HTML page embeds; by default [`Figure::svg`].
    fn html_svg(&self) -> String {
        self.svg()
    }

    /// Whether the page offers a checkbox that shows and hides point labels,
    /// and whether it starts checked; `None` for figures without labels.
    fn labels_toggle(&self) -> Option<bool> {
        None
    }

    /// A self-contained HTML page: the SVG inline, a few lines of inline
    /// script for tooltips (and rotation of 3-D scatters), nothing fetched.
    fn html(&self) -> String {
        html::page(self.title(), &self.html_svg(), self.labels_toggle())
    }
}

/// The file formats a figure is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A self-contained, interactive HTML page.
    Html,
    /// A static SVG picture.
    Svg,
}

impl Format {
    /// The format a file name asks for: `.html`/`.htm` or `.svg`.
    pub fn from_path(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("html" | "htm") => Ok(Format::Html),
            Some("svg") => Ok(Format::Svg),
            _ => Err(PlotError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The figure in this format.
    pub fn render(self, figure: &dyn Figure) -> String {
        match self {
            Format::Html => figure.html(),
            Format::Svg => figure.svg(),
        }
    }
}

/// Writes `figure` to `path` in the format its extension names.
pub fn save(figure: &dyn Figure, path: &Path) -> Result<Format> {
    let format = Format::from_path(path)?;
    std::fs::write(path, format.render(figure)).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(format)
}
