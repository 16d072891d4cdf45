use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::{
    ERA_POINTS_ID, ERA_POINTS_SUBJECT, IDENTITY_ID, IDENTITY_SUBJECT, NOMINATOR_ERA_ID, NOMINATOR_ERA_SUBJECT,
    SESSION_SNAPSHOT_ID, SESSION_SNAPSHOT_SUBJECT, VALIDATOR_ERA_ID, VALIDATOR_ERA_SUBJECT,
};

/// A validator of a session with its keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionValidator {
    /// Stash, 0x hex.
    pub stash: String,
    /// Session keys by name, 0x hex.
    pub keys: BTreeMap<String, String>,
}

/// The validator set of a new session (schema `session_snapshot.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionSnapshot {
    /// Network name.
    pub chain: String,
    /// Session index.
    pub session_index: i64,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: String,
    /// Active era.
    pub active_era: Option<i64>,
    /// Validators in Session.Validators order.
    pub validators: Vec<SessionValidator>,
}
codec!(SessionSnapshot, SESSION_SNAPSHOT_ID, SESSION_SNAPSHOT_SUBJECT);

/// A nominator's stake behind a validator.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Backer {
    /// Nominator, 0x hex.
    pub who: String,
    /// Planck, decimal.
    pub value: String,
}

/// A validator at the start of an era (schema `validator_era.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ValidatorEra {
    /// Network name.
    pub chain: String,
    /// The era that began.
    pub era: i64,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: String,
    /// Stash, 0x hex.
    pub stash: String,
    /// Commission, parts per billion.
    pub commission_perbill: i64,
    /// Blocks nominations.
    pub blocked: bool,
    /// Active bonded stake, planck.
    pub self_bonded: String,
    /// Has an exposure.
    pub elected: bool,
    /// Exposure total.
    pub exposure_total: Option<String>,
    /// Exposure own.
    pub exposure_own: Option<String>,
    /// Backers in the exposure.
    pub backers: Vec<Backer>,
}
codec!(ValidatorEra, VALIDATOR_ERA_ID, VALIDATOR_ERA_SUBJECT);

/// A nominator at the start of an era (schema `nominator_era.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NominatorEra {
    /// Network name.
    pub chain: String,
    /// The era that began.
    pub era: i64,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: String,
    /// Nominator, 0x hex.
    pub nominator: String,
    /// Active bonded stake, planck.
    pub bonded: String,
    /// Targets, 0x hex.
    pub targets: Vec<String>,
}
codec!(NominatorEra, NOMINATOR_ERA_ID, NOMINATOR_ERA_SUBJECT);

/// A [`NominatorEra`] with its strings borrowed, from the payload itself
/// when it was written with this schema version: a rebuild reads tens of
/// millions, and a record's 17 strings were most of its decoding.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NominatorEraView<'a> {
    /// Network name.
    pub chain: &'a str,
    /// The era that began.
    pub era: i64,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: &'a str,
    /// Nominator, 0x hex.
    pub nominator: &'a str,
    /// Active bonded stake, planck.
    pub bonded: &'a str,
    /// Targets, 0x hex.
    pub targets: Vec<&'a str>,
}

impl NominatorEra {
    /// This record, borrowed.
    pub fn view(&self) -> NominatorEraView<'_> {
        NominatorEraView {
            chain: &self.chain,
            era: self.era,
            block_number: self.block_number,
            block_hash: &self.block_hash,
            nominator: &self.nominator,
            bonded: &self.bonded,
            targets: self.targets.iter().map(String::as_str).collect(),
        }
    }

    /// Decode a Confluent-framed record and hand it to `f` borrowed: in
    /// place when written with this version, through [`Self::decode`]'s
    /// schema resolution when written with another.
    pub fn read<R>(payload: &[u8], f: impl FnOnce(NominatorEraView<'_>) -> R) -> Result<R, crate::SchemaError> {
        if let Some(view) = crate::records::decode_in_place(NOMINATOR_ERA_ID, NOMINATOR_ERA_SUBJECT, payload)? {
            return Ok(f(view));
        }
        Ok(f(Self::decode(payload)?.view()))
    }
}

