//! 1KV's reward endpoints under `/1kv`: rewards paid to a validator (its
//! own share) or a nominator, era by era, their totals and statistics, from
//! the rewards fold's rows. Totals are kept by the fold as rewards are
//! booked, so no answer adds up a whole collection (1KV summed every reward
//! document in memory). 1KV's `avgEfficiency` and `avgStake` need exposures
//! and are not given.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rules::rewards::{EraRewards, Role, Totals};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

use super::onekv::Paging;
use super::onekv_validators::{Chain, Shown};
use crate::openapi::ErrorBody;
use crate::read_model::ReadModel;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;
type PathResult<T> = Result<Path<T>, axum::extract::rejection::PathRejection>;

/// A reward paid, as 1KV's `Reward` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reward {
    era: i64,
    /// validator (its own share) or nominator.
    role: String,
    /// The validator whose payout paid it.
    validator: String,
    /// The nominator paid (role nominator).
    nominator: Option<String>,
    /// In tokens (when the network's decimals are configured).
    reward_amount: Option<f64>,
    /// Planck, as a string.
    reward_amount_planck: String,
    block_number: i64,
    /// The `Rewarded` event's index in its block.
    event_index: i32,
}

/// An account's rewards in one role, summed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Total {
    /// In the network's SS58 encoding.
    address: String,
    /// In tokens (when the network's decimals are configured).
    total: Option<f64>,
    /// Planck, as a string.
    total_planck: String,
    reward_count: u64,
    /// Mean reward, in tokens.
    average: Option<f64>,
    first_era: i64,
    last_era: i64,
}

/// Statistics over every account's totals in a role.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoleStats {
    /// Accounts rewarded.
    accounts: usize,
    /// Every reward summed, in tokens.
    total: Option<f64>,
    total_planck: String,
    reward_count: u64,
    /// An account's total: mean and median, in tokens.
    mean_total: Option<f64>,
    median_total: Option<f64>,
}

impl Shown {
    fn total(&self, account: &str, t: &Totals) -> Total {
        let planck = t.planck();
        Total {
            address: self.address(account),
            total: self.tokens(planck),
            total_planck: t.total.clone(),
            reward_count: t.count,
            average: self.tokens(planck / u128::from(t.count.max(1))),
            first_era: t.first_era,
            last_era: t.last_era,
        }
    }
}

async fn scan<T: serde::de::DeserializeOwned>(state: &AppState, prefix: &str) -> Result<Vec<(String, T)>, ApiError> {
    let store = state.scoring_store().await?;
    let rows = store.scan_states(scoring::REWARDS_CONSUMER, prefix).await?;
    Ok(rows.into_iter().filter_map(|(k, v)| Some((k[prefix.len()..].to_string(), serde_json::from_slice(&v).ok()?))).collect())
}

/// An account's rewards in a role, newest first.
async fn rewards(state: &AppState, shown: &Shown, account: &str, role: Role) -> Result<Vec<Reward>, ApiError> {
    let eras: Vec<(String, EraRewards)> = scan(state, &rules::rewards::era_prefix(&shown.chain, account)).await?;
    let mut out: Vec<Reward> = eras
        .into_iter()
        .flat_map(|(_, e)| e.rewards.into_values().map(move |r| (e.era, r)))
        .filter(|(_, r)| r.role == role)
        .map(|(era, r)| Reward {
            era,
            role: role.as_str().to_string(),
            validator: shown.address(&r.validator),
            nominator: (role == Role::Nominator).then(|| shown.address(account)),
            reward_amount: r.amount.parse().ok().and_then(|p| shown.tokens(p)),
            reward_amount_planck: r.amount,
            block_number: r.block,
            event_index: r.index,
        })
        .collect();
    out.sort_by(|a, b| (b.era, b.block_number, b.event_index).cmp(&(a.era, a.block_number, a.event_index)));
    Ok(out)
}

/// Every account's totals in a role, largest first.
async fn totals(state: &AppState, shown: &Shown, role: Role) -> Result<Vec<(String, Totals)>, ApiError> {
    let mut all: Vec<(String, Totals)> = scan(state, &rules::rewards::totals_prefix(&shown.chain, role)).await?;
    all.sort_by(|a, b| b.1.planck().cmp(&a.1.planck()).then_with(|| a.0.cmp(&b.0)));
    Ok(all)
}

async fn account_rewards(state: AppState, views: Arc<ReadModel>, addr: String, q: Paging, role: Role, path: &str) -> Result<Response, ApiError> {
    let (limit, offset) = q.checked()?;
    let account = super::nominators::account_hex(&addr)?;
    let shown = Shown::new(&state, &views, q.network).await?;
    let all = rewards(&state, &shown, &account, role).await?;
    let total = all.len();
    let page: Vec<Reward> = all.into_iter().skip(offset).take(limit).collect();
    let n = page.len();
    Ok(super::onekv::paged(Json(page).into_response(), path, total, limit, offset, n))
}

async fn account_total(state: AppState, views: Arc<ReadModel>, addr: String, q: Chain, role: Role) -> Result<Json<Total>, ApiError> {
    let account = super::nominators::account_hex(&addr)?;
    let shown = Shown::new(&state, &views, q.network).await?;
    let key = format!("{}{account}", rules::rewards::totals_prefix(&shown.chain, role));
    let store = state.scoring_store().await?;
    let stored = store.load_state(scoring::REWARDS_CONSUMER, &key).await?;
    let t: Totals = stored.and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(|| ApiError::NotFound(format!("no {} reward paid to {addr} on {}", role.as_str(), shown.chain)))?;
    Ok(Json(shown.total(&account, &t)))
}

