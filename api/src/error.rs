use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to a client. Internals are logged, not returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The store failed.
    #[error("store unavailable")]
    Store(#[from] store::StoreError),
    /// A query parameter is wrong.
    #[error("bad query: {0}")]
    BadQuery(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Something inside failed (logged, not shown).
    #[error("internal error")]
    Internal(String),
    /// Not answered within the request timeout.
    #[error("not answered within {0:?}")]
    Timeout(std::time::Duration),
    /// A part this answer needs is not there or not reachable (the broker, for `/events`).
    #[error("{0}")]
    Unavailable(String),
    /// No route has this path, or not with this method.
    #[error("{0}")]
    NoRoute(String, StatusCode),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::Store(e) => {
                tracing::error!(error = %e, "store error while serving a request");
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
            ApiError::BadQuery(_) => (StatusCode::BAD_REQUEST, "bad_query"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error while serving a request");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::NoRoute(_, StatusCode::METHOD_NOT_ALLOWED) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::NoRoute(_, status) => (*status, "not_found"),
        };
        (status, Json(json!({"error": code, "message": self.to_string()}))).into_response()
    }
}

/// Any path no route has: the API's JSON error, pointing at the document.
pub(crate) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute(format!("no route {method} {}; the routes are described at /openapi.json", uri.path()), StatusCode::NOT_FOUND)
}

/// A rejection the framework answers by itself (a method a path does not
/// take), turned into the API's JSON error.
pub(crate) async fn json_rejections(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let resp = next.run(req).await;
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED && !resp.headers().contains_key(header::CONTENT_TYPE) {
        let allow = resp.headers().get(header::ALLOW).cloned();
        let mut r = ApiError::NoRoute(format!("{path} does not take {method}"), StatusCode::METHOD_NOT_ALLOWED).into_response();
        if let Some(allow) = allow {
            r.headers_mut().insert(header::ALLOW, allow);
        }
        return r;
    }
    resp
}
