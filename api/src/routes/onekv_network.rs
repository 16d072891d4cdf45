//! 1KV's location, BEEFY and job endpoints under `/1kv`, from the latest
//! round (its facts and the statistics it was scored with) and readiness.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rules::RoundSnapshot;
use serde::Serialize;
use utoipa::ToSchema;

use super::candidates::OfNetwork;
use crate::openapi::ErrorBody;
use crate::read_model::{Answer, ReadModel, respond};
use crate::{ApiError, AppState};

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// A candidate's location, as 1KV's `Location` document.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Location {
    name: String,
    address: String,
    city: Option<String>,
    region: Option<String>,
    country: Option<String>,
    provider: Option<String>,
    /// Round (session index) it was read in.
    session: u64,
    /// When the round was taken (ms).
    updated: i64,
    /// Where it came from (telemetry, geolocation).
    source: String,
}

/// The latest location of a candidate (1KV `GET /location/validator/{address}`).
#[utoipa::path(get, path = "/1kv/location/validator/{address}", tag = "1kv", params(("address" = String, Path, description = "Stash in any SS58 encoding, or 0x hex"), OfNetwork), responses(
    (status = 200, description = "The location", body = Location),
    (status = 404, description = "Not a candidate, or no location known", body = ErrorBody),
))]
pub(crate) async fn location(
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
    let Some(loc) = &c.facts.location else {
        return Err(ApiError::NotFound(format!("no location is known for {address} in round {}", view.round.round)));
    };
    let answer = view.answer(&format!("1kv/location/{}", c.account), |r| Answer::json(&location_of(r, c, loc)))?;
    Ok(respond(&answer, &headers, view.freshness))
}

fn location_of(r: &RoundSnapshot, c: &rules::CandidateRound, loc: &rules::validity::Fact<rules::validity::LocationFacts>) -> Location {
    Location {
        name: c.candidate.name.clone(),
        address: c.candidate.stash.clone(),
        city: loc.value.city.clone(),
        region: loc.value.region.clone(),
        country: loc.value.country.clone(),
        provider: loc.value.provider.clone(),
        session: r.round,
        updated: r.at_ms,
        source: loc.source.to_string(),
    }
}

/// The locations of the latest validator set's members that are candidates with
/// a known location (1KV `GET /location/currentvalidatorset`; 1KV too locates only
/// candidates' nodes). Members are taken from the validator-sets fold, locations
/// from the latest round.
#[utoipa::path(get, path = "/1kv/location/currentvalidatorset", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "One location per located member, in the set's order", body = Vec<Location>),
    (status = 404, description = "No session or no round yet", body = ErrorBody),
))]
pub(crate) async fn location_current_set(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    query: QueryResult<OfNetwork>,
) -> Result<axum::Json<Vec<Location>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let net = super::candidates::network(&state, q.network)?;
    let (_, set) = super::onekv_validators::sets(&state, Some(net.clone())).await?;
    let view = views.round(&state, &net, None).await?;
    let r = &view.round;
    let by_stash: std::collections::BTreeMap<&str, &rules::CandidateRound> = r.candidates.iter().map(|c| (c.account.as_str(), c)).collect();
    let located = set
        .validators
        .iter()
        .filter_map(|m| by_stash.get(m.stash.as_str()))
        .filter_map(|c| c.facts.location.as_ref().map(|loc| location_of(r, c, loc)))
        .collect();
    Ok(axum::Json(located))
}

/// Nodes in one bucket.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bucket {
    name: String,
    number_of_nodes: u64,
}

/// How valid candidates spread over locations, as 1KV's `LocationStats`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationStats {
    /// Valid candidates counted.
    total_nodes: usize,
    session: u64,
    updated: i64,
    locations: Vec<Bucket>,
    regions: Vec<Bucket>,
    countries: Vec<Bucket>,
    providers: Vec<Bucket>,
    location_variance: f64,
    region_variance: f64,
    country_variance: f64,
    provider_variance: f64,
    /// 1KV's spelling of `countryVariance`, which its front ends read.
    county_variance: f64,
    /// 1KV's spelling of `providerVariance`, which its front ends read.
    provider_varaince: f64,
}

