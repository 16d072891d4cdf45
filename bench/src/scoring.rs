//! Scoring figures on synthetic programmes:
//! - `rescore`: one full round (facts, 15 checks, history, 15 components)
//!   for N candidates, against the checks alone over the same facts;
//! - `replay`: every scoring table rebuilt from topics holding E eras, against
//!   a raw read of the same records from the same broker.
//!
//! Both references are measured in the same run, so the ratios travel.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::{Outgoing, Publisher};
use rdkafka::message::{Header, OwnedHeaders};
use schemas::{Backer, CandidateEntry, CandidateList, EraPoints, FinalizedBlock, NominatorEra, SessionSnapshot, SessionValidator, ValidatorEra, ValidatorPoints, topics};
use rules::round::{RoundInput, evaluate_round};
use rules::synthetic::{DAY, NET, NOW, Rng, hex, key, ss58, with_round_input};
use scoring::scorer::{ProgrammeConfig, ScoredNetwork, Scorer};
use rules::validity::{self, CheckContext, Profile};

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}


/// Full rounds of `sizes` candidates, `repeat` times each.
pub fn rescore(sizes: &[usize], repeat: usize) {
    println!("rescore: one full round (facts, 15 checks, rank/inclusion/faults, 15 components) vs the 15 checks alone, median of {repeat}");
    for &n in sizes {
        with_round_input(n, |input| rescore_one(n, input, repeat));
    }
}

/// One size of [`rescore`].
fn rescore_one(n: usize, input: &RoundInput<'_>, repeat: usize) {
    let (mut full, mut freed) = (Vec::new(), Vec::new());
    let mut snapshot = None;
    for _ in 0..repeat {
        let t = Instant::now();
        let round = evaluate_round(input);
        full.push(t.elapsed());
        // Freeing a round is work too (hundreds of thousands of strings): timed apart.
        let t = Instant::now();
        drop(snapshot.replace(round));
        freed.push(t.elapsed());
    }
    let snapshot = snapshot.expect("at least one round");
    let ctx = CheckContext { now_ms: NOW, decimals: 10 };
    let mut checks = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let valid = snapshot.candidates.iter().filter(|c| validity::evaluate(&c.facts, input.validity, ctx).valid).count();
        checks.push(t.elapsed());
        std::hint::black_box(valid);
    }
    let (full, checks, freed) = (median(full), median(checks), median(freed));
    let (valid, invalid, unknown) = snapshot.counts();
    // Which checks fail, so a synthetic world that stopped passing a new check shows it.
    let mut failing: BTreeMap<String, usize> = BTreeMap::new();
    for c in &snapshot.candidates {
        for r in c.validity.reasons() {
            *failing.entry(format!("{:?} ({:?})", r.check, r.verdict)).or_default() += 1;
        }
    }
    println!("  {n:>6} candidates: checks not valid: {failing:?}");
    println!(
        "  {n:>6} candidates ({valid} valid, {invalid} invalid, {unknown} unknown; {} nominators): round {:>8.1} ms = {:>9.0} candidates/s (then freeing it {:.1} ms); checks alone {:>7.2} ms; round/checks = {:.1}x",
        4 * n,
        full.as_secs_f64() * 1e3,
        n as f64 / full.as_secs_f64(),
        freed.as_secs_f64() * 1e3,
        checks.as_secs_f64() * 1e3,
        full.as_secs_f64() / checks.as_secs_f64().max(1e-12),
    );
}

fn pos(block: u64, seq: u32) -> OwnedHeaders {
    let v = schemas::position::OutputPos { block, seq }.header_value();
    OwnedHeaders::new().insert(Header { key: schemas::position::HEADER, value: Some(v.as_bytes()) })
}

/// Publish `eras` eras (one block, one session and one era each) of
/// `validators` candidates and `nominators` nominators.
async fn publish_history(bus: &bus::BusConfig, eras: u64, validators: usize, nominators: usize) -> anyhow::Result<usize> {
    let publisher = Publisher::new(bus)?;
    publisher.publish(topics::CANDIDATES, NET.as_bytes(), &candidate_list(validators).encode()?).await?;
    let mut rng = Rng(7);
    let mut count = 1;
    for era in 1..=eras {
        let (out, block) = era_records(era, validators, nominators, &mut rng)?;
        let records: Vec<Outgoing> = out
            .iter()
            .enumerate()
            // Spread over partitions by key: the scorer orders by (chain, block, seq) whatever the partitioning.
            .map(|(seq, r)| Outgoing { topic: r.topic, partition_key: &r.key, key: &r.key, payload: &r.payload, headers: Some(pos(era, seq as u32)) })
            .collect();
        count += records.len() + 1;
        publisher.publish_all(records).await?;
        let last = Outgoing { topic: topics::BLOCKS, partition_key: NET.as_bytes(), key: NET.as_bytes(), payload: &block, headers: Some(pos(era, out.len() as u32)) };
        publisher.publish_all(vec![last]).await?;
    }
    Ok(count)
}

