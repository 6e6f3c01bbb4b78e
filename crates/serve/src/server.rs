//! The HTTP server: one router for the pages and the API, the checks every
//! request passes first, and the loop that serves until Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::catalog::Catalog;
use crate::error::{ApiError, ServeError};
use crate::{api, pages};

/// Longest query string accepted, in bytes; longer ones are refused before
/// any handler parses them (hyper itself refuses request heads over ~400 KB).
const MAX_QUERY_STRING: usize = 8 * 1024;

/// Every page and API route over `catalog`.
pub fn router(catalog: Arc<Catalog>) -> Router {
    api::routes()
        .merge(pages::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(check_request))
        .with_state(catalog)
}

/// Serves `catalog` on `bind` until Ctrl-C, after telling `listening` the
/// address (the port, when `bind` asked for port 0).
pub fn serve(
    catalog: Catalog,
    bind: SocketAddr,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| ServeError::Bind { addr: bind, source })?;
        listening(listener.local_addr()?);
        axum::serve(listener, router(Arc::new(catalog)))
            .with_graceful_shutdown(async {
                // Without a signal handler the server runs until killed.
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

/// An error as the part of the site that was asked answers: JSON under
/// `/api/`, a page elsewhere.
pub fn error_response(api: bool, error: ApiError) -> Response {
    if api {
        error.into_response()
    } else {
        pages::error_page(error)
    }
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

/// Refuses what no handler should see: overlong query strings, and query
/// strings whose percent-escapes are not UTF-8 (axum would decode those
/// lossily, searching for U+FFFD).
async fn check_request(request: Request, next: Next) -> Response {
    let api = is_api(&request);
    if let Some(query) = request.uri().query() {
        if query.len() > MAX_QUERY_STRING {
            return error_response(
                api,
                ApiError::new(
                    StatusCode::URI_TOO_LONG,
                    format!(
                        "a query string of {} bytes is too long; at most {MAX_QUERY_STRING}",
                        query.len()
                    ),
                ),
            );
        }
        if let Err(error) = check_query_string(query) {
            return error_response(api, error);
        }
    }
    next.run(request).await
}

/// Fails unless every name and value of `query` decodes to UTF-8.
fn check_query_string(query: &str) -> Result<(), ApiError> {
    for part in query.split('&') {
        let bytes = percent_decode(part.as_bytes())
            .ok_or_else(|| ApiError::bad_request("the query string holds a malformed %-escape"))?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::bad_request(
                "the query string is not UTF-8 once %-escapes are decoded",
            ));
        }
    }
    Ok(())
}

/// `bytes` with its `%XX` escapes decoded; `None` if one is malformed.
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

async fn not_found(request: Request) -> Response {
    let message = format!("nothing at {}", request.uri().path());
    error_response(is_api(&request), ApiError::not_found(message))
}

async fn method_not_allowed(request: Request) -> Response {
    let message = format!(
        "{} is not allowed here: the server is read-only (GET)",
        request.method()
    );
    error_response(
        is_api(&request),
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_must_decode_to_utf8() {
        assert!(check_query_string("q=diet%C4%85&limit=5").is_ok());
        assert!(check_query_string("q=%FF").is_err());
        assert!(check_query_string("q=%4").is_err());
        assert!(check_query_string("q=%zz").is_err());
    }
}