/// Points of one validator.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ValidatorPoints {
    /// Stash, 0x hex.
    pub stash: String,
    /// Points.
    pub points: i64,
}

/// Reward points of an ended era (schema `era_points.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraPoints {
    /// Network name.
    pub chain: String,
    /// The era the points are for.
    pub era: i64,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: String,
    /// Total points.
    pub total: i64,
    /// Per validator.
    pub points: Vec<ValidatorPoints>,
}
codec!(EraPoints, ERA_POINTS_ID, ERA_POINTS_SUBJECT);

/// A registrar's judgement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Judgement {
    /// Registrar index.
    pub registrar_index: i64,
    /// Judgement name.
    pub judgement: String,
}

/// An account's identity at a block (schema `identity.v1.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    /// Network name.
    pub chain: String,
    /// Account, 0x hex.
    pub account: String,
    /// Block it was read at.
    pub block_number: i64,
    /// Hash of that block.
    pub block_hash: String,
    /// IdentityOf is set.
    pub has_identity: bool,
    /// Display name.
    pub display: Option<String>,
    /// Legal name.
    pub legal: Option<String>,
    /// Web.
    pub web: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Twitter.
    pub twitter: Option<String>,
    /// Matrix.
    pub riot: Option<String>,
    /// Judgements.
    pub judgements: Vec<Judgement>,
    /// Super-identity.
    pub super_account: Option<String>,
    /// Name under the super-identity.
    pub sub_name: Option<String>,
    /// Subs.
    pub subs: Vec<String>,
    /// Registration info as JSON.
    pub info_json: String,
}
codec!(Identity, IDENTITY_ID, IDENTITY_SUBJECT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip() {
        let s = SessionSnapshot {
            chain: "c".into(),
            session_index: 3,
            block_number: 9,
            block_hash: "0x09".into(),
            active_era: Some(1),
            validators: vec![SessionValidator {
                stash: "0x01".into(),
                keys: BTreeMap::from([("babe".to_string(), "0x02".to_string()), ("beefy".to_string(), "0x03".to_string())]),
            }],
        };
        assert_eq!(SessionSnapshot::decode(&s.encode().unwrap()).unwrap(), s);
        let v = ValidatorEra {
            chain: "c".into(),
            era: 2,
            block_number: 9,
            block_hash: "0x09".into(),
            stash: "0x01".into(),
            commission_perbill: 50_000_000,
            blocked: false,
            self_bonded: "1000".into(),
            elected: true,
            exposure_total: Some("3000".into()),
            exposure_own: Some("1000".into()),
            backers: vec![Backer { who: "0x05".into(), value: "2000".into() }],
        };
        assert_eq!(ValidatorEra::decode(&v.encode().unwrap()).unwrap(), v);
        let n = NominatorEra { chain: "c".into(), era: 2, block_number: 9, block_hash: "0x".into(), nominator: "0x05".into(), bonded: "7".into(), targets: vec!["0x01".into()] };
        assert_eq!(NominatorEra::decode(&n.encode().unwrap()).unwrap(), n);
        let p = EraPoints { chain: "c".into(), era: 1, block_number: 9, block_hash: "0x".into(), total: 20, points: vec![ValidatorPoints { stash: "0x01".into(), points: 20 }] };
        assert_eq!(EraPoints::decode(&p.encode().unwrap()).unwrap(), p);
        let i = Identity {
            chain: "c".into(),
            account: "0x01".into(),
            has_identity: true,
            display: Some("Alice".into()),
            judgements: vec![Judgement { registrar_index: 0, judgement: "Reasonable".into() }],
            subs: vec!["0x02".into()],
            info_json: "{}".into(),
            ..Default::default()
        };
        assert_eq!(Identity::decode(&i.encode().unwrap()).unwrap(), i);
    }
}
