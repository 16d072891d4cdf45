//! Typed records for the events the programme uses, read by field name from
//! the decoded event, so they follow runtime upgrades that keep field names.

use chain::EventFacts;
use schemas::{TypedEvent, topics};
use serde_json::Value;

/// The typed topic for `pallet::variant`, if the programme uses that event.
pub fn topic_for(pallet: &str, variant: &str) -> Option<&'static str> {
    Some(match (pallet, variant) {
        (
            "Staking",
            "Bonded" | "Unbonded" | "Withdrawn" | "ValidatorPrefsSet" | "Chilled" | "EraPaid" | "Rewarded" | "Slashed"
            | "Kicked" | "StakersElected" | "PayoutStarted",
        ) => topics::STAKING_EVENTS,
        ("Session", "NewSession") | ("ImOnline", "SomeOffline" | "AllGood" | "HeartbeatReceived") => {
            topics::SESSION_EVENTS
        }
        (
            "Identity",
            "IdentitySet" | "IdentityCleared" | "IdentityKilled" | "JudgementRequested" | "JudgementUnrequested"
            | "JudgementGiven" | "SubIdentityAdded" | "SubIdentityRemoved" | "SubIdentityRevoked"
            | "SubIdentitiesSet" | "SubIdentityRenamed",
        ) => topics::IDENTITY_EVENTS,
        (
            "Proxy",
            "Announced" | "ProxyExecuted" | "AnnouncementRemoved" | "ProxyAdded" | "ProxyRemoved" | "PureCreated",
        ) => topics::PROXY_EVENTS,
        (
            "Utility",
            "BatchCompleted" | "BatchCompletedWithErrors" | "BatchInterrupted" | "ItemCompleted" | "ItemFailed"
            | "DispatchedAs",
        ) => topics::UTILITY_EVENTS,
        ("System", "ExtrinsicFailed") => topics::SYSTEM_EVENTS,
        _ => return None,
    })
}

