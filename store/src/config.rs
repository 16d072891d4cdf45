use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The `[store]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreConfig {
    /// A redb file on local disk (single-machine mode).
    Embedded {
        /// Path of the database file.
        path: PathBuf,
    },
    /// A ScyllaDB cluster (distributed mode).
    Scylla {
        /// Contact point, `host:port`.
        uri: String,
        /// Keyspace, created if missing.
        #[serde(default = "default_keyspace")]
        keyspace: String,
        /// Replication factor used when creating the keyspace.
        #[serde(default = "default_rf")]
        replication_factor: u32,
    },
}

fn default_keyspace() -> String {
    "stakeflow".to_string()
}

fn default_rf() -> u32 {
    // One node in development; production sets 3 in its config.
    1
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Embedded { path: PathBuf::from("data/state.redb") }
    }
}
