//! The programme's rules, as pure functions: no I/O, no clock, no async.
//! Consumers (the `scoring` and `nominator` crates) feed them what they read
//! from the topics and store what they return, so every rule can be unit
//! tested here and every round replayed bit for bit.
//!
//! - [`validity`]: the 1KV checks, each with its evidence, and the verdict.
//! - [`score`]: the 15 score components, their statistics and the seed.
//! - [`chain_facts`], [`history`], [`eras`]: what the chain topics say, folded.
//! - [`uptime`]: telemetry presence as a state machine.
//! - [`node_match`]: the one rule that ties a telemetry node to a stash.
//! - [`geo`]: a node's country and region from its coordinates.
//! - [`round`], [`explain`]: one round evaluated, and a score explained.
//! - [`validator_sets`]: the latest validator set per chain with session keys, and eras per stash.
//! - [`era_points`]: reward points of the last 84 eras per chain.
//! - [`nominator_stake`]: who nominates each validator, over the last eras.
//! - [`rewards`]: staking rewards per validator and nominator, with totals.
//! - [`nomination`]: how many targets, whether an account is due, and which targets it nominates.

pub mod announcement;
pub mod chain_facts;
pub mod era_points;
pub mod eras;
pub mod explain;
pub mod geo;
pub mod history;
pub mod node_match;
pub mod nomination;
pub mod nominator_stake;
pub mod rewards;
pub mod round;
pub mod score;
#[cfg(feature = "synthetic")]
pub mod synthetic;
pub mod uptime;
pub mod validator_sets;
pub mod validity;

pub use round::{CandidateRound, RoundInput, RoundSnapshot, Standings, evaluate_round};
