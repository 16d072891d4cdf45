//! The embedded broker reads a record's headers by index. tansu 0.6 looks up
//! each fetched record's headers in a table its schema leaves unindexed, so
//! without ours every fetch scanned every header ever written, and a replay
//! slowed down with the age of the log (`bus::embedded`).

use bus::BusConfig;
use bus::embedded::EmbeddedBroker;

/// tansu's query for one record's headers (tansu-storage 0.6 `sql/header_fetch.sql`).
const HEADER_FETCH: &str = "select h.k, h.v from header h join record r on h.topition = r.topition and h.offset_id = r.offset_id \
     join topition tp on tp.id = r.topition join topic t on tp.topic = t.id join cluster c on t.cluster = c.id \
     where c.name = ?1 and t.name = ?2 and tp.partition = ?3 and r.offset_id = ?4";

async fn plan(database: &std::path::Path) -> String {
    let db = libsql::Builder::new_local(database).build().await.unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn.query(&format!("explain query plan {HEADER_FETCH}"), ("stakeflow", "t", 0, 0)).await.unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push(row.get_str(3).unwrap().to_string());
    }
    out.join("; ")
}

// A restart on an existing file (the index already there) is what the fault
// campaign's broker process does at every outage (`e2e campaign::`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_headers_are_found_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    bus::admin::ensure_topics(&bus, &["reads.t"]).await.unwrap();
    let p = plan(broker.database()).await;
    assert!(p.contains("stakeflow_header_by_record") && !p.contains("SCAN h"), "headers scanned: {p}");
}
