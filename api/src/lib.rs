//! The public REST API: `router(AppState)` builds the whole surface, `serve`
//! binds it. Handlers read the store only; `/events` streams the topics.

mod conditional;
mod config;
mod error;
mod events;
mod limits;
mod openapi;
mod read_model;
mod ready;
mod process;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use store::Store;
use tokio_util::sync::CancellationToken;

pub use config::ApiConfig;
pub use error::ApiError;
pub use limits::apply as with_limits;
pub use process::metrics_router;
pub use ready::{BrokerReadiness, ChainReadiness, ProcessReadiness, Readiness, readiness};

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The state store.
    pub store: Arc<dyn Store>,
    /// Networks configured, so one with no data yet shows as not ready.
    pub networks: Arc<Vec<String>>,
    /// The consumer whose applied state `/ready` reports.
    pub consumer: &'static str,
    /// Largest lag (blocks) at which `/ready` still answers 200.
    pub ready_max_lag: u64,
    /// Longest time (ms) since ingest last heard from a chain at which `/ready` still answers 200.
    pub ready_max_silence_ms: i64,
    /// Most records a folding consumer may have left to apply at its last report for `/ready` to answer 200.
    pub ready_max_behind: u64,
    /// Renders the process's metrics in Prometheus text format, for `/metrics`.
    pub metrics: Option<MetricsRender>,
    /// Window over which `/nodes` reports offline time, ms.
    pub uptime_window_ms: i64,
    /// Where scoring tables live (the live namespace); `None`: in `store`.
    pub namespaces: Option<Arc<store::Namespaces>>,
    /// Networks with a programme (the default when a request names none and there is one).
    pub scored_networks: Arc<Vec<String>>,
    /// Networks a nominator runs for (`/ready` judges its passes there).
    pub nominated_networks: Arc<Vec<String>>,
    /// The broker `/events` streams the topics from (`None`: no live stream).
    pub events: Option<bus::BusConfig>,
    /// Token decimals per network, for amounts in tokens (a network missing: planck only).
    pub decimals: Arc<std::collections::BTreeMap<String, u8>>,
    /// This process's probe of the broker, judged by `/ready` (`None`: no broker here).
    pub broker: Option<bus::BrokerHealth>,
}

impl AppState {
    /// The store holding the live scoring tables.
    pub async fn scoring_store(&self) -> Result<Arc<dyn Store>, ApiError> {
        Ok(self.scoring_namespace().await?.1)
    }

    /// The live scoring namespace's name (`None`: the base store) and store.
    pub async fn scoring_namespace(&self) -> Result<(Option<String>, Arc<dyn Store>), ApiError> {
        match &self.namespaces {
            Some(ns) => Ok(ns.live().await?),
            None => Ok((None, self.store.clone())),
        }
    }
}

/// A function that renders metrics in Prometheus text format.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// The whole API.
pub fn router(state: AppState) -> Router {
    build(state, CancellationToken::new())
}

/// The API, whose live streams end when `shutdown` is cancelled (a graceful
/// shutdown waits for every open connection, and a stream never ends by itself).
fn build(state: AppState, shutdown: CancellationToken) -> Router {
    let (routes, doc) = routes::router();
    routes
        .with_state(state)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(error::no_route)
        .layer(axum::Extension(Arc::new(read_model::ReadModel::default())))
        .layer(axum::Extension(events::StreamsEnd(shutdown)))
        .layer(axum::middleware::from_fn(conditional::tag))
        .layer(axum::middleware::from_fn(error::json_rejections))
}

/// The OpenAPI document of [`router`], as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::router().1
}

/// Bind `cfg.listen` and serve until `shutdown`; returns the bound address and
/// the server task.
pub async fn serve(
    cfg: &ApiConfig,
    state: AppState,
    shutdown: CancellationToken,
) -> Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>), std::io::Error> {
    let listener = tokio::net::TcpListener::bind(cfg.listen).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen on {} ({e}); set api.listen to a free address", cfg.listen))
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "api listening");
    let app = limits::apply(build(state, shutdown.clone()), cfg);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
    });
    Ok((addr, task))
}
