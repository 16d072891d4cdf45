/// Why a scoring consumer stopped or restarted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoringError {
    /// Kafka failed.
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    /// The store failed or refused a stale write.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A record could not be encoded.
    #[error(transparent)]
    Schema(schemas::SchemaError),
    /// `stakeflow swap` made another namespace live: reload from it.
    #[error("the live scoring namespace changed")]
    NamespaceSwapped,
    /// The state could not be (de)serialised.
    #[error("scoring state: {0}")]
    State(String),
}
