//! Metric names of ingest.

/// Last block published, by chain.
pub const PUBLISHED_BLOCK: &str = "stakeflow_ingest_published_block";
/// The chain's finalized head as ingest last saw it, by chain.
pub const FINALIZED_BLOCK: &str = "stakeflow_ingest_finalized_block";
/// Backfill rate, by chain.
pub const BLOCKS_PER_SECOND: &str = "stakeflow_ingest_blocks_per_second";
/// Backfill time left (-1: unknown), by chain.
pub const ETA_SECONDS: &str = "stakeflow_ingest_eta_seconds";
/// Records published, by chain and topic.
pub const RECORDS: &str = "stakeflow_ingest_records_total";
/// Reconnects after a transient failure, by chain.
pub const RESTARTS: &str = "stakeflow_ingest_restarts_total";
/// Telemetry feed disconnects, by network.
pub const TELEMETRY_DISCONNECTS: &str = "stakeflow_telemetry_disconnects_total";
/// Telemetry frames that did not parse, by network.
pub const TELEMETRY_BAD_FRAMES: &str = "stakeflow_telemetry_bad_frames_total";
/// Telemetry messages of an action code we do not know, by action.
pub const TELEMETRY_UNKNOWN_ACTIONS: &str = "stakeflow_telemetry_unknown_actions_total";
/// Records too large for the broker, published as placeholders, by topic.
pub const OVERSIZED: &str = "stakeflow_ingest_oversized_records_total";
/// `/submit` connections refused, by why (access, connections).
pub const SUBMIT_REFUSED: &str = "stakeflow_telemetry_submit_refused_total";

/// Chain connections found stalled (a silent subscription), by chain.
pub const STALLS: &str = "stakeflow_ingest_stalls_total";
