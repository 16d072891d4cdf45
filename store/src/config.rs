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

impl StoreConfig {
    /// The same store with a second, independent set of tables named `name`
    /// (letters, digits, `_`): `<file stem>.<name>.redb` next to the embedded
    /// file, keyspace `<keyspace>_<name>` on ScyllaDB. Rebuilds write there
    /// while the live tables serve.
    pub fn namespaced(&self, name: &str) -> Result<StoreConfig, String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("namespace {name:?} must be letters, digits and underscores"));
        }
        Ok(match self {
            StoreConfig::Embedded { path } => {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("state");
                StoreConfig::Embedded { path: path.with_file_name(format!("{stem}.{name}.redb")) }
            }
            StoreConfig::Scylla { uri, keyspace, replication_factor } => StoreConfig::Scylla {
                uri: uri.clone(),
                keyspace: format!("{keyspace}_{name}"),
                replication_factor: *replication_factor,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_separate_files_or_keyspaces() {
        let e = StoreConfig::Embedded { path: PathBuf::from("data/state.redb") };
        assert_eq!(e.namespaced("r2").unwrap(), StoreConfig::Embedded { path: PathBuf::from("data/state.r2.redb") });
        let s = StoreConfig::Scylla { uri: "h:9042".into(), keyspace: "stakeflow".into(), replication_factor: 3 };
        assert!(matches!(s.namespaced("r2").unwrap(), StoreConfig::Scylla { keyspace, .. } if keyspace == "stakeflow_r2"));
        assert!(e.namespaced("../x").is_err());
    }
}
