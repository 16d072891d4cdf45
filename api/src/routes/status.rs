//! The status page an operator leaves open, and the networks it lists.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// The page: one HTML document with its style and script inline (no
/// external assets), reading the JSON endpoints and updating itself from
/// `/events`.
#[utoipa::path(get, path = "/status", tag = "health", responses(
    (status = 200, description = "The status page", body = String, content_type = "text/html"),
))]
pub(crate) async fn page() -> Html<&'static str> {
    Html(include_str!("../status.html"))
}

/// What this process serves.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Networks {
    /// Chains ingested, in configured order.
    chains: Vec<String>,
    /// Networks with a programme (scored).
    scored: Vec<String>,
    /// Networks a nominator runs for.
    nominated: Vec<String>,
}

/// The chains, programmes and nominators this process serves.
#[utoipa::path(get, path = "/networks", tag = "health", responses((status = 200, description = "Names", body = Networks)))]
pub(crate) async fn networks(State(state): State<AppState>) -> Json<Networks> {
    Json(Networks { chains: state.networks.to_vec(), scored: state.scored_networks.to_vec(), nominated: state.nominated_networks.to_vec() })
}
