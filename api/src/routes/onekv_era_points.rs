//! 1KV's era-points endpoints under `/1kv`: a validator's points and every
//! era's totals over the last 84 ended eras, from the era-points fold.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rules::era_points::EraTotals;
use serde::Serialize;
use utoipa::ToSchema;

use super::onekv::Paging;
use super::onekv_validators::{Chain, address, chain_state, prefix};
use crate::openapi::ErrorBody;
use crate::read_model::ReadModel;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The chain asked for, with its eras (newest last).
async fn eras(state: &AppState, asked: Option<String>) -> Result<(String, BTreeMap<i64, EraTotals>), ApiError> {
    chain_state::<scoring::EraPointsFold, _>(state, asked, |c| format!("no era of {c} has ended with points yet")).await
}

/// A validator's points in one era, as 1KV's `EraPoints` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidatorEraPoints {
    era: i64,
    /// Stash, in the network's SS58 encoding.
    address: String,
    era_points: i64,
}

/// A validator's points over the last 84 ended eras, newest first; an era it
/// earned nothing in answers 0 (1KV `GET /erapoints/{address}`).
#[utoipa::path(get, path = "/1kv/erapoints/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "One document per era kept", body = Vec<ValidatorEraPoints>),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "No era with points yet", body = ErrorBody),
))]
pub(crate) async fn of_validator(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    Path(addr): Path<String>,
    query: QueryResult<Chain>,
) -> Result<Json<Vec<ValidatorEraPoints>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let wanted = super::nominators::account_hex(&addr)?;
    let (chain, eras) = eras(&state, q.network).await?;
    let shown = address(prefix(&state, &views, &chain).await, &wanted);
    Ok(Json(
        eras.iter()
            .rev()
            .map(|(era, e)| ValidatorEraPoints { era: *era, address: shown.clone(), era_points: e.points.get(&wanted).copied().unwrap_or(0) })
            .collect(),
    ))
}

/// A validator's points in an era.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PointsOf {
    /// Stash, in the network's SS58 encoding.
    address: String,
    era_points: i64,
}

/// One era's points, as 1KV's `TotalEraPoints` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TotalEraPoints {
    era: i64,
    /// The era's total, as the chain gives it.
    total_era_points: i64,
    /// Over the validators with points.
    median: f64,
    average: f64,
    max: i64,
    min: i64,
    /// Block the points were read at (the next era's first).
    block: i64,
    validators_era_points: Vec<PointsOf>,
}

/// Every ended era's points over the last 84, newest first (1KV `GET /totalerapoints`).
#[utoipa::path(get, path = "/1kv/totalerapoints", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page of eras (`X-Total-Count`, `Link`)", body = Vec<TotalEraPoints>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No era with points yet", body = ErrorBody),
))]
pub(crate) async fn totals(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (limit, offset) = q.checked()?;
    let (chain, eras) = eras(&state, q.network.clone()).await?;
    let p = prefix(&state, &views, &chain).await;
    let shown: Vec<TotalEraPoints> = eras
        .iter()
        .rev()
        .skip(offset)
        .take(limit)
        .map(|(era, e)| {
            let (median, average, max, min) = e.stats();
            TotalEraPoints {
                era: *era,
                total_era_points: e.total,
                median,
                average,
                max,
                min,
                block: e.block,
                validators_era_points: e.points.iter().map(|(stash, pts)| PointsOf { address: address(p, stash), era_points: *pts }).collect(),
            }
        })
        .collect();
    let n = shown.len();
    Ok(super::onekv::paged(Json(shown).into_response(), "/1kv/totalerapoints", eras.len(), limit, offset, n))
}
