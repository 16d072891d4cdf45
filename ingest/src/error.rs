/// Why ingest stopped or restarted its loop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The chain could not be read.
    #[error(transparent)]
    Chain(#[from] chain::ChainError),
    /// Kafka failed.
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A record could not be encoded.
    #[error(transparent)]
    Schema(#[from] schemas::SchemaError),
    /// The topic and the chain disagree: it holds blocks of another chain, or
    /// a record that is not ours.
    #[error("network {network}: {detail}")]
    Inconsistent {
        /// Network name.
        network: String,
        /// What disagrees.
        detail: String,
    },
}

impl IngestError {
    /// True when retrying after a pause may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Chain(e) => e.is_transient(),
            IngestError::Bus(e) => e.is_transient(),
            IngestError::Store(_) => true,
            IngestError::Schema(_) | IngestError::Inconsistent { .. } => false,
        }
    }
}