/// The programme: `validators` candidates, all with KYC.
pub(crate) fn candidate_list(validators: usize) -> CandidateList {
    CandidateList {
        network: NET.into(),
        source: "bench".into(),
        digest: "bench".into(),
        loaded_at_ms: 0,
        candidates: (0..validators)
            .map(|i| CandidateEntry { slot_id: i as i64, name: format!("node-{i}"), stash: ss58(key(i)), kyc: true, ..Default::default() })
            .collect(),
    }
}

/// One record of an era, as ingest writes it.
pub(crate) struct EraRecord {
    pub topic: &'static str,
    pub key: Vec<u8>,
    pub payload: Vec<u8>,
}

/// Era `era` (one block, one session and one era each) of `validators`
/// candidates and `nominators` nominators, encoded: its records in the order
/// ingest writes them, and its block record, written last.
pub(crate) fn era_records(era: u64, validators: usize, nominators: usize, rng: &mut Rng) -> anyhow::Result<(Vec<EraRecord>, Vec<u8>)> {
    let block = era;
    let mut out = Vec::with_capacity(validators + nominators + 2);
    let snapshot = SessionSnapshot {
        chain: NET.into(),
        session_index: era as i64,
        block_number: block as i64,
        active_era: Some(era as i64),
        validators: (0..validators.min(20)).map(|i| SessionValidator { stash: hex(key(i)), keys: BTreeMap::from([("beefy".to_string(), "0x02".to_string())]) }).collect(),
        ..Default::default()
    };
    out.push(EraRecord { topic: topics::SESSION_SNAPSHOTS, key: NET.as_bytes().to_vec(), payload: snapshot.encode()? });
    for i in 0..validators {
        let v = ValidatorEra {
            chain: NET.into(),
            era: era as i64,
            block_number: block as i64,
            stash: hex(key(i)),
            commission_perbill: (rng.below(10) * 10_000_000) as i64,
            self_bonded: ((rng.below(100_000) + 10) as u128 * 10u128.pow(10)).to_string(),
            elected: rng.below(3) > 0,
            backers: vec![Backer { who: "0x01".into(), value: "1".into() }],
            ..Default::default()
        };
        out.push(EraRecord { topic: topics::VALIDATORS, key: format!("{NET}/{}", v.stash).into_bytes(), payload: v.encode()? });
    }
    for j in 0..nominators {
        let n = NominatorEra {
            chain: NET.into(),
            era: era as i64,
            block_number: block as i64,
            nominator: format!("0xn{j:08}"),
            bonded: (rng.below(1_000_000) as u128 * 10u128.pow(10)).to_string(),
            targets: (0..16).map(|_| hex(key(rng.below(validators as u64) as usize))).collect(),
            ..Default::default()
        };
        out.push(EraRecord { topic: topics::NOMINATORS, key: format!("{NET}/{}", n.nominator).into_bytes(), payload: n.encode()? });
    }
    let points = EraPoints {
        chain: NET.into(),
        era: era as i64 - 1,
        block_number: block as i64,
        total: validators as i64,
        points: (0..validators).filter(|_| rng.below(4) > 0).map(|i| ValidatorPoints { stash: hex(key(i)), points: 20 }).collect(),
        ..Default::default()
    };
    out.push(EraRecord { topic: topics::ERA_POINTS, key: format!("{NET}/{}", era - 1).into_bytes(), payload: points.encode()? });
    let b = FinalizedBlock { chain: NET.into(), number: block as i64, timestamp_ms: Some(NOW + block as i64 * 6000), ..Default::default() };
    Ok((out, b.encode()?))
}

/// The network the replays score: stake and preferences judged (the
/// synthetic history has no telemetry or identities).
pub(crate) fn replay_network() -> anyhow::Result<ScoredNetwork> {
    let programme = ProgrammeConfig {
        profile: Some(Profile::Testnet),
        validity: serde_json::json!({"online": {"skip": true}, "offline_time": {"skip": true}, "identity": {"skip": true}, "nodes_per_identity": {"skip": true}}),
        ..ProgrammeConfig::default()
    };
    ScoredNetwork::new(NET, (NET, NET, NET), 10, 42, programme).map_err(anyhow::Error::msg)
}

/// Read every input topic of the scorer to its end, decoding nothing.
async fn raw_read(bus: &bus::BusConfig) -> anyhow::Result<usize> {
    let mut n = 0;
    for topic in scoring::scorer::input_topics() {
        let t = Instant::now();
        let before = n;
        let highs = bus::admin::high_watermarks(bus, &[topic]).await?;
        let reader = bus::consumer::PartitionReader::assign(bus, "bench-raw", topic, &[]).await?;
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        while highs.iter().any(|(_, p, h)| next.get(p).copied().unwrap_or(0) < *h) {
            let Some(r) = reader.next_within(Duration::from_secs(120)).await? else { break };
            next.insert(r.partition, r.offset + 1);
            n += 1;
        }
        println!("replay: raw read of {topic}: {} records in {:.2}s", n - before, t.elapsed().as_secs_f64());
    }
    Ok(n)
}

