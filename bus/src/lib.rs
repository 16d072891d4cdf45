//! The Kafka edge: the only crate that talks to rdkafka. Producers publish
//! keyed records idempotently to a deterministic partition; consumers assign
//! partitions and seek to positions that the caller stored with its state;
//! the embedded broker gives the single-machine mode a real Kafka API.

pub mod admin;
pub mod config;
pub mod consumer;
pub mod dead_letter;
#[cfg(feature = "embedded-broker")]
pub mod embedded;
pub mod health;
mod error;
pub mod metrics;
pub mod partition;
pub mod producer;
pub mod schema_registry;

pub use config::BusConfig;
pub use dead_letter::DeadLetter;
pub use consumer::{Position, Record};
pub use error::BusError;
pub use health::BrokerHealth;
pub use producer::{Outgoing, Publisher};
