//! Route table: one module per resource. Every route is registered through
//! `routes!`, which files its handler's `#[utoipa::path]` in the OpenAPI
//! document as well: a route cannot exist undocumented.

mod candidates;
pub(crate) mod health;
mod nodes;
mod nominators;
mod onekv;
mod onekv_era_points;
mod onekv_network;
mod onekv_nominator_stake;
mod onekv_nominators;
mod onekv_release;
mod onekv_rewards;
mod onekv_validators;
mod registry;
mod status;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::openapi::ApiDoc;

/// The answer `key` about `network`'s round `round` (default: the latest),
/// built once by `build` and served with its tag.
pub(crate) async fn round_answer(
    state: &AppState,
    views: &crate::read_model::ReadModel,
    headers: &axum::http::HeaderMap,
    network: Option<String>,
    round: Option<u64>,
    key: &str,
    build: impl FnOnce(&rules::RoundSnapshot) -> Result<crate::read_model::Answer, crate::ApiError>,
) -> Result<axum::response::Response, crate::ApiError> {
    let net = candidates::network(state, network)?;
    let view = views.round(state, &net, round).await?;
    let answer = view.answer(key, build)?;
    Ok(crate::read_model::respond(&answer, headers, view.freshness))
}

/// Readiness as `/ready` judges it now.
pub(crate) async fn readiness_now(state: &AppState) -> Result<(axum::http::StatusCode, axum::Json<crate::Readiness>), crate::ApiError> {
    health::ready(axum::extract::State(state.clone())).await
}

/// The routes, and the OpenAPI document describing them.
pub(crate) fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(status::page))
        .routes(routes!(status::networks))
        .routes(routes!(nodes::list))
        .routes(routes!(crate::events::stream))
        .routes(routes!(candidates::list))
        .routes(routes!(candidates::one))
        .routes(routes!(candidates::score))
        .routes(routes!(candidates::rounds))
        .routes(routes!(candidates::round_view))
        .routes(routes!(nominators::list))
        .routes(routes!(nominators::one))
        .routes(routes!(nominators::history))
        .routes(routes!(nominators::proxy_txs))
        // 1KV's API at its paths: a 1KV front end's base URL set to `<stakeflow>/1kv`.
        .routes(routes!(onekv::healthcheck))
        .routes(routes!(onekv::candidates))
        .routes(routes!(onekv::by_rank))
        .routes(routes!(onekv::valid))
        .routes(routes!(onekv::invalid))
        .routes(routes!(onekv::one))
        .routes(routes!(onekv::latest_score))
        .routes(routes!(onekv::session_score))
        .routes(routes!(onekv::latest_metadata))
        .routes(routes!(onekv::session_metadata))
        .routes(routes!(onekv::era_stats))
        .routes(routes!(onekv_network::location))
        .routes(routes!(onekv_network::location_current_set))
        .routes(routes!(onekv_network::location_stats_latest))
        .routes(routes!(onekv_network::location_stats_valid))
        .routes(routes!(onekv_network::location_stats_of))
        .routes(routes!(onekv_network::beefy))
        .routes(routes!(onekv_network::beefy_dummy))
        .routes(routes!(onekv_network::jobs))
        .routes(routes!(onekv_network::block_index))
        .routes(routes!(onekv_validators::current))
        .routes(routes!(onekv_validators::list))
        .routes(routes!(onekv_validators::one))
        .routes(routes!(onekv_validators::active_eras))
        .routes(routes!(onekv_era_points::of_validator))
        .routes(routes!(onekv_era_points::totals))
        .routes(routes!(onekv_nominators::list))
        .routes(routes!(onekv_nominators::one))
        .routes(routes!(onekv_nominators::status))
        .routes(routes!(onekv_nominators::nominations))
        .routes(routes!(onekv_nominators::last_of))
        .routes(routes!(onekv_nominators::last_nomination))
        .routes(routes!(onekv_nominator_stake::latest))
        .routes(routes!(onekv_nominator_stake::of_era))
        .routes(routes!(onekv_nominator_stake::last))
        .routes(routes!(onekv_release::latest))
        .routes(routes!(onekv_rewards::of_validator))
        .routes(routes!(onekv_rewards::validator_total))
        .routes(routes!(onekv_rewards::validator_stats))
        .routes(routes!(onekv_rewards::validators_total))
        .routes(routes!(onekv_rewards::validators_stats))
        .routes(routes!(onekv_rewards::of_nominator))
        .routes(routes!(onekv_rewards::nominator_total))
        .routes(routes!(onekv_rewards::nominators_total))
        // Schema registry (read side), at the root so `schema.registry.url` is the API's address.
        .routes(routes!(registry::subjects))
        .routes(routes!(registry::versions, registry::register))
        .routes(routes!(registry::version))
        .routes(routes!(registry::version_schema))
        .routes(routes!(registry::by_id))
        .routes(routes!(registry::id_versions))
        .routes(routes!(registry::config))
        .split_for_parts()
}
