//! Route table: one module per resource.

mod candidates;
mod health;
mod nodes;
mod nominators;
mod registry;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/nodes", get(nodes::list))
        .route("/candidates", get(candidates::list))
        .route("/candidates/{stash}", get(candidates::one))
        .route("/candidates/{stash}/score", get(candidates::score))
        .route("/rounds", get(candidates::rounds))
        .route("/rounds/{round}", get(candidates::round_view))
        .route("/nominators", get(nominators::list))
        .route("/nominators/{stash}", get(nominators::one))
        .route("/nominations", get(nominators::history))
        .route("/proxytxs", get(nominators::proxy_txs))
        // Schema registry (read side), at the root so `schema.registry.url` is the API's address.
        .route("/subjects", get(registry::subjects))
        .route("/subjects/{subject}/versions", get(registry::versions).post(registry::register))
        .route("/subjects/{subject}/versions/{version}", get(registry::version))
        .route("/subjects/{subject}/versions/{version}/schema", get(registry::version_schema))
        .route("/schemas/ids/{id}", get(registry::by_id))
        .route("/schemas/ids/{id}/versions", get(registry::id_versions))
        .route("/config", get(registry::config))
}
