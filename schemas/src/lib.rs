//! The stakeflow contract: the Avro schemas of every topic, the topic names and
//! keys, and the Confluent wire framing that stock Kafka/Avro tools understand.
//!
//! Nothing here talks to Kafka or a chain, so analytics code can depend on this
//! crate alone to decode our topics.
#![deny(missing_docs)]

pub mod clock;
pub mod codec;
mod error;
pub mod position;
pub mod records;
pub mod registry;
pub mod ss58;
pub mod topics;

pub use error::SchemaError;
pub use records::{
    Backer, CandidateEntry, CandidateList, CandidateScore, ChainEvent, CheckRecord, NominatorEvent, EraPoints, NominatorEraView, FinalizedBlock, Identity, Judgement, NominatorEra, Release, Round, ScoreRecord, SessionSnapshot, SessionValidator,
    FEED_CUT, TelemetryFeedEvent, TelemetryNodeEvent, TelemetryRecord, TypedEvent, ValidatorEra, ValidatorPoints,
};
