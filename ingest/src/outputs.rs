//! Everything ingest publishes for one block, as an ordered list computed
//! from the block alone: the same block always yields the same records in the
//! same order, which is what makes the resume rule in `position` sound.

use chain::staking::{AccountId, EraSnapshot, SessionSnapshot};
use chain::{BlockData, IdentityState};
use schemas::{ChainEvent, FinalizedBlock, SchemaError, topics};

use crate::typed::typed;

/// One record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Topic.
    pub topic: String,
    /// Key that picks the partition (the chain, so a chain's records stay in order).
    pub partition_key: Vec<u8>,
    /// Record key.
    pub key: Vec<u8>,
    /// Value bytes.
    pub payload: Vec<u8>,
    /// Extra headers (dead letters say why).
    pub headers: Vec<(&'static str, String)>,
}

/// State read at a block because its events call for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockExtras {
    /// Read when the block starts a session.
    pub session: Option<SessionSnapshot>,
    /// Read when the block starts an era.
    pub era: Option<EraSnapshot>,
    /// Identities of accounts the block's identity events touch, and of every
    /// validator when an era starts; sorted by account.
    pub identities: Vec<(AccountId, IdentityState)>,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The outputs of one block: per event its generic record then its typed
/// record, then dead letters for what did not decode, then the session and
/// era snapshots and identities the block calls for, then the block record.
pub fn block_outputs(network: &str, data: &BlockData, extras: &BlockExtras) -> Result<Vec<Output>, SchemaError> {
    let f = &data.facts;
    let chain_key = topics::chain_key(network);
    let out = |topic: &str, key: Vec<u8>, payload: Vec<u8>| Output {
        topic: topic.to_string(),
        partition_key: chain_key.clone(),
        key,
        payload,
        headers: Vec::new(),
    };
    let mut outputs = Vec::with_capacity(data.events.len() * 2 + 1);
    for ev in &data.events {
        let key = topics::event_key(network, f.number, ev.index);
        let generic = ChainEvent {
            chain: network.to_string(),
            block_number: f.number as i64,
            block_hash: f.hash.clone(),
            index: ev.index as i32,
            phase: ev.phase.to_string(),
            extrinsic_index: ev.extrinsic_index.map(|i| i as i32),
            pallet: ev.pallet.clone(),
            variant: ev.variant.clone(),
            fields_json: ev.fields.to_string(),
            spec_version: f.spec_version as i32,
        };
        outputs.push(out(topics::EVENTS, key.clone(), generic.encode()?));
        if let Some((topic, record)) = typed(network, f.number, &f.hash, ev) {
            outputs.push(out(topic, key, record.encode()?));
        }
    }
    for bad in &data.undecoded {
        let mut o = out(
            &topics::dead_letter(topics::EVENTS),
            topics::event_key(network, f.number, bad.from_index),
            bad.bytes.clone(),
        );
        o.headers = vec![
            ("stakeflow.chain", network.to_string()),
            ("stakeflow.block", f.number.to_string()),
            ("stakeflow.block_hash", f.hash.clone()),
            ("stakeflow.event_index", bad.from_index.to_string()),
            ("stakeflow.event", bad.what.clone().unwrap_or_else(|| "unknown".into())),
            ("stakeflow.error", bad.error.clone()),
        ];
        outputs.push(o);
    }
    snapshot_outputs(network, data, extras, &mut |topic, key, payload| outputs.push(out(topic, key, payload)))?;
    let undecoded = extras
        .session
        .iter()
        .flat_map(|s| &s.undecoded)
        .chain(extras.era.iter().flat_map(|e| &e.undecoded))
        .chain(extras.identities.iter().flat_map(|(_, i)| &i.undecoded));
    for bad in undecoded {
        let mut o = out(topics::STORAGE_DEAD_LETTERS, topics::sub_key(network, &bad.what), bad.bytes.clone());
        o.headers = vec![
            ("stakeflow.chain", network.to_string()),
            ("stakeflow.block", f.number.to_string()),
            ("stakeflow.block_hash", f.hash.clone()),
            ("stakeflow.storage", bad.what.clone()),
            ("stakeflow.error", bad.error.clone()),
        ];
        outputs.push(o);
    }
    let block = FinalizedBlock {
        chain: network.to_string(),
        number: f.number as i64,
        hash: f.hash.clone(),
        parent_hash: f.parent_hash.clone(),
        timestamp_ms: f.timestamp_ms.map(|t| t as i64),
        extrinsic_count: f.extrinsic_count as i32,
        event_count: f.event_count as i32,
        spec_version: f.spec_version as i32,
    };
    outputs.push(out(topics::BLOCKS, chain_key.clone(), block.encode()?));
    Ok(outputs)
}

