//! What can go wrong: starting a server (a [`ServeError`]), and answering one
//! request (an [`ApiError`], which always carries its HTTP status).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use glossa_pipeline::PipelineError;

/// Starting `glossa serve` or `glossa mcp` failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{dir}: cannot be served")]
    Open {
        dir: PathBuf,
        // Boxed: a pipeline error is large, and this one is rare.
        #[source]
        source: Box<PipelineError>,
    },

    #[error("two datasets are both named {name:?} ({first} and {second}); a name must say which one a URL means")]
    SameName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },

    #[error("no dataset to serve")]
    NoDatasets,

    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("the MCP session failed")]
    Mcp(#[source] Box<dyn std::error::Error + Send + Sync>),

    #[error("the server stopped")]
    Io(#[from] std::io::Error),
}

/// One request's failure: a status and a message for whoever asked.
///
/// A request the server cannot answer because of what it asks for (an
/// unknown unit, a malformed query) is a 4xx; only a fault of the server or
/// its files is a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// No dataset of that name is served.
    pub fn no_dataset(name: &str) -> ApiError {
        ApiError::not_found(format!("no dataset named {name:?} is served here"))
    }
}

impl From<PipelineError> for ApiError {
    fn from(error: PipelineError) -> ApiError {
        use glossa_index::Error as I;
        use PipelineError as E;
        let status = match &error {
            E::NoSuchLayer { .. }
            | E::LayerNotInShard { .. }
            | E::NoSuchNeuron { .. }
            | E::NoSuchHead { .. }
            | E::NoHeads { .. }
            | E::NoNeurons { .. } => StatusCode::NOT_FOUND,
            // The scatter needs the model the dataset came from; without it
            // that picture does not exist here.
            E::ModelOfDataset { .. } | E::NotTheDatasetsModel { .. } | E::ScoresDiffer { .. } => {
                StatusCode::NOT_FOUND
            }
            E::Index(I::NoTerms | I::BadQuery { .. } | I::InvalidSearch { .. })
            | E::NoEntriesToPlot
            | E::TooManyToPlot { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, chain(&error))
    }
}

/// An error and its causes, on one line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
