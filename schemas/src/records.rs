//! Typed records, one module per topic family, sharing one codec path.

/// `encode` and `decode` for a record type with its schema id and subject.
macro_rules! codec {
    ($ty:ty, $id:expr, $subject:expr) => {
        impl $ty {
            /// Avro-encode and frame with the schema id.
            pub fn encode(&self) -> Result<Vec<u8>, crate::SchemaError> {
                crate::records::encode_with($id, $subject, self)
            }

            /// Decode a Confluent-framed record; refuses other schema ids.
            pub fn decode(payload: &[u8]) -> Result<Self, crate::SchemaError> {
                crate::records::decode_with($id, $subject, payload)
            }
        }
    };
}

mod block;
mod event;
mod nominator;
mod programme;
mod snapshot;
mod telemetry;
mod typed;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use block::FinalizedBlock;
pub use event::ChainEvent;
pub use nominator::NominatorEvent;
pub use programme::{CandidateEntry, CandidateList, CandidateScore, CheckRecord, Round, ScoreRecord};
pub use snapshot::{
    Backer, EraPoints, Identity, Judgement, NominatorEra, SessionSnapshot, SessionValidator, ValidatorEra, ValidatorPoints,
};
pub use telemetry::{TelemetryFeedEvent, TelemetryNodeEvent};
pub use typed::TypedEvent;

use crate::codec::{frame, unframe};
use crate::registry::{by_id, catalog_id, wire_id};
use crate::SchemaError;

/// Avro-encode `value` with schema `id` and frame it.
pub(crate) fn encode_with<T: Serialize>(id: u32, subject: &'static str, value: &T) -> Result<Vec<u8>, SchemaError> {
    let entry = by_id(id).expect("record schemas are in the catalog");
    let avro = |source| SchemaError::Avro { subject, source: Box::new(source) };
    let body = GenericDatumWriter::builder(&entry.schema).build().map_err(avro)?.write_ser_to_vec(value).map_err(avro)?;
    Ok(frame(wire_id(id), &body))
}

/// Unframe and decode a record that must carry schema `id`.
pub(crate) fn decode_with<T: DeserializeOwned>(
    id: u32,
    subject: &'static str,
    payload: &[u8],
) -> Result<T, SchemaError> {
    let (found, mut body) = unframe(payload)?;
    if catalog_id(found) != Some(id) {
        return Err(SchemaError::UnexpectedSchema { found, expected: wire_id(id), subject });
    }
    let entry = by_id(id).expect("record schemas are in the catalog");
    let avro = |source| SchemaError::Avro { subject, source: Box::new(source) };
    GenericDatumReader::builder(&entry.schema).build().map_err(avro)?.read_deser(&mut body).map_err(avro)
}