fn snapshot_outputs(
    network: &str,
    data: &BlockData,
    extras: &BlockExtras,
    push: &mut dyn FnMut(&str, Vec<u8>, Vec<u8>),
) -> Result<(), SchemaError> {
    let f = &data.facts;
    let (block_number, block_hash) = (f.number as i64, f.hash.clone());
    if let Some(s) = &extras.session {
        let record = schemas::SessionSnapshot {
            chain: network.to_string(),
            session_index: i64::from(s.session_index),
            block_number,
            block_hash: block_hash.clone(),
            active_era: s.active_era.map(i64::from),
            validators: s
                .validators
                .iter()
                .map(|(stash, keys)| schemas::SessionValidator { stash: hex0x(stash), keys: keys.clone() })
                .collect(),
        };
        push(topics::SESSION_SNAPSHOTS, topics::chain_key(network), record.encode()?);
    }
    if let Some(era) = &extras.era {
        if let Some(p) = &era.points {
            let record = schemas::EraPoints {
                chain: network.to_string(),
                era: i64::from(p.era),
                block_number,
                block_hash: block_hash.clone(),
                total: i64::from(p.total),
                points: p
                    .individual
                    .iter()
                    .map(|(stash, points)| schemas::ValidatorPoints { stash: hex0x(stash), points: i64::from(*points) })
                    .collect(),
            };
            push(topics::ERA_POINTS, topics::sub_key(network, &p.era.to_string()), record.encode()?);
        }
        let mut validators: Vec<_> = era.validators.iter().collect();
        validators.sort_by_key(|v| v.stash);
        for v in validators {
            let stash = hex0x(&v.stash);
            let record = schemas::ValidatorEra {
                chain: network.to_string(),
                era: i64::from(era.era),
                block_number,
                block_hash: block_hash.clone(),
                stash: stash.clone(),
                commission_perbill: i64::from(v.commission_perbill),
                blocked: v.blocked,
                self_bonded: v.self_bonded.to_string(),
                elected: v.exposure.is_some(),
                exposure_total: v.exposure.as_ref().map(|e| e.total.to_string()),
                exposure_own: v.exposure.as_ref().map(|e| e.own.to_string()),
                backers: v
                    .exposure
                    .iter()
                    .flat_map(|e| e.others.iter())
                    .map(|(who, value)| schemas::Backer { who: hex0x(who), value: value.to_string() })
                    .collect(),
            };
            push(topics::VALIDATORS, topics::sub_key(network, &stash), record.encode()?);
        }
        let mut nominators: Vec<_> = era.nominators.iter().collect();
        nominators.sort_by_key(|n| n.who);
        for n in nominators {
            let who = hex0x(&n.who);
            let record = schemas::NominatorEra {
                chain: network.to_string(),
                era: i64::from(era.era),
                block_number,
                block_hash: block_hash.clone(),
                nominator: who.clone(),
                bonded: n.bonded.to_string(),
                targets: n.targets.iter().map(|t| hex0x(t)).collect(),
            };
            push(topics::NOMINATORS, topics::sub_key(network, &who), record.encode()?);
        }
    }
    for (account, id) in &extras.identities {
        let account = hex0x(account);
        let field = |name: &str| id.field(name).map(str::to_string);
        let record = schemas::Identity {
            chain: network.to_string(),
            account: account.clone(),
            block_number,
            block_hash: block_hash.clone(),
            has_identity: id.has_identity,
            display: field("display"),
            legal: field("legal"),
            web: field("web"),
            email: field("email"),
            twitter: field("twitter"),
            riot: field("riot").or_else(|| field("matrix")),
            judgements: id
                .judgements
                .iter()
                .map(|(r, j)| schemas::Judgement { registrar_index: i64::from(*r), judgement: j.clone() })
                .collect(),
            super_account: id.super_of.as_ref().map(|(main, _)| hex0x(main)),
            sub_name: id.super_of.as_ref().and_then(|(_, name)| name.clone()),
            subs: id.subs.iter().map(|s| hex0x(s)).collect(),
            info_json: id.info_json.clone(),
        };
        push(topics::IDENTITIES, topics::sub_key(network, &account), record.encode()?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chain::{BlockFacts, EventFacts, UndecodedEvents};
    use serde_json::json;

    fn data() -> BlockData {
        let ev = |index, pallet: &str, variant: &str, fields| EventFacts {
            index,
            phase: "ApplyExtrinsic",
            extrinsic_index: Some(1),
            pallet: pallet.into(),
            variant: variant.into(),
            fields,
        };
        BlockData {
            facts: BlockFacts {
                number: 5,
                hash: "0x05".into(),
                parent_hash: "0x04".into(),
                timestamp_ms: Some(1),
                extrinsic_count: 2,
                event_count: 4,
                spec_version: 9,
            },
            events: vec![
                ev(0, "System", "ExtrinsicSuccess", json!({})),
                ev(1, "Staking", "Bonded", json!({"stash": "0xaa", "amount": 5})),
                ev(2, "System", "ExtrinsicSuccess", json!({})),
            ],
            undecoded: vec![UndecodedEvents { from_index: 3, bytes: vec![1, 2], what: None, error: "bad".into() }],
        }
    }

    #[test]
    fn order_is_events_typed_dead_letters_then_block() {
        let outs = block_outputs("net", &data(), &BlockExtras::default()).unwrap();
        let topics: Vec<&str> = outs.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            topics,
            vec![
                topics::EVENTS,
                topics::EVENTS,
                topics::STAKING_EVENTS,
                topics::EVENTS,
                "stakeflow.chain.events.dlq",
                topics::BLOCKS
            ]
        );
        assert_eq!(outs[2].key, b"net/5/1".to_vec());
        assert!(outs.iter().all(|o| o.partition_key == b"net".to_vec()));
        assert_eq!(outs[4].payload, vec![1, 2]);
        assert_eq!(FinalizedBlock::decode(&outs[5].payload).unwrap().number, 5);
    }

    #[test]
    fn the_same_block_gives_the_same_bytes() {
        assert_eq!(
            block_outputs("net", &data(), &BlockExtras::default()).unwrap(),
            block_outputs("net", &data(), &BlockExtras::default()).unwrap()
        );
    }

    #[test]
    fn snapshots_come_before_the_block_record_in_a_fixed_order() {
        use chain::staking::{EraPoints, Exposure, NominatorState, ValidatorEra};
        let extras = BlockExtras {
            session: Some(SessionSnapshot {
                session_index: 3,
                active_era: Some(1),
                validators: vec![([1; 32], Default::default())],
                undecoded: vec![],
            }),
            era: Some(EraSnapshot {
                era: 1,
                validators: vec![
                    ValidatorEra { stash: [2; 32], commission_perbill: 5, blocked: false, self_bonded: 10, exposure: None },
                    ValidatorEra {
                        stash: [1; 32],
                        commission_perbill: 0,
                        blocked: false,
                        self_bonded: 7,
                        exposure: Some(Exposure { total: 9, own: 7, others: vec![([3; 32], 2)] }),
                    },
                ],
                nominators: vec![NominatorState { who: [3; 32], bonded: 2, targets: vec![[1; 32]] }],
                points: Some(EraPoints { era: 0, total: 20, individual: vec![([1; 32], 20)] }),
                undecoded: vec![chain::staking::UndecodedStorage { what: "Staking.Validators 0x09".into(), bytes: vec![9], error: "bad".into() }],
            }),
            identities: vec![([1; 32], IdentityState { has_identity: true, info_json: "{}".into(), ..Default::default() })],
        };
        let outs = block_outputs("net", &data(), &extras).unwrap();
        let tail: Vec<&str> = outs.iter().rev().take(8).rev().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            tail,
            vec![
                topics::SESSION_SNAPSHOTS,
                topics::ERA_POINTS,
                topics::VALIDATORS,
                topics::VALIDATORS,
                topics::NOMINATORS,
                topics::IDENTITIES,
                topics::STORAGE_DEAD_LETTERS,
                topics::BLOCKS
            ]
        );
        let dead = &outs[outs.len() - 2];
        assert_eq!(dead.payload, vec![9]);
        assert!(dead.headers.contains(&("stakeflow.storage", "Staking.Validators 0x09".to_string())));
        let first_validator = schemas::ValidatorEra::decode(&outs[outs.len() - 6].payload).unwrap();
        assert_eq!(first_validator.stash, hex0x(&[1; 32]), "validators sorted by stash");
        assert_eq!((first_validator.elected, first_validator.backers.len()), (true, 1));
    }
}
