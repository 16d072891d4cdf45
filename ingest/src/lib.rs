//! Chain ingest: follows finalized blocks of a network and publishes, per
//! block, its events (generic and typed) and the block record, exactly once
//! and in order.
//!
//! There are no Kafka transactions to lean on, so exactly-once comes from
//! three things (see [`position`]): every output of a block is computed from
//! the block alone in a fixed order and carries its position; the producer is
//! idempotent (order without gaps per partition) and block records are sent
//! only once all other outputs of their window are acknowledged; and the resume point is
//! read back from the topics ([`tails`]: what is durably there is the truth,
//! whatever this process believed before a crash).
//!
//! The other inputs: [`telemetry`] (feeds and nodes reporting directly) and
//! [`candidates`] (the programme's candidate list from a file or URL).

mod blocks;
pub mod candidates;
mod error;
pub mod metrics;
pub mod outputs;
pub mod oversized;
pub mod position;
mod progress;
pub mod releases;
pub mod tails;
pub mod telemetry;
pub mod typed;

pub use blocks::{BlockIngest, INGEST, IngestConfig, outgoing, publish_window};
pub use tails::{Marks, last_block, present_positions};
pub use error::IngestError;