fn buckets(counts: &std::collections::BTreeMap<String, u64>) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = counts.iter().map(|(name, n)| Bucket { name: name.clone(), number_of_nodes: *n }).collect();
    out.sort_by(|a, b| b.number_of_nodes.cmp(&a.number_of_nodes).then_with(|| a.name.cmp(&b.name)));
    out
}

fn location_stats(r: &RoundSnapshot) -> LocationStats {
    let s = &r.stats;
    let variance = |x: &rules::score::Stats| x.std * x.std;
    LocationStats {
        total_nodes: r.counts().0,
        session: r.round,
        updated: r.at_ms,
        locations: buckets(&s.buckets.city),
        regions: buckets(&s.buckets.region),
        countries: buckets(&s.buckets.country),
        providers: buckets(&s.buckets.provider),
        location_variance: variance(&s.location),
        region_variance: variance(&s.region),
        country_variance: variance(&s.country),
        provider_variance: variance(&s.provider),
        county_variance: variance(&s.country),
        provider_varaince: variance(&s.provider),
    }
}

/// The latest round's location statistics over valid candidates, the ones it was scored with (1KV `GET /locationstats`).
#[utoipa::path(get, path = "/1kv/locationstats", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "Buckets and variances", body = LocationStats),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn location_stats_latest(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    super::round_answer(&state, &views, &headers, q.network, None, "1kv/locationstats", |r| Answer::json(&location_stats(r))).await
}

/// Location statistics over valid candidates (1KV `GET /locationstats/valid`). 1KV
/// recomputed them here with its default weights instead of the configured ones; this
/// answers the latest round's, the ones its candidates were scored with.
#[utoipa::path(get, path = "/1kv/locationstats/valid", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "Buckets and variances", body = LocationStats),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn location_stats_valid(
    state: State<AppState>,
    views: Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    location_stats_latest(state, views, headers, query).await
}

/// A round's location statistics (1KV `GET /locationstats/{session}`).
#[utoipa::path(get, path = "/1kv/locationstats/{session}", tag = "1kv", params(("session" = u64, Path, description = "Round (session index)"), OfNetwork), responses(
    (status = 200, description = "Buckets and variances", body = LocationStats),
    (status = 404, description = "No such round", body = ErrorBody),
))]
pub(crate) async fn location_stats_of(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    Path(session): Path<u64>,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    super::round_answer(&state, &views, &headers, q.network, Some(session), "1kv/locationstats", |r| Answer::json(&location_stats(r))).await
}

/// BEEFY keys among the candidates in the session's validator set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BeefyStats {
    session: u64,
    /// Candidates of the round.
    candidates: usize,
    /// Candidates in the session's validator set (whose keys are known).
    with_keys: usize,
    /// Of those, with a real (non-dummy) BEEFY key.
    beefy: usize,
    /// Of those, with the dummy "beef" key.
    dummy: usize,
    /// `beefy / with_keys`, percent (0 when none has keys).
    beefy_percent: f64,
}

/// BEEFY key statistics of the latest round's candidates (1KV `GET /validators/beefy`, over candidates).
#[utoipa::path(get, path = "/1kv/validators/beefy", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "Counts", body = BeefyStats),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn beefy(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    super::round_answer(&state, &views, &headers, q.network, None, "1kv/beefy", |r| {
        let keys: Vec<&str> = r.candidates.iter().filter_map(|c| c.facts.beefy_key.as_ref().map(|k| k.value.as_str())).collect();
        let dummy = keys.iter().filter(|k| rules::validity::is_dummy_beefy(k)).count();
        let beefy = keys.len() - dummy;
        Answer::json(&BeefyStats {
            session: r.round,
            candidates: r.candidates.len(),
            with_keys: keys.len(),
            beefy,
            dummy,
            beefy_percent: if keys.is_empty() { 0.0 } else { beefy as f64 * 100.0 / keys.len() as f64 },
        })
    })
    .await
}

