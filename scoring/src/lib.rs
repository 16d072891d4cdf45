//! Scoring: consumers that turn topics into state. Pure rules live in their
//! own modules ([`heads`]); [`consumer`] is the async shell that reads the
//! bus, applies the rules and commits state together with its position.

pub mod consumer;
mod error;
pub mod heads;
pub mod uptime;

pub use consumer::{CONSUMER, HeadsConsumer};
pub use error::ScoringError;
