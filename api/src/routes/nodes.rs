//! `GET /nodes`: what telemetry says about each node, with its offline time
//! in the sliding window.

use axum::Json;
use axum::extract::{Query, State};
use rules::node_match::{self, MatchedBy};
use rules::uptime::Presence;
use serde::{Deserialize, Serialize};

use utoipa::{IntoParams, ToSchema};

use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

/// Query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodesQuery {
    /// Only this network.
    network: Option<String>,
    /// Only nodes with this name.
    name: Option<String>,
}

/// One node.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NodeView {
    network: String,
    peer_id: String,
    name: String,
    /// online, offline or unknown (no feed of the network is up).
    #[schema(value_type = String, example = "online")]
    status: &'static str,
    online: bool,
    discovered_at_ms: i64,
    last_seen_ms: i64,
    offline_in_window_ms: i64,
    window_ms: i64,
    implementation: Option<String>,
    version: Option<String>,
    validator: Option<String>,
    /// The validator stash the node belongs to, when known.
    stash: Option<String>,
    /// How `stash` was found (`session_key`), or null.
    #[schema(value_type = Option<String>, example = "session_key")]
    matched_by: Option<MatchedBy>,
    city: Option<String>,
}

/// What telemetry says about each node, with its offline time in the sliding window.
#[utoipa::path(get, path = "/nodes", tag = "nodes", params(NodesQuery), responses(
    (status = 200, description = "Every node telemetry has seen", body = Vec<NodeView>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn list(
    State(state): State<AppState>,
    query: Result<Query<NodesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<NodeView>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let scoring_store = state.scoring_store().await?;
    let uptime = scoring::load_uptime(scoring_store.as_ref()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let keys = scoring::load_state::<scoring::SessionKeysFold>(scoring_store.as_ref())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let empty = std::collections::BTreeMap::new();
    let now = schemas::clock::now_ms();
    let window = state.uptime_window_ms;
    let nodes = uptime
        .nodes
        .values()
        .filter(|n| q.network.as_deref().is_none_or(|w| w == n.network))
        .filter(|n| q.name.as_deref().is_none_or(|w| w == n.name))
        .map(|n| {
            // By session key only: names are matched only within a programme's round.
            let matched = node_match::stash_of(n.validator.as_deref(), &n.name, keys.get(&n.network).unwrap_or(&empty), None);
            NodeView {
            network: n.network.clone(),
            peer_id: n.peer_id.clone(),
            name: n.name.clone(),
            status: match n.presence {
                Presence::Online => "online",
                Presence::Offline => "offline",
                Presence::Unknown => "unknown",
            },
            online: n.presence == Presence::Online,
            discovered_at_ms: n.discovered_at_ms,
            last_seen_ms: n.last_seen_ms,
            offline_in_window_ms: uptime.offline_in_window(&n.network, &n.peer_id, now, window),
            window_ms: window,
            implementation: n.implementation.clone(),
            version: n.version.clone(),
            validator: n.validator.clone(),
            stash: matched.as_ref().map(|(s, _)| s.clone()),
            matched_by: matched.map(|(_, m)| m),
            city: n.city.clone(),
        }})
        .collect();
    Ok(Json(nodes))
}
