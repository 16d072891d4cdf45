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
    /// A topic a round needs could not be read to where the round needs it in time.
    #[error("{topic}: not read to the record a round needs within {wait:?} (a slow or absent broker)")]
    Stalled {
        /// The topic.
        topic: &'static str,
        /// How long the read waited.
        wait: std::time::Duration,
    },
    /// Another scorer holds the lease: this one stands by.
    #[error("another scorer holds the lease: {0}")]
    LeaseHeld(String),
}

impl From<store::lease::LeaseError> for ScoringError {
    fn from(e: store::lease::LeaseError) -> Self {
        match e {
            store::lease::LeaseError::Held { holder, .. } => ScoringError::LeaseHeld(holder),
            store::lease::LeaseError::Store(e) => ScoringError::Store(e),
        }
    }
}
