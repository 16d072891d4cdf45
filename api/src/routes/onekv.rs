//! 1KV's API, at 1KV's paths under `/1kv` with 1KV's field names, so a front
//! end written for the 1KV backend works by pointing its base URL at
//! `<stakeflow>/1kv`. Built from the same read model as stakeflow's own
//! endpoints. 1KV's bugs are not kept: lists are paged (`limit`, `offset`,
//! with the total in `X-Total-Count` and the next page in `Link`),
//! `/nominations/{address}/{last}` answers its data, and every amount is
//! given in planck (a string) beside tokens.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Extension;
use rules::validity::{CheckKind, CheckResult, Verdict};
use rules::{CandidateRound, RoundSnapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::candidates::OfNetwork;
use crate::openapi::ErrorBody;
use crate::read_model::{Answer, ReadModel, respond};
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// Largest page of a 1KV list (1KV answered whole collections).
const MAX_PAGE: usize = 1000;

/// Paging of a 1KV list, and the network where several are scored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct Paging {
    /// Network (optional when one is scored or nominated for).
    pub(super) network: Option<String>,
    /// Items per page, 1..=1000 (default 1000).
    limit: Option<usize>,
    /// Items skipped (default 0).
    offset: Option<usize>,
}

impl Paging {
    /// (limit, offset), checked.
    pub(super) fn checked(&self) -> Result<(usize, usize), ApiError> {
        let limit = self.limit.unwrap_or(MAX_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::BadQuery(format!("limit must be within 1..=1000, not {limit}")));
        }
        Ok((limit, self.offset.unwrap_or(0)))
    }
}

/// The legacy `InvalidityReasonType` 1KV wrote for a check.
fn legacy_type(check: CheckKind) -> &'static str {
    match check {
        CheckKind::Online => "ONLINE",
        CheckKind::ValidateIntention => "VALIDATE_INTENTION",
        CheckKind::ClientVersion => "CLIENT_UPGRADE",
        CheckKind::ConnectionTime => "CONNECTION_TIME",
        CheckKind::Identity => "IDENTITY",
        CheckKind::OfflineTime => "ACCUMULATED_OFFLINE_TIME",
        // 1KV's spelling, which its front ends match on.
        CheckKind::Commission => "COMMISION",
        CheckKind::SelfStake => "SELF_STAKE",
        CheckKind::UnclaimedRewards => "UNCLAIMED_REWARDS",
        CheckKind::Blocked => "BLOCKED",
        CheckKind::KusamaRank => "KUSAMA_RANK",
        CheckKind::Provider => "PROVIDER",
        CheckKind::BeefyKey => "BEEFY",
        CheckKind::SanctionedGeo => "SANCTIONED_GEO_AREA",
        CheckKind::NodesPerIdentity => "NODES_PER_IDENTITY",
    }
}

/// One check, as 1KV's `validity` entries.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Validity {
    valid: bool,
    /// 1KV's `InvalidityReasonType` (`ONLINE`, `COMMISION`, ...).
    #[serde(rename = "type")]
    kind: &'static str,
    /// Why, for people; empty when valid.
    details: String,
    /// When it was judged (ms).
    updated: i64,
    /// valid, invalid or unknown: a check whose data could not be read is unknown, never invalid.
    #[schema(value_type = String)]
    verdict: Verdict,
}

/// The identity embedded in a candidate.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Identity {
    /// Display name of the root identity.
    name: Option<String>,
    /// The account holding it (the candidate's own, or its super's), 0x hex.
    address: String,
    /// A `Reasonable` or `KnownGood` judgement.
    verified: bool,
    judgements: Vec<String>,
}

/// A candidate's score in 1KV's `ValidatorScore` shape.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidatorScore {
    address: String,
    /// Round (session index).
    session: u64,
    /// When the round was taken (ms).
    updated: i64,
    total: f64,
    aggregate: f64,
    inclusion: f64,
    span_inclusion: f64,
    discovered: f64,
    nominated: f64,
    rank: f64,
    unclaimed: f64,
    bonded: f64,
    faults: f64,
    offline: f64,
    location: f64,
    region: f64,
    country: f64,
    provider: f64,
    nominations: f64,
    client: f64,
    randomness: f64,
}

