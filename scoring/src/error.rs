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
}
