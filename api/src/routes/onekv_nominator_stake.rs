//! 1KV's nominator-stake endpoints under `/1kv`: who nominates a validator,
//! era by era (the last [`KEPT_ERAS`](rules::nominator_stake::KEPT_ERAS)),
//! from the nominator-stake fold's rows: one scan of the validator's rows.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use rules::nominator_stake::{Backing, EraStake};
use serde::Serialize;
use utoipa::ToSchema;

use super::onekv_validators::{Chain, Shown};
use crate::openapi::ErrorBody;
use crate::read_model::ReadModel;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// A nominator behind the validator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Nominator {
    /// In the network's SS58 encoding.
    address: String,
    /// Active bond in tokens (when the network's decimals are configured).
    bonded: Option<f64>,
    /// Active bond in planck, as a string.
    bonded_planck: String,
}

/// Who nominated a validator in an era, as 1KV's `NominatorStake` document.
/// Every nominator whose targets include the validator is listed; 1KV's
/// split into active (in the exposure) and inactive is not made.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NominatorStake {
    /// In the network's SS58 encoding.
    validator: String,
    era: i64,
    /// Block the era began at.
    block: i64,
    /// Their bonds summed, in tokens (when the network's decimals are configured).
    total_stake: Option<f64>,
    /// Their bonds summed, planck, as a string.
    total_stake_planck: String,
    nominator_count: usize,
    nominators: Vec<Nominator>,
}

/// The validator's kept eras, newest first, as documents.
async fn stakes(state: &AppState, views: &ReadModel, addr: &str, network: Option<String>) -> Result<Vec<NominatorStake>, ApiError> {
    let wanted = super::nominators::account_hex(addr)?;
    let shown = Shown::new(state, views, network).await?;
    let store = state.scoring_store().await?;
    let rows = store.scan_states(scoring::NOMINATOR_STAKE_CONSUMER, &rules::nominator_stake::prefix(&shown.chain, &wanted)).await?;
    let rows = rows.into_iter().filter_map(|(k, v)| serde_json::from_slice::<Backing>(&v).ok().map(|b| (k, b)));
    let doc = |e: EraStake| {
        let total = e.total();
        NominatorStake {
            validator: shown.address(&wanted),
            era: e.era,
            block: e.block,
            total_stake: shown.tokens(total),
            total_stake_planck: total.to_string(),
            nominator_count: e.nominators.len(),
            nominators: e
                .nominators
                .into_iter()
                .map(|(who, bonded)| Nominator { address: shown.address(&who), bonded: bonded.parse().ok().and_then(|p| shown.tokens(p)), bonded_planck: bonded })
                .collect(),
        }
    };
    Ok(rules::nominator_stake::eras(rows).into_iter().map(doc).collect())
}

/// The newest era's nominators of a validator (1KV `GET /nominatorstake/{address}`).
#[utoipa::path(get, path = "/1kv/nominatorstake/{address}", tag = "1kv", params(("address" = String, Path, description = "Validator stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "The newest era kept", body = NominatorStake),
    (status = 400, description = "Not an address, or a bad query parameter", body = ErrorBody),
    (status = 404, description = "Nobody nominated it in the kept eras", body = ErrorBody),
))]
pub(crate) async fn latest(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    Path(addr): Path<String>,
    query: QueryResult<Chain>,
) -> Result<Json<NominatorStake>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let newest = stakes(&state, &views, &addr, q.network).await?.into_iter().next();
    newest.map(Json).ok_or_else(|| ApiError::NotFound(format!("no nominator of {addr} in the last {} eras", rules::nominator_stake::KEPT_ERAS)))
}

/// A validator's nominators in one era (1KV `GET /nominatorstake/{address}/{era}`).
#[utoipa::path(get, path = "/1kv/nominatorstake/{address}/{era}", tag = "1kv", params(
    ("address" = String, Path, description = "Validator stash in any SS58 encoding, or 0x hex"),
    ("era" = i64, Path, description = "Era"),
    Chain,
), responses(
    (status = 200, description = "That era", body = NominatorStake),
    (status = 400, description = "Not an address or not an era", body = ErrorBody),
    (status = 404, description = "Not a kept era, or nobody nominated it then", body = ErrorBody),
))]
pub(crate) async fn of_era(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    path: Result<Path<(String, i64)>, axum::extract::rejection::PathRejection>,
    query: QueryResult<Chain>,
) -> Result<Json<NominatorStake>, ApiError> {
    let Path((addr, era)) = path.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let found = stakes(&state, &views, &addr, q.network).await?.into_iter().find(|s| s.era == era);
    found.map(Json).ok_or_else(|| ApiError::NotFound(format!("no nominator of {addr} in era {era} (the last {} eras are kept)", rules::nominator_stake::KEPT_ERAS)))
}

/// A validator's nominators in its newest `limit` eras, newest first (1KV `GET /nominatorstake/{address}/last/{limit}`).
#[utoipa::path(get, path = "/1kv/nominatorstake/{address}/last/{limit}", tag = "1kv", params(
    ("address" = String, Path, description = "Validator stash in any SS58 encoding, or 0x hex"),
    ("limit" = usize, Path, description = "Eras, 1 or more (at most the kept eras are answered)"),
    Chain,
), responses(
    (status = 200, description = "Newest first", body = Vec<NominatorStake>),
    (status = 400, description = "Not an address or not a count", body = ErrorBody),
))]
pub(crate) async fn last(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    path: Result<Path<(String, usize)>, axum::extract::rejection::PathRejection>,
    query: QueryResult<Chain>,
) -> Result<Json<Vec<NominatorStake>>, ApiError> {
    let Path((addr, limit)) = path.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    if limit == 0 {
        return Err(ApiError::BadQuery("limit must be 1 or more".into()));
    }
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    Ok(Json(stakes(&state, &views, &addr, q.network).await?.into_iter().take(limit).collect()))
}
