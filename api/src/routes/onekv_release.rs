//! 1KV's `/release` under `/1kv`: the newest client release of a network's
//! programme, from the releases fold (the same records the scorer judges
//! client versions with).

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::candidates::OfNetwork;
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The newest release, as 1KV's `Release` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Release {
    /// The version with a `v` (1KV's name, e.g. `v1.16.0`).
    name: String,
    /// The release's tag.
    tag: String,
    /// The node version it ships.
    version: String,
    /// When it was published, Unix ms.
    published_at: i64,
    /// When stakeflow first saw it, Unix ms: rounds from then on know it.
    observed_at: i64,
}

/// The newest client release (1KV `GET /release`).
#[utoipa::path(get, path = "/1kv/release", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "The newest release seen", body = Release),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No release seen yet (or no releases source configured)", body = ErrorBody),
))]
pub(crate) async fn latest(State(state): State<AppState>, query: QueryResult<OfNetwork>) -> Result<Json<Release>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = super::candidates::network(&state, q.network)?;
    let store = state.scoring_store().await?;
    let mut all = scoring::load_state::<scoring::ReleasesFold>(store.as_ref()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let r = all.remove(&net).ok_or_else(|| ApiError::NotFound(format!("no client release of {net} seen yet (is scoring.networks.{net}.releases set?)")))?;
    let name = if r.version.starts_with(|c: char| c.is_ascii_digit()) { format!("v{}", r.version) } else { r.version.clone() };
    Ok(Json(Release { name, tag: r.tag, version: r.version, published_at: r.published_at_ms, observed_at: r.observed_at_ms }))
}
