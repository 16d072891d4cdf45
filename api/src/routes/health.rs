use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{ApiError, AppState, Readiness, readiness};

/// `GET /health`: the process is up.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: per chain, last seen on chain, how long ago, last applied
/// (and scored), lags, and why not; 503 while any chain lags beyond the bound,
/// has gone silent (a stalled ingest) or has no data.
pub(crate) async fn ready(State(state): State<AppState>) -> Result<(StatusCode, Json<Readiness>), ApiError> {
    let seen = state.store.observed_heads().await?;
    let applied = state.store.chain_heads(state.consumer).await?;
    let scoring_store = state.scoring_store().await?;
    // Where a programme is scored, the scorer must keep up too.
    let scorer = if state.scored_networks.is_empty() { None } else { Some(scoring::scorer::progress(scoring_store.as_ref()).await?) };
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default();
    let bounds = crate::ready::Bounds { max_lag: state.ready_max_lag, max_silence_ms: state.ready_max_silence_ms, now_ms };
    // Where a nominator runs, it must keep passing (judged from its first pass on).
    let mut passes = std::collections::BTreeMap::new();
    if !state.nominated_networks.is_empty() {
        for (net, book) in nominator::read::books(state.store.as_ref()).await? {
            if let Some(at) = book.passed_at_ms.filter(|_| state.nominated_networks.contains(&net)) {
                passes.insert(net, at);
            }
        }
    }
    // The folding consumers, from their first report on.
    let mut reports = Vec::new();
    for name in [scoring::folds::UPTIME_CONSUMER, scoring::folds::SESSION_KEYS_CONSUMER] {
        if let Some(p) = scoring::folds::progress(scoring_store.as_ref(), name).await? {
            reports.push((name, p));
        }
    }
    let r = readiness(&state.networks, &seen, &applied, scorer.as_ref(), &passes, bounds).with_consumers(&reports, bounds);
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
