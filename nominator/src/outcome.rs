//! What a transaction did, item by item, from its events: never just "the
//! extrinsic succeeded". `proxy.proxy` returns Ok even when the call inside
//! fails, so `utility.batch_all` does not roll back then: the failure is only
//! in that item's `Proxy.ProxyExecuted { result: Err }`. Pure.

use chain::EventFacts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A dispatch error as the chain reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DispatchError {
    /// A pallet's error: pallet index and error index (named from metadata by the caller).
    Module { pallet: u8, error: u8 },
    /// Any other (BadOrigin, Token(..), ...), as the chain wrote it.
    Other(String),
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOutcome {
    /// It ran; `Staking.Nominators` is then read to confirm.
    Done,
    /// It failed.
    Failed(DispatchError),
    /// Not run: an earlier item interrupted the batch.
    NotRun,
}

/// What the whole transaction did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxOutcome {
    /// The extrinsic failed: nothing of it applied.
    Failed(DispatchError),
    /// It applied; each item's outcome in batch order.
    Applied(Vec<ItemOutcome>),
}

/// The dispatch error in an event field (`{"Module": {"index", "error"}}` or a name).
pub fn dispatch_error(v: &Value) -> DispatchError {
    if let Some(m) = v.get("Module") {
        let pallet = m.get("index").and_then(Value::as_u64).unwrap_or_default() as u8;
        // `error` is [u8; 4] (hex) on current runtimes, a u8 on old ones.
        let error = match m.get("error") {
            Some(Value::String(h)) => hex::decode(h.trim_start_matches("0x")).ok().and_then(|b| b.first().copied()).unwrap_or_default(),
            Some(Value::Number(n)) => n.as_u64().unwrap_or_default() as u8,
            _ => 0,
        };
        return DispatchError::Module { pallet, error };
    }
    DispatchError::Other(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The outcome of a batch of `via_proxy` items (in batch order) from the events its extrinsic emitted.
pub fn outcome(via_proxy: &[bool], events: &[EventFacts]) -> TxOutcome {
    if let Some(failed) = events.iter().find(|e| e.pallet == "System" && e.variant == "ExtrinsicFailed") {
        return TxOutcome::Failed(dispatch_error(failed.fields.get("dispatch_error").unwrap_or(&Value::Null)));
    }
    let mut items: Vec<ItemOutcome> = vec![ItemOutcome::Done; via_proxy.len()];
    // The i-th ProxyExecuted belongs to the i-th proxied item: each proxied call emits exactly one.
    let proxied: Vec<usize> = via_proxy.iter().enumerate().filter(|(_, p)| **p).map(|(i, _)| i).collect();
    let executed = events.iter().filter(|e| e.pallet == "Proxy" && e.variant == "ProxyExecuted");
    for (item, e) in proxied.iter().zip(executed) {
        if let Some(err) = e.fields.get("result").and_then(|r| r.get("Err")) {
            items[*item] = ItemOutcome::Failed(dispatch_error(err));
        }
    }
    // A plain `batch` stops at the first failure (batch_all would have failed whole).
    if let Some(stop) = events.iter().find(|e| e.pallet == "Utility" && e.variant == "BatchInterrupted") {
        let index = stop.fields.get("index").and_then(Value::as_u64).unwrap_or_default() as usize;
        let error = dispatch_error(stop.fields.get("error").unwrap_or(&Value::Null));
        for (i, item) in items.iter_mut().enumerate().skip(index) {
            *item = if i == index { ItemOutcome::Failed(error.clone()) } else { ItemOutcome::NotRun };
        }
    }
    TxOutcome::Applied(items)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(pallet: &str, variant: &str, fields: Value) -> EventFacts {
        EventFacts { index: 0, phase: "ApplyExtrinsic", extrinsic_index: Some(1), pallet: pallet.into(), variant: variant.into(), fields }
    }

    #[test]
    fn a_failed_extrinsic_fails_everything() {
        let events = [ev("System", "ExtrinsicFailed", json!({"dispatch_error": {"Module": {"index": 7, "error": "0x05000000"}}}))];
        assert_eq!(outcome(&[false, true], &events), TxOutcome::Failed(DispatchError::Module { pallet: 7, error: 5 }));
    }

    #[test]
    fn an_inner_failure_under_a_successful_outer_call_is_found() {
        let events = [
            ev("Proxy", "ProxyExecuted", json!({"result": {"Ok": []}})),
            ev("Utility", "ItemCompleted", json!([])),
            ev("Utility", "ItemCompleted", json!([])),
            ev("Proxy", "ProxyExecuted", json!({"result": {"Err": {"Module": {"index": 7, "error": "0x0b000000"}}}})),
            ev("Utility", "ItemCompleted", json!([])),
            ev("Utility", "BatchCompleted", json!([])),
            ev("System", "ExtrinsicSuccess", json!({})),
        ];
        assert_eq!(
            outcome(&[true, false, true], &events),
            TxOutcome::Applied(vec![ItemOutcome::Done, ItemOutcome::Done, ItemOutcome::Failed(DispatchError::Module { pallet: 7, error: 11 })])
        );
    }

    #[test]
    fn an_interrupted_batch_fails_from_its_index() {
        let events = [ev("Utility", "BatchInterrupted", json!({"index": 1, "error": "BadOrigin"}))];
        assert_eq!(
            outcome(&[false, false, false], &events),
            TxOutcome::Applied(vec![ItemOutcome::Done, ItemOutcome::Failed(DispatchError::Other("BadOrigin".into())), ItemOutcome::NotRun])
        );
    }

    #[test]
    fn old_runtimes_give_the_error_index_as_a_number() {
        assert_eq!(dispatch_error(&json!({"Module": {"index": 6, "error": 3}})), DispatchError::Module { pallet: 6, error: 3 });
        assert_eq!(dispatch_error(&json!({"Token": "FundsUnavailable"})), DispatchError::Other(r#"{"Token":"FundsUnavailable"}"#.into()));
    }
}
