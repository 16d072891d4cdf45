//! Starting services. Every mode runs the same starters, one per service:
//! `run` adds the embedded broker and starts them all in one process; the
//! distributed modes start one. Services talk through topics and the store,
//! never through in-process shortcuts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use api::AppState;
use bus::embedded::EmbeddedBroker;
use ingest::BlockIngest;
use ingest::candidates::{CandidateSource, CandidateWatcher};
use scoring::HeadsConsumer;
use store::{Namespaces, Store};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::AppConfig;

/// One service of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Chain ingest, telemetry feeds and `/submit`, candidate lists.
    Ingest,
    /// The consumers: heads, uptime, session keys, the scorer.
    Score,
    /// The nominator.
    Nominate,
    /// REST API.
    Api,
}

const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Single-machine mode: an embedded broker unless one is configured, then
/// every service, or those of `only`.
pub async fn run_all(mut cfg: AppConfig, only: Vec<Service>) -> anyhow::Result<()> {
    // The store first: a second `run` on the same data directory stands by
    // here, before it could start a second broker on the same files.
    let Some(store) = open_store(&cfg.store_config()).await? else { return Ok(()) };
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
    let mut services = vec![Service::Ingest, Service::Score, Service::Api];
    if nominator::configured(&cfg.nominator) {
        services.push(Service::Nominate);
    }
    if !only.is_empty() {
        services = only;
    }
    start(cfg, &services, store).await
}

/// Distributed mode: one service against an external cluster.
pub async fn run_one(cfg: AppConfig, service: Service) -> anyhow::Result<()> {
    anyhow::ensure!(
        service == Service::Api || cfg.kafka.brokers.is_some(),
        "this service needs an external Kafka cluster: pass --kafka-brokers or set kafka.brokers (or use `stakeflow run`)"
    );
    let Some(store) = open_store(&cfg.store_config()).await? else { return Ok(()) };
    start(cfg, &[service], store).await
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
    Arc::new(move || handle.as_ref().map(|h| h.render()).unwrap_or_default())
}

/// The named tasks of a process; the first to end ends the process.
struct Tasks {
    set: JoinSet<(String, anyhow::Result<()>)>,
    token: CancellationToken,
}

impl Tasks {
    /// Run `task` (given its own shutdown token) as `name`.
    fn spawn<F, E>(&mut self, name: impl Into<String>, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        let (name, fut) = (name.into(), task(self.token.child_token()));
        self.set.spawn(async move { (name, fut.await.map_err(Into::into)) });
    }
}

/// What every starter shares: the validated config and the opened store.
struct Shared<'a> {
    cfg: &'a AppConfig,
    store: Arc<dyn Store>,
    /// Scoring tables live in the live namespace (see `stakeflow rescore` / `swap`).
    namespaces: Arc<Namespaces>,
    render: api::MetricsRender,
    /// The broker probe's findings, where this process has a broker.
    broker: Option<bus::BrokerHealth>,
}

/// A broker process of its own (the embedded tansu broker, SQLite engine):
/// for distributed mode on one machine and for tests that stop the broker.
pub async fn run_broker(data_dir: &std::path::Path, port: u16) -> anyhow::Result<()> {
    let broker = EmbeddedBroker::start(&data_dir.join("kafka"), port)
        .await
        .context("starting the Kafka broker (use --port 0 for a free port)")?;
    println!("kafka: broker at {} (data in {})", broker.bootstrap(), broker.database().display());
    shutdown_signal().await;
    Ok(())
}

/// Open the store; an embedded store another process has open is that
/// process's until it exits (redb locks the file), so stand by for it
/// rather than fail: a second instance started at once takes over when the
/// first dies, as a standby of a lease does.
async fn open_store(store_cfg: &store::StoreConfig) -> anyhow::Result<Option<Arc<dyn Store>>> {
    let mut said = false;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        match store::open(store_cfg).await {
            Ok(s) => {
                if said {
                    tracing::info!(store = ?store_cfg, "the store is free: taking over");
                }
                return Ok(Some(s));
            }
            Err(e) if e.is_held_by_another_process() => {
                if !said {
                    tracing::warn!(store = ?store_cfg, "the store is open in another stakeflow process (one writer per store): standing by until it exits");
                    said = true;
                }
                tokio::select! {
                    _ = &mut stop => return Ok(None),
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("opening the store ({store_cfg:?})"))),
        }
    }
}

