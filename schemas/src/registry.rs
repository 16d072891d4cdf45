//! The catalogue of our schemas: subject, version and the id that frames each
//! record. In single-machine mode the api serves this catalogue through the
//! read side of the Confluent schema-registry API, so ids here are the ids on
//! the wire.
//!
//! Evolution: a published version is never edited. A change is a new file
//! `<name>.v<N+1>.avsc`, a new entry below with a new id, and it must be
//! BACKWARD_TRANSITIVE compatible (a reader on the new version reads every
//! older one); `tests/evolution.rs` enforces both rules.

use std::sync::OnceLock;

use apache_avro::Schema;

/// One registered schema version.
#[derive(Debug)]
pub struct SchemaEntry {
    /// Schema id written in every record's header.
    pub id: u32,
    /// Registry subject, `<topic>-value` (TopicNameStrategy).
    pub subject: &'static str,
    /// Version of the subject, from 1.
    pub version: u32,
    /// File name under `schemas/avro/`.
    pub file: &'static str,
    /// The `.avsc` text as committed.
    pub text: &'static str,
    /// The parsed schema.
    pub schema: Schema,
}

/// Subject of the finalized-block value schema.
pub const FINALIZED_BLOCK_SUBJECT: &str = "stakeflow.chain.blocks-value";
/// Id of the finalized-block value schema, version 1.
pub const FINALIZED_BLOCK_ID: u32 = 1;
/// Subject of the chain-event value schema.
pub const CHAIN_EVENT_SUBJECT: &str = "stakeflow.chain.events-value";
/// Id of the chain-event value schema, version 1.
pub const CHAIN_EVENT_ID: u32 = 2;

/// Id of the typed-event value schema, version 1 (shared by the typed event topics).
pub const TYPED_EVENT_ID: u32 = 3;
/// Subjects of the typed event topics, in [`crate::topics::TYPED_EVENTS`] order.
pub const TYPED_EVENT_SUBJECTS: [&str; 6] = [
    "stakeflow.staking.events-value",
    "stakeflow.session.events-value",
    "stakeflow.identity.events-value",
    "stakeflow.proxy.events-value",
    "stakeflow.utility.events-value",
    "stakeflow.system.events-value",
];

/// Subject and id of the session snapshot schema.
pub const SESSION_SNAPSHOT_SUBJECT: &str = "stakeflow.session.snapshots-value";
/// Id of the session snapshot schema, version 1.
pub const SESSION_SNAPSHOT_ID: u32 = 4;
/// Subject of the per-era validator schema.
pub const VALIDATOR_ERA_SUBJECT: &str = "stakeflow.staking.validators-value";
/// Id of the per-era validator schema, version 1.
pub const VALIDATOR_ERA_ID: u32 = 5;
/// Subject of the per-era nominator schema.
pub const NOMINATOR_ERA_SUBJECT: &str = "stakeflow.staking.nominators-value";
/// Id of the per-era nominator schema, version 1.
pub const NOMINATOR_ERA_ID: u32 = 6;
/// Subject of the era points schema.
pub const ERA_POINTS_SUBJECT: &str = "stakeflow.staking.era_points-value";
/// Id of the era points schema, version 1.
pub const ERA_POINTS_ID: u32 = 7;
/// Subject of the identity schema.
pub const IDENTITY_SUBJECT: &str = "stakeflow.identity.accounts-value";
/// Id of the identity schema, version 1.
pub const IDENTITY_ID: u32 = 8;

/// Subject of the telemetry node event schema.
pub const TELEMETRY_NODE_SUBJECT: &str = "stakeflow.telemetry.nodes-value";
/// Id of the telemetry node event schema, version 1.
pub const TELEMETRY_NODE_ID: u32 = 9;
/// Subject of the telemetry feed event schema. Feed events share the nodes
/// topic (so a consumer sees them in order with the node events they frame),
/// hence a TopicRecordNameStrategy subject: `<topic>-<record full name>`.
pub const TELEMETRY_FEED_SUBJECT: &str = "stakeflow.telemetry.nodes-io.stakeflow.telemetry.TelemetryFeedEvent";
/// Id of the telemetry feed event schema, version 1.
pub const TELEMETRY_FEED_ID: u32 = 10;

