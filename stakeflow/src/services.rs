//! Starting services. Every mode runs the same starters: `run` only adds the
//! embedded broker and starts them all in one process. Services talk through
//! topics and the store, never through in-process shortcuts.

use std::time::Duration;

use anyhow::Context;
use api::AppState;
use bus::embedded::EmbeddedBroker;
use ingest::BlockIngest;
use scoring::HeadsConsumer;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::AppConfig;

/// One service of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Chain ingest (one task per network).
    Ingest,
    /// Scoring consumers.
    Score,
    /// REST API.
    Api,
}

const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Single-machine mode: an embedded broker unless one is configured, then every service.
pub async fn run_all(mut cfg: AppConfig) -> anyhow::Result<()> {
    let _broker = match &cfg.kafka.brokers {
        Some(_) => None,
        None => {
            let broker = EmbeddedBroker::start(&cfg.data_dir.join("kafka"), cfg.embedded_kafka_port)
                .await
                .context("starting the embedded Kafka broker (use --kafka-port 0 for a free port, or --kafka-brokers for an external cluster)")?;
            cfg.kafka.brokers = Some(broker.bootstrap().to_string());
            println!("kafka: embedded broker at {} (data in {})", broker.bootstrap(), broker.database().display());
            Some(broker)
        }
    };
    start(cfg, &[Service::Ingest, Service::Score, Service::Api]).await
}

/// Distributed mode: one service against an external cluster.
pub async fn run_one(cfg: AppConfig, service: Service) -> anyhow::Result<()> {
    anyhow::ensure!(
        service == Service::Api || cfg.kafka.brokers.is_some(),
        "this service needs an external Kafka cluster: pass --kafka-brokers or set kafka.brokers (or use `stakeflow run`)"
    );
    start(cfg, &[service]).await
}

/// The process-wide Prometheus recorder (installed once).
fn metrics_render() -> api::MetricsRender {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = std::sync::OnceLock::new();
    let handle = HANDLE.get_or_init(|| match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(error = %e, "metrics recorder not installed");
            None
        }
    });
    let handle = handle.clone();
    std::sync::Arc::new(move || handle.as_ref().map(|h| h.render()).unwrap_or_default())
}

