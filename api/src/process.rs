//! What a process without the API serves: its metrics and its own
//! readiness. Not part of the API's document (it is not the API).

use axum::Router;

use crate::MetricsRender;

/// A router for processes that run no API: `/metrics`, `/health`, and
/// `/ready` of the process itself (200 while it reaches the broker; the
/// pipeline's readiness is the API's).
pub fn metrics_router(render: MetricsRender, broker: Option<bus::BrokerHealth>) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let render = render.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render()) }
            }),
        )
        .route("/health", axum::routing::get(crate::routes::health::health))
        .route(
            "/ready",
            axum::routing::get(move || {
                let broker = broker.clone();
                async move {
                    let r = crate::ready::ProcessReadiness::judge(broker.as_ref().map(|b| b.state()).as_ref(), crate::ready::now_ms());
                    let status = if r.ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
                    (status, axum::Json(r))
                }
            }),
        )
}
