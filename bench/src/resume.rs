//! What a restart of ingest costs when its chain shares partitions with a
//! chain that kept writing: our chain certified a few blocks, the other wrote
//! `records` (a year of blocks is about 5.3 million), then our chain was cut off
//! in the middle of a window. Resuming with the marks (what ingest keeps) reads
//! back only that window; without them (what a restart read before marks) the
//! read back crosses everything the other chain wrote. The reference is a
//! stock rdkafka consumer reading the same partitions from start to end.

use std::time::{Duration, Instant};

use bus::dead_letter::headers;
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, Publisher};
use ingest::outputs::{BlockExtras, Output, block_outputs};
use ingest::position::{self, HEADER, OutputPos, Resume};
use ingest::tails::Marks;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use schemas::topics;
use testkit::blocks::synthetic as block;

const OURS: &str = "ours";

/// Above this the full reads (reference and unbounded resume) are skipped.
const FULL_READS_UP_TO: u64 = 200_000;

fn window(blocks: std::ops::RangeInclusive<u64>) -> anyhow::Result<Vec<(u64, Vec<Output>)>> {
    blocks.map(|n| Ok((n, block_outputs(OURS, &block(n), &BlockExtras::default())?))).collect()
}

/// Every record of `topics` from the start, with a stock consumer; returns how many.
fn stock_read(bootstrap: &str, topics: &[&str]) -> anyhow::Result<usize> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "stock-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()?;
    let mut tpl = rdkafka::TopicPartitionList::new();
    for t in topics {
        tpl.add_partition_offset(t, 0, rdkafka::Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let (mut n, mut ended) = (0, 0);
    while ended < topics.len() {
        match consumer.poll(Duration::from_secs(30)) {
            Some(Ok(_)) => n += 1,
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => ended += 1,
            Some(Err(e)) => anyhow::bail!("stock read: {e}"),
            None => anyhow::bail!("stock read stalled after {n} records"),
        }
    }
    Ok(n)
}

pub async fn resume(records: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = EmbeddedBroker::start(dir.path(), 0).await?;
    // One partition per topic: every chain shares it, the case that made restarts slow.
    let bus = BusConfig { partitions: 1, ..BusConfig::for_brokers(broker.bootstrap()) };
    let provisioned = topics::provisioned();
    bus::admin::ensure_topics(&bus, &provisioned.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    let publisher = Publisher::new(&bus)?;

    // Our chain: blocks 0..=3 certified, as ingest does it (marks at the window's start, its block record after).
    let mut marks = Marks::at_ends(&publisher, OURS).await?;
    let delivered = ingest::publish_window(&publisher, &window(0..=3)?, &Resume::fresh(0), ingest::oversized::DEFAULT_MAX_RECORD_BYTES).await?;
    marks.certified(&delivered, 3, &block(3).facts.hash);

    // The other chain writes `records` to the events and blocks topics.
    let raw: FutureProducer = bus.client_config().set("enable.idempotence", "true").set("acks", "all").set("linger.ms", "5").create()?;
    let t = Instant::now();
    let mut pending = Vec::with_capacity(65_536);
    let payload = vec![7u8; 200];
    for i in 0..records {
        let topic = if i % 2 == 0 { topics::EVENTS } else { topics::BLOCKS };
        let key = format!("other/{i}");
        let pos = OutputPos { block: i / 2, seq: (i % 2) as u32 }.header_value();
        let record = FutureRecord::to(topic).key(key.as_bytes()).payload(&payload).partition(0).headers(headers(&[(HEADER, &pos)]));
        pending.push(raw.send_result(record).map_err(|(e, _)| anyhow::anyhow!("enqueue: {e}"))?);
        if pending.len() == pending.capacity() {
            for f in pending.drain(..) {
                f.await?.map_err(|(e, _)| anyhow::anyhow!("produce: {e}"))?;
            }
        }
        if i > 0 && i % 1_000_000 == 0 {
            eprintln!("  produced {i} of {records} in {:.0} s", t.elapsed().as_secs_f64());
        }
    }
    for f in pending {
        f.await?.map_err(|(e, _)| anyhow::anyhow!("produce: {e}"))?;
    }
    let produce = t.elapsed();

    // Our next window is cut off: the window's marks were kept, then half its records landed.
    marks.window_starts(&publisher, OURS).await?;
    let next = window(4..=5)?;
    let half: Vec<(Output, String)> = next
        .iter()
        .flat_map(|(n, outs)| outs.iter().enumerate().map(move |(seq, o)| (o.clone(), OutputPos { block: *n, seq: seq as u32 }.header_value())))
        .filter(|(o, _)| o.topic != topics::BLOCKS)
        .step_by(2)
        .collect();
    publisher.publish_all(half.iter().map(|(o, p)| ingest::outgoing(o, p)).collect()).await?;

    let expected = half.len();
    let measure = |marks: Marks| {
        let (bus, publisher) = (&bus, &publisher);
        async move {
            let mut marks = marks;
            let t = Instant::now();
            let last = ingest::last_block(bus, publisher, OURS, &mut marks).await?.map(|b| b.number);
            let from = last.map_or(0, |b| b + 1);
            let present = ingest::present_positions(bus, publisher, OURS, from, &mut marks).await?;
            let r = position::resume(last, present, 0);
            anyhow::ensure!(r.block == 4 && r.present_count() == expected, "resume found block {} and {} records, not 4 and {expected}", r.block, r.present_count());
            Ok::<_, anyhow::Error>(t.elapsed())
        }
    };
    let bounded = measure(marks.clone()).await?;
    println!("broker: embedded tansu (SQLite) at {}, one partition per topic shared by two chains", broker.bootstrap());
    println!("the other chain wrote {records} records in {:.1} s ({:.0} records/s, raw pipelined produce)", produce.as_secs_f64(), records as f64 / produce.as_secs_f64());
    println!();
    if records > FULL_READS_UP_TO {
        // Reading it all takes the broker minutes per million records (see the issue on replay speed).
        println!("ingest resume with its marks (reads back the cut window): {:.3} s", bounded.as_secs_f64());
        println!("(full reads skipped above {FULL_READS_UP_TO} records: the stock read and a resume without marks read every record)");
        return Ok(());
    }
    let unbounded = measure(Marks::default()).await;
    let bootstrap = broker.bootstrap().to_string();
    let t = Instant::now();
    let read = tokio::task::spawn_blocking(move || stock_read(&bootstrap, &[topics::EVENTS, topics::BLOCKS])).await?;
    let stock = t.elapsed();
    println!("{:<62} {:>10} {:>16}", "step", "seconds", "vs stock read");
    let row = |name: &str, d: Duration| println!("{name:<62} {:>10.3} {:>15.4}x", d.as_secs_f64(), d.as_secs_f64() / stock.as_secs_f64().max(1e-9));
    match read {
        Ok(n) => row(&format!("stock rdkafka consumer reads both partitions ({n} records)"), stock),
        Err(e) => println!("stock rdkafka consumer reads both partitions: failed after {:.1} s: {e}", stock.as_secs_f64()),
    }
    row("ingest resume with its marks (reads back the cut window)", bounded);
    match unbounded {
        Ok(d) => row("ingest resume without marks (reads back to our last record)", d),
        // The embedded broker's fetches from far back get slower with the records after them.
        Err(e) => println!("ingest resume without marks (reads back to our last record): failed: {e}"),
    }
    Ok(())
}
