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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::Store(e) => {
                tracing::error!(error = %e, "store error while serving a request");
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
        };
        (status, Json(json!({"error": code, "message": self.to_string()}))).into_response()
    }
}
