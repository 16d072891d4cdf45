//! The catalogue of our schemas: subject, version and the id that frames each
//! record. In single-machine mode the api serves this catalogue through the
//! read side of the Confluent schema-registry API, so ids here are the ids on
//! the wire.

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
    /// The `.avsc` text as committed.
    pub text: &'static str,
    /// The parsed schema.
    pub schema: Schema,
}

/// Subject of the finalized-block value schema.
pub const FINALIZED_BLOCK_SUBJECT: &str = "stakeflow.chain.blocks-value";
/// Id of the finalized-block value schema, version 1.
pub const FINALIZED_BLOCK_ID: u32 = 1;

const SOURCES: &[(u32, &str, u32, &str)] = &[(
    FINALIZED_BLOCK_ID,
    FINALIZED_BLOCK_SUBJECT,
    1,
    include_str!("../avro/finalized_block.avsc"),
)];

/// Every schema we publish with, parsed once.
pub fn catalog() -> &'static [SchemaEntry] {
    static CATALOG: OnceLock<Vec<SchemaEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        SOURCES
            .iter()
            .map(|&(id, subject, version, text)| SchemaEntry {
                id,
                subject,
                version,
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

/// Every version of a subject, oldest first.
pub fn versions(subject: &str) -> impl Iterator<Item = &'static SchemaEntry> + '_ {
    catalog().iter().filter(move |e| e.subject == subject)
}

/// The distinct subjects.
pub fn subjects() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = catalog().iter().map(|e| e.subject).collect();
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
        let mut ids: Vec<u32> = all.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "schema ids must be unique");
        assert!(all.iter().all(|e| e.subject.ends_with("-value")));
    }
}