fn first<'a>(fields: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| fields.get(*n).filter(|v| !v.is_null()))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The typed record for an event, with the topic it goes to.
pub fn typed(chain: &str, block: u64, block_hash: &str, ev: &EventFacts) -> Option<(&'static str, TypedEvent)> {
    let topic = topic_for(&ev.pallet, &ev.variant)?;
    let f = &ev.fields;
    let sub_event = ev.variant.starts_with("SubIdentity");
    let account = if sub_event {
        first(f, &["sub", "main"])
    } else {
        first(f, &["stash", "staker", "validator_stash", "who", "target", "real", "delegator", "main"])
    };
    let counterpart = if sub_event { first(f, &["main"]) } else { first(f, &["nominator", "proxy", "delegatee"]) };
    let prefs = f.get("prefs");
    let accounts: Vec<String> = match f.get("offline") {
        // SomeOffline { offline: Vec<(AccountId, Exposure)> }
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Array(pair) => pair.first().and_then(text),
                other => text(other),
            })
            .collect(),
        _ => Vec::new(),
    };
    let record = TypedEvent {
        chain: chain.to_string(),
        block_number: block as i64,
        block_hash: block_hash.to_string(),
        index: ev.index as i32,
        extrinsic_index: ev.extrinsic_index.map(|i| i as i32),
        pallet: ev.pallet.clone(),
        kind: ev.variant.clone(),
        account: account.and_then(text),
        counterpart: counterpart.and_then(text),
        amount: first(f, &["amount", "validator_payout", "deposit", "new_deposit"]).and_then(text),
        era: first(f, &["era_index", "era"]).and_then(int),
        session_index: first(f, &["session_index"]).and_then(int),
        commission_perbill: prefs.and_then(|p| p.get("commission")).and_then(int),
        blocked: prefs.and_then(|p| p.get("blocked")).and_then(Value::as_bool),
        registrar_index: first(f, &["registrar_index"]).and_then(int),
        accounts,
        outcome: first(f, &["result", "error", "dispatch_error"]).map(Value::to_string),
        fields_json: f.to_string(),
    };
    Some((topic, record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(pallet: &str, variant: &str, fields: Value) -> EventFacts {
        EventFacts {
            index: 4,
            phase: "ApplyExtrinsic",
            extrinsic_index: Some(1),
            pallet: pallet.into(),
            variant: variant.into(),
            fields,
        }
    }

    #[test]
    fn staking_events_carry_stash_amount_and_prefs() {
        let (topic, t) = typed("c", 7, "0xh", &ev("Staking", "Bonded", json!({"stash": "0xaa", "amount": "2000000000000000"}))).unwrap();
        assert_eq!(topic, topics::STAKING_EVENTS);
        assert_eq!((t.account.as_deref(), t.amount.as_deref()), (Some("0xaa"), Some("2000000000000000")));
        assert_eq!((t.block_number, t.index, t.extrinsic_index), (7, 4, Some(1)));

        let (_, t) = typed("c", 7, "0xh", &ev("Staking", "ValidatorPrefsSet", json!({"stash": "0xaa", "prefs": {"commission": 50_000_000, "blocked": false}}))).unwrap();
        assert_eq!((t.commission_perbill, t.blocked), (Some(50_000_000), Some(false)));

        let (_, t) = typed("c", 7, "0xh", &ev("Staking", "EraPaid", json!({"era_index": 3, "validator_payout": 12, "remainder": 5}))).unwrap();
        assert_eq!((t.era, t.amount.as_deref()), (Some(3), Some("12")));

        let (_, t) = typed("c", 7, "0xh", &ev("Staking", "PayoutStarted", json!({"era_index": 3, "validator_stash": "0xaa", "page": 0, "next": null}))).unwrap();
        assert_eq!((t.era, t.account.as_deref()), (Some(3), Some("0xaa")));

        let (_, t) = typed("c", 7, "0xh", &ev("Staking", "Kicked", json!({"nominator": "0xbb", "stash": "0xaa"}))).unwrap();
        assert_eq!((t.account.as_deref(), t.counterpart.as_deref()), (Some("0xaa"), Some("0xbb")));
    }

    #[test]
    fn offline_signals_list_the_offenders() {
        let fields = json!({"offline": [["0x01", {"total": 1, "own": 1, "others": []}], ["0x02", {"total": 2, "own": 2, "others": []}]]});
        let (topic, t) = typed("c", 1, "0xh", &ev("ImOnline", "SomeOffline", fields)).unwrap();
        assert_eq!(topic, topics::SESSION_EVENTS);
        assert_eq!(t.accounts, vec!["0x01", "0x02"]);
        let (_, t) = typed("c", 1, "0xh", &ev("Session", "NewSession", json!({"session_index": 12}))).unwrap();
        assert_eq!(t.session_index, Some(12));
    }

    #[test]
    fn identity_proxy_utility_and_system_events() {
        let (_, t) = typed("c", 1, "h", &ev("Identity", "SubIdentityAdded", json!({"sub": "0x02", "main": "0x01", "deposit": 5}))).unwrap();
        assert_eq!((t.account.as_deref(), t.counterpart.as_deref(), t.amount.as_deref()), (Some("0x02"), Some("0x01"), Some("5")));
        let (_, t) = typed("c", 1, "h", &ev("Identity", "JudgementGiven", json!({"target": "0x03", "registrar_index": 0}))).unwrap();
        assert_eq!((t.account.as_deref(), t.registrar_index), (Some("0x03"), Some(0)));
        let (topic, t) = typed("c", 1, "h", &ev("Proxy", "Announced", json!({"real": "0x04", "proxy": "0x05", "call_hash": "0x06"}))).unwrap();
        assert_eq!((topic, t.account.as_deref(), t.counterpart.as_deref()), (topics::PROXY_EVENTS, Some("0x04"), Some("0x05")));
        let (_, t) = typed("c", 1, "h", &ev("Proxy", "ProxyExecuted", json!({"result": {"Ok": []}}))).unwrap();
        assert_eq!(t.outcome.as_deref(), Some("{\"Ok\":[]}"));
        let (topic, t) = typed("c", 1, "h", &ev("Utility", "BatchInterrupted", json!({"index": 1, "error": {"Module": {"index": 7}}}))).unwrap();
        assert_eq!(topic, topics::UTILITY_EVENTS);
        assert!(t.outcome.unwrap().contains("Module"));
        let (topic, _) = typed("c", 1, "h", &ev("System", "ExtrinsicFailed", json!({"dispatch_error": "BadOrigin"}))).unwrap();
        assert_eq!(topic, topics::SYSTEM_EVENTS);
    }

    #[test]
    fn events_the_programme_does_not_use_are_not_typed() {
        assert!(typed("c", 1, "h", &ev("Balances", "Transfer", json!({}))).is_none());
        assert!(typed("c", 1, "h", &ev("System", "ExtrinsicSuccess", json!({}))).is_none());
    }
}
