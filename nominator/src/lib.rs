//! Nominator: turns each round's decision into batched staking transactions
//! and tracks them to finality.
//!
//! Not built yet: the foundation carries blocks end to end first. The service
//! entry point exists so the binary's modes are complete and say so clearly.

use serde::{Deserialize, Serialize};

/// The `[nominator]` section (reserved).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NominatorConfig {}

/// Why the nominator cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NominatorError {
    /// This build has no nominator.
    #[error("the nominator is not part of this build yet; `stakeflow run` works without it")]
    NotBuilt,
}

/// Start the nominator service.
pub async fn run(_cfg: &NominatorConfig) -> Result<(), NominatorError> {
    Err(NominatorError::NotBuilt)
}
