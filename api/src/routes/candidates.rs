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

use utoipa::{IntoParams, ToSchema};

use crate::openapi::ErrorBody;
use crate::read_model::{Answer, ReadModel, RoundView, respond};
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `?network=` (optional when one network is scored) and `?round=` (default: latest).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct At {
    /// Network (optional when one is scored).
    network: Option<String>,
    /// Round (session index); default: the latest.
    round: Option<u64>,
}

/// `?network=` (optional when one network is scored).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfNetwork {
    /// Network (optional when one is scored).
    pub(super) network: Option<String>,
}

/// Query of `GET /candidates`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Network (optional when one is scored).
    network: Option<String>,
    /// Round (session index); default: the latest.
    round: Option<u64>,
    /// valid, invalid or unknown.
    #[param(value_type = Option<String>, example = "valid")]
    verdict: Option<Verdict>,
    /// total (default), rank or name.
    sort: Option<String>,
    /// Candidates per page, 1..=1000 (default 100).
    limit: Option<usize>,
    /// Candidates skipped (default 0).
    offset: Option<usize>,
    /// Comma-separated fields of each candidate to answer (default: all), e.g. `stash,name,total`.
    fields: Option<String>,
}

/// The fields of a candidate in a list, as `?fields=` names them.
const SUMMARY_FIELDS: [&str; 14] = [
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

pub(super) fn network(state: &AppState, asked: Option<String>) -> Result<String, ApiError> {
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

/// A candidate in a list (with `?fields=`, only the fields named).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Summary {
    /// Slot in the candidates file.
    #[schema(required = false)]
    slot_id: i64,
    /// Name in the candidates file.
    #[schema(required = false)]
    name: String,
    /// Stash, as in the candidates file.
    #[schema(required = false)]
    stash: String,
    /// valid, invalid or unknown (a fact could not be read).
    #[schema(value_type = String, required = false, example = "valid")]
    verdict: Verdict,
    /// Whether the verdict is valid.
    #[schema(required = false)]
    valid: bool,
    /// The checks that are not valid: `{check, verdict, reason}`.
    #[schema(value_type = Vec<Object>, required = false)]
    reasons: Vec<Value>,
    /// Rank.
    #[schema(required = false)]
    rank: u32,
    /// Fraction of the last 84 eras active.
    #[schema(required = false)]
    inclusion: f64,
    /// Fraction of the last 28 eras active.
    #[schema(required = false)]
    span_inclusion: f64,
    /// Last era nominated or active.
    #[schema(required = false)]
    nominated_at: Option<u32>,
    /// Faults recorded.
    #[schema(required = false)]
    faults: usize,
    /// Score total (valid candidates only).
    #[schema(required = false)]
    total: Option<f64>,
    /// Score before randomness (valid candidates only).
    #[schema(required = false)]
    aggregate: Option<f64>,
    /// Display name of the on-chain identity, when it has one.
    #[schema(required = false)]
    identity: Option<String>,
}

/// Valid, invalid and unknown candidates of a round.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Counts {
    valid: usize,
    invalid: usize,
    unknown: usize,
}

impl Counts {
    fn of(r: &RoundSnapshot) -> Self {
        let (valid, invalid, unknown) = r.counts();
        Self { valid, invalid, unknown }
    }
}

/// One page of a round's candidates.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CandidatePage {
    network: String,
    /// Round (session index).
    round: u64,
    era: Option<u32>,
    /// When the round was taken (ms since the epoch).
    at_ms: i64,
    counts: Counts,
    /// Candidates matching the query, over all pages.
    total: usize,
    offset: usize,
    /// Offset of the next page; null on the last.
    next_offset: Option<usize>,
    #[schema(value_type = Vec<Summary>)]
    candidates: Vec<Value>,
}

/// Everything about one candidate in a round.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CandidateDetail {
    network: String,
    round: u64,
    era: Option<u32>,
    at_ms: i64,
    /// The candidates file's entry.
    #[schema(value_type = Object)]
    candidate: Value,
    /// Stash as 0x hex.
    account: String,
    #[schema(value_type = String, example = "invalid")]
    verdict: Verdict,
    valid: bool,
    /// Every check: `{check, verdict, reason, evidence}`.
    #[schema(value_type = Vec<Object>)]
    checks: Value,
    /// Checks turned off by the programme.
    #[schema(value_type = Vec<String>)]
    skipped: Value,
    /// Rank, inclusion, faults, last nominated.
    #[schema(value_type = Object)]
    history: Value,
    /// What validity was judged on, each with its source and time.
    #[schema(value_type = Object)]
    facts: Value,
    /// The score (valid candidates only).
    #[schema(value_type = Option<Object>)]
    score: Value,
}

/// A candidate's score, component by component.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreDetail {
    network: String,
    round: u64,
    /// The round's seed of the random factors (0x hex).
    #[schema(value_type = String)]
    seed: Value,
    stash: String,
    /// Each component: value, statistic, weight, contribution.
    #[schema(value_type = Vec<Object>)]
    components: Value,
    aggregate: f64,
    randomness: f64,
    total: f64,
    /// What the components were computed from.
    #[schema(value_type = Option<Object>)]
    inputs: Value,
    /// Components not computed, and why.
    #[schema(value_type = Object)]
    not_computed: Value,
}

/// The rounds stored for a network.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoundList {
    network: String,
    /// Round numbers (session indices), oldest first.
    rounds: Vec<u64>,
}

