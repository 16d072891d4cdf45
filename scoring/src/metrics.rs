//! Metric names of the consumers, and the one place they are recorded.

/// Records applied, by consumer.
pub const RECORDS: &str = "stakeflow_consumer_records_total";
/// Next offset to read, by consumer, topic and partition.
pub const NEXT_OFFSET: &str = "stakeflow_consumer_next_offset";
/// Rounds evaluated, by network.
pub const ROUNDS: &str = "stakeflow_rounds_total";
/// Valid candidates of the last round, by network.
pub const VALID_CANDIDATES: &str = "stakeflow_round_valid_candidates";
/// Records the scorer had already applied (duplicates on a topic), dropped, by topic.
pub const DUPLICATES: &str = "stakeflow_scorer_duplicates_dropped_total";
/// Scorer passes that could not read a topic to its end in time, by topic.
pub const READ_STALLS: &str = "stakeflow_scorer_read_stalls_total";

/// `n` records of `topic`/`partition` applied and saved, up to `next_offset`.
pub(crate) fn applied(consumer: &'static str, topic: &str, partition: i32, n: u64, next_offset: i64) {
    metrics::counter!(RECORDS, "consumer" => consumer).increment(n);
    metrics::gauge!(NEXT_OFFSET, "consumer" => consumer, "topic" => topic.to_string(), "partition" => partition.to_string())
        .set(next_offset as f64);
}
