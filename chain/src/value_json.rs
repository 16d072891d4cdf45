//! Decoded SCALE values to JSON that analytics tools can use as they are:
//! byte arrays become 0x hex (account ids, hashes), integers that JSON
//! numbers cannot hold exactly (above 2^53) become decimal strings.

use scale_value::{Composite, Primitive, Value, ValueDef};
use serde_json::{Map, Value as Json, json};

/// Largest integer a JSON (IEEE double) number holds exactly.
const MAX_SAFE: u128 = (1 << 53) - 1;

/// A decoded event's fields as JSON.
pub fn composite_to_json<T>(c: &Composite<T>) -> Json {
    match c {
        Composite::Named(fields) => {
            Json::Object(fields.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect::<Map<_, _>>())
        }
        Composite::Unnamed(values) => match as_bytes(values) {
            Some(bytes) if !values.is_empty() => Json::String(format!("0x{}", hex::encode(bytes))),
            _ => Json::Array(values.iter().map(value_to_json).collect()),
        },
    }
}

/// One value as JSON.
pub fn value_to_json<T>(v: &Value<T>) -> Json {
    match &v.value {
        ValueDef::Composite(c) => {
            // Newtype wrappers (AccountId32([u8;32]), Perbill(u32)) unwrap to their content.
            if let Composite::Unnamed(inner) = c
                && inner.len() == 1
                && as_bytes(inner).is_none()
            {
                return value_to_json(&inner[0]);
            }
            composite_to_json(c)
        }
        ValueDef::Variant(var) => {
            match &var.values {
                c if c.is_empty() => Json::String(var.name.clone()),
                // Ok(x), Some(x), Id(account): the one field, not a one-element list.
                Composite::Unnamed(inner) if inner.len() == 1 => json!({ var.name.clone(): value_to_json(&inner[0]) }),
                c => json!({ var.name.clone(): composite_to_json(c) }),
            }
        }
        ValueDef::BitSequence(bits) => Json::String(bits.iter().map(|b| if b { '1' } else { '0' }).collect()),
        ValueDef::Primitive(p) => primitive_to_json(p),
    }
}

fn primitive_to_json(p: &Primitive) -> Json {
    match p {
        Primitive::Bool(b) => Json::Bool(*b),
        Primitive::Char(c) => Json::String(c.to_string()),
        Primitive::String(s) => Json::String(s.clone()),
        Primitive::U128(n) if *n <= MAX_SAFE => json!(*n as u64),
        Primitive::U128(n) => Json::String(n.to_string()),
        Primitive::I128(n) if n.unsigned_abs() <= MAX_SAFE => json!(*n as i64),
        Primitive::I128(n) => Json::String(n.to_string()),
        Primitive::U256(b) | Primitive::I256(b) => Json::String(format!("0x{}", hex::encode(b))),
    }
}

/// The values as bytes, when every one is an unsigned primitive below 256.
/// Sequences of u8 decode this way whatever their length.
fn as_bytes<T>(values: &[Value<T>]) -> Option<Vec<u8>> {
    if values.is_empty() {
        return None;
    }
    values
        .iter()
        .map(|v| match &v.value {
            ValueDef::Primitive(Primitive::U128(n)) if *n < 256 => Some(*n as u8),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_become_hex_and_big_numbers_strings() {
        let account = Value::unnamed_composite([Value::unnamed_composite((0..32u8).map(|b| Value::u128(b.into())))]);
        let fields = Composite::named([
            ("stash", account),
            ("amount", Value::u128(2_000_000_000_000_000_000)),
            ("era", Value::u128(7)),
            ("dest", Value::unnamed_variant("Staked", [])),
            ("result", Value::unnamed_variant("Ok", [Value::unnamed_composite([])])),
        ]);
        let json = composite_to_json(&fields);
        assert_eq!(json["stash"], format!("0x{}", hex::encode((0..32u8).collect::<Vec<_>>())));
        assert_eq!(json["amount"], "2000000000000000000");
        assert_eq!(json["era"], 7);
        assert_eq!(json["dest"], "Staked");
        assert_eq!(json["result"], json!({"Ok": []}));
    }

    #[test]
    fn numbers_at_the_safe_limit_stay_numbers() {
        assert_eq!(value_to_json(&Value::u128(MAX_SAFE)), json!(9_007_199_254_740_991u64));
        assert_eq!(value_to_json(&Value::u128(MAX_SAFE + 1)), "9007199254740992");
        assert_eq!(value_to_json(&Value::i128(-5)), json!(-5));
    }

    #[test]
    fn non_byte_sequences_stay_arrays() {
        let seq = Composite::unnamed([Value::u128(1), Value::u128(300)]);
        assert_eq!(composite_to_json(&seq), json!([1, 300]));
        assert_eq!(composite_to_json(&Composite::<()>::unnamed([])), json!([]));
    }
}
