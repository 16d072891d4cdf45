use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::openapi::ErrorBody;
use crate::{ApiError, AppState, Readiness, readiness};

/// The `/health` body.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "Up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// Per chain, last seen on chain, how long ago, last applied
/// (and scored), lags, and why not; 503 while any chain lags beyond the bound,
/// has gone silent (a stalled ingest) or has no data, and while this
/// process cannot reach the broker.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, description = "Every chain and consumer within its bounds", body = Readiness),
    (status = 503, description = "Something lags, is silent or has no data; `why` says what", body = Readiness),
))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<(StatusCode, Json<Readiness>), ApiError> {
    let seen = state.store.observed_heads().await?;
    let applied = state.store.chain_heads(state.consumer).await?;
    let scoring_store = state.scoring_store().await?;
    // Where a programme is scored, the scorer must keep up too.
    let scorer = if state.scored_networks.is_empty() { None } else { Some(scoring::scorer::progress(scoring_store.as_ref(), &state.scored_networks).await?) };
    let now_ms = crate::ready::now_ms();
    let bounds = crate::ready::Bounds { max_lag: state.ready_max_lag, max_silence_ms: state.ready_max_silence_ms, max_behind: state.ready_max_behind, now_ms };
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
    for &name in scoring::folds::FOLD_CONSUMERS {
        if let Some(p) = scoring::folds::progress(scoring_store.as_ref(), name).await? {
            reports.push((name, p));
        }
    }
    let broker = state.broker.as_ref().map(|b| crate::BrokerReadiness::judge(&b.state(), now_ms));
    let r = readiness(&state.networks, &seen, &applied, scorer.as_ref(), &passes, bounds).with_consumers(&reports, bounds).with_broker(broker);
    let status = if r.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Ok((status, Json(r)))
}

/// Prometheus text format (404 when the process records none).
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
    (status = 404, description = "This process records no metrics", body = ErrorBody),
))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    match &state.metrics {
        Some(render) => Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render()).into_response()),
        None => Err(ApiError::NotFound("this process records no metrics".into())),
    }
}
