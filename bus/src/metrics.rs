//! Metric names of the Kafka edge.

/// Records sent to a dead-letter topic, by source topic.
pub const DEAD_LETTERS: &str = "stakeflow_dead_letters_total";

/// 1 while the broker answers this process's probe, 0 while it does not.
pub const BROKER_UP: &str = "stakeflow_broker_up";
/// How long the broker has not answered, seconds (0 while it does).
pub const BROKER_UNREACHABLE_SECONDS: &str = "stakeflow_broker_unreachable_seconds";
/// Outages seen by this process.
pub const BROKER_OUTAGES: &str = "stakeflow_broker_outages_total";
