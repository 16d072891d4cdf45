//! Confluent wire framing: magic byte 0, the 4-byte big-endian schema id, then
//! the Avro binary body. Stock deserializers (Java, Python, Go) read this.

use crate::SchemaError;

/// The magic byte that starts every Confluent-framed record.
pub const MAGIC: u8 = 0;

/// Length of the frame header.
pub const HEADER_LEN: usize = 5;

/// Prefix an Avro body with the Confluent header.
pub fn frame(schema_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Split a Confluent-framed record into its schema id and Avro body.
pub fn unframe(payload: &[u8]) -> Result<(u32, &[u8]), SchemaError> {
    if payload.len() < HEADER_LEN {
        return Err(SchemaError::TooShort { len: payload.len() });
    }
    if payload[0] != MAGIC {
        return Err(SchemaError::BadMagic { found: payload[0] });
    }
    let id = u32::from_be_bytes([payload[1], payload[2], payload[3], payload[4]]);
    Ok((id, &payload[HEADER_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_then_unframe_gives_back_id_and_body() {
        let framed = frame(0x0102_0304, b"body");
        assert_eq!(&framed[..5], &[0, 1, 2, 3, 4]);
        assert_eq!(unframe(&framed).unwrap(), (0x0102_0304, &b"body"[..]));
    }

    #[test]
    fn short_and_foreign_payloads_are_refused() {
        assert!(matches!(unframe(&[0, 0, 1]), Err(SchemaError::TooShort { len: 3 })));
        assert!(matches!(unframe(b"{\"json\":1}"), Err(SchemaError::BadMagic { found: b'{' })));
    }
}
