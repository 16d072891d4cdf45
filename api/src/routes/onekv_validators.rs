//! 1KV's validator endpoints under `/1kv`: the current validator set, every
//! validator's session keys, and the eras a stash was in a set, from the
//! validator-sets fold. Addresses are answered in the network's own SS58
//! encoding (the one its candidate list uses).

use std::sync::Arc;

use axum::{Extension, Json};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use rules::validator_sets::{ChainSets, Member};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::onekv::Paging;
use crate::openapi::ErrorBody;
use crate::read_model::ReadModel;
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `?network=` (a chain; optional when one is ingested).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct Chain {
    /// The chain (optional when one is ingested).
    pub(super) network: Option<String>,
}

/// The SS58 prefix the network's candidate list uses (42, the generic one, when unknown).
pub(super) async fn prefix(state: &AppState, views: &ReadModel, network: &str) -> u16 {
    let Ok(view) = views.round(state, network, None).await else { return 42 };
    let mut counts = std::collections::BTreeMap::new();
    for c in &view.round.candidates {
        if let Some((p, _)) = schemas::ss58::decode(&c.candidate.stash) {
            *counts.entry(p).or_insert(0usize) += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map_or(42, |(p, _)| p)
}

/// The chain asked for (the only one when none is named).
pub(super) fn chain(state: &AppState, asked: Option<String>) -> Result<String, ApiError> {
    match asked {
        Some(c) => Ok(c),
        None if state.networks.len() == 1 => Ok(state.networks[0].clone()),
        None => Err(ApiError::BadQuery(format!("give ?network=, one of {:?}", state.networks))),
    }
}

/// The chain asked for, and its part of the state of fold `F` (per chain);
/// 404 saying `missing(chain)` when the fold has nothing of it yet.
pub(super) async fn chain_state<F, V>(state: &AppState, asked: Option<String>, missing: impl FnOnce(&str) -> String) -> Result<(String, V), ApiError>
where
    F: scoring::folds::Fold<State = std::collections::BTreeMap<String, V>>,
{
    let chain = chain(state, asked)?;
    let store = state.scoring_store().await?;
    let mut all = scoring::load_state::<F>(store.as_ref()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(mine) = all.remove(&chain) else { return Err(ApiError::NotFound(missing(&chain))) };
    Ok((chain, mine))
}

/// The chain asked for, with its sets.
pub(super) async fn sets(state: &AppState, asked: Option<String>) -> Result<(String, ChainSets), ApiError> {
    chain_state::<scoring::ValidatorSetsFold, _>(state, asked, |c| format!("no session of {c} has been seen yet")).await
}

/// What a request is about: the chain, and how addresses and amounts are shown there.
pub(super) struct Shown {
    pub(super) chain: String,
    prefix: u16,
    decimals: Option<u8>,
}

impl Shown {
    pub(super) async fn new(state: &AppState, views: &ReadModel, network: Option<String>) -> Result<Self, ApiError> {
        let chain = chain(state, network)?;
        let prefix = prefix(state, views, &chain).await;
        let decimals = state.decimals.get(&chain).copied();
        Ok(Self { chain, prefix, decimals })
    }

    /// In tokens, when the network's decimals are configured.
    pub(super) fn tokens(&self, planck: u128) -> Option<f64> {
        self.decimals.map(|d| rules::validity::planck_to_tokens(planck, d))
    }

    /// A 0x account in the network's SS58 encoding.
    pub(super) fn address(&self, hex_account: &str) -> String {
        address(self.prefix, hex_account)
    }
}

pub(super) fn address(prefix: u16, hex_stash: &str) -> String {
    hex::decode(hex_stash.trim_start_matches("0x"))
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map_or_else(|| hex_stash.to_string(), |k| schemas::ss58::encode(prefix, &k))
}

/// Session keys, with 1KV's names.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Keys {
    grandpa: Option<String>,
    babe: Option<String>,
    im_online: Option<String>,
    para_validator: Option<String>,
    para_assignment: Option<String>,
    authority_discovery: Option<String>,
    beefy: Option<String>,
}

/// A validator and its session keys, as 1KV's `Validator` document.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Validator {
    /// Stash, in the network's SS58 encoding.
    address: String,
    keys: Keys,
}

fn validator(prefix: u16, m: &Member) -> Validator {
    let key = |names: &[&str]| names.iter().find_map(|n| m.keys.get(*n).cloned());
    Validator {
        address: address(prefix, &m.stash),
        keys: Keys {
            grandpa: key(&["grandpa"]),
            babe: key(&["babe"]),
            im_online: key(&["im_online", "imOnline"]),
            para_validator: key(&["para_validator", "paraValidator"]),
            para_assignment: key(&["para_assignment", "paraAssignment"]),
            authority_discovery: key(&["authority_discovery", "authorityDiscovery"]),
            beefy: key(&["beefy"]),
        },
    }
}

/// The latest validator set (1KV's `ValidatorSet`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ValidatorSet {
    network: String,
    session: i64,
    era: Option<i64>,
    /// Block of the session change.
    block: i64,
    /// Stashes, in the network's SS58 encoding.
    validators: Vec<String>,
}

