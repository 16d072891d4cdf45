//! Nominator: turns each round's decision into batched staking transactions
//! and tracks them to finality.
//!
//! Built so far: the accounts ([`config`]) and their signing secrets
//! ([`secret`]: from files or the environment, never shown), and the pure
//! selection rules (`rules::nomination`). The consumer that signs, sends and
//! tracks is next; until then the service says so clearly.

pub mod config;
pub mod secret;

pub use config::{Account, AccountConfig, Control, NetworkNominators, NominatorConfig, PolicyKind};
pub use secret::{SecretError, SecretSource, Signer};

/// Why the nominator cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NominatorError {
    /// This build cannot send nominations yet.
    #[error("nominator accounts are configured, but this build cannot send nominations yet; remove [nominator.networks] to run the rest")]
    NotBuilt,
}

/// Whether any nominator account is configured (`stakeflow run` starts the
/// nominator only then).
pub fn configured(cfg: &NominatorConfig) -> bool {
    cfg.networks.values().any(|n| !n.accounts.is_empty())
}

/// Run the nominator service until `shutdown`.
pub async fn run(_cfg: &NominatorConfig, _shutdown: tokio_util::sync::CancellationToken) -> Result<(), NominatorError> {
    Err(NominatorError::NotBuilt)
}
