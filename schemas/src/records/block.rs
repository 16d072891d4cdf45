use serde::{Deserialize, Serialize};

use crate::registry::{FINALIZED_BLOCK_ID, FINALIZED_BLOCK_SUBJECT};

/// One finalized block (schema `finalized_block.avsc`).
///
/// Every field is derived from the block itself, so publishing the same block
/// twice yields identical bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FinalizedBlock {
    /// Network name from the network TOML.
    pub chain: String,
    /// Block number.
    pub number: i64,
    /// Block hash, 0x-prefixed hex.
    pub hash: String,
    /// Parent hash, 0x-prefixed hex.
    pub parent_hash: String,
    /// Timestamp.Now at the block, Unix milliseconds.
    pub timestamp_ms: Option<i64>,
    /// Extrinsics in the block.
    pub extrinsic_count: i32,
    /// Events emitted by the block.
    pub event_count: i32,
    /// Runtime spec version.
    pub spec_version: i32,
}

codec!(FinalizedBlock, FINALIZED_BLOCK_ID, FINALIZED_BLOCK_SUBJECT);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SchemaError;
    use apache_avro::reader::datum::GenericDatumReader;

    fn sample() -> FinalizedBlock {
        FinalizedBlock {
            chain: "paseo".into(),
            number: 42,
            hash: format!("0x{}", "ab".repeat(32)),
            parent_hash: format!("0x{}", "cd".repeat(32)),
            timestamp_ms: Some(1_764_000_000_000),
            extrinsic_count: 2,
            event_count: 3,
            spec_version: 1_001_002,
        }
    }

    #[test]
    fn round_trips_with_and_without_timestamp() {
        for block in [sample(), FinalizedBlock { timestamp_ms: None, number: 0, ..sample() }] {
            let bytes = block.encode().unwrap();
            assert_eq!(bytes[0], 0);
            assert_eq!(u32::from_be_bytes(bytes[1..5].try_into().unwrap()), FINALIZED_BLOCK_ID);
            assert_eq!(FinalizedBlock::decode(&bytes).unwrap(), block);
        }
    }

    #[test]
    fn encoding_is_deterministic() {
        assert_eq!(sample().encode().unwrap(), sample().encode().unwrap());
    }

    /// The Avro body is readable by a generic reader that knows only the
    /// committed .avsc, as an analytics tool would read it.
    #[test]
    fn generic_reader_sees_the_fields() {
        use apache_avro::types::Value;
        let bytes = sample().encode().unwrap();
        let schema = apache_avro::Schema::parse_str(include_str!("../../avro/finalized_block.v1.avsc")).unwrap();
        let value = GenericDatumReader::builder(&schema).build().unwrap().read_value(&mut &bytes[5..]).unwrap();
        let Value::Record(fields) = value else { panic!("not a record: {value:?}") };
        assert_eq!(fields[1], ("number".to_string(), Value::Long(42)));
        assert_eq!(fields[0], ("chain".to_string(), Value::String("paseo".into())));
    }

    #[test]
    fn truncated_body_is_an_error_not_a_panic() {
        let bytes = sample().encode().unwrap();
        for cut in 0..bytes.len() {
            let _ = FinalizedBlock::decode(&bytes[..cut]);
        }
        assert!(FinalizedBlock::decode(&bytes[..10]).is_err());
        let mut foreign = bytes.clone();
        foreign[4] = 99;
        assert!(matches!(FinalizedBlock::decode(&foreign), Err(SchemaError::UnexpectedSchema { found: 99, .. })));
    }
}
