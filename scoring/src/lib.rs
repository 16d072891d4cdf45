//! The consumers that run the programme's rules (crate `rules`) over the
//! topics: each reads at positions it stores together with the state it
//! derived, in one guarded store write, so a restart resumes exactly.
//!
//! - [`heads`]: finalized block per chain (`/health`, `/ready`).
//! - [`folds`]: telemetry into uptime, session snapshots into session keys.
//! - [`scorer`]: the programme scorer (chain facts, candidate lists, rounds,
//!   exactly-once round publishing).
//!
//! The async shell they share (where to start, retrying an interrupted run)
//! is [`shell`]; the nominator runs in it too.

mod error;
pub mod folds;
pub mod heads;
pub mod metrics;
pub mod scorer;
pub mod shell;

pub use error::ScoringError;
pub use folds::{
    AnyFold, ERA_POINTS_CONSUMER, EraPointsFold, FOLD_CONSUMERS, all_folds, FoldConsumer, NOMINATOR_STAKE_CONSUMER, NominatorStakeFold, RELEASES_CONSUMER, REWARDS_CONSUMER, ReleasesFold, RewardRow, RewardsFold, Rows, SESSION_KEYS_CONSUMER, SessionKeys, SessionKeysFold, UPTIME_CONSUMER, VALIDATOR_SETS_CONSUMER, ValidatorSetsFold, UptimeConfig, UptimeConsumer, load_state,
    load_uptime,
};
pub use heads::{HEADS_CONSUMER, HeadsConsumer};

pub(crate) use schemas::clock::now_ms;
