//! `Core_version` answered from the node's runtime version.
//!
//! subxt opens every block (`at_block`) with a `state_call` of the runtime's
//! `Core_version`: the node executes the runtime for it, on every pass and
//! every block read. `state_getRuntimeVersion` answers the same facts from
//! the node's cache. On chopsticks the difference decides whether blocks get
//! built: its runtime calls share one executor with block building, and a
//! nominator plus a test polling the chain held a one-transaction block for
//! 90 s (`delayed` e2e test, CI of 5bb046a). The answer is re-encoded as the
//! runtime would encode it; anything unexpected falls back to the real call.

use serde_json::Value;
use serde_json::value::RawValue;
use subxt::ext::codec::Encode;

/// The block hash of a `state_call("Core_version", "0x", at?)`, if `params` are that
/// call (`Some(None)`: at the node's best block).
pub(crate) fn core_version_call(method: &str, params: Option<&RawValue>) -> Option<Option<Value>> {
    if method != "state_call" {
        return None;
    }
    let params: Vec<Value> = serde_json::from_str(params?.get()).ok()?;
    match params.as_slice() {
        [m, data] if m == "Core_version" && is_empty_bytes(data) => Some(None),
        [m, data, at] if m == "Core_version" && is_empty_bytes(data) => Some(Some(at.clone()).filter(|a| !a.is_null())),
        _ => None,
    }
}

fn is_empty_bytes(v: &Value) -> bool {
    matches!(v.as_str(), Some("0x" | ""))
}

/// The SCALE bytes `Core_version` returns, from `state_getRuntimeVersion`'s JSON
/// (spec name, impl name, authoring, spec and impl versions, APIs, transaction
/// version, then the system or state version when the node gives one). For a
/// runtime older than the transaction version the node gives its default (1)
/// where the runtime gave none: it only matters for building a transaction there.
pub fn encode_runtime_version(json: &Value) -> Result<Vec<u8>, String> {
    let text = |k: &str| json.get(k).and_then(Value::as_str).ok_or_else(|| format!("no {k}"));
    let num = |k: &str| json.get(k).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("no {k}"));
    let mut out = Vec::new();
    text("specName")?.encode_to(&mut out);
    text("implName")?.encode_to(&mut out);
    num("authoringVersion")?.encode_to(&mut out);
    num("specVersion")?.encode_to(&mut out);
    num("implVersion")?.encode_to(&mut out);
    let apis = json.get("apis").and_then(Value::as_array).ok_or("no apis")?;
    let apis: Vec<([u8; 8], u32)> = apis
        .iter()
        .map(|a| {
            let id = a.get(0).and_then(Value::as_str).ok_or("an api without id")?;
            let id: [u8; 8] = hex::decode(id.trim_start_matches("0x")).ok().and_then(|b| b.try_into().ok()).ok_or("an api id of other than 8 bytes")?;
            let version = a.get(1).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).ok_or("an api without version")?;
            Ok((id, version))
        })
        .collect::<Result<_, &str>>()?;
    apis.encode_to(&mut out);
    num("transactionVersion")?.encode_to(&mut out);
    let trailing = json.get("systemVersion").or_else(|| json.get("stateVersion")).and_then(Value::as_u64);
    if let Some(v) = trailing {
        u8::try_from(v).map_err(|_| "a system version above 255")?.encode_to(&mut out);
    }
    Ok(out)
}

/// The `state_call` answer (0x hex of the SCALE bytes) for `Core_version`, from `state_getRuntimeVersion`'s answer.
pub(crate) fn core_version_answer(runtime_version: &RawValue) -> Option<Box<RawValue>> {
    let json: Value = serde_json::from_str(runtime_version.get()).ok()?;
    let bytes = encode_runtime_version(&json).ok()?;
    RawValue::from_string(Value::String(format!("0x{}", hex::encode(bytes))).to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    #[test]
    fn only_core_version_calls_are_recognised() {
        let at = serde_json::json!("0xabcd");
        assert_eq!(core_version_call("state_call", Some(&raw(serde_json::json!(["Core_version", "0x", at])))), Some(Some(at.clone())));
        assert_eq!(core_version_call("state_call", Some(&raw(serde_json::json!(["Core_version", "0x"])))), Some(None));
        assert_eq!(core_version_call("state_call", Some(&raw(serde_json::json!(["Core_version", "0x", null])))), Some(None));
        assert_eq!(core_version_call("state_call", Some(&raw(serde_json::json!(["Metadata_metadata", "0x", at])))), None);
        assert_eq!(core_version_call("state_call", Some(&raw(serde_json::json!(["Core_version", "0x01", at])))), None);
        assert_eq!(core_version_call("state_getStorage", Some(&raw(serde_json::json!(["Core_version", "0x"])))), None);
        assert_eq!(core_version_call("state_call", None), None);
    }

    #[test]
    fn the_runtime_version_is_encoded_field_by_field() {
        let json = serde_json::json!({
            "specName": "paseo", "implName": "parity-paseo", "authoringVersion": 0, "specVersion": 1_005_001,
            "implVersion": 0, "apis": [["0xdf6acb689907609b", 5], ["0x37e397fc7c91f5e4", 2]],
            "transactionVersion": 26, "systemVersion": 1
        });
        let bytes = encode_runtime_version(&json).unwrap();
        let mut want = vec![5 << 2];
        want.extend(b"paseo");
        want.push(12 << 2);
        want.extend(b"parity-paseo");
        want.extend(0u32.to_le_bytes());
        want.extend(1_005_001u32.to_le_bytes());
        want.extend(0u32.to_le_bytes());
        want.push(2 << 2);
        want.extend(hex::decode("df6acb689907609b").unwrap());
        want.extend(5u32.to_le_bytes());
        want.extend(hex::decode("37e397fc7c91f5e4").unwrap());
        want.extend(2u32.to_le_bytes());
        want.extend(26u32.to_le_bytes());
        want.push(1);
        assert_eq!(bytes, want);
    }

    #[test]
    fn an_answer_that_does_not_fit_is_refused_not_guessed() {
        for bad in [
            serde_json::json!({"specName": "x"}),
            serde_json::json!({"specName": "x", "implName": "y", "authoringVersion": 0, "specVersion": 1, "implVersion": 0,
                               "apis": [["0x01", 1]], "transactionVersion": 1}),
            serde_json::json!({"specName": "x", "implName": "y", "authoringVersion": 0, "specVersion": -1, "implVersion": 0,
                               "apis": [], "transactionVersion": 1}),
        ] {
            assert!(encode_runtime_version(&bad).is_err(), "{bad}");
        }
        assert!(core_version_answer(&raw(serde_json::json!(null))).is_none());
    }
}
