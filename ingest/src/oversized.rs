//! A record too large for the broker never stalls its chain and never
//! leaves a hole: it is published as a placeholder at its own position (no
//! value; headers say what it was, how large, and how to get it again), so
//! every later record of the chain still lands and certifies, and consumers
//! dead-letter the placeholder like any record they cannot decode.

use crate::outputs::Output;

/// Header on a placeholder: the size of the value it stands for.
pub const HEADER: &str = "stakeflow.oversized";

/// Largest value sent by default (bytes): under Kafka's and librdkafka's
/// default `message.max.bytes` (about 1 MB), leaving room for key and headers.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 900_000;

/// `o` as it may be sent under `max` bytes: `None` to send it as it is, or
/// its placeholder. A block record always goes as it is: it certifies its
/// block (and is a few hundred bytes).
pub fn fit(o: &Output, block: u64, seq: usize, max: usize) -> Option<Output> {
    if o.payload.len() <= max || o.topic == schemas::topics::BLOCKS {
        return None;
    }
    let reason = format!(
        "a record of {} bytes exceeds the limit of {max} (ingest.max_record_bytes): its value is left out; \
         it is output {seq} of block {block}, which reproduces it",
        o.payload.len()
    );
    let mut headers = o.headers.clone();
    headers.push((HEADER, o.payload.len().to_string()));
    headers.push(("stakeflow.error", reason));
    Some(Output { topic: o.topic.clone(), partition_key: o.partition_key.clone(), key: o.key.clone(), payload: Vec::new(), headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_value_becomes_a_placeholder_at_its_position() {
        let o = Output { topic: "t".into(), partition_key: b"c".to_vec(), key: b"k".to_vec(), payload: vec![7; 11], headers: vec![("x", "y".into())] };
        assert_eq!(fit(&o, 3, 1, 11), None, "at the limit it goes as it is");
        let block = Output { topic: schemas::topics::BLOCKS.into(), ..o.clone() };
        assert_eq!(fit(&block, 3, 1, 1), None, "a block record is never left out");
        let p = fit(&o, 3, 1, 10).expect("a placeholder");
        assert!(p.payload.is_empty() && p.key == o.key && p.topic == o.topic && p.partition_key == o.partition_key);
        assert!(p.headers.contains(&(HEADER, "11".into())) && p.headers.contains(&("x", "y".into())));
        let why = &p.headers.iter().find(|(k, _)| *k == "stakeflow.error").unwrap().1;
        assert!(why.contains("11 bytes") && why.contains("block 3"), "{why}");
    }
}