async fn start(cfg: AppConfig, services: &[Service]) -> anyhow::Result<()> {
    let render = metrics_render();
    let store_cfg = cfg.store_config();
    let store = store::open(&store_cfg).await.with_context(|| format!("opening the store ({store_cfg:?})"))?;
    // Scoring tables live in the live namespace (see `stakeflow rescore` / `swap`).
    let namespaces = std::sync::Arc::new(store::Namespaces::new(store_cfg.clone(), store.clone()));
    if cfg.kafka.brokers.is_some() && cfg.kafka.create_topics && services.iter().any(|s| *s != Service::Api) {
        let topics = schemas::topics::provisioned();
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        bus::admin::ensure_topics(&cfg.kafka, &topics).await.context("creating topics")?;
    }
    if let Some(url) = &cfg.kafka.schema_registry_url {
        let ids = bus::schema_registry::register_schemas(url).await.context("registering schemas")?;
        schemas::registry::use_registry_ids(ids).map_err(anyhow::Error::msg)?;
    }
    let token = CancellationToken::new();
    let mut set: JoinSet<(String, anyhow::Result<()>)> = JoinSet::new();
    for service in services {
        match service {
            Service::Ingest => {
                for net in &cfg.networks {
                    for svc in BlockIngest::for_network(net, cfg.kafka.clone(), cfg.ingest.clone(), store.clone()) {
                        let name = format!("ingest[{}]", svc.chain_name());
                        let t = token.child_token();
                        set.spawn(async move { (name, svc.run(t).await.map_err(Into::into)) });
                    }
                    for url in &net.telemetry {
                        let genesis = net.genesis_hash.clone().unwrap_or_default();
                        let client = ingest::telemetry::FeedClient::new(
                            net.name.clone(),
                            genesis,
                            url.clone(),
                            cfg.kafka.clone(),
                            cfg.telemetry.clone(),
                        );
                        let name = format!("telemetry[{}, {url}]", net.name);
                        let t = token.child_token();
                        set.spawn(async move { (name, client.run(t).await.map_err(Into::into)) });
                    }
                }
                if let Some(addr) = cfg.telemetry.submit_listen {
                    let networks = cfg
                        .networks
                        .iter()
                        .filter_map(|n| n.genesis_hash.clone().map(|g| (g, n.name.clone())))
                        .collect();
                    let server = ingest::telemetry::SubmitServer::bind(addr, networks, cfg.kafka.clone())
                        .await
                        .with_context(|| format!("telemetry /submit listener on {addr}"))?;
                    println!("telemetry: nodes may report to ws://{}/submit", server.local_addr()?);
                    let t = token.child_token();
                    set.spawn(async move { ("telemetry-submit".to_string(), server.run(t).await.map_err(Into::into)) });
                }
            }
            Service::Score => {
                let svc = HeadsConsumer::new(cfg.kafka.clone(), store.clone());
                let t = token.child_token();
                set.spawn(async move { ("scoring".to_string(), svc.run(t).await.map_err(Into::into)) });
                let svc = scoring::UptimeConsumer::new(cfg.kafka.clone(), store.clone(), cfg.uptime.clone())
                    .following(namespaces.clone());
                let t = token.child_token();
                set.spawn(async move { ("uptime".to_string(), svc.run(t).await.map_err(Into::into)) });
                let svc = scoring::FoldConsumer::session_keys(cfg.kafka.clone(), store.clone()).following(namespaces.clone());
                let t = token.child_token();
                set.spawn(async move { ("session-keys".to_string(), svc.run(t).await.map_err(Into::into)) });
                let scored = cfg.scored_networks()?;
                for net in &scored {
                    let Some(source) = &net.programme.candidates else { continue };
                    let source: scoring::candidates::CandidateSource =
                        source.parse().with_context(|| format!("scoring.networks.{}.candidates", net.name))?;
                    let watcher = scoring::candidates::CandidateWatcher::new(source.clone(), net.ss58_prefix, net.programme.candidates_poll);
                    let (bus, name, t) = (cfg.kafka.clone(), net.name.clone(), token.child_token());
                    set.spawn(async move {
                        let task = format!("candidates[{name}]");
                        (task, scoring::programme::list_feed::publish_lists(bus, name, source, watcher, t).await.map_err(Into::into))
                    });
                }
                if !scored.is_empty() {
                    let scorer = scoring::programme::Scorer::new(cfg.kafka.clone(), namespaces.clone(), scored, cfg.uptime.window_ms());
                    let t = token.child_token();
                    set.spawn(async move { ("scorer".to_string(), scorer.run(t).await.map_err(Into::into)) });
                }
            }
            Service::Api => {
                let state = AppState {
                    store: store.clone(),
                    networks: std::sync::Arc::new(cfg.chain_names()),
                    consumer: scoring::CONSUMER,
                    ready_max_lag: cfg.api.ready_max_lag,
                    metrics: Some(render.clone()),
                    uptime_window_ms: cfg.uptime.window_ms(),
                    namespaces: Some(namespaces.clone()),
                    scored_networks: std::sync::Arc::new(cfg.scoring.networks.keys().cloned().collect()),
                };
                let (addr, server) = api::serve(&cfg.api, state, token.child_token()).await?;
                println!("api: http://{addr}/health and http://{addr}/ready");
                set.spawn(async move {
                    let r = match server.await {
                        Ok(r) => r.map_err(anyhow::Error::from),
                        Err(e) => Err(anyhow::anyhow!("api task: {e}")),
                    };
                    ("api".to_string(), r)
                });
            }
        }
    }
    if let Some(addr) = cfg.metrics_listen.filter(|_| !services.contains(&Service::Api)) {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("metrics listener on {addr}"))?;
        println!("metrics: http://{}/metrics", listener.local_addr()?);
        let app = api::metrics_router(render.clone());
        let t = token.child_token();
        set.spawn(async move {
            let r = axum::serve(listener, app).with_graceful_shutdown(async move { t.cancelled().await }).await;
            ("metrics".to_string(), r.map_err(anyhow::Error::from))
        });
    }
    let outcome = tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
        Some(joined) = set.join_next() => match joined {
            Ok((name, Ok(()))) => Err(anyhow::anyhow!("service {name} stopped unexpectedly")),
            Ok((name, Err(e))) => Err(e.context(format!("service {name} failed"))),
            Err(e) => Err(anyhow::anyhow!("a service panicked: {e}")),
        },
    };
    token.cancel();
    let drain = async { while set.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_DEADLINE, drain).await.is_err() {
        tracing::warn!(deadline = ?SHUTDOWN_DEADLINE, "services did not stop in time; aborting them");
        set.abort_all();
    }
    outcome
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