/// A candidate with the dummy BEEFY key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DummyKey {
    name: String,
    stash: String,
    beefy_key: String,
}

/// The latest round's candidates with the dummy BEEFY key (1KV `GET /validators/beefy/dummy`).
#[utoipa::path(get, path = "/1kv/validators/beefy/dummy", tag = "1kv", params(OfNetwork), responses(
    (status = 200, description = "The candidates", body = Vec<DummyKey>),
    (status = 404, description = "No round yet", body = ErrorBody),
))]
pub(crate) async fn beefy_dummy(
    State(state): State<AppState>,
    Extension(views): Extension<Arc<ReadModel>>,
    headers: HeaderMap,
    query: QueryResult<OfNetwork>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    super::round_answer(&state, &views, &headers, q.network, None, "1kv/beefy/dummy", |r| {
        let dummies: Vec<DummyKey> = r
            .candidates
            .iter()
            .filter_map(|c| {
                let key = &c.facts.beefy_key.as_ref()?.value;
                rules::validity::is_dummy_beefy(key).then(|| DummyKey { name: c.candidate.name.clone(), stash: c.candidate.stash.clone(), beefy_key: key.clone() })
            })
            .collect();
        Answer::json(&dummies)
    })
    .await
}

/// A stage of the pipeline, as 1KV's job status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Job {
    name: String,
    /// `running` or `errored`.
    status: String,
    /// Blocks (chains) or records (consumers) behind.
    behind: Option<u64>,
    /// Why, when errored.
    error: Option<String>,
}

/// The pipeline's stages and whether each keeps up (1KV `GET /scorekeeper/jobs`), from readiness.
#[utoipa::path(get, path = "/1kv/scorekeeper/jobs", tag = "1kv", responses((status = 200, description = "One per chain ingest and consumer", body = Vec<Job>)))]
pub(crate) async fn jobs(State(state): State<AppState>) -> Result<axum::Json<Vec<Job>>, ApiError> {
    let (_, axum::Json(r)) = super::readiness_now(&state).await?;
    let status = |ready: bool| if ready { "running" } else { "errored" }.to_string();
    let mut out: Vec<Job> = r
        .chains
        .iter()
        .map(|c| Job { name: format!("ingest {}", c.chain), status: status(c.ready), behind: c.lag, error: c.why.clone() })
        .collect();
    out.extend(r.consumers.iter().map(|c| Job { name: c.consumer.clone(), status: status(c.ready), behind: Some(c.behind), error: c.why.clone() }));
    Ok(axum::Json(out))
}

/// The blocks indexed of a chain (1KV's block index).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockIndex {
    network: String,
    /// The latest block applied.
    latest: u64,
    /// The first block applied (ingest applies every block from there, without gaps).
    earliest: u64,
    blocks_indexed: u64,
}

/// Per chain, the blocks applied (1KV `GET /blockindex`).
#[utoipa::path(get, path = "/1kv/blockindex", tag = "1kv", responses((status = 200, description = "One per chain with blocks applied", body = Vec<BlockIndex>)))]
pub(crate) async fn block_index(State(state): State<AppState>) -> Result<axum::Json<Vec<BlockIndex>>, ApiError> {
    let heads = state.store.chain_heads(state.consumer).await?;
    Ok(axum::Json(
        heads
            .into_iter()
            .filter(|h| h.applied_blocks > 0)
            .map(|h| BlockIndex { earliest: (h.number + 1).saturating_sub(h.applied_blocks), latest: h.number, blocks_indexed: h.applied_blocks, network: h.chain })
            .collect(),
    ))
}
