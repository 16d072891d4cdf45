//! Block-to-score latency on the devnet: from the finalized block that starts
//! a session to its round on `stakeflow.programme.rounds`, with block ingest
//! and the scorer running as `stakeflow run` runs them (one process, the
//! embedded broker and store), for a programme of N candidates.
//!
//! The reference, from the same run: the ingest hop alone (the block to its
//! record on `stakeflow.chain.blocks`), so the scoring hop is the rest.
//! Chopsticks finalizes a block as it builds it; "built" is when its
//! `dev_newBlock` returned. A reader of plain rdkafka (10 ms fetch wait)
//! notes when each record arrives.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use ingest::candidates::{CandidateSource, CandidateWatcher};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use rules::validity::Profile;
use schemas::topics;
use scoring::scorer::{ProgrammeConfig, ScoredNetwork, Scorer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const NETWORK: &str = "paseo-devnet";

/// A record of interest, and when the reader saw it.
enum Seen {
    Block(i64, Instant),
    Round { round: i64, block: i64, at: Instant },
}

/// Reads the blocks and rounds topics from their start until `stop`.
fn reader(bootstrap: String, tx: mpsc::UnboundedSender<Seen>, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", format!("stakeflow-bench-latency-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .context("the latency reader")?;
    let mut tpl = TopicPartitionList::new();
    for topic in [topics::BLOCKS, topics::ROUNDS] {
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(20)).with_context(|| format!("metadata of {topic}"))?;
        for p in md.topics().iter().flat_map(|t| t.partitions()) {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    while !stop.load(Ordering::Relaxed) {
        let Some(msg) = consumer.poll(Duration::from_millis(100)) else { continue };
        let at = Instant::now();
        let msg = msg.context("reading")?;
        let payload = msg.payload().unwrap_or_default();
        let seen = match msg.topic() {
            t if t == topics::BLOCKS => schemas::FinalizedBlock::decode(payload).ok().filter(|b| b.chain == NETWORK).map(|b| Seen::Block(b.number, at)),
            _ => schemas::Round::decode(payload).ok().map(|r| Seen::Round { round: r.round, block: r.block_number, at }),
        };
        if let Some(seen) = seen
            && tx.send(seen).is_err()
        {
            break;
        }
    }
    Ok(())
}

/// CPU time this process has used (user + system), from /proc (Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th there.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // Clock ticks are 100 per second on Linux (USER_HZ).
    Some(Duration::from_millis(ticks * 10))
}

/// Milliseconds at quantile `q` of `v` (nearest rank).
fn quantile_ms(v: &[Duration], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1e3
}

fn summary(v: &[Duration]) -> String {
    format!("p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms", quantile_ms(v, 0.5), quantile_ms(v, 0.9), quantile_ms(v, 0.99), quantile_ms(v, 1.0))
}

/// Force `sessions` sessions (after one to warm up) and time each one's round.
pub async fn latency(candidates: usize, sessions: usize) -> anyhow::Result<()> {
    println!("latency: finalized block starting a session -> its round on {}, {candidates} candidates, {sessions} sessions", topics::ROUNDS);
    let (broker, devnet) = tokio::join!(testkit::TestBroker::start(), testkit::Devnet::start());
    let (broker, devnet) = (broker?, devnet?);
    let bus = broker.bus();
    let provisioned = topics::provisioned();
    bus::admin::ensure_topics(&bus, &provisioned.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.redb");
    let store = Arc::new(store::EmbeddedStore::open(&path).await?);
    let namespaces = Arc::new(store::Namespaces::new(store::StoreConfig::Embedded { path }, store.clone()));
    let token = CancellationToken::new();

    // The programme: N candidates that are not validators of this chain, so
    // every round judges all of them on missing facts (the same work per candidate).
    let list = serde_json::json!({"candidates": (0..candidates).map(|i| serde_json::json!({
        "slotId": i, "name": format!("candidate-{i}"), "stash": rules::synthetic::ss58(rules::synthetic::key(i)), "kyc": true,
    })).collect::<Vec<_>>()});
    let file = dir.path().join("candidates.json");
    std::fs::write(&file, serde_json::to_vec(&list)?)?;
    let source: CandidateSource = file.display().to_string().parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let watcher = CandidateWatcher::new(source.clone(), 42, Duration::from_secs(5));
    tokio::spawn(ingest::candidates::publish_lists(bus.clone(), NETWORK.into(), source, watcher, token.clone()));
    let net = devnet.network(NETWORK);
    tokio::spawn(ingest::BlockIngest::new(net, bus.clone(), ingest::IngestConfig::default(), store.clone()).run(token.clone()));
    let programme = ProgrammeConfig { candidates: Some(file.display().to_string()), profile: Some(Profile::Testnet), ..ProgrammeConfig::default() };
    let scored = ScoredNetwork::new(NETWORK, (NETWORK, NETWORK, NETWORK), 10, 42, programme).map_err(|e| anyhow::anyhow!(e))?;
    tokio::spawn(Scorer::new(bus.clone(), namespaces, vec![scored], scoring::UptimeConfig::default().window_ms()).run(token.clone()));

    let (tx, mut rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let reading = {
        let (bootstrap, stop) = (broker.bootstrap().to_string(), stop.clone());
        std::thread::spawn(move || reader(bootstrap, tx, stop))
    };

    let (mut blocks, mut rounds): (BTreeMap<i64, Instant>, BTreeMap<i64, (i64, Instant)>) = (BTreeMap::new(), BTreeMap::new());
    let (mut to_round, mut to_block, mut from_request) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=sessions {
        let session = devnet.force_session_timed().await?;
        // The first round also waits for the candidate list and the folds to start: not counted.
        let limit = if i == 0 { Duration::from_secs(180) } else { Duration::from_secs(60) };
        let deadline = tokio::time::Instant::now() + limit;
        let (block, round_at) = loop {
            if let Some(&(block, at)) = rounds.get(&i64::from(session.index)) {
                break (block, at);
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Seen::Block(n, at))) => _ = blocks.entry(n).or_insert(at),
                Ok(Some(Seen::Round { round, block, at })) => _ = rounds.entry(round).or_insert((block, at)),
                Ok(None) => anyhow::bail!("the reader stopped: {:?}", reading.is_finished()),
                Err(_) => anyhow::bail!("no round {} within {limit:?}", session.index),
            }
        };
        if i == 0 {
            println!("  warm-up: round {} (block {block}) {:.0} ms after its block", session.index, (round_at - session.built).as_secs_f64() * 1e3);
            continue;
        }
        to_round.push(round_at.saturating_duration_since(session.built));
        from_request.push(round_at.saturating_duration_since(session.requested));
        if let Some(&at) = blocks.get(&block) {
            to_block.push(at.saturating_duration_since(session.built));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = reading.join();
    // What waiting costs: this process (broker, store, ingest, scorer) with nothing to do.
    let idle = Duration::from_secs(20);
    let before = cpu_time();
    tokio::time::sleep(idle).await;
    let idle_cpu = cpu_time().zip(before).map(|(after, before)| (after - before).as_secs_f64() / idle.as_secs_f64());
    token.cancel();

    println!("  block built -> round on the topic:        {}", summary(&to_round));
    println!("  block asked for -> round on the topic:    {}", summary(&from_request));
    if !to_block.is_empty() {
        println!("  reference, block built -> its block record: {} (ingest's hop alone)", summary(&to_block));
    }
    println!("  ({sessions} sessions: p99 of fewer than 100 samples is their maximum)");
    match idle_cpu {
        Some(share) => println!("  idle for {idle:?} after: {:.0} % of a core (broker, store, ingest and scorer in this process; chopsticks apart)", share * 100.0),
        None => println!("  idle CPU not measured (no /proc/self/stat)"),
    }
    match crate::scoring::memory() {
        Some((now, peak)) => println!("  resident memory: {now:.0} MB at the end, {peak:.0} MB at the peak (the same process, live, as `stakeflow run` keeps it)"),
        None => println!("  resident memory not measured (no /proc/self/status)"),
    }
    devnet.stop().await;
    Ok(())
}