/// A round's seed, weights, settings, statistics, counts and the nominations decided from it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoundDetail {
    network: String,
    round: u64,
    era: Option<u32>,
    chain: String,
    block: u64,
    at_ms: i64,
    /// Seed of the random factors (0x hex).
    #[schema(value_type = String)]
    seed: Value,
    #[schema(value_type = Object)]
    weights: Value,
    #[schema(value_type = Object)]
    validity: Value,
    #[schema(value_type = Object)]
    stats: Value,
    counts: Counts,
    #[schema(value_type = Vec<Object>)]
    nominations: Value,
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_default()
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

/// One page of a round's candidates, sorted by score total (or rank, or name), with the checks each fails.
#[utoipa::path(get, path = "/candidates", tag = "candidates", params(ListQuery), responses(
    (status = 200, description = "One page", body = CandidatePage),
    (status = 304, description = "Unchanged since the `If-None-Match` tag"),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No such network or round", body = ErrorBody),
))]
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
fn page(r: &RoundSnapshot, verdict: Option<Verdict>, sort: &str, limit: usize, offset: usize, picked: Option<&[&str]>) -> CandidatePage {
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
    let next_offset = (offset + page.len() < total).then_some(offset + page.len());
    CandidatePage {
        network: r.network.clone(), round: r.round, era: r.era, at_ms: r.at_ms, counts: Counts::of(r),
        total, offset, next_offset, candidates: page,
    }
}

/// The candidate of `r` whose stash is `stash`, in any SS58 encoding or as 0x hex.
pub(super) fn find<'a>(r: &'a RoundSnapshot, stash: &str) -> Result<&'a CandidateRound, ApiError> {
    let wanted = schemas::ss58::hex_account(stash).unwrap_or_else(|| stash.to_lowercase());
    r.candidates
        .iter()
        .find(|c| c.candidate.stash == stash || c.account == wanted)
        .ok_or_else(|| ApiError::NotFound(format!("{stash} is not a candidate of {} in round {}", r.network, r.round)))
}

/// Everything about one candidate in a round: every check with its evidence, history, facts and score.
#[utoipa::path(get, path = "/candidates/{stash}", tag = "candidates", params(("stash" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), At), responses(
    (status = 200, description = "The candidate", body = CandidateDetail),
    (status = 304, description = "Unchanged since the `If-None-Match` tag"),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "Not a candidate of that round", body = ErrorBody),
))]
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
        Answer::json(&CandidateDetail {
            network: r.network.clone(), round: r.round, era: r.era, at_ms: r.at_ms,
            candidate: to_value(&c.candidate), account: c.account.clone(),
            verdict: c.validity.verdict, valid: c.validity.valid,
            checks: to_value(&c.validity.checks), skipped: to_value(&c.validity.skipped),
            history: to_value(&c.history), facts: to_value(&c.facts),
            score: to_value(&c.score),
        })
    })?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// A valid candidate's score, component by component, with what each was computed from.
#[utoipa::path(get, path = "/candidates/{stash}/score", tag = "candidates", params(("stash" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), At), responses(
    (status = 200, description = "The score", body = ScoreDetail),
    (status = 304, description = "Unchanged since the `If-None-Match` tag"),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "Not a candidate, or not valid (only valid candidates are scored)", body = ErrorBody),
))]
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
        Answer::json(&ScoreDetail {
            network: r.network.clone(), round: r.round, seed: to_value(&r.seed), stash: c.candidate.stash.clone(),
            components: to_value(&explain::explain(c, r)),
            aggregate: s.aggregate, randomness: s.randomness, total: s.total,
            inputs: to_value(&c.inputs),
            not_computed: json!({"unclaimed": explain::UNCLAIMED_NOT_COMPUTED}),
        })
    })?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// The rounds stored for a network.
#[utoipa::path(get, path = "/rounds", tag = "rounds", params(At), responses(
    (status = 200, description = "Round numbers", body = RoundList),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No such network", body = ErrorBody),
))]
pub(crate) async fn rounds(State(state): State<AppState>, query: QueryResult<At>) -> Result<Json<RoundList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let store = state.scoring_store().await?;
    let numbers = scoring::scorer::round_numbers(store.as_ref(), &net).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(RoundList { network: net, rounds: numbers }))
}

/// A round's seed, weights, settings, statistics, counts, and the nominations decided from it.
#[utoipa::path(get, path = "/rounds/{round}", tag = "rounds", params(("round" = u64, Path, description = "Round (session index)"), OfNetwork), responses(
    (status = 200, description = "The round", body = RoundDetail),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No such network or round", body = ErrorBody),
))]
pub(crate) async fn round_view(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    Path(number): Path<u64>,
    query: QueryResult<OfNetwork>,
) -> Result<Json<RoundDetail>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = network(&state, q.network)?;
    let view = round(&state, &views, &net, Some(number)).await?;
    let r = &view.round;
    // What this round led to: the nominations decided from it.
    let nominations: Vec<_> =
        super::nominators::nominations(&state, Some(&r.network)).await?.into_iter().filter(|n| n.round == r.round).collect();
    Ok(Json(RoundDetail {
        network: r.network.clone(), round: r.round, era: r.era, chain: r.chain.clone(), block: r.block, at_ms: r.at_ms,
        seed: to_value(&r.seed), weights: to_value(&r.weights), validity: to_value(&r.validity), stats: to_value(&r.stats),
        counts: Counts::of(r),
        nominations: to_value(&nominations),
    }))
}
