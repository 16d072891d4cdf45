use serde::{Deserialize, Serialize};

use crate::registry::{TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS};

/// An event the programme uses, typed (schema `typed_event.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TypedEvent {
    /// Network name.
    pub chain: String,
    /// Block number.
    pub block_number: i64,
    /// Block hash.
    pub block_hash: String,
    /// Index in System.Events.
    pub index: i32,
    /// Emitting extrinsic.
    pub extrinsic_index: Option<i32>,
    /// Pallet name.
    pub pallet: String,
    /// Event name.
    pub kind: String,
    /// The account the event is about.
    pub account: Option<String>,
    /// A second account.
    pub counterpart: Option<String>,
    /// Planck, decimal.
    pub amount: Option<String>,
    /// Era index.
    pub era: Option<i64>,
    /// Session index.
    pub session_index: Option<i64>,
    /// Commission, parts per billion.
    pub commission_perbill: Option<i64>,
    /// Blocked flag.
    pub blocked: Option<bool>,
    /// Registrar index.
    pub registrar_index: Option<i64>,
    /// Accounts of a list-shaped event.
    pub accounts: Vec<String>,
    /// Result or error, JSON.
    pub outcome: Option<String>,
    /// All fields, JSON.
    pub fields_json: String,
}

codec!(TypedEvent, TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[0]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sparse_and_full_records() {
        let sparse = TypedEvent { chain: "c".into(), pallet: "Session".into(), kind: "NewSession".into(), session_index: Some(4), fields_json: "{}".into(), ..Default::default() };
        assert_eq!(TypedEvent::decode(&sparse.encode().unwrap()).unwrap(), sparse);
        let full = TypedEvent {
            account: Some("0x01".into()),
            counterpart: Some("0x02".into()),
            amount: Some("340282366920938463463374607431768211455".into()),
            era: Some(9),
            commission_perbill: Some(50_000_000),
            blocked: Some(true),
            registrar_index: Some(0),
            accounts: vec!["0x03".into(), "0x04".into()],
            outcome: Some("{\"Ok\":[]}".into()),
            extrinsic_index: Some(2),
            ..sparse
        };
        assert_eq!(TypedEvent::decode(&full.encode().unwrap()).unwrap(), full);
    }
}
