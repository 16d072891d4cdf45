//! A fresh embedded Kafka-API broker (tansu, SQLite engine) per test.

use bus::BusConfig;
use bus::embedded::EmbeddedBroker;

/// A broker on a free loopback port with its own SQLite file; stops on drop.
pub struct TestBroker {
    broker: EmbeddedBroker,
    _dir: tempfile::TempDir,
}

impl TestBroker {
    /// Start it and wait until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let broker = EmbeddedBroker::start(dir.path(), 0).await?;
        Ok(Self { broker, _dir: dir })
    }

    /// `host:port`.
    pub fn bootstrap(&self) -> &str {
        self.broker.bootstrap()
    }

    /// A bus config pointing at this broker.
    pub fn bus(&self) -> BusConfig {
        BusConfig::for_brokers(self.bootstrap())
    }
}
