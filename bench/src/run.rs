//! The measurement: ingest's decode + Avro encode + publish of every output
//! (per block: all records at once, then the block record after their acks,
//! with position headers, exactly as ingest does it), against raw rdkafka
//! produce of the same bytes to the same partitions of the same broker, one
//! acknowledged at a time and fully pipelined.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bus::dead_letter::headers;
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, Publisher};
use chain::BlockData;
use ingest::outputs::{BlockExtras, Output, block_outputs};
use ingest::position::{HEADER, OutputPos, Resume};
use rdkafka::producer::{FutureProducer, FutureRecord};
use subxt::config::polkadot::SpecVersionForRange;
use subxt::{Metadata, OfflineClient, PolkadotConfig};

use crate::fixture::Fixture;

struct Prepared {
    number: u64,
    events: Vec<u8>,
    block: usize,
}

/// Decode one recorded block and build its outputs, as ingest does.
fn outputs(fx: &Fixture, client: &OfflineClient<PolkadotConfig>, p: &Prepared) -> anyhow::Result<Vec<Output>> {
    let at = client.at_block(p.number)?;
    let events = at.events().from_bytes(p.events.clone());
    let (decoded, undecoded) = chain::decode_events(&events);
    let data = BlockData { facts: fx.blocks[p.block].facts(p.number, events.len(), fx.spec_version), events: decoded, undecoded };
    Ok(block_outputs(&fx.chain, &data, &BlockExtras::default())?)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

pub async fn run(path: &Path, repeat: u32, window: Option<usize>) -> anyhow::Result<()> {
    let fx = Fixture::load(path)?;
    let metadata = Metadata::decode_from(&hex::decode(&fx.metadata_hex)?).context("decoding recorded metadata")?;
    let config = PolkadotConfig::builder()
        .set_metadata_for_spec_versions([(fx.spec_version, Arc::new(metadata))])
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: fx.spec_version,
            transaction_version: fx.transaction_version,
        }])
        .build();
    let client = OfflineClient::new_with_config(config);
    // Shift block numbers on every pass so keys and positions stay unique.
    let prepared: Vec<Prepared> = (0..repeat)
        .flat_map(|rep| fx.blocks.iter().enumerate().map(move |(i, b)| (rep, i, b)))
        .map(|(rep, i, b)| Ok(Prepared { number: u64::from(rep) * 1_000_000 + b.number, events: hex::decode(&b.events_hex)?, block: i }))
        .collect::<anyhow::Result<_>>()?;

    // 1. Decode and encode only.
    let t = Instant::now();
    let mut all: Vec<(u64, Vec<Output>)> = Vec::with_capacity(prepared.len());
    for p in &prepared {
        all.push((p.number, outputs(&fx, &client, p)?));
    }
    let decode = t.elapsed();
    let records: usize = all.iter().map(|(_, o)| o.len()).sum();
    let bytes: usize = all.iter().flat_map(|(_, o)| o.iter().map(|r| r.payload.len())).sum();
    let events: usize = all.iter().flat_map(|(_, o)| o.iter()).filter(|o| o.topic == schemas::topics::EVENTS).count();

    let dir = tempfile::tempdir()?;
    let broker = EmbeddedBroker::start(dir.path(), 0).await?;
    let bus = BusConfig::for_brokers(broker.bootstrap());
    let topics = schemas::topics::provisioned();
    bus::admin::ensure_topics(&bus, &topics.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    let partitions = bus::admin::partition_count(&bus, schemas::topics::EVENTS).await?;

    // 2. Ingest's path: decode, encode, publish per window of blocks (records
    //    at once, block records after their acks), with positions.
    let publisher = Publisher::new(&bus)?;
    // Warm-up outside the timing: the idempotent producer's id and the
    // partition counts are fetched once per producer.
    let warm_topic = schemas::topics::dead_letter(schemas::topics::BLOCKS);
    publisher.publish(&warm_topic, b"warm-up", b"").await?;
    for t in schemas::topics::CHAIN {
        publisher.partition_for(t, b"warm-up").await?;
    }
    let window = window.unwrap_or(ingest::IngestConfig::default().window_blocks as usize).max(1);
    // With ingest's marks: each partition's end saved before every window, as ingest does.
    let store = store::EmbeddedStore::open(&dir.path().join("state.redb")).await?;
    let mut marks = ingest::Marks::at_ends(&publisher, &fx.chain).await?;
    let t = Instant::now();
    for chunk in prepared.chunks(window) {
        let outs = chunk.iter().map(|p| Ok((p.number, outputs(&fx, &client, p)?))).collect::<anyhow::Result<Vec<_>>>()?;
        marks.window_starts(&publisher, &fx.chain).await?;
        marks.save(&store, &fx.chain).await?;
        let delivered = ingest::publish_window(&publisher, &outs, &Resume::fresh(chunk[0].number), ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await?;
        let last = chunk.last().map_or(0, |p| p.number);
        marks.certified(&delivered, last, "0x");
    }
    let ours = t.elapsed();
    // The same without the marks, for what they cost.
    let t = Instant::now();
    for chunk in prepared.chunks(window) {
        let outs = chunk.iter().map(|p| Ok((p.number, outputs(&fx, &client, p)?))).collect::<anyhow::Result<Vec<_>>>()?;
        ingest::publish_window(&publisher, &outs, &Resume::fresh(chunk[0].number), ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await?;
    }
    let unmarked = t.elapsed();

    // 3. Raw rdkafka, same producer settings, same bytes and partitions, sequential.
    let raw: FutureProducer = bus
        .client_config()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?;
    let send = |o: &Output, pos: &str| {
        let record = FutureRecord::to(&o.topic)
            .key(&o.key)
            .payload(&o.payload)
            .partition(bus::partition::for_key(&o.partition_key, partitions))
            .headers(headers(&[(HEADER, pos)]));
        raw.send_result(record).map_err(|(e, _)| anyhow::anyhow!("enqueue: {e}"))
    };
    raw.send(FutureRecord::<[u8], [u8]>::to(&warm_topic).key(&b"warm-up"[..]).payload(&b""[..]), Duration::from_secs(30))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("warm-up: {e}"))?;
    let t = Instant::now();
    for (number, outs) in &all {
        for (seq, o) in outs.iter().enumerate() {
            let pos = OutputPos { block: number + 100_000_000, seq: seq as u32 }.header_value();
            send(o, &pos)?.await?.map_err(|(e, _)| anyhow::anyhow!("produce: {e}"))?;
        }
    }
    let raw_seq = t.elapsed();

    // 4. Raw rdkafka, pipelined: everything enqueued, then every ack awaited.
    let t = Instant::now();
    let mut pending = Vec::with_capacity(records);
    for (number, outs) in &all {
        for (seq, o) in outs.iter().enumerate() {
            pending.push(send(o, &OutputPos { block: number + 200_000_000, seq: seq as u32 }.header_value())?);
        }
    }
    for f in pending {
        f.await?.map_err(|(e, _)| anyhow::anyhow!("produce: {e}"))?;
    }
    let raw_pipe = t.elapsed();

    let blocks = prepared.len();
    println!("fixture: {} ({} blocks x {repeat} passes = {blocks} blocks, {events} events, {records} records, {bytes} payload bytes)", path.display(), fx.blocks.len());
    println!("broker: embedded tansu (SQLite) at {}", broker.bootstrap());
    println!();
    println!("{:<48} {:>9} {:>12} {:>12} {:>14}", "stage", "seconds", "blocks/s", "records/s", "vs raw seq");
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<48} {:>9.3} {:>12.1} {:>12.1} {:>13.2}x",
            d.as_secs_f64(),
            rate(blocks, d),
            rate(records, d),
            raw_seq.as_secs_f64() / d.as_secs_f64().max(1e-9)
        );
    };
    row("decode + Avro encode only (no broker)", decode);
    row(&format!("ingest: decode + encode + publish + marks ({window}-block windows)"), ours);
    row("  the same without the marks", unmarked);
    row("raw rdkafka produce, acked each (reference)", raw_seq);
    row("raw rdkafka produce, pipelined", raw_pipe);
    println!();
    println!(
        "ingest throughput = {:.2} of raw sequential produce, {:.2} of raw pipelined produce",
        raw_seq.as_secs_f64() / ours.as_secs_f64(),
        raw_pipe.as_secs_f64() / ours.as_secs_f64()
    );
    Ok(())
}
