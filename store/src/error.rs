/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The stored position is not the one the writer started from.
    #[error("checkpoint of {consumer} on {topic}/{partition} is {stored:?}, writer expected {expected:?}; another writer or a replay got there first")]
    StaleCheckpoint {
        /// Consumer name.
        consumer: String,
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// What is stored.
        stored: Option<i64>,
        /// What the writer expected.
        expected: Option<i64>,
    },
    /// The embedded database failed.
    #[error("embedded store at {path}: {op} failed: {source}")]
    Embedded {
        /// Database file.
        path: String,
        /// What we were doing.
        op: &'static str,
        /// redb's error.
        #[source]
        source: Box<redb::Error>,
    },
    /// A stored value could not be read back.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// ScyllaDB failed.
    #[error("scylla {op} failed: {reason}")]
    Scylla {
        /// What we were doing.
        op: &'static str,
        /// The driver's error.
        reason: String,
    },
}

impl StoreError {
    /// `delta` was refused: `stored` is what the store holds for its partition.
    pub(crate) fn stale(consumer: &str, delta: &crate::CheckpointDelta, stored: Option<i64>) -> Self {
        StoreError::StaleCheckpoint {
            consumer: consumer.to_string(),
            topic: delta.topic.clone(),
            partition: delta.partition,
            stored,
            expected: delta.from,
        }
    }

    /// True for a refused stale write (the caller should re-read its position).
    pub fn is_stale(&self) -> bool {
        matches!(self, StoreError::StaleCheckpoint { .. })
    }

    /// True when the embedded store's file is open in another process (redb
    /// locks it): that process is this store's one writer until it exits.
    pub fn is_held_by_another_process(&self) -> bool {
        match self {
            StoreError::Embedded { source, .. } => {
                matches!(**source, redb::Error::DatabaseAlreadyOpen)
            }
            _ => false,
        }
    }
}
