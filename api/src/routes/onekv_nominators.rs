//! 1KV's nominator endpoints under `/1kv`, with 1KV's field names, from the
//! nominator's book and history as stored. Unlike 1KV, every list is paged
//! and `/nominations/{address}/{last}` answers its data.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use nominator::book::{AccountStatus, NominationRecord};
use serde::Serialize;
use utoipa::ToSchema;

use super::onekv::Paging;
use crate::openapi::ErrorBody;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// A page of `items` as 1KV's array, with `X-Total-Count` and a `Link` to the next page.
fn page<T: Serialize>(items: Vec<T>, limit: usize, offset: usize, path: &str) -> Response {
    let total = items.len();
    let shown: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let n = shown.len();
    super::onekv::paged(Json(shown).into_response(), path, total, limit, offset, n)
}

/// A target, as 1KV's `current` entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Target {
    stash: String,
    /// Name in the candidate list, when the target was decided by this programme.
    name: Option<String>,
}

/// A nominator account, as 1KV's `Nominator` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Nominator {
    network: String,
    /// The account that signs (1KV's `address`: the controller, or the proxy).
    address: String,
    stash: String,
    /// The proxy delegate, when nominating through a proxy.
    proxy: Option<String>,
    /// Active bond in tokens.
    bonded: Option<f64>,
    /// Active bond in planck, as a string.
    bonded_planck: Option<String>,
    /// The proxy's announcement delay in blocks (0: none).
    proxy_delay: u64,
    /// On-chain targets.
    current: Vec<Target>,
    /// When the last nomination settled (ms), from the history.
    last_nomination: Option<i64>,
    /// The era of the on-chain nomination.
    last_nomination_era: Option<u32>,
}

/// An account's state, as 1KV's `NominatorStatus` (which 1KV served as a JSON string; here it is JSON).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NominatorStatus {
    network: String,
    /// `Nominated`, `Ready to Nominate`, `Nominating`, `Awaiting Proxy Execution`, `Not Nominating`, `Stale`.
    status: String,
    /// Why, for people.
    why: String,
    /// When read (ms).
    updated: i64,
    stale: bool,
    stash_address: String,
    proxy_address: Option<String>,
    bonded_amount: Option<f64>,
    proxy_delay: u64,
    is_proxy: bool,
    dry_run: bool,
    current_targets: Vec<Target>,
    last_nomination_era: Option<u32>,
    eras_since: Option<u32>,
}

/// A nomination, as 1KV's `Nomination` document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Nomination {
    network: String,
    /// The nominator stash.
    address: String,
    era: u32,
    /// The round it was decided from.
    round: u64,
    /// Target stashes.
    validators: Vec<String>,
    /// When it settled (ms).
    timestamp: i64,
    tx_hash: String,
    /// Block of inclusion.
    block: Option<u64>,
    /// confirmed, failed, expired or dry_run.
    outcome: String,
    reason: Option<String>,
}

/// The last era nominated for (1KV's `Era` document).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastNomination {
    network: String,
    last_nominated_era_index: u32,
    /// When its last nomination settled (ms).
    when: i64,
}

fn names(history: &[NominationRecord]) -> BTreeMap<&str, &str> {
    history.iter().flat_map(|n| n.targets.iter().map(|t| (t.stash.as_str(), t.name.as_str()))).collect()
}

fn targets(s: &AccountStatus, names: &BTreeMap<&str, &str>) -> Vec<Target> {
    s.targets.iter().map(|t| Target { stash: t.clone(), name: names.get(t.as_str()).map(|n| n.to_string()) }).collect()
}

/// Every account's status and the history of its network, `network` (or all).
async fn read(state: &AppState, network: Option<&str>) -> Result<Vec<(AccountStatus, Vec<NominationRecord>)>, ApiError> {
    let mut out = Vec::new();
    for (net, book) in nominator::read::books(state.store.as_ref()).await? {
        if network.is_some_and(|n| n != net) {
            continue;
        }
        let history = nominator::read::history(state.store.as_ref(), &net).await?;
        for s in book.statuses.into_values() {
            let mine: Vec<NominationRecord> = history.iter().filter(|n| n.stash == s.stash).cloned().collect();
            out.push((s, mine));
        }
    }
    Ok(out)
}

fn nominator(s: &AccountStatus, history: &[NominationRecord]) -> Nominator {
    let names = names(history);
    Nominator {
        network: s.network.clone(),
        address: s.signer.clone(),
        stash: s.stash.clone(),
        proxy: (s.mode == "proxy").then(|| s.signer.clone()),
        bonded: s.bonded_tokens,
        bonded_planck: s.bonded.clone(),
        proxy_delay: s.proxy_delay_blocks,
        current: targets(s, &names),
        last_nomination: history.iter().filter(|n| n.outcome == "confirmed").map(|n| n.at_ms).max(),
        last_nomination_era: s.submitted_in,
    }
}

/// Every nominator account (1KV `GET /nominators`).
#[utoipa::path(get, path = "/1kv/nominators", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Nominator>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn list(State(state): State<AppState>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (limit, offset) = q.checked()?;
    let all: Vec<Nominator> = read(&state, q.network.as_deref()).await?.iter().map(|(s, h)| nominator(s, h)).collect();
    Ok(page(all, limit, offset, "/1kv/nominators"))
}

