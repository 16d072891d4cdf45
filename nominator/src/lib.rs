//! Nominator: each round's ranked valid candidates become batched staking
//! nominations, sent once and tracked to finality.
//!
//! - [`config`], [`secret`]: the accounts and their signing secrets (from
//!   files or the environment, never shown).
//! - `rules::nomination`: the pure rules (due, target count, selection).
//! - [`lease`]: one nominator per network, fenced.
//! - [`book`]: the outbox (intent and signed bytes saved before broadcast),
//!   the (stash, era) claims, the events not yet published, the statuses.
//! - [`outcome`]: per-item outcome of a batch from its events.
//! - [`service`]: the consumer that runs it all.

pub mod book;
pub mod config;
mod error;
pub mod lease;
pub mod metrics;
pub mod outcome;
pub mod read;
pub mod reload;
pub mod secret;
pub mod service;

pub use config::{Account, AccountConfig, Control, NetworkNominators, NominatorConfig, PolicyKind};
pub use error::NominatorError;
pub use secret::{SecretError, SecretSource, Signer};
pub use service::{NetworkSetup, Nominator, Settings};

/// Whether any nominator account is configured (`stakeflow run` starts the
/// nominator only then).
pub fn configured(cfg: &NominatorConfig) -> bool {
    cfg.networks.values().any(|n| !n.accounts.is_empty())
}
