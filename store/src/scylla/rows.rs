//! Row shapes and their conversion to and from the domain types.

use scylla::DeserializeRow;
use scylla::value::CqlValue;

use crate::{ChainHead, StoreError};

/// Clustering key of a checkpoint row.
pub(super) fn checkpoint_key(topic: &str, partition: i32) -> String {
    format!("{topic}/{partition}")
}

/// Inverse of [`checkpoint_key`]; topic names may contain '/' only before the last one.
pub(super) fn parse_checkpoint_key(key: &str) -> Option<(&str, i32)> {
    let (topic, partition) = key.rsplit_once('/')?;
    Some((topic, partition.parse().ok()?))
}

/// Bind values of `head_upsert`, in marker order.
pub(super) fn head_values(consumer: &str, head: &ChainHead) -> Vec<Option<CqlValue>> {
    vec![
        Some(CqlValue::BigInt(head.number as i64)),
        Some(CqlValue::Text(head.hash.clone())),
        Some(CqlValue::Text(head.parent_hash.clone())),
        head.timestamp_ms.map(CqlValue::BigInt),
        Some(CqlValue::Int(head.spec_version as i32)),
        Some(CqlValue::BigInt(head.applied_blocks as i64)),
        Some(CqlValue::Text(consumer.to_string())),
        Some(CqlValue::Text(head.chain.clone())),
    ]
}

/// A `kind = 'head'` row of `consumer_state`.
#[derive(DeserializeRow)]
pub(super) struct HeadRow {
    key: String,
    number: Option<i64>,
    hash: Option<String>,
    parent_hash: Option<String>,
    timestamp_ms: Option<i64>,
    spec_version: Option<i32>,
    applied_blocks: Option<i64>,
}

impl HeadRow {
    pub(super) fn into_head(self) -> Result<ChainHead, StoreError> {
        let missing = |col: &str| StoreError::Corrupt { what: "chain head row", reason: format!("{col} is null for {}", self.key) };
        Ok(ChainHead {
            number: self.number.ok_or_else(|| missing("number"))? as u64,
            hash: self.hash.clone().ok_or_else(|| missing("hash"))?,
            parent_hash: self.parent_hash.clone().ok_or_else(|| missing("parent_hash"))?,
            timestamp_ms: self.timestamp_ms,
            spec_version: self.spec_version.unwrap_or_default() as u32,
            applied_blocks: self.applied_blocks.unwrap_or_default() as u64,
            chain: self.key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_keys_round_trip() {
        assert_eq!(parse_checkpoint_key(&checkpoint_key("stakeflow.chain.blocks", 2)), Some(("stakeflow.chain.blocks", 2)));
        assert_eq!(parse_checkpoint_key("a/b/7"), Some(("a/b", 7)));
        assert_eq!(parse_checkpoint_key("nopartition"), None);
    }
}