/// A candidate record, with 1KV's field names (`GET /candidate/{address}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    slot_id: i64,
    kyc: bool,
    /// First telemetry sighting (ms); 0 when never seen.
    discovered_at: i64,
    /// Last era active.
    nominated_at: Option<u32>,
    /// 0 while online; null when offline or never seen (the moment it went offline is not kept).
    offline_since: Option<i64>,
    /// Offline time in the uptime window (ms).
    offline_accumulated: i64,
    rank: u32,
    faults: usize,
    /// The reasons of the checks that are not valid, joined.
    invalidity_reasons: String,
    /// Eras with unclaimed rewards.
    unclaimed_eras: Vec<u32>,
    inclusion: f64,
    span_inclusion: f64,
    name: String,
    stash: String,
    kusama_stash: String,
    /// Percent.
    commission: Option<f64>,
    identity: Option<Identity>,
    /// Self stake in tokens (scored candidates).
    bonded: Option<f64>,
    /// Self stake in planck, as a string.
    bonded_planck: Option<String>,
    valid: bool,
    /// valid, invalid or unknown.
    #[schema(value_type = String)]
    verdict: Verdict,
    validity: Vec<Validity>,
    score: Option<ValidatorScore>,
    /// `score.total`, or 0.
    total: f64,
    /// City.
    location: Option<String>,
    provider: Option<String>,
    region: Option<String>,
    country: Option<String>,
    matrix: Vec<String>,
    version: Option<String>,
    implementation: Option<String>,
}

fn score(c: &CandidateRound, r: &RoundSnapshot) -> Option<ValidatorScore> {
    let s = c.score.as_ref()?;
    let p = s.components;
    Some(ValidatorScore {
        address: c.candidate.stash.clone(),
        session: r.round,
        updated: r.at_ms,
        total: s.total,
        aggregate: s.aggregate,
        inclusion: p.inclusion,
        span_inclusion: p.span_inclusion,
        discovered: p.discovered,
        nominated: p.nominated,
        rank: p.rank,
        unclaimed: p.unclaimed,
        bonded: p.bonded,
        faults: p.faults,
        offline: p.offline,
        location: p.location,
        region: p.region,
        country: p.country,
        provider: p.provider,
        nominations: p.nominator_stake,
        client: p.client,
        randomness: s.randomness,
    })
}

fn validity(check: &CheckResult, at_ms: i64) -> Validity {
    let valid = check.verdict == Verdict::Valid;
    Validity {
        valid,
        kind: legacy_type(check.check),
        details: if valid { String::new() } else { check.reason.to_string() },
        updated: at_ms,
        verdict: check.verdict,
    }
}

