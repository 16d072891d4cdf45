//! Telemetry ingest: substrate-telemetry feeds to node events on a topic.
//!
//! * [`protocol`]: the feed protocol (v33), parsed without trust.
//! * [`nodes`]: one connection's node table, turning feed messages into
//!   events keyed by peer id (the feed's numeric node ids are reused).
//! * [`feed`]: the client: connect, subscribe, publish, reconnect forever;
//!   our own connection going down is published as such, so consumers know
//!   nodes are unknown then, not offline.
//! * [`submit`]: nodes may report to stakeflow directly (`--telemetry-url`).

pub mod access;
pub mod feed;
pub mod nodes;
pub mod protocol;
pub mod submit;

pub use feed::{FeedClient, TelemetryConfig, UNRECORDED};
pub use submit::SubmitServer;
