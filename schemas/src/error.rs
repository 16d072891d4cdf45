/// Why a record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The payload is shorter than the 5-byte Confluent header.
    #[error("record of {len} bytes is too short for the Confluent wire format (needs at least 5)")]
    TooShort {
        /// Length of the payload seen.
        len: usize,
    },
    /// The first byte is not the Confluent magic byte 0.
    #[error("record starts with magic byte {found}, expected 0 (Confluent wire format)")]
    BadMagic {
        /// The byte found.
        found: u8,
    },
    /// The schema id is not one this reader expected.
    #[error("record carries schema id {found}, expected {expected} ({subject})")]
    UnexpectedSchema {
        /// The id in the record.
        found: u32,
        /// The id of the schema this reader decodes.
        expected: u32,
        /// Subject of the expected schema.
        subject: &'static str,
    },
    /// The Avro body does not decode as the schema it claims.
    #[error("avro body does not decode as {subject}: {source}")]
    Decode {
        /// Subject of the schema used.
        subject: &'static str,
        /// The decoder's error.
        #[source]
        source: serde_avro_fast::de::DeError,
    },
    /// The Avro body does not match the schema.
    #[error("avro body does not decode as {subject}: {source}")]
    Avro {
        /// Subject of the schema used.
        subject: &'static str,
        /// The decoder's error.
        #[source]
        source: Box<apache_avro::Error>,
    },
}