async fn role_totals(state: AppState, views: Arc<ReadModel>, q: Paging, role: Role, path: &str) -> Result<Response, ApiError> {
    let (limit, offset) = q.checked()?;
    let shown = Shown::new(&state, &views, q.network).await?;
    let all = totals(&state, &shown, role).await?;
    let total = all.len();
    let page: Vec<Total> = all.iter().skip(offset).take(limit).map(|(a, t)| shown.total(a, t)).collect();
    let n = page.len();
    Ok(super::onekv::paged(Json(page).into_response(), path, total, limit, offset, n))
}

macro_rules! path_and_query {
    ($path:expr, $query:expr) => {{
        let Path(addr) = $path.map_err(|e| ApiError::BadQuery(e.body_text()))?;
        let Query(q) = $query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
        (addr, q)
    }};
}

/// A validator's own rewards, newest first (1KV `GET /rewards/validator/{address}`).
#[utoipa::path(get, path = "/1kv/rewards/validator/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Reward>),
    (status = 400, description = "Not an address, or a bad query parameter", body = ErrorBody),
))]
pub(crate) async fn of_validator(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, path: PathResult<String>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let (addr, q) = path_and_query!(path, query);
    let at = format!("/1kv/rewards/validator/{addr}");
    account_rewards(state, views, addr, q, Role::Validator, &at).await
}

/// A validator's own rewards summed (1KV `GET /rewards/validator/{address}/total`).
#[utoipa::path(get, path = "/1kv/rewards/validator/{address}/total", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "Its totals", body = Total),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "No reward paid to it", body = ErrorBody),
))]
pub(crate) async fn validator_total(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, path: PathResult<String>, query: QueryResult<Chain>) -> Result<Json<Total>, ApiError> {
    let (addr, q) = path_and_query!(path, query);
    account_total(state, views, addr, q, Role::Validator).await
}

/// A validator's reward statistics: total, count, mean (1KV `GET /rewards/validator/{address}/stats`).
#[utoipa::path(get, path = "/1kv/rewards/validator/{address}/stats", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "Its totals and mean reward", body = Total),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "No reward paid to it", body = ErrorBody),
))]
pub(crate) async fn validator_stats(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, path: PathResult<String>, query: QueryResult<Chain>) -> Result<Json<Total>, ApiError> {
    let (addr, q) = path_and_query!(path, query);
    account_total(state, views, addr, q, Role::Validator).await
}

/// Every validator's total, largest first (1KV `GET /rewards/validators/total`).
#[utoipa::path(get, path = "/1kv/rewards/validators/total", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Total>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn validators_total(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    role_totals(state, views, q, Role::Validator, "/1kv/rewards/validators/total").await
}

/// Statistics over every validator's total (1KV `GET /rewards/validators/stats`).
#[utoipa::path(get, path = "/1kv/rewards/validators/stats", tag = "1kv", params(Chain), responses(
    (status = 200, description = "Over the validators rewarded", body = RoleStats),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn validators_stats(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Chain>) -> Result<Json<RoleStats>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let shown = Shown::new(&state, &views, q.network).await?;
    let all = totals(&state, &shown, Role::Validator).await?;
    let sum = all.iter().map(|(_, t)| t.planck()).fold(0u128, u128::saturating_add);
    // Sorted largest first: the median is in the middle either way.
    let n = all.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(all[n / 2].1.planck()),
        _ => Some(all[n / 2 - 1].1.planck() / 2 + all[n / 2].1.planck() / 2),
    };
    Ok(Json(RoleStats {
        accounts: n,
        total: shown.tokens(sum),
        total_planck: sum.to_string(),
        reward_count: all.iter().map(|(_, t)| t.count).sum(),
        mean_total: (n > 0).then(|| shown.tokens(sum / n as u128)).flatten(),
        median_total: median.and_then(|m| shown.tokens(m)),
    }))
}

/// A nominator's rewards, newest first (1KV `GET /rewards/nominator/{address}`).
#[utoipa::path(get, path = "/1kv/rewards/nominator/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Reward>),
    (status = 400, description = "Not an address, or a bad query parameter", body = ErrorBody),
))]
pub(crate) async fn of_nominator(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, path: PathResult<String>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let (addr, q) = path_and_query!(path, query);
    let at = format!("/1kv/rewards/nominator/{addr}");
    account_rewards(state, views, addr, q, Role::Nominator, &at).await
}

/// A nominator's rewards summed (1KV `GET /rewards/nominator/{address}/total`).
#[utoipa::path(get, path = "/1kv/rewards/nominator/{address}/total", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "Its totals", body = Total),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "No reward paid to it", body = ErrorBody),
))]
pub(crate) async fn nominator_total(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, path: PathResult<String>, query: QueryResult<Chain>) -> Result<Json<Total>, ApiError> {
    let (addr, q) = path_and_query!(path, query);
    account_total(state, views, addr, q, Role::Nominator).await
}

/// Every nominator's total, largest first (1KV `GET /rewards/nominators/total`).
#[utoipa::path(get, path = "/1kv/rewards/nominators/total", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Total>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn nominators_total(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    role_totals(state, views, q, Role::Nominator, "/1kv/rewards/nominators/total").await
}
