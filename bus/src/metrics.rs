//! Metric names of the Kafka edge.

/// Records sent to a dead-letter topic, by source topic.
pub const DEAD_LETTERS: &str = "stakeflow_dead_letters_total";