/// Subject of the candidate list schema.
pub const CANDIDATE_LIST_SUBJECT: &str = "stakeflow.programme.candidates-value";
/// Id of the candidate list schema, version 1.
pub const CANDIDATE_LIST_ID: u32 = 11;
/// Subject of the round schema.
pub const ROUND_SUBJECT: &str = "stakeflow.programme.rounds-value";
/// Id of the round schema, version 1.
pub const ROUND_ID: u32 = 12;
/// Subject of the candidate score schema.
pub const CANDIDATE_SCORE_SUBJECT: &str = "stakeflow.programme.scores-value";
/// Id of the candidate score schema, version 1.
pub const CANDIDATE_SCORE_ID: u32 = 13;

/// Subject of the nominator event schema.
pub const NOMINATOR_EVENT_SUBJECT: &str = "stakeflow.nominator.events-value";
/// Id of the nominator event schema, version 1.
pub const NOMINATOR_EVENT_ID: u32 = 14;

/// Subject of the client release schema.
pub const RELEASE_SUBJECT: &str = "stakeflow.programme.releases-value";
/// Id of the client release schema, version 1.
pub const RELEASE_ID: u32 = 15;

/// The compatibility rule every subject follows.
pub const COMPATIBILITY: &str = "BACKWARD_TRANSITIVE";

macro_rules! entry {
    ($id:expr, $subject:expr, $version:expr, $file:literal) => {
        ($id, $subject, $version, $file, include_str!(concat!("../avro/", $file)))
    };
}

const SOURCES: &[(u32, &str, u32, &str, &str)] = &[
    entry!(FINALIZED_BLOCK_ID, FINALIZED_BLOCK_SUBJECT, 1, "finalized_block.v1.avsc"),
    entry!(CHAIN_EVENT_ID, CHAIN_EVENT_SUBJECT, 1, "chain_event.v1.avsc"),
    // One schema under several subjects has one id, as in a Confluent registry.
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[0], 1, "typed_event.v1.avsc"),
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[1], 1, "typed_event.v1.avsc"),
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[2], 1, "typed_event.v1.avsc"),
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[3], 1, "typed_event.v1.avsc"),
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[4], 1, "typed_event.v1.avsc"),
    entry!(TYPED_EVENT_ID, TYPED_EVENT_SUBJECTS[5], 1, "typed_event.v1.avsc"),
    entry!(SESSION_SNAPSHOT_ID, SESSION_SNAPSHOT_SUBJECT, 1, "session_snapshot.v1.avsc"),
    entry!(VALIDATOR_ERA_ID, VALIDATOR_ERA_SUBJECT, 1, "validator_era.v1.avsc"),
    entry!(NOMINATOR_ERA_ID, NOMINATOR_ERA_SUBJECT, 1, "nominator_era.v1.avsc"),
    entry!(ERA_POINTS_ID, ERA_POINTS_SUBJECT, 1, "era_points.v1.avsc"),
    entry!(IDENTITY_ID, IDENTITY_SUBJECT, 1, "identity.v1.avsc"),
    entry!(TELEMETRY_NODE_ID, TELEMETRY_NODE_SUBJECT, 1, "telemetry_node.v1.avsc"),
    entry!(TELEMETRY_FEED_ID, TELEMETRY_FEED_SUBJECT, 1, "telemetry_feed.v1.avsc"),
    entry!(CANDIDATE_LIST_ID, CANDIDATE_LIST_SUBJECT, 1, "candidate_list.v1.avsc"),
    entry!(ROUND_ID, ROUND_SUBJECT, 1, "round.v1.avsc"),
    entry!(CANDIDATE_SCORE_ID, CANDIDATE_SCORE_SUBJECT, 1, "candidate_score.v1.avsc"),
    entry!(NOMINATOR_EVENT_ID, NOMINATOR_EVENT_SUBJECT, 1, "nominator_event.v1.avsc"),
    entry!(RELEASE_ID, RELEASE_SUBJECT, 1, "release.v1.avsc"),
];

