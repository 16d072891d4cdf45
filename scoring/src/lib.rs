//! Scoring: consumers that turn topics into state. Pure rules live in their
//! own modules ([`heads`]); [`consumer`] is the async shell that reads the
//! bus, applies the rules and commits state together with its position.

pub mod consumer;
mod error;
pub mod heads;
mod shell;
pub mod uptime;
pub mod fold;
pub mod geo;

pub use consumer::{CONSUMER, HeadsConsumer};
pub use fold::{
    FoldConsumer, SESSION_KEYS_CONSUMER, SessionKeys, SessionKeysFold, UPTIME_CONSUMER, UptimeConfig, UptimeConsumer, load_state,
    load_uptime,
};
pub use error::ScoringError;
pub mod candidates;
pub mod validity;
pub mod score;
pub mod programme;
