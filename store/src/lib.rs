//! The state store: what consumers derive from topics, written together with
//! the topic positions it was derived from.
//!
//! One trait, [`Store`], with two implementations side by side:
//! [`EmbeddedStore`] (redb, the single-machine default) and [`ScyllaStore`]
//! (production). [`conformance`] holds the one test suite both must pass.
//!
//! # Lifecycle of a consumer against the store
//! ```text
//! positions = store.positions(consumer, topic)      // where to resume
//! assign topic partitions at positions
//! loop { read records; derive state;
//!        store.commit_heads(consumer, state, delta)  // state + position, atomically;
//! }                                                   // a stale `delta.from` is refused
//! ```
#![deny(missing_docs)]

pub mod conformance;
mod config;
mod embedded;
mod error;
pub mod lease;
mod model;
mod namespace;
mod scylla;

use async_trait::async_trait;

pub use config::StoreConfig;
pub use embedded::EmbeddedStore;
pub use error::StoreError;
pub use model::{ChainHead, Checkpoint, CheckpointDelta, ObservedHead, StateWrite};
pub use namespace::{Namespaces, live_namespace, namespace_exists, set_live};
pub use scylla::ScyllaStore;

/// Where derived state and consumer positions live.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The stored positions of `consumer` on `topic`, one per partition it has read.
    async fn positions(&self, consumer: &str, topic: &str) -> Result<Vec<Checkpoint>, StoreError>;

    /// Apply chain-head updates and move the consumer's position, all or nothing.
    ///
    /// Refused with [`StoreError::StaleCheckpoint`] when the stored position is
    /// not `delta.from`: a second instance or a replay would otherwise apply
    /// the same records twice.
    async fn commit_heads(&self, consumer: &str, heads: &[ChainHead], delta: &CheckpointDelta)
    -> Result<(), StoreError>;

    /// The chain heads `consumer` has applied, one per chain.
    async fn chain_heads(&self, consumer: &str) -> Result<Vec<ChainHead>, StoreError>;

    /// Record the latest finalized block seen on a chain; never moves backwards.
    async fn record_observed(&self, head: &ObservedHead) -> Result<(), StoreError>;

    /// The latest finalized block seen on each chain.
    async fn observed_heads(&self) -> Result<Vec<ObservedHead>, StoreError>;

    /// A consumer's state saved under `key` (bytes the consumer serialised).
    async fn load_state(&self, consumer: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Save a consumer's state under `key` and move its position, all or
    /// nothing; refused like [`Store::commit_heads`] when `delta.from` is stale.
    async fn commit_state(&self, consumer: &str, key: &str, state: &[u8], delta: &CheckpointDelta) -> Result<(), StoreError> {
        let write = StateWrite { key: key.to_string(), value: state.to_vec() };
        self.commit_states(consumer, std::slice::from_ref(&write), std::slice::from_ref(delta)).await
    }

    /// Save several state values and move several positions (any topics and
    /// partitions of `consumer`), all or nothing; refused when any `from` is stale.
    async fn commit_states(&self, consumer: &str, writes: &[StateWrite], deltas: &[CheckpointDelta])
    -> Result<(), StoreError>;

    /// Every state value of `consumer` whose key starts with `prefix` (ASCII keys), in key order.
    async fn scan_states(&self, consumer: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// The keys [`Store::scan_states`] would return, without reading their values
    /// (listing stored rounds must not load every round).
    async fn scan_keys(&self, consumer: &str, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Whether only one process can have this store open at a time (the
    /// embedded store locks its file): a lease held by another process is then
    /// a dead one's.
    fn single_process(&self) -> bool {
        false
    }

    /// Save a state value that no position guards (settings such as which
    /// scoring namespace is live).
    async fn put_state(&self, consumer: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Save state values that no position guards and that the caller would
    /// write again, to the same bytes, if they were lost: a rebuild's rounds
    /// between two saves of its state. They may be lost in a crash, never
    /// torn (a value is whole or absent); a later [`Store::commit_states`]
    /// makes them durable. Written in order, so a reader never finds a value
    /// naming one written after it. The embedded store writes them without
    /// waiting for the disk.
    async fn commit_redoable(&self, consumer: &str, writes: Vec<StateWrite>) -> Result<(), StoreError> {
        for w in &writes {
            self.put_state(consumer, &w.key, &w.value).await?;
        }
        Ok(())
    }
}

/// Open the store the config names, creating tables on first use.
///
/// A namespace (see [`StoreConfig::namespaced`]) is a store of its own: a
/// separate redb file, or a separate ScyllaDB keyspace.
pub async fn open(cfg: &StoreConfig) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match cfg {
        StoreConfig::Embedded { path } => std::sync::Arc::new(EmbeddedStore::open(path).await?),
        StoreConfig::Scylla { uri, keyspace, replication_factor } => {
            std::sync::Arc::new(ScyllaStore::connect(uri, keyspace, *replication_factor).await?)
        }
    })
}