/// One candidate of a round as 1KV's record.
fn candidate(c: &CandidateRound, r: &RoundSnapshot) -> Candidate {
    let f = &c.facts;
    let node = f.node.as_ref().map(|n| &n.value);
    let location = f.location.as_ref().map(|l| &l.value);
    let staking = f.staking.as_ref().map(|s| &s.value);
    let reasons: Vec<&str> = c.validity.reasons().map(|x| x.reason.as_str()).collect();
    let sc = score(c, r);
    Candidate {
        slot_id: c.candidate.slot_id,
        kyc: c.candidate.kyc,
        discovered_at: node.map_or(0, |n| n.discovered_at_ms),
        nominated_at: c.history.nominated_at,
        offline_since: node.and_then(|n| (n.online == Some(true)).then_some(0)),
        offline_accumulated: node.map_or(0, |n| n.offline_ms),
        rank: c.history.rank,
        faults: c.history.faults.len(),
        invalidity_reasons: reasons.join("; "),
        unclaimed_eras: f.unclaimed_eras.as_ref().map(|u| u.value.0.clone()).unwrap_or_default(),
        inclusion: c.history.inclusion,
        span_inclusion: c.history.span_inclusion,
        name: c.candidate.name.clone(),
        stash: c.candidate.stash.clone(),
        kusama_stash: c.candidate.kusama_stash.clone().unwrap_or_default(),
        commission: staking.map(|s| f64::from(s.commission_perbill) / 1e7),
        identity: f.identity.as_ref().map(|i| Identity {
            name: i.value.display.clone(),
            address: i.value.root.clone(),
            verified: i.value.verified(),
            judgements: i.value.judgements.clone(),
        }),
        bonded: c.inputs.as_ref().map(|i| i.bonded),
        bonded_planck: staking.map(|s| s.self_bonded.to_string()),
        valid: c.validity.valid,
        verdict: c.validity.verdict,
        validity: c.validity.checks.iter().map(|x| validity(x, r.at_ms)).collect(),
        total: sc.as_ref().map_or(0.0, |s| s.total),
        score: sc,
        location: location.and_then(|l| l.city.clone()),
        provider: location.and_then(|l| l.provider.clone()),
        region: location.and_then(|l| l.region.clone()),
        country: location.and_then(|l| l.country.clone()),
        matrix: c.candidate.matrix.clone(),
        version: node.and_then(|n| n.version.clone()),
        implementation: node.and_then(|n| n.implementation.clone()),
    }
}

/// Which candidates a 1KV list holds, in which order.
#[derive(Debug, Clone, Copy)]
enum Listing {
    /// All, by total (1KV `/candidates`).
    ByTotal,
    /// All, by rank (1KV `/candidates/rank`).
    ByRank,
    /// Valid ones (1KV `/candidates/valid`).
    Valid,
    /// Not valid ones (1KV `/candidates/invalid`): invalid and unknown.
    Invalid,
}

impl Listing {
    /// Whether `c` is in the list.
    fn holds(self, c: &CandidateRound) -> bool {
        match self {
            Listing::Valid => c.validity.valid,
            Listing::Invalid => !c.validity.valid,
            Listing::ByTotal | Listing::ByRank => true,
        }
    }
}

fn listed(r: &RoundSnapshot, listing: Listing) -> Vec<&CandidateRound> {
    let mut rows: Vec<&CandidateRound> = r.candidates.iter().filter(|c| listing.holds(c)).collect();
    let total = |c: &CandidateRound| c.score.as_ref().map_or(0.0, |s| s.total);
    match listing {
        Listing::ByRank => rows.sort_by(|a, b| b.history.rank.cmp(&a.history.rank).then_with(|| a.candidate.name.cmp(&b.candidate.name))),
        _ => rows.sort_by(|a, b| total(b).total_cmp(&total(a)).then_with(|| a.candidate.name.cmp(&b.candidate.name))),
    }
    rows
}

/// A page of a 1KV list: the array, with `X-Total-Count` and a `Link` to the next page.
pub(super) fn paged(mut resp: Response, path: &str, total: usize, limit: usize, offset: usize, shown: usize) -> Response {
    let h = resp.headers_mut();
    h.insert("x-total-count", HeaderValue::from(total));
    if offset + shown < total {
        let next = format!("<{path}?limit={limit}&offset={}>; rel=\"next\"", offset + shown);
        if let Ok(v) = HeaderValue::from_str(&next) {
            h.insert(axum::http::header::LINK, v);
        }
    }
    resp
}

async fn list(state: &AppState, views: &ReadModel, headers: &HeaderMap, q: Paging, listing: Listing, path: &str) -> Result<Response, ApiError> {
    let (limit, offset) = q.checked()?;
    let net = super::candidates::network(state, q.network)?;
    let view = views.round(state, &net, None).await?;
    // Counted, not listed: the sorted list is only built when the answer is.
    let total = view.round.candidates.iter().filter(|c| listing.holds(c)).count();
    let answer = view.answer(&format!("1kv/{listing:?}/{limit}/{offset}"), |r| {
        let page: Vec<Candidate> = listed(r, listing).into_iter().skip(offset).take(limit).map(|c| candidate(c, r)).collect();
        Answer::json(&page)
    })?;
    let shown = total.saturating_sub(offset).min(limit);
    Ok(paged(respond(&answer, headers, view.freshness), path, total, limit, offset, shown))
}

