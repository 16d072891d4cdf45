/// Why the nominator stopped a pass or the service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NominatorError {
    /// The chain could not be read or written: the outcome is unknown, nothing is concluded.
    #[error(transparent)]
    Chain(#[from] chain::ChainError),
    /// The store failed, or the lease's token moved (another process took over).
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Kafka failed.
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    /// An event could not be encoded.
    #[error(transparent)]
    Schema(#[from] schemas::SchemaError),
    /// The stored rounds could not be read.
    #[error(transparent)]
    Scoring(#[from] scoring::ScoringError),
    /// The configuration cannot run.
    #[error("nominator configuration: {0}")]
    Config(String),
    /// Another process holds the network's lease.
    #[error("network {network}: the nominator lease is held by {holder}")]
    LeaseHeld { network: String, holder: String },
    /// The chain lacks something the nominator needs.
    #[error("network {network}: {detail}")]
    Chainless { network: String, detail: String },
}

impl NominatorError {
    /// The lease was lost: another process writes now.
    pub fn lost_lease(&self) -> bool {
        matches!(self, NominatorError::Store(e) if e.is_stale())
    }
}

impl From<crate::lease::LeaseError> for NominatorError {
    fn from(e: crate::lease::LeaseError) -> Self {
        match e {
            crate::lease::LeaseError::Held { subject, holder, .. } => NominatorError::LeaseHeld { network: subject, holder },
            crate::lease::LeaseError::Store(e) => NominatorError::Store(e),
        }
    }
}
