use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{ApiError, AppState, Readiness, readiness};

/// `GET /health`: the process is up.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: per chain, last seen on chain, last applied, lag; 503 while
/// any chain lags beyond the bound or has no data.
pub(crate) async fn ready(State(state): State<AppState>) -> Result<(StatusCode, Json<Readiness>), ApiError> {
    let seen = state.store.observed_heads().await?;
    let applied = state.store.chain_heads(state.consumer).await?;
    let r = readiness(&state.networks, &seen, &applied, state.ready_max_lag);
    let status = if r.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Ok((status, Json(r)))
}

/// `GET /metrics`: Prometheus text format (404 when the process records none).
pub(crate) async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match &state.metrics {
        Some(render) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