/// The same topics read by a stock consumer (Python confluent-kafka, the same
/// librdkafka underneath), in a process of its own: `(records, seconds)`.
fn stock_read(bus: &bus::BusConfig) -> Result<(usize, f64), String> {
    let topics = scoring::scorer::input_topics().join(",");
    let out = std::process::Command::new("python3")
        .args(["-c", include_str!("stock_read.py"), bus.bootstrap(), &topics])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default();
        return Err(format!("{last} (pip install confluent-kafka)"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let n = it.next().and_then(|x| x.parse().ok()).ok_or_else(|| format!("unexpected output {text:?}"))?;
    let secs = it.next().and_then(|x| x.parse().ok()).ok_or_else(|| format!("unexpected output {text:?}"))?;
    Ok((n, secs))
}

/// Rebuild from `eras` eras of history on the topics.
pub async fn replay(eras: u64, validators: usize, nominators: usize, read_ahead_kb: Option<u32>, fetch_wait_ms: Option<u32>) -> anyhow::Result<()> {
    let broker = testkit::TestBroker::start().await?;
    let mut bus = broker.bus();
    // Records spread over 12 partitions by key: the embedded broker reads
    // long partitions slowly, and the scorer must not care how topics are cut.
    bus.partitions = 12;
    if let Some(kb) = read_ahead_kb {
        bus.client.insert("queued.max.messages.kbytes".into(), kb.to_string());
    }
    if let Some(ms) = fetch_wait_ms {
        bus.client.insert("fetch.wait.max.ms".into(), ms.to_string());
    }
    let provisioned = topics::provisioned();
    bus::admin::ensure_topics(&bus, &provisioned.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    let t = Instant::now();
    let records = publish_history(&bus, eras, validators, nominators).await?;
    println!("replay: {records} records of {eras} eras ({validators} candidates, {nominators} nominators per era) published in {:.1}s (setup, not measured)", t.elapsed().as_secs_f64());
    if let Some((now, peak)) = memory() {
        println!("replay: resident memory after publishing {now:.0} MB, peak so far {peak:.0} MB (the producer's buffers)");
    }

    let t = Instant::now();
    let read = raw_read(&bus).await?;
    let raw = t.elapsed();
    match stock_read(&bus) {
        Ok((n, secs)) => println!(
            "replay: stock consumer (confluent-kafka) read {n} records in {secs:.2}s = {:.0} records/s; our raw read {:.0} records/s = {:.2}x the stock consumer",
            n as f64 / secs,
            read as f64 / raw.as_secs_f64(),
            (read as f64 / raw.as_secs_f64()) / (n as f64 / secs)
        ),
        Err(why) => println!("replay: stock consumer reference skipped: {why}"),
    }

    if let Some((now, peak)) = memory() {
        println!("replay: resident memory after the raw read {now:.0} MB, peak so far {peak:.0} MB");
    }

    let dir = tempfile::tempdir()?;
    let cfg = store::StoreConfig::Embedded { path: dir.path().join("state.redb") };
    let store = store::open(&cfg).await?;
    let namespaces = Arc::new(store::Namespaces::new(cfg, store.clone()));
    let scorer = Scorer::new(bus.clone(), namespaces, vec![replay_network()?], 7 * DAY);
    let t = Instant::now();
    let rounds = scorer.rebuild(store.clone(), |_, _| {}).await?;
    let rebuild = t.elapsed();
    let latest = scoring::scorer::latest_round(store.as_ref(), NET).await?.map(|r| r.counts());
    println!(
        "replay: rebuilt {rounds} rounds from {read} records in {:.2}s = {:.0} eras/s, {:.0} records/s, {:.0} candidate-rounds/s; raw read of the same records {:.2}s; rebuild/raw read = {:.1}x; last round (valid, invalid, unknown) = {latest:?}",
        rebuild.as_secs_f64(),
        eras as f64 / rebuild.as_secs_f64(),
        read as f64 / rebuild.as_secs_f64(),
        (rounds * validators) as f64 / rebuild.as_secs_f64(),
        raw.as_secs_f64(),
        rebuild.as_secs_f64() / raw.as_secs_f64().max(1e-9),
    );
    // The embedded broker, the store and the scorer share this process, as in `stakeflow run`.
    match memory() {
        Some((now, peak)) => println!("replay: resident memory {now:.0} MB now, {peak:.0} MB at the peak (broker, store and scorer in this process)"),
        None => println!("replay: resident memory not measured (no /proc/self/status)"),
    }
    Ok(())
}

/// This process's resident memory now and at its peak, MB (Linux).
pub(crate) fn memory() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |field: &str| status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse::<f64>().ok();
    Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
}