/// All candidates of the latest round, by score total (1KV `GET /candidates`).
#[utoipa::path(get, path = "/1kv/candidates", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Candidate>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn candidates(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<Paging>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    list(&state, &views, &headers, q, Listing::ByTotal, "/1kv/candidates").await
}

/// All candidates of the latest round, by rank (1KV `GET /candidates/rank`).
#[utoipa::path(get, path = "/1kv/candidates/rank", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Candidate>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn by_rank(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<Paging>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    list(&state, &views, &headers, q, Listing::ByRank, "/1kv/candidates/rank").await
}

/// The valid candidates of the latest round (1KV `GET /candidates/valid`).
#[utoipa::path(get, path = "/1kv/candidates/valid", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Candidate>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn valid(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<Paging>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    list(&state, &views, &headers, q, Listing::Valid, "/1kv/candidates/valid").await
}

/// The candidates of the latest round that are not valid, invalid or unknown (1KV `GET /candidates/invalid`).
#[utoipa::path(get, path = "/1kv/candidates/invalid", tag = "1kv", params(Paging), responses(
    (status = 200, description = "One page (`X-Total-Count`, `Link`)", body = Vec<Candidate>),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn invalid(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<Paging>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    list(&state, &views, &headers, q, Listing::Invalid, "/1kv/candidates/invalid").await
}

/// One candidate of the latest round (1KV `GET /candidate/{address}`).
#[utoipa::path(get, path = "/1kv/candidate/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), OfNetwork), responses(
    (status = 200, description = "The candidate", body = Candidate),
    (status = 400, description = "A bad query parameter", body = ErrorBody),
    (status = 404, description = "Not a candidate", body = ErrorBody),
))]
pub(crate) async fn one(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(address): Path<String>,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = super::candidates::network(&state, q.network)?;
    let view = views.round(&state, &net, None).await?;
    let c = super::candidates::find(&view.round, &address)?;
    let answer = view.answer(&format!("1kv/one/{}", c.account), |r| Answer::json(&candidate(c, r)))?;
    Ok(respond(&answer, &headers, view.freshness))
}

/// A candidate's latest score (1KV `GET /score/{address}`), or a round's (`/score/{address}/{session}`).
#[utoipa::path(get, path = "/1kv/score/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), OfNetwork), responses(
    (status = 200, description = "The score", body = ValidatorScore),
    (status = 404, description = "Not a candidate, or not scored (only valid candidates are)", body = ErrorBody),
))]
pub(crate) async fn latest_score(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(address): Path<String>,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    score_at(&state, &views, &headers, &address, q.network, None).await
}

/// A candidate's score in a round (1KV `GET /score/{address}/{session}`).
#[utoipa::path(get, path = "/1kv/score/{address}/{session}", tag = "1kv", params(
    ("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"),
    ("session" = u64, Path, description = "Round (session index)"),
    OfNetwork,
), responses(
    (status = 200, description = "The score", body = ValidatorScore),
    (status = 404, description = "No such round, not a candidate, or not scored", body = ErrorBody),
))]
pub(crate) async fn session_score(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path((address, session)): Path<(String, u64)>,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    score_at(&state, &views, &headers, &address, q.network, Some(session)).await
}

async fn score_at(
    state: &AppState,
    views: &ReadModel,
    headers: &HeaderMap,
    address: &str,
    network: Option<String>,
    session: Option<u64>,
) -> Result<Response, ApiError> {
    let net = super::candidates::network(state, network)?;
    let view = views.round(state, &net, session).await?;
    let c = super::candidates::find(&view.round, address)?;
    let Some(s) = score(c, &view.round) else {
        return Err(ApiError::NotFound(format!("{address} was not scored in round {}: only valid candidates are", view.round.round)));
    };
    let answer = view.answer(&format!("1kv/score/{}", c.account), |_| Answer::json(&s))?;
    Ok(respond(&answer, headers, view.freshness))
}

