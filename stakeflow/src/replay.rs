//! `stakeflow rescore --into <name>` and `stakeflow swap <name>`: rebuild
//! every scoring table from the topics into a new namespace while the live
//! one serves, then make it live.

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::AppConfig;

/// Rebuild every fold and every round into namespace `into`.
pub async fn rescore(cfg: AppConfig, into: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        cfg.kafka.brokers.is_some(),
        "rescore reads the topics: pass --kafka-brokers (`stakeflow run` serves its embedded broker on 127.0.0.1:9092 by default)"
    );
    let base_cfg = cfg.store_config();
    let ns_cfg = base_cfg.namespaced(into).map_err(anyhow::Error::msg)?;
    let live = store::live_namespace(&base_cfg).await.context("reading the live scoring namespace")?;
    anyhow::ensure!(live.as_deref() != Some(into), "namespace {into} is live; rebuild into a new name, then swap");
    anyhow::ensure!(
        !store::namespace_exists(&base_cfg, into).await?,
        "namespace {into} already exists ({ns_cfg:?}); pick a new name"
    );
    let scored = cfg.scored_networks()?;
    anyhow::ensure!(!scored.is_empty(), "no network has a programme: add [scoring.networks.<name>] to the config");
    let store = store::open(&ns_cfg).await.with_context(|| format!("creating namespace {into}"))?;
    let started = Instant::now();
    println!("rescore: rebuilding into {into} ({ns_cfg:?}); live namespace stays {}", live.as_deref().unwrap_or("base"));

    for fold in scoring::all_folds(&cfg.kafka, store.clone(), &cfg.uptime, None) {
        let n = fold.catch_up(store.clone()).await.with_context(|| format!("rebuilding {}", fold.name()))?;
        println!("rescore: {} rebuilt from {n} records of {}", fold.name(), fold.topic());
    }

    let namespaces = std::sync::Arc::new(store::Namespaces::new(ns_cfg, store.clone()));
    let scorer = scoring::scorer::Scorer::new(cfg.kafka.clone(), namespaces, scored, cfg.uptime.window_ms()).with_idle(cfg.scoring.idle);
    let mut last_report = Instant::now();
    let rounds = scorer
        .rebuild(store.clone(), |records, rounds| {
            if last_report.elapsed() >= Duration::from_secs(2) {
                let rate = records as f64 / started.elapsed().as_secs_f64().max(1e-3);
                println!("rescore: {records} records applied, {rounds} rounds scored ({rate:.0} records/s)");
                last_report = Instant::now();
            }
        })
        .await
        .context("rebuilding rounds")?;
    println!(
        "rescore: done in {:.1}s: {rounds} rounds scored into {into}. Make it live with: stakeflow swap {into}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Point readers and scorers at namespace `to` (`None`: the base tables).
pub async fn swap(cfg: AppConfig, to: Option<&str>) -> anyhow::Result<()> {
    let base_cfg = cfg.store_config();
    if let Some(name) = to {
        anyhow::ensure!(
            store::namespace_exists(&base_cfg, name).await?,
            "namespace {name} does not exist: build it first with `stakeflow rescore --into {name}`"
        );
    }
    let before = store::live_namespace(&base_cfg).await?;
    store::set_live(&base_cfg, to).await.context("switching the live scoring namespace")?;
    println!(
        "swap: live scoring namespace is now {} (was {}); running services switch at their next pass",
        to.unwrap_or("base"),
        before.as_deref().unwrap_or("base")
    );
    Ok(())
}
