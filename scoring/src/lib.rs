//! Scoring: consumers that turn topics into state. Pure rules live in their
//! own modules ([`heads`]); [`consumer`] is the async shell that reads the
//! bus, applies the rules and commits state together with its position.

pub mod consumer;
mod error;
pub mod heads;
pub mod uptime;
pub mod uptime_consumer;

pub use consumer::{CONSUMER, HeadsConsumer};
pub use uptime_consumer::{UPTIME_CONSUMER, UptimeConfig, UptimeConsumer, load_uptime};
pub use error::ScoringError;
