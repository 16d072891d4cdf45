//! Where the Kafka cluster is and how topics are laid out.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// The `[kafka]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Bootstrap servers of an external cluster, e.g. `kafka-1:9092,kafka-2:9092`.
    /// Unset: `stakeflow run` starts its embedded broker and fills this in.
    pub brokers: Option<String>,
    /// Partitions for topics that stakeflow creates (default 3).
    pub partitions: i32,
    /// Replication factor for topics that stakeflow creates (default 1; 3 in production).
    pub replication: i32,
    /// Create missing topics at start (default true).
    pub create_topics: bool,
    /// How long a produce may wait for the broker before failing (default 30s).
    #[serde(with = "humantime_serde")]
    pub produce_timeout: Duration,
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, ...), passed as given.
    pub client: BTreeMap<String, String>,
    /// A Confluent-compatible schema registry to register our schemas with at
    /// start; records are then framed with the ids it assigns. Unset: the
    /// catalog ids, served by the API's own registry endpoints.
    pub schema_registry_url: Option<url::Url>,
    /// The shortest retention an existing chain or programme topic may have
    /// (a rebuild reads it from its start: at least 84 eras). Unset: keep
    /// forever, the default stakeflow creates topics with; a topic found
    /// with a finite `retention.ms` or a `retention.bytes` is then refused.
    #[serde(with = "humantime_serde")]
    pub min_retention: Option<Duration>,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            brokers: None,
            partitions: 3,
            replication: 1,
            create_topics: true,
            produce_timeout: Duration::from_secs(30),
            client: BTreeMap::new(),
            schema_registry_url: None,
            min_retention: None,
        }
    }
}

impl BusConfig {
    /// Config pointing at `brokers` with defaults otherwise.
    pub fn for_brokers(brokers: impl Into<String>) -> Self {
        Self { brokers: Some(brokers.into()), ..Self::default() }
    }

    /// The bootstrap servers; empty when none is set (the caller starts one).
    pub fn bootstrap(&self) -> &str {
        self.brokers.as_deref().unwrap_or("")
    }

    /// A librdkafka config with the bootstrap servers and the extra properties.
    pub fn client_config(&self) -> ClientConfig {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", self.bootstrap());
        for (k, v) in &self.client {
            cfg.set(k, v);
        }
        cfg
    }
}
