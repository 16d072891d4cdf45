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

use std::sync::OnceLock;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use block::FinalizedBlock;
pub use event::ChainEvent;
pub use nominator::NominatorEvent;
pub use programme::{CandidateEntry, CandidateList, CandidateScore, CheckRecord, Release, Round, ScoreRecord};
pub use snapshot::{
    Backer, EraPoints, Identity, Judgement, NominatorEra, SessionSnapshot, SessionValidator, ValidatorEra, ValidatorPoints,
};
pub use telemetry::{FEED_CUT, TelemetryFeedEvent, TelemetryNodeEvent, TelemetryRecord};
pub use typed::TypedEvent;

use crate::codec::{frame, unframe};
use crate::registry::{by_id, catalog_id, wire_id};
use crate::SchemaError;

/// Avro-encode `value` with schema `id` and frame it.
pub(crate) fn encode_with<T: Serialize>(id: u32, subject: &'static str, value: &T) -> Result<Vec<u8>, SchemaError> {
    let avro = |source| SchemaError::Avro { subject, source: Box::new(source) };
    let body = prepared(id).writer.write_ser_to_vec(value).map_err(avro)?;
    Ok(frame(wire_id(id), &body))
}

/// A schema's reader and writer, with its names resolved once: resolving
/// them took a third of decoding a nominator record when done per record.
struct Prepared {
    reader: GenericDatumReader<'static>,
    writer: GenericDatumWriter<'static>,
}

fn prepared(id: u32) -> &'static Prepared {
    static PREPARED: OnceLock<Vec<(u32, Prepared)>> = OnceLock::new();
    let all = PREPARED.get_or_init(|| {
        crate::registry::catalog()
            .iter()
            // Compiled-in schemas that parsed resolve (a unit test builds them all):
            // a failure is a build defect, not bad input.
            .map(|e| {
                let reader = GenericDatumReader::builder(&e.schema).build().expect("committed schema resolves");
                let writer = GenericDatumWriter::builder(&e.schema).build().expect("committed schema resolves");
                (e.id, Prepared { reader, writer })
            })
            .collect()
    });
    all.iter().find(|(i, _)| *i == id).map(|(_, p)| p).expect("record schemas are in the catalog")
}

/// Unframe and decode a record of `subject`, read as schema `id`. A record
/// written with another version of the subject we know (an older one during
/// a rolling deploy, or a newer one) is read through Avro schema resolution:
/// fields it lacks take their defaults, fields we lack are skipped. Another
/// subject's schema is refused.
pub(crate) fn decode_with<T: DeserializeOwned>(
    id: u32,
    subject: &'static str,
    payload: &[u8],
) -> Result<T, SchemaError> {
    let (found, mut body) = unframe(payload)?;
    let avro = |source| SchemaError::Avro { subject, source: Box::new(source) };
    let entry = by_id(id).expect("record schemas are in the catalog");
    let writer = catalog_id(found).and_then(|w| crate::registry::catalog().iter().find(|e| e.id == w && e.subject == subject));
    match writer {
        Some(w) if w.id == id => prepared(id).reader.read_deser(&mut body).map_err(avro),
        Some(w) => resolve(&w.schema, &entry.schema, &mut body).map_err(avro),
        None => Err(SchemaError::UnexpectedSchema { found, expected: wire_id(id), subject }),
    }
}

/// Read a datum written with `writer` as `reader` (Avro schema resolution).
fn resolve<T: DeserializeOwned>(writer: &apache_avro::Schema, reader: &apache_avro::Schema, body: &mut &[u8]) -> Result<T, apache_avro::Error> {
    // Through a Value: the datum reader's serde path does not resolve schemas.
    let value = GenericDatumReader::builder(writer).reader_schema(reader).build()?.read_value(body)?;
    apache_avro::from_value(&value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_catalog_schema_resolves_for_reading_and_writing() {
        // Building them panics on a schema that does not resolve: every one is built here.
        for e in crate::registry::catalog() {
            let _ = super::prepared(e.id);
        }
    }

    use apache_avro::Schema;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Old {
        network: String,
        seq: i64,
        dropped: String,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct New {
        network: String,
        seq: i64,
        reason: Option<String>,
    }

    #[test]
    fn a_record_of_another_version_is_read_through_schema_resolution() {
        let old = Schema::parse_str(
            r#"{"type":"record","name":"E","fields":[{"name":"network","type":"string"},{"name":"seq","type":"long"},{"name":"dropped","type":"string"}]}"#,
        )
        .unwrap();
        let new = Schema::parse_str(
            r#"{"type":"record","name":"E","fields":[{"name":"network","type":"string"},{"name":"seq","type":"long"},{"name":"reason","type":["null","string"],"default":null}]}"#,
        )
        .unwrap();
        let body = GenericDatumWriter::builder(&old)
            .build()
            .unwrap()
            .write_ser_to_vec(&Old { network: "polkadot".into(), seq: 7, dropped: "gone".into() })
            .unwrap();
        let read: New = resolve(&old, &new, &mut body.as_slice()).unwrap();
        assert_eq!(read, New { network: "polkadot".into(), seq: 7, reason: None }, "a missing field takes its default, an unknown one is skipped");
        let no_default = Schema::parse_str(
            r#"{"type":"record","name":"E","fields":[{"name":"network","type":"string"},{"name":"seq","type":"long"},{"name":"why","type":"string"}]}"#,
        )
        .unwrap();
        assert!(resolve::<New>(&old, &no_default, &mut body.as_slice()).is_err(), "an incompatible reader is an error, not a panic");
    }

    #[test]
    fn another_subjects_schema_is_refused() {
        let block = FinalizedBlock { chain: "n".into(), number: 1, hash: "0x01".into(), ..FinalizedBlock::default() };
        let framed = block.encode().unwrap();
        assert!(matches!(NominatorEvent::decode(&framed), Err(SchemaError::UnexpectedSchema { .. })));
        assert_eq!(FinalizedBlock::decode(&framed).unwrap(), block);
    }
}