/// Every schema we publish with, parsed once.
pub fn catalog() -> &'static [SchemaEntry] {
    static CATALOG: OnceLock<Vec<SchemaEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        SOURCES
            .iter()
            .map(|&(id, subject, version, file, text)| SchemaEntry {
                id,
                subject,
                version,
                file,
                text,
                // The .avsc files are compiled in and parsed by a unit test, so a
                // failure here is a build defect, not bad input.
                schema: Schema::parse_str(text).expect("committed .avsc parses"),
            })
            .collect()
    })
}

/// The schema with this id.
pub fn by_id(id: u32) -> Option<&'static SchemaEntry> {
    catalog().iter().find(|e| e.id == id)
}

/// Ids a schema registry gave our schemas (catalog id -> registry id), when
/// the deployment has one. Without it, catalog ids are the wire ids.
static WIRE_IDS: OnceLock<std::collections::BTreeMap<u32, u32>> = OnceLock::new();

/// Use the ids a schema registry assigned (catalog id -> registry id) for
/// framing and decoding. Set once per process, before any record is encoded;
/// a second, different mapping is refused.
pub fn use_registry_ids(ids: std::collections::BTreeMap<u32, u32>) -> Result<(), String> {
    let ids_again = ids.clone();
    match WIRE_IDS.set(ids) {
        Ok(()) => Ok(()),
        Err(_) if WIRE_IDS.get() == Some(&ids_again) => Ok(()),
        Err(_) => Err("registry ids were already set differently in this process".into()),
    }
}

/// The id written on the wire for catalog schema `id`.
pub fn wire_id(id: u32) -> u32 {
    WIRE_IDS.get().and_then(|m| m.get(&id).copied()).unwrap_or(id)
}

/// The catalog schema a wire id stands for.
pub fn catalog_id(wire: u32) -> Option<u32> {
    match WIRE_IDS.get() {
        Some(m) => m.iter().find(|(_, w)| **w == wire).map(|(c, _)| *c),
        None => by_id(wire).map(|e| e.id),
    }
}

/// Canonical form of a schema text (for comparing what a registry holds with ours).
pub fn canonical(text: &str) -> Option<String> {
    Schema::parse_str(text).ok().map(|s| s.canonical_form())
}

/// Every version of a subject, oldest first.
pub fn versions(subject: &str) -> Vec<&'static SchemaEntry> {
    let mut v: Vec<&'static SchemaEntry> = catalog().iter().filter(|e| e.subject == subject).collect();
    v.sort_by_key(|e| e.version);
    v
}

/// The distinct subjects, sorted.
pub fn subjects() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = catalog().iter().map(|e| e.subject).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_committed_schema_parses_and_ids_are_unique() {
        let all = catalog();
        assert!(!all.is_empty());
        // An id names one schema text, whatever subjects share it.
        for a in all {
            for b in all.iter().filter(|b| b.id == a.id) {
                assert_eq!(a.text, b.text, "id {} names two schemas", a.id);
            }
            let mut subject_versions = all.iter().filter(|b| b.subject == a.subject && b.version == a.version);
            assert_eq!(subject_versions.clone().count(), 1, "{} v{} registered twice", a.subject, a.version);
            assert!(subject_versions.next().is_some());
        }
        // TopicNameStrategy (`<topic>-value`), or TopicRecordNameStrategy for
        // a second record type on a topic (`<topic>-<namespace.Name>`).
        for e in all {
            let topic_record = e.schema.name().is_some_and(|n| e.subject.ends_with(&format!("-{}", n.fullname(None))));
            assert!(e.subject.ends_with("-value") || topic_record, "subject {}", e.subject);
        }
        for s in subjects() {
            let v: Vec<u32> = versions(s).iter().map(|e| e.version).collect();
            assert_eq!(v, (1..=v.len() as u32).collect::<Vec<_>>(), "versions of {s} are 1..n");
        }
    }
}