async fn start(cfg: AppConfig, services: &[Service], store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store_cfg = cfg.store_config();
    let namespaces = Arc::new(Namespaces::new(store_cfg.clone(), store.clone()));
    if cfg.kafka.brokers.is_some() && cfg.kafka.create_topics && services.iter().any(|s| *s != Service::Api) {
        let topics = schemas::topics::provisioned();
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        bus::admin::ensure_topics(&cfg.kafka, &topics).await.context("creating topics")?;
    }
    if let Some(url) = &cfg.kafka.schema_registry_url {
        let ids = bus::schema_registry::register_schemas(url).await.context("registering schemas")?;
        schemas::registry::use_registry_ids(ids).map_err(anyhow::Error::msg)?;
    }
    let mut tasks = Tasks { set: JoinSet::new(), token: CancellationToken::new() };
    // Every process with a broker says whether it reaches it (logs, metrics, `/ready`).
    let broker = cfg.kafka.brokers.is_some().then(bus::BrokerHealth::default);
    if let Some(health) = broker.clone() {
        let bus = cfg.kafka.clone();
        tasks.spawn("broker-probe", |t| health.watch(bus, bus::health::PROBE_EVERY, t));
    }
    let shared = Shared { cfg: &cfg, store, namespaces, render: metrics_render(), broker };
    for service in services {
        match service {
            Service::Ingest => start_ingest(&shared, &mut tasks).await?,
            Service::Score => start_score(&shared, &mut tasks)?,
            Service::Nominate => start_nominate(&shared, &mut tasks)?,
            Service::Api => start_api(&shared, &mut tasks).await?,
        }
    }
    if let Some(addr) = cfg.metrics_listen.filter(|_| !services.contains(&Service::Api)) {
        start_metrics(addr, shared.render.clone(), shared.broker.clone(), &mut tasks).await?;
    }
    wait(tasks).await
}

/// Block ingest per followed chain, telemetry feeds, `/submit`, candidate lists.
async fn start_ingest(s: &Shared<'_>, tasks: &mut Tasks) -> anyhow::Result<()> {
    let cfg = s.cfg;
    for net in &cfg.networks {
        for svc in BlockIngest::for_network(net, cfg.kafka.clone(), cfg.ingest.clone(), s.store.clone()) {
            tasks.spawn(format!("ingest[{}]", svc.chain_name()), |t| svc.run(t));
        }
        for url in &net.telemetry {
            let genesis = net.genesis_hash.clone().unwrap_or_default();
            let client =
                ingest::telemetry::FeedClient::new(net.name.clone(), genesis, url.clone(), cfg.kafka.clone(), cfg.telemetry.clone());
            tasks.spawn(format!("telemetry[{}, {url}]", net.name), |t| client.run(t));
        }
    }
    if let Some(addr) = cfg.telemetry.submit_listen {
        let networks = cfg.networks.iter().filter_map(|n| n.genesis_hash.clone().map(|g| (g, n.name.clone()))).collect();
        let server = ingest::telemetry::SubmitServer::bind(addr, networks, cfg.kafka.clone(), &cfg.telemetry)
            .await
            .with_context(|| format!("telemetry /submit listener on {addr}"))?;
        let path = if cfg.telemetry.submit_tokens_file.is_some() { "/submit/<token>" } else { "/submit" };
        println!("telemetry: nodes may report to ws://{}{path}", server.local_addr()?);
        tasks.spawn("telemetry-submit", |t| server.run(t));
    }
    for net in cfg.scored_networks()? {
        let Some(source) = &net.programme.candidates else { continue };
        let source: CandidateSource = source.parse().with_context(|| format!("scoring.networks.{}.candidates", net.name))?;
        let watcher = CandidateWatcher::new(source.clone(), net.ss58_prefix, net.programme.candidates_poll);
        let bus = cfg.kafka.clone();
        tasks.spawn(format!("candidates[{}]", net.name), |t| ingest::candidates::publish_lists(bus, net.name.clone(), source, watcher, t));
        if let Some(releases) = &net.programme.releases {
            let source: CandidateSource = releases.parse().with_context(|| format!("scoring.networks.{}.releases", net.name))?;
            let format = regex::Regex::new(&net.programme.release_tag_format).with_context(|| format!("scoring.networks.{}.release_tag_format", net.name))?;
            let (bus, poll) = (cfg.kafka.clone(), net.programme.releases_poll);
            tasks.spawn(format!("releases[{}]", net.name), move |t| ingest::releases::publish_releases(bus, net.name.clone(), source, poll, format, t));
        }
    }
    Ok(())
}

