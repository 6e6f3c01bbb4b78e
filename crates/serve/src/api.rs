//! The JSON API under `/api/v1/`: thin handlers over [`crate::answers`].
//!
//! Every failure is a JSON object `{"error": {"status": N, "message": "…"}}`
//! with that status; malformed paths and query strings are 400s, never
//! rejections in axum's plain text.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::answers::{self, SearchParams};
use crate::catalog::Catalog;
use crate::error::ApiError;
use crate::pictures;

/// The routes of the API, version 1.
pub fn routes() -> Router<Arc<Catalog>> {
    Router::new()
        .route("/api/v1/datasets", get(datasets))
        .route("/api/v1/datasets/{dataset}", get(info))
        .route("/api/v1/datasets/{dataset}/search", get(search))
        .route(
            "/api/v1/datasets/{dataset}/neurons/{layer}/{neuron}",
            get(neuron),
        )
        .route("/api/v1/datasets/{dataset}/heads/{layer}/{head}", get(head))
        .route("/api/v1/datasets/{dataset}/tokens/{token}", get(token))
        .route(
            "/api/v1/datasets/{dataset}/neurons/{layer}/{neuron}/tsne/{side}",
            get(neuron_tsne),
        )
        .route(
            "/api/v1/datasets/{dataset}/heads/{layer}/{head}/tsne/{circuit}",
            get(head_tsne),
        )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            status: u16,
            message: &'a str,
        }
        let body = Body {
            error: Inner {
                status: self.status.as_u16(),
                message: &self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Runs `work` (index and Parquet reads) on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request failed inside the server",
        )
    })?
}

/// Path parameters, or a 400 saying which one is malformed.
pub fn path<T>(extracted: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    extracted
        .map(|Path(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// Query parameters, or a 400 saying which one is malformed.
pub fn query<T>(extracted: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    extracted
        .map(|Query(value)| value)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

type Answer = Result<Response, ApiError>;

async fn datasets(State(catalog): State<Arc<Catalog>>) -> Answer {
    Ok(Json(answers::datasets(&catalog)).into_response())
}

async fn info(
    State(catalog): State<Arc<Catalog>>,
    dataset: Result<Path<String>, PathRejection>,
) -> Answer {
    let name = path(dataset)?;
    let served = catalog.get(&name)?;
    Ok(Json(answers::info(served)).into_response())
}

async fn search(
    State(catalog): State<Arc<Catalog>>,
    dataset: Result<Path<String>, PathRejection>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Answer {
    let served = catalog.get(&path(dataset)?)?.clone();
    let params = query(params)?;
    let answer = blocking(move || answers::search(&served, &params)).await?;
    Ok(Json(answer).into_response())
}

async fn neuron(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32)>, PathRejection>,
) -> Answer {
    let (name, layer, neuron) = path(unit)?;
    let served = catalog.get(&name)?.clone();
    let answer = blocking(move || answers::neuron(&served, layer, neuron)).await?;
    Ok(Json(answer).into_response())
}

async fn head(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32)>, PathRejection>,
) -> Answer {
    let (name, layer, head) = path(unit)?;
    let served = catalog.get(&name)?.clone();
    let answer = blocking(move || answers::head(&served, layer, head)).await?;
    Ok(Json(answer).into_response())
}

async fn token(
    State(catalog): State<Arc<Catalog>>,
    token: Result<Path<(String, String)>, PathRejection>,
) -> Answer {
    let (name, token) = path(token)?;
    let served = catalog.get(&name)?.clone();
    let answer = blocking(move || answers::token(&served, &token)).await?;
    Ok(Json(answer).into_response())
}

/// A picture as SVG.
fn svg(picture: std::sync::Arc<str>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "image/svg+xml")],
        picture.to_string(),
    )
        .into_response()
}

async fn neuron_tsne(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32, String)>, PathRejection>,
) -> Answer {
    let (name, layer, neuron, side) = path(unit)?;
    let served = catalog.get(&name)?.clone();
    let side = side
        .parse()
        .map_err(|e| ApiError::not_found(format!("{e}")))?;
    let picture = blocking(move || pictures::neuron_tsne(&served, layer, neuron, side)).await?;
    Ok(svg(picture))
}

async fn head_tsne(
    State(catalog): State<Arc<Catalog>>,
    unit: Result<Path<(String, u32, u32, String)>, PathRejection>,
) -> Answer {
    let (name, layer, head, circuit) = path(unit)?;
    let served = catalog.get(&name)?.clone();
    let circuit = circuit
        .parse()
        .map_err(|e| ApiError::not_found(format!("{e}")))?;
    let picture = blocking(move || pictures::head_tsne(&served, layer, head, circuit)).await?;
    Ok(svg(picture))
}
