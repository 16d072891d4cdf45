//! Schema evolution rules: a published schema version never changes, and every
//! new version reads data written with every older one (BACKWARD_TRANSITIVE).
//!
//! `avro/FINGERPRINTS` records the Avro (Rabin CRC-64) fingerprint of each
//! published version's canonical form. Adding a version means adding its line;
//! editing a published file fails here.

use apache_avro::rabin::Rabin;
use apache_avro::schema_compatibility::SchemaCompatibility;
use schemas::registry::{catalog, subjects, versions};

fn fingerprint(schema: &apache_avro::Schema) -> String {
    schema.fingerprint::<Rabin>().to_string()
}

#[test]
fn published_versions_are_unchanged() {
    let recorded = include_str!("../avro/FINGERPRINTS");
    let mut expected = String::new();
    for e in catalog() {
        expected.push_str(&format!("{} {} v{} {}\n", e.id, e.subject, e.version, fingerprint(&e.schema)));
    }
    for line in recorded.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        assert!(
            expected.lines().any(|l| l == line),
            "published schema changed or removed: {line}\nadd a new version instead; current:\n{expected}"
        );
    }
    for line in expected.lines() {
        assert!(
            recorded.lines().any(|l| l == line),
            "new schema version not recorded in avro/FINGERPRINTS; add this line:\n{line}\n(all current lines:\n{expected})"
        );
    }
}

#[test]
fn every_version_reads_all_older_versions() {
    for subject in subjects() {
        let all = versions(subject);
        for (i, newer) in all.iter().enumerate() {
            for older in &all[..i] {
                let ok = SchemaCompatibility::can_read(&older.schema, &newer.schema);
                assert!(ok.is_ok(), "{subject} v{} cannot read v{}: {ok:?}", newer.version, older.version);
            }
        }
    }
}

/// The rule bites: a new required field without a default is refused.
#[test]
fn an_incompatible_change_is_detected() {
    let base = &versions(schemas::registry::FINALIZED_BLOCK_SUBJECT)[0].schema;
    let text = schemas::registry::by_id(schemas::registry::FINALIZED_BLOCK_ID).unwrap().text;
    let broken = text.replacen(
        "\"fields\": [",
        "\"fields\": [\n    {\"name\": \"validator_count\", \"type\": \"int\"},",
        1,
    );
    let broken = apache_avro::Schema::parse_str(&broken).unwrap();
    assert!(SchemaCompatibility::can_read(base, &broken).is_err());
}

/// A round built twice, its maps filled in different orders, encodes to the
/// same bytes: a re-published or rebuilt round is byte for byte the live one.
#[test]
fn a_round_encodes_to_the_same_bytes_whatever_order_its_maps_were_filled_in() {
    let names: Vec<String> = (0..16).map(|i| format!("component{i}")).collect();
    let round = |order: &mut dyn Iterator<Item = &String>| schemas::Round {
        network: "n".into(),
        weights: order.map(|k| (k.clone(), k.len() as f64)).collect(),
        ..Default::default()
    };
    let forward = round(&mut names.iter()).encode().unwrap();
    let backward = round(&mut names.iter().rev()).encode().unwrap();
    assert_eq!(forward, backward);
}
