use axum::Json;
use axum::http::StatusCode;
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
        };
        (status, Json(json!({"error": code, "message": self.to_string()}))).into_response()
    }
}
