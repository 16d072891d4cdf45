//! The programme's nominator accounts and their nominations.

use axum::Json;
use axum::extract::{Path, Query, State};
use nominator::book::{AccountStatus, NominationRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `?network=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkQuery {
    network: Option<String>,
}

/// Query of `GET /nominations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    network: Option<String>,
    stash: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// The account `stash` names (any SS58 encoding, or 0x hex).
fn account_hex(stash: &str) -> Result<String, ApiError> {
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

/// `GET /nominators`: every account with its state, as 1KV named them, and why.
pub(crate) async fn list(State(state): State<AppState>, query: QueryResult<NetworkQuery>) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let all = statuses(&state, q.network.as_deref()).await?;
    Ok(Json(json!({"total": all.len(), "nominators": all})))
}

/// `GET /nominators/{stash}`.
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

/// `GET /nominations?network=&stash=&limit=&offset=`: the history, newest era first.
pub(crate) async fn history(State(state): State<AppState>, query: QueryResult<HistoryQuery>) -> Result<Json<Value>, ApiError> {
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
    let total = rows.len();
    let page: Vec<&NominationRecord> = rows.iter().skip(q.offset.unwrap_or(0)).take(limit).collect();
    Ok(Json(json!({"total": total, "nominations": page})))
}

/// `GET /proxytxs`: pending time-delay announcements, with 1KV's `DelayedTx`
/// fields (`number`, `controller`, `targets`, `callHash`) and ours: the
/// execution block of the proxy pallet's clock, its expected time and ETA.
pub(crate) async fn proxy_txs(State(state): State<AppState>, query: QueryResult<NetworkQuery>) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default();
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
    Ok(Json(json!({"total": out.len(), "proxytxs": out})))
}