/// One nominator account by its stash (1KV `GET /nominator/{address}`).
#[utoipa::path(get, path = "/1kv/nominator/{address}", tag = "1kv", params(("address" = String, Path, description = "The stash, in any SS58 encoding or 0x hex")), responses(
    (status = 200, description = "The account", body = Nominator),
    (status = 404, description = "Not a nominator account of this programme", body = ErrorBody),
))]
pub(crate) async fn one(State(state): State<AppState>, Path(address): Path<String>) -> Result<Json<Nominator>, ApiError> {
    let wanted = super::nominators::account_hex(&address)?;
    read(&state, None)
        .await?
        .iter()
        .find(|(s, _)| s.stash_hex == wanted)
        .map(|(s, h)| Json(nominator(s, h)))
        .ok_or_else(|| ApiError::NotFound(format!("{address} is not a nominator account of this programme")))
}

/// Every account's state (1KV `GET /nominators/status`).
#[utoipa::path(get, path = "/1kv/nominators/status", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<NominatorStatus>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn status(State(state): State<AppState>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (limit, offset) = q.checked()?;
    let all: Vec<NominatorStatus> = read(&state, q.network.as_deref())
        .await?
        .iter()
        .map(|(s, h)| NominatorStatus {
            network: s.network.clone(),
            status: serde_json::to_value(s.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            why: s.why.clone(),
            updated: s.updated_at_ms,
            stale: s.stale,
            stash_address: s.stash.clone(),
            proxy_address: (s.mode == "proxy").then(|| s.signer.clone()),
            bonded_amount: s.bonded_tokens,
            proxy_delay: s.proxy_delay_blocks,
            is_proxy: s.mode == "proxy",
            dry_run: s.dry_run,
            current_targets: targets(s, &names(h)),
            last_nomination_era: s.submitted_in,
            eras_since: s.eras_since,
        })
        .collect();
    Ok(page(all, limit, offset, "/1kv/nominators/status"))
}

fn nomination(n: &NominationRecord) -> Nomination {
    Nomination {
        network: n.network.clone(),
        address: n.stash.clone(),
        era: n.era,
        round: n.round,
        validators: n.targets.iter().map(|t| t.stash.clone()).collect(),
        timestamp: n.at_ms,
        tx_hash: n.tx_hash.clone(),
        block: n.block,
        outcome: n.outcome.clone(),
        reason: n.reason.clone(),
    }
}

/// Every nomination, newest era first (1KV `GET /nominations`).
#[utoipa::path(get, path = "/1kv/nominations", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Nomination>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
))]
pub(crate) async fn nominations(State(state): State<AppState>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (limit, offset) = q.checked()?;
    let all: Vec<Nomination> = super::nominators::nominations(&state, q.network.as_deref()).await?.iter().map(nomination).collect();
    Ok(page(all, limit, offset, "/1kv/nominations"))
}

/// An account's last `last` nominations, newest first (1KV `GET /nominations/{address}/{last}`, which answered nothing).
#[utoipa::path(get, path = "/1kv/nominations/{address}/{last}", tag = "1kv", params(
    ("address" = String, Path, description = "The nominator stash, in any SS58 encoding or 0x hex"),
    ("last" = usize, Path, description = "How many, 1..=1000"),
), responses(
    (status = 200, description = "The nominations", body = Vec<Nomination>),
    (status = 400, description = "Not an address, or `last` out of range", body = ErrorBody),
))]
pub(crate) async fn last_of(State(state): State<AppState>, Path((address, last)): Path<(String, usize)>) -> Result<Json<Vec<Nomination>>, ApiError> {
    if !(1..=1000).contains(&last) {
        return Err(ApiError::BadQuery(format!("last must be within 1..=1000, not {last}")));
    }
    let wanted = super::nominators::account_hex(&address)?;
    let rows = super::nominators::nominations(&state, None).await?;
    let mine = rows.iter().filter(|n| schemas::ss58::hex_account(&n.stash).as_deref() == Some(wanted.as_str())).take(last).map(nomination).collect();
    Ok(Json(mine))
}

/// The last era nominated for, per network (1KV `GET /lastnomination`).
#[utoipa::path(get, path = "/1kv/lastnomination", tag = "1kv", responses(
    (status = 200, description = "Per network, the last era nominated for", body = Vec<LastNomination>),
))]
pub(crate) async fn last_nomination(State(state): State<AppState>) -> Result<Json<Vec<LastNomination>>, ApiError> {
    let mut last: BTreeMap<String, LastNomination> = BTreeMap::new();
    for n in super::nominators::nominations(&state, None).await?.iter().filter(|n| n.outcome == "confirmed") {
        let e = last.entry(n.network.clone()).or_insert(LastNomination { network: n.network.clone(), last_nominated_era_index: n.era, when: n.at_ms });
        if (n.era, n.at_ms) > (e.last_nominated_era_index, e.when) {
            (e.last_nominated_era_index, e.when) = (n.era, n.at_ms);
        }
    }
    Ok(Json(last.into_values().collect()))
}
