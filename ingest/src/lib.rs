//! Chain ingest: follows finalized blocks of a network and publishes one Avro
//! record per block, exactly once and in order.
//!
//! There are no Kafka transactions to lean on, so exactly-once comes from
//! three things: the resume point is read back from the topic itself (what is
//! durably there is the truth, whatever this process believed before a
//! crash), the producer is idempotent (its own retries never duplicate), and
//! blocks are published strictly one after another, each only after the
//! previous one is acknowledged. Any error restarts the loop from reading the
//! topic tail again.

mod blocks;
mod error;
mod progress;

pub use blocks::{BlockIngest, IngestConfig, resume_point};
pub use error::IngestError;
