//! Candidates and rounds: the latest round's verdicts, checks with their
//! evidence, history and scores, explained field by field.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Json};
use rules::explain;
use rules::validity::Verdict;
use rules::{CandidateRound, RoundSnapshot};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::read_model::{Answer, ReadModel, RoundView, respond};
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `?network=` (optional when one network is scored) and `?round=` (default: latest).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct At {
    network: Option<String>,
    round: Option<u64>,
}

/// Query of `GET /candidates`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    network: Option<String>,
    round: Option<u64>,
    /// valid, invalid or unknown.
    verdict: Option<Verdict>,
    /// total (default), rank or name.
    sort: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
    /// Comma-separated fields of each candidate to answer (default: all).
    fields: Option<String>,
}

/// The fields of a candidate in a list, as `?fields=` names them.
pub(crate) const SUMMARY_FIELDS: [&str; 14] = [
    "slot_id", "name", "stash", "verdict", "valid", "reasons", "rank", "inclusion", "span_inclusion", "nominated_at",
    "faults", "total", "aggregate", "identity",
];

/// `?fields=` checked: `None` for all.
fn fields(asked: Option<&str>) -> Result<Option<Vec<&str>>, ApiError> {
    let Some(asked) = asked else { return Ok(None) };
    let picked: Vec<&str> = asked.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
    if picked.is_empty() {
        return Err(ApiError::BadQuery(format!("fields is empty; give some of {}", SUMMARY_FIELDS.join(","))));
    }
    if let Some(bad) = picked.iter().find(|f| !SUMMARY_FIELDS.contains(f)) {
        return Err(ApiError::BadQuery(format!("no field {bad:?}; fields are {}", SUMMARY_FIELDS.join(","))));
    }
    Ok(Some(picked))
}

fn network(state: &AppState, asked: Option<String>) -> Result<String, ApiError> {
    match asked {
        Some(n) if state.scored_networks.contains(&n) => Ok(n),
        Some(n) => Err(ApiError::NotFound(format!("network {n:?} is not scored here; scored: {:?}", state.scored_networks))),
        None if state.scored_networks.len() == 1 => Ok(state.scored_networks[0].clone()),
        None => Err(ApiError::BadQuery(format!("give ?network=, one of {:?}", state.scored_networks))),
    }
}

async fn round(state: &AppState, views: &ReadModel, network: &str, round: Option<u64>) -> Result<Arc<RoundView>, ApiError> {
    views.round(state, network, round).await
}

/// A candidate in a list.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    slot_id: i64,
    name: String,
    stash: String,
    verdict: Verdict,
    valid: bool,
    /// The checks that are not valid.
    reasons: Vec<Value>,
    rank: u32,
    inclusion: f64,
    span_inclusion: f64,
    nominated_at: Option<u32>,
    faults: usize,
    total: Option<f64>,
    aggregate: Option<f64>,
    /// Display name of the on-chain identity, when it has one.
    identity: Option<String>,
}

fn summary(c: &CandidateRound) -> Summary {
    Summary {
        slot_id: c.candidate.slot_id,
        name: c.candidate.name.clone(),
        stash: c.candidate.stash.clone(),
        verdict: c.validity.verdict,
        valid: c.validity.valid,
        reasons: c.validity.reasons().map(|r| json!({"check": r.check, "verdict": r.verdict, "reason": r.reason})).collect(),
        rank: c.history.rank,
        inclusion: c.history.inclusion,
        span_inclusion: c.history.span_inclusion,
        nominated_at: c.history.nominated_at,
        faults: c.history.faults.len(),
        total: c.score.as_ref().map(|s| s.total),
        aggregate: c.score.as_ref().map(|s| s.aggregate),
        identity: c.facts.identity.as_ref().and_then(|f| f.value.display.clone()),
    }
}

/// `GET /candidates`: one page of the round's candidates.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<ListQuery>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit must be within 1..=1000, not {limit}")));
    }
    let sort = q.sort.as_deref().unwrap_or("total");
    if !["total", "rank", "name"].contains(&sort) {
        return Err(ApiError::BadQuery(format!("sort must be total, rank or name, not {sort:?}")));
    }
    let picked = fields(q.fields.as_deref())?;
    let net = network(&state, q.network)?;
    let view = round(&state, &views, &net, q.round).await?;
    let offset = q.offset.unwrap_or(0);
    let key = format!("list/{:?}/{sort}/{limit}/{offset}/{picked:?}", q.verdict);
    let answer = view.answer(&key, |r| Answer::json(&page(r, q.verdict, sort, limit, offset, picked.as_deref())))?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// One page of a round's candidates, sorted by `sort`, with `picked` fields only.
