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
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use block::FinalizedBlock;
pub use event::ChainEvent;
pub use nominator::NominatorEvent;
pub use programme::{CandidateEntry, CandidateList, CandidateScore, CheckRecord, Release, Round, ScoreRecord};
pub use snapshot::{
    Backer, EraPoints, Identity, Judgement, NominatorEra, NominatorEraView, SessionSnapshot, SessionValidator, ValidatorEra, ValidatorPoints,
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

/// A schema's reader and writer, built once: resolving names took a third
/// of decoding a nominator record when done per record.
struct Prepared {
    /// Records written with this very schema (nearly all) are read with
    /// serde_avro_fast, straight into our types.
    reader: serde_avro_fast::Schema,
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
                let reader = e.text.parse().expect("committed schema parses");
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
        Some(w) if w.id == id => serde_avro_fast::from_datum_slice(body, &prepared(id).reader)
            .map_err(|source| SchemaError::Decode { subject, source }),
        Some(w) => resolve(&w.schema, &entry.schema, &mut body).map_err(avro),
        None => Err(SchemaError::UnexpectedSchema { found, expected: wire_id(id), subject }),
    }
}

/// Unframe and decode a record of `subject` in place (its strings borrowed
/// from `payload`) when it was written with schema `id` itself; `None` when
/// written with another version of the subject (read it with
/// [`decode_with`], which resolves); another subject's schema is refused.
pub(crate) fn decode_in_place<'a, T: Deserialize<'a>>(
    id: u32,
    subject: &'static str,
    payload: &'a [u8],
) -> Result<Option<T>, SchemaError> {
    let (found, body) = unframe(payload)?;
    match catalog_id(found).and_then(|w| crate::registry::catalog().iter().find(|e| e.id == w && e.subject == subject)) {
        Some(w) if w.id == id => serde_avro_fast::from_datum_slice(body, &prepared(id).reader)
            .map(Some)
            .map_err(|source| SchemaError::Decode { subject, source }),
        Some(_) => Ok(None),
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
    use proptest::prelude::*;

    use super::*;
    use crate::registry::{FINALIZED_BLOCK_ID, NOMINATOR_ERA_ID, ROUND_ID, SESSION_SNAPSHOT_ID};

    proptest! {
        /// Any body under a record's own schema id is a record or an error,
        /// never a panic or an allocation the body cannot back.
        #[test]
        fn arbitrary_bodies_decode_or_fail_cleanly(body in prop::collection::vec(any::<u8>(), 0..600)) {
            let framed = |id| frame(wire_id(id), &body);
            let _ = FinalizedBlock::decode(&framed(FINALIZED_BLOCK_ID));
            let _ = NominatorEra::decode(&framed(NOMINATOR_ERA_ID));
            let _ = NominatorEra::read(&framed(NOMINATOR_ERA_ID), |v| v.targets.len());
            let _ = SessionSnapshot::decode(&framed(SESSION_SNAPSHOT_ID));
            let _ = Round::decode(&framed(ROUND_ID));
        }
    }

    #[test]
    fn every_cut_of_a_record_is_an_error() {
        let n = NominatorEra {
            chain: "kusama".into(),
            era: 7,
            nominator: "0xab".into(),
            bonded: "1000".into(),
            targets: vec!["0x01".into(), "0x02".into()],
            ..Default::default()
        };
        let framed = n.encode().unwrap();
        assert_eq!(NominatorEra::decode(&framed).unwrap(), n);
        assert!(NominatorEra::read(&framed, |v| v == n.view()).unwrap(), "read in place, the same record");
        assert!(NominatorEra::read(&FinalizedBlock::default().encode().unwrap(), |_| ()).is_err(), "another subject is refused");
        for cut in 5..framed.len() {
            assert!(NominatorEra::decode(&framed[..cut]).is_err(), "{cut} of {} bytes decoded", framed.len());
        }
    }

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
