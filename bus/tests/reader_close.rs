//! A reader whose broker has gone away is dropped at once: rdkafka's close of
//! a consumer with a group id polls until the group is left, which never
//! happens then, and used to hang whatever dropped the reader (a runtime
//! worker at shutdown, so the process never exited).

use std::time::Duration;

use bus::consumer::PartitionReader;
use bus::embedded::EmbeddedBroker;
use bus::{BusConfig, Publisher};

#[test]
fn a_reader_whose_broker_is_gone_drops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // The broker runs on a runtime of its own, so that dropping the runtime
    // takes every one of its connections away, as a crash would.
    let broker_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let broker = broker_rt.block_on(EmbeddedBroker::start(dir.path(), 0)).unwrap();
    let bus = BusConfig::for_brokers(broker.bootstrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let reader = rt.block_on(async {
        bus::admin::ensure_topics(&bus, &["close.t"]).await.unwrap();
        Publisher::new(&bus).unwrap().publish("close.t", b"k", b"v").await.unwrap();
        let reader = PartitionReader::assign(&bus, "close-group", "close.t", &[]).await.unwrap();
        let record = reader.next_within(Duration::from_secs(30)).await.unwrap().expect("the record");
        reader.commit_advisory("close.t", record.partition, record.offset + 1);
        reader
    });
    drop(broker);
    drop(broker_rt);
    let dropped = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(15), tokio::task::spawn_blocking(move || drop(reader))).await
    });
    assert!(dropped.is_ok(), "dropping the reader blocked for 15 s with its broker gone");
    // And the runtime itself shuts down (it waited for the stuck drop before).
    rt.shutdown_timeout(Duration::from_secs(15));
}