/// The heads, uptime, session-keys, validator-sets, era-points, nominator-stake, rewards and releases consumers, and the scorer when a network has a programme.
fn start_score(s: &Shared<'_>, tasks: &mut Tasks) -> anyhow::Result<()> {
    let cfg = s.cfg;
    let heads = HeadsConsumer::new(cfg.kafka.clone(), s.store.clone());
    tasks.spawn("heads", |t| heads.run(t));
    for fold in scoring::all_folds(&cfg.kafka, s.store.clone(), &cfg.uptime, Some(s.namespaces.clone())) {
        tasks.spawn(fold.name(), |t| fold.run(t));
    }
    let scored = cfg.scored_networks()?;
    if !scored.is_empty() {
        let mut scorer = scoring::scorer::Scorer::new(cfg.kafka.clone(), s.namespaces.clone(), scored, cfg.uptime.window_ms())
            .with_idle(cfg.scoring.idle)
            .with_lease(format!("{}/scorer", store::lease::this_process()), cfg.scoring.lease_ttl);
        if cfg.only_networks.is_some() {
            scorer = scorer.only_these();
        }
        tasks.spawn("scorer", |t| scorer.run(t));
    }
    Ok(())
}

/// The nominator, for every network with accounts.
fn start_nominate(s: &Shared<'_>, tasks: &mut Tasks) -> anyhow::Result<()> {
    let cfg = s.cfg;
    let networks = cfg.nominator_networks()?;
    anyhow::ensure!(!networks.is_empty(), "no nominator accounts are configured: add [nominator.networks.<name>] accounts");
    let holder = store::lease::this_process();
    let settings = nominator::Settings {
        dry_run: cfg.nominator.dry_run,
        poll: cfg.nominator.poll,
        lease_ttl: cfg.nominator.lease_ttl,
        holder,
    };
    let reload = std::sync::Arc::new(crate::reload::ConfigReload::new(cfg.config_file.clone()));
    let svc = nominator::Nominator::new(cfg.kafka.clone(), s.store.clone(), s.namespaces.clone(), networks, settings).with_settings_source(reload);
    tasks.spawn("nominator", |t| svc.run(t));
    Ok(())
}

/// The REST API.
async fn start_api(s: &Shared<'_>, tasks: &mut Tasks) -> anyhow::Result<()> {
    let cfg = s.cfg;
    let state = AppState {
        store: s.store.clone(),
        networks: Arc::new(cfg.chain_names()),
        consumer: scoring::HEADS_CONSUMER,
        ready_max_lag: cfg.api.ready_max_lag,
        ready_max_silence_ms: cfg.api.ready_max_silence.as_millis() as i64,
        ready_max_behind: cfg.api.ready_max_behind,
        metrics: Some(s.render.clone()),
        uptime_window_ms: cfg.uptime.window_ms(),
        namespaces: Some(s.namespaces.clone()),
        scored_networks: Arc::new(cfg.scoring.networks.keys().cloned().collect()),
        nominated_networks: Arc::new(if nominator::configured(&cfg.nominator) { cfg.nominator.networks.keys().cloned().collect() } else { Vec::new() }),
        events: Some(cfg.kafka.clone()),
        // Every chain of a network has the network's token.
        decimals: Arc::new(cfg.networks.iter().flat_map(|n| n.followed_chains().into_iter().map(move |c| (c.config.name, n.decimals))).collect()),
        broker: s.broker.clone(),
    };
    let (addr, server) = api::serve(&cfg.api, state, tasks.token.child_token()).await?;
    println!("api: http://{addr}/health and http://{addr}/ready");
    tasks.spawn("api", |_| async move {
        match server.await {
            Ok(r) => r.map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::anyhow!("api task: {e}")),
        }
    });
    Ok(())
}

/// `/metrics` and the process's own `/ready`, for processes that run no API.
async fn start_metrics(addr: std::net::SocketAddr, render: api::MetricsRender, broker: Option<bus::BrokerHealth>, tasks: &mut Tasks) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("metrics listener on {addr}"))?;
    println!("metrics: http://{0}/metrics and http://{0}/ready", listener.local_addr()?);
    let app = api::metrics_router(render, broker);
    tasks.spawn("metrics", |t| async move { axum::serve(listener, app).with_graceful_shutdown(async move { t.cancelled().await }).await });
    Ok(())
}

/// Until a signal or the first task to end; then stop the rest.
async fn wait(mut tasks: Tasks) -> anyhow::Result<()> {
    let outcome = tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
        Some(joined) = tasks.set.join_next() => match joined {
            Ok((name, Ok(()))) => Err(anyhow::anyhow!("service {name} stopped unexpectedly")),
            Ok((name, Err(e))) => Err(e.context(format!("service {name} failed"))),
            Err(e) => Err(anyhow::anyhow!("a service panicked: {e}")),
        },
    };
    tasks.token.cancel();
    let drain = async { while tasks.set.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_DEADLINE, drain).await.is_err() {
        tracing::warn!(deadline = ?SHUTDOWN_DEADLINE, "services did not stop in time; aborting them");
        tasks.set.abort_all();
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
