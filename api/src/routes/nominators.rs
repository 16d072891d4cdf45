//! The programme's nominator accounts and their nominations.

use axum::Json;
use axum::extract::{Path, Query, State};
use nominator::book::{AccountStatus, NominationRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `?network=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkQuery {
    /// Only this network (default: all).
    network: Option<String>,
}

/// Query of `GET /nominations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// Only this network (default: all).
    network: Option<String>,
    /// Only this nominator account (any SS58 encoding, or 0x hex).
    stash: Option<String>,
    /// Nominations per page, 1..=1000 (default 100).
    limit: Option<usize>,
    /// Nominations skipped (default 0).
    offset: Option<usize>,
}

/// Every nominator account.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NominatorList {
    total: usize,
    /// Each account: its state as 1KV named them, why, its last nomination and the transactions in flight.
    #[schema(value_type = Vec<Object>)]
    nominators: Vec<Value>,
}

/// One page of nominations, newest era first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NominationPage {
    /// Nominations matching, over all pages.
    total: usize,
    offset: usize,
    /// Offset of the next page; null on the last.
    next_offset: Option<usize>,
    /// Each nomination: network, era, round, account, targets, transaction and outcome.
    #[schema(value_type = Vec<Object>)]
    nominations: Vec<Value>,
}

/// Pending time-delay announcements.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProxyTxList {
    total: usize,
    /// Each announcement, with 1KV's `DelayedTx` fields (`number`, `controller`, `targets`, `callHash`) and its ETA.
    #[schema(value_type = Vec<Object>)]
    proxytxs: Vec<Value>,
}

/// The account `stash` names (any SS58 encoding, or 0x hex).
pub(super) fn account_hex(stash: &str) -> Result<String, ApiError> {
    if let Some(h) = schemas::ss58::hex_account(stash) {
        return Ok(h);
    }
    let hex = stash.to_lowercase();
    let ok = hex.len() == 66 && hex.starts_with("0x") && hex[2..].bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some(hex).ok_or_else(|| ApiError::BadQuery(format!("{stash:?} is not an SS58 address or a 0x account")))
}

fn view(s: &AccountStatus, in_flight: Vec<Value>) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["in_flight"] = Value::Array(in_flight);
    v
}

async fn statuses(state: &AppState, network: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for (net, book) in nominator::read::books(state.store.as_ref()).await? {
        if network.is_some_and(|n| n != net) {
            continue;
        }
        for s in book.statuses.values() {
            let txs = book
                .txs
                .values()
                .filter(|t| t.items.iter().any(|i| i.stash_hex == s.stash_hex))
                .map(|t| json!({"tx_hash": t.hash, "nonce": t.nonce, "era": t.era, "round": t.round, "mortal_until": t.mortal_until}))
                .collect();
            out.push(view(s, txs));
        }
    }
    Ok(out)
}

/// Every nominator account with its state, as 1KV named them, and why.
#[utoipa::path(get, path = "/nominators", tag = "nominators", params(NetworkQuery), responses(
    (status = 200, description = "The accounts", body = NominatorList),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn list(State(state): State<AppState>, query: QueryResult<NetworkQuery>) -> Result<Json<NominatorList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let all = statuses(&state, q.network.as_deref()).await?;
    Ok(Json(NominatorList { total: all.len(), nominators: all }))
}

/// One nominator account.
#[utoipa::path(get, path = "/nominators/{stash}", tag = "nominators", params(("stash" = String, Path, description = "Any SS58 encoding, or 0x hex")), responses(
    (status = 200, description = "The account: its state, why, its last nomination and the transactions in flight", body = Object),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "Not a nominator account of this programme", body = ErrorBody),
))]
pub(crate) async fn one(State(state): State<AppState>, Path(stash): Path<String>) -> Result<Json<Value>, ApiError> {
    let hex = account_hex(&stash)?;
    statuses(&state, None)
        .await?
        .into_iter()
        .find(|s| s["stash_hex"] == hex)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("{stash} is not a nominator account of this programme")))
}

/// The nominations of `network` (all networks when `None`), newest era first.
pub(crate) async fn nominations(state: &AppState, network: Option<&str>) -> Result<Vec<NominationRecord>, ApiError> {
    let mut out = Vec::new();
    for (net, _) in nominator::read::books(state.store.as_ref()).await? {
        if network.is_none_or(|n| n == net) {
            out.extend(nominator::read::history(state.store.as_ref(), &net).await?);
        }
    }
    out.sort_by(|a, b| b.era.cmp(&a.era).then_with(|| a.network.cmp(&b.network)).then_with(|| a.stash.cmp(&b.stash)));
    Ok(out)
}

/// The nominations made, newest era first.
#[utoipa::path(get, path = "/nominations", tag = "nominators", params(HistoryQuery), responses(
    (status = 200, description = "One page", body = NominationPage),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn history(State(state): State<AppState>, query: QueryResult<HistoryQuery>) -> Result<Json<NominationPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit must be within 1..=1000, not {limit}")));
    }
    let stash = q.stash.as_deref().map(account_hex).transpose()?;
    let rows: Vec<NominationRecord> = nominations(&state, q.network.as_deref())
        .await?
        .into_iter()
        .filter(|r| stash.as_ref().is_none_or(|h| schemas::ss58::hex_account(&r.stash).as_ref() == Some(h)))
        .collect();
    let (total, offset) = (rows.len(), q.offset.unwrap_or(0));
    let page: Vec<Value> = rows.iter().skip(offset).take(limit).map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
    let next_offset = (offset + page.len() < total).then_some(offset + page.len());
    Ok(Json(NominationPage { total, offset, next_offset, nominations: page }))
}

/// Pending time-delay announcements, with 1KV's `DelayedTx` fields (`number`,
/// `controller`, `targets`, `callHash`) and ours: the execution block of the
/// proxy pallet's clock, its expected time and ETA.
#[utoipa::path(get, path = "/proxytxs", tag = "nominators", params(NetworkQuery), responses(
    (status = 200, description = "The announcements", body = ProxyTxList),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn proxy_txs(State(state): State<AppState>, query: QueryResult<NetworkQuery>) -> Result<Json<ProxyTxList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let now = schemas::clock::now_ms();
    let mut out = Vec::new();
    for (net, book) in nominator::read::books(state.store.as_ref()).await? {
        if q.network.as_deref().is_some_and(|n| n != net) {
            continue;
        }
        for a in book.announcements.values() {
            let mut v = serde_json::to_value(a).unwrap_or_default();
            v["number"] = json!(a.block);
            v["controller"] = json!(a.stash);
            v["callHash"] = json!(a.call_hash);
            v["eta_ms"] = json!((a.expected_at_ms - now).max(0));
            out.push(v);
        }
    }
    Ok(Json(ProxyTxList { total: out.len(), proxytxs: out }))
}