/// The current validator set (1KV `GET /validators/current`).
#[utoipa::path(get, path = "/1kv/validators/current", tag = "1kv", params(Chain), responses(
    (status = 200, description = "The latest set", body = ValidatorSet),
    (status = 404, description = "No session seen yet", body = ErrorBody),
))]
pub(crate) async fn current(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Chain>) -> Result<Json<ValidatorSet>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (chain, s) = sets(&state, q.network).await?;
    let p = prefix(&state, &views, &chain).await;
    Ok(Json(ValidatorSet { validators: s.validators.iter().map(|m| address(p, &m.stash)).collect(), network: chain, session: s.session, era: s.era, block: s.block }))
}

/// Every validator of the latest set with its session keys (1KV `GET /validators`).
#[utoipa::path(get, path = "/1kv/validators", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Validator>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No session seen yet", body = ErrorBody),
))]
pub(crate) async fn list(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, query: QueryResult<Paging>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let (limit, offset) = q.checked()?;
    let (chain, s) = sets(&state, q.network.clone()).await?;
    let p = prefix(&state, &views, &chain).await;
    let shown: Vec<Validator> = s.validators.iter().skip(offset).take(limit).map(|m| validator(p, m)).collect();
    let n = shown.len();
    Ok(super::onekv::paged(Json(shown).into_response(), "/1kv/validators", s.validators.len(), limit, offset, n))
}

/// One validator of the latest set with its session keys (1KV `GET /validator/{address}`).
#[utoipa::path(get, path = "/1kv/validator/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "The validator", body = Validator),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "Not in the latest set", body = ErrorBody),
))]
pub(crate) async fn one(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, Path(addr): Path<String>, query: QueryResult<Chain>) -> Result<Json<Validator>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let wanted = super::nominators::account_hex(&addr)?;
    let (chain, s) = sets(&state, q.network).await?;
    let p = prefix(&state, &views, &chain).await;
    s.validators
        .iter()
        .find(|m| m.stash == wanted)
        .map(|m| Json(validator(p, m)))
        .ok_or_else(|| ApiError::NotFound(format!("{addr} is not in the latest validator set of {chain} (session {})", s.session)))
}

/// Eras a stash was in a validator set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActiveEras {
    address: String,
    /// Distinct eras it was in a set, over every session snapshot on the topic.
    active_eras: u32,
    /// The last of them.
    last_era: Option<i64>,
}

/// The eras a stash was in a validator set (1KV `GET /validators/activeeras/{address}`).
#[utoipa::path(get, path = "/1kv/validators/activeeras/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), Chain), responses(
    (status = 200, description = "The count (0 when never in a set)", body = ActiveEras),
    (status = 400, description = "Not an address", body = ErrorBody),
    (status = 404, description = "No session seen yet", body = ErrorBody),
))]
pub(crate) async fn active_eras(State(state): State<AppState>, Extension(views): Extension<Arc<ReadModel>>, Path(addr): Path<String>, query: QueryResult<Chain>) -> Result<Json<ActiveEras>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let wanted = super::nominators::account_hex(&addr)?;
    let (chain, s) = sets(&state, q.network).await?;
    let p = prefix(&state, &views, &chain).await;
    let count = s.active_eras.get(&wanted).copied().unwrap_or_default();
    Ok(Json(ActiveEras { address: address(p, &wanted), active_eras: count.eras, last_era: count.last }))
}