/// The statistics and weights a round's scores were computed with (1KV `GET /scoremetadata`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreMetadata {
    session: u64,
    updated: i64,
    /// Each component's statistics (min, max, mean, ...), as stakeflow computes them.
    #[schema(value_type = Object)]
    stats: Value,
    /// Each component's weight.
    #[schema(value_type = Object)]
    weights: Value,
}

/// The latest round's score metadata (1KV `GET /scoremetadata`).
#[utoipa::path(get, path = "/1kv/scoremetadata", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "Statistics and weights", body = ScoreMetadata),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn latest_metadata(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    metadata_at(&state, &views, &headers, q.network, None).await
}

/// A round's score metadata (1KV `GET /scoremetadata/{session}`).
#[utoipa::path(get, path = "/1kv/scoremetadata/{session}", tag = "1kv", params(("session" = u64, Path, description = "Round (session index)"), OfNetwork), responses(
    (status = 200, description = "Statistics and weights", body = ScoreMetadata),
    (status = 404, description = "No such round", body = ErrorBody),
))]
pub(crate) async fn session_metadata(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(session): Path<u64>,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    metadata_at(&state, &views, &headers, q.network, Some(session)).await
}

async fn metadata_at(state: &AppState, views: &ReadModel, headers: &HeaderMap, network: Option<String>, session: Option<u64>) -> Result<Response, ApiError> {
    super::round_answer(state, views, headers, network, session, "1kv/scoremetadata", |r| {
        Answer::json(&ScoreMetadata {
            session: r.round,
            updated: r.at_ms,
            stats: serde_json::to_value(&r.stats).unwrap_or_default(),
            weights: serde_json::to_value(r.weights).unwrap_or_default(),
        })
    })
    .await
}

/// The latest round's counts (1KV `GET /erastats`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EraStats {
    /// When the round was taken (ms).
    when: i64,
    era: Option<u32>,
    total_nodes: usize,
    valid: usize,
    /// Candidates whose verdict is unknown (a fact could not be read); 1KV had none.
    unknown: usize,
    /// Candidates with KYC.
    kyc: usize,
}

/// The latest round's counts, as 1KV's one-element list (1KV `GET /erastats`).
#[utoipa::path(get, path = "/1kv/erastats", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "A one-element list", body = Vec<EraStats>),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn era_stats(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    super::round_answer(&state, &views, &headers, q.network, None, "1kv/erastats", |r| {
        let (valid, _, unknown) = r.counts();
        Answer::json(&[EraStats {
            when: r.at_ms,
            era: r.era,
            total_nodes: r.candidates.len(),
            valid,
            unknown,
            kyc: r.candidates.iter().filter(|c| c.candidate.kyc).count(),
        }])
    })
    .await
}

/// The backend's state (1KV `GET /healthcheck`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HealthCheck {
    /// stakeflow's version.
    version: String,
    /// Whether every chain is applied within its bounds (`/ready`).
    connected: bool,
    /// The networks served (1KV named its RPC endpoint here; endpoint URLs may carry keys and are never shown).
    current_endpoint: Vec<String>,
}

/// 1KV's health check: 200 while ready, 503 with the same body otherwise.
#[utoipa::path(get, path = "/1kv/healthcheck", tag = "1kv", responses(
    (status = 200, description = "Ready", body = HealthCheck),
    (status = 503, description = "Not ready: see `/ready` for why", body = HealthCheck),
))]
pub(crate) async fn healthcheck(State(state): State<AppState>) -> Result<(axum::http::StatusCode, axum::Json<HealthCheck>), ApiError> {
    let (status, axum::Json(ready)) = super::health::ready(State(state.clone())).await?;
    Ok((
        status,
        axum::Json(HealthCheck { version: env!("CARGO_PKG_VERSION").into(), connected: ready.ready, current_endpoint: state.networks.to_vec() }),
    ))
}