fn page(r: &RoundSnapshot, verdict: Option<Verdict>, sort: &str, limit: usize, offset: usize, picked: Option<&[&str]>) -> Value {
    let mut rows: Vec<&CandidateRound> = r.candidates.iter().filter(|c| verdict.is_none_or(|v| c.validity.verdict == v)).collect();
    match sort {
        "rank" => rows.sort_by(|a, b| b.history.rank.cmp(&a.history.rank).then_with(|| a.candidate.name.cmp(&b.candidate.name))),
        "name" => rows.sort_by(|a, b| a.candidate.name.cmp(&b.candidate.name)),
        _ => rows.sort_by(|a, b| {
            let t = |c: &CandidateRound| c.score.as_ref().map_or(f64::NEG_INFINITY, |s| s.total);
            t(b).total_cmp(&t(a)).then_with(|| a.candidate.name.cmp(&b.candidate.name))
        }),
    }
    let total = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|c| {
            let mut row = serde_json::to_value(summary(c)).unwrap_or_default();
            if let (Some(picked), Value::Object(m)) = (picked, &mut row) {
                m.retain(|k, _| picked.contains(&k.as_str()));
            }
            row
        })
        .collect();
    let next = (offset + page.len() < total).then_some(offset + page.len());
    let (valid, invalid, unknown) = r.counts();
    json!({
        "network": r.network, "round": r.round, "era": r.era, "at_ms": r.at_ms,
        "counts": {"valid": valid, "invalid": invalid, "unknown": unknown},
        "total": total, "offset": offset, "next_offset": next, "candidates": page,
    })
}

/// The candidate of `r` whose stash is `stash`, in any SS58 encoding or as 0x hex.
fn find<'a>(r: &'a RoundSnapshot, stash: &str) -> Result<&'a CandidateRound, ApiError> {
    let wanted = schemas::ss58::hex_account(stash).unwrap_or_else(|| stash.to_lowercase());
    r.candidates
        .iter()
        .find(|c| c.candidate.stash == stash || c.account == wanted)
        .ok_or_else(|| ApiError::NotFound(format!("{stash} is not a candidate of {} in round {}", r.network, r.round)))
}

/// `GET /candidates/{stash}`: everything about one candidate in a round.
pub(crate) async fn one(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(stash): Path<String>,
    query: QueryResult<At>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let view = round(&state, &views, &net, q.round).await?;
    let c = find(&view.round, &stash)?;
    let answer = view.answer(&format!("one/{}", c.account), |r| {
        Answer::json(&json!({
            "network": r.network, "round": r.round, "era": r.era, "at_ms": r.at_ms,
            "candidate": c.candidate, "account": c.account,
            "verdict": c.validity.verdict, "valid": c.validity.valid,
            "checks": c.validity.checks, "skipped": c.validity.skipped,
            "history": c.history, "facts": c.facts,
            "score": c.score,
        }))
    })?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// `GET /candidates/{stash}/score`: the score field by field.
pub(crate) async fn score(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(stash): Path<String>,
    query: QueryResult<At>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let view = round(&state, &views, &net, q.round).await?;
    let r = &view.round;
    let c = find(r, &stash)?;
    let Some(s) = &c.score else {
        let why: Vec<&str> = c.validity.reasons().map(|x| x.reason.as_str()).collect();
        return Err(ApiError::NotFound(format!("{stash} was not scored in round {}: only valid candidates are ({})", r.round, why.join("; "))));
    };
    let answer = view.answer(&format!("score/{}", c.account), |r| {
        Answer::json(&json!({
            "network": r.network, "round": r.round, "seed": r.seed, "stash": c.candidate.stash,
            "components": explain::explain(c, r),
            "aggregate": s.aggregate, "randomness": s.randomness, "total": s.total,
            "inputs": c.inputs,
            "not_computed": {"unclaimed": explain::UNCLAIMED_NOT_COMPUTED},
        }))
    })?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// `GET /rounds`: the rounds stored for a network.
pub(crate) async fn rounds(State(state): State<AppState>, query: QueryResult<At>) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let store = state.scoring_store().await?;
    let numbers = scoring::scorer::round_numbers(store.as_ref(), &net).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({"network": net, "rounds": numbers})))
}

/// `GET /rounds/{round}`: a round's seed, weights, settings, statistics and counts.
pub(crate) async fn round_view(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    Path(number): Path<u64>,
    query: QueryResult<At>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let view = round(&state, &views, &net, Some(number)).await?;
    let r = &view.round;
    let (valid, invalid, unknown) = r.counts();
    // What this round led to: the nominations decided from it.
    let nominations: Vec<_> =
        super::nominators::nominations(&state, Some(&r.network)).await?.into_iter().filter(|n| n.round == r.round).collect();
    Ok(Json(json!({
        "network": r.network, "round": r.round, "era": r.era, "chain": r.chain, "block": r.block, "at_ms": r.at_ms,
        "seed": r.seed, "weights": r.weights, "validity": r.validity, "stats": r.stats,
        "counts": {"valid": valid, "invalid": invalid, "unknown": unknown},
        "nominations": nominations,
    })))
}
