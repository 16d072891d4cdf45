//! Rounds onto the bus, exactly once without transactions: a round's
//! candidate records go out in stash order, all to the network's partition,
//! and the round record last. Before publishing, the topics' tails say what
//! is already there: a round record means the round is complete; otherwise
//! the last candidate record of the round says where to continue.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use bus::{BusConfig, Outgoing, Publisher};
use schemas::{CandidateScore, CheckRecord, Round, ScoreRecord, topics};

use rules::RoundSnapshot;
use rules::validity::Verdict;

use crate::ScoringError;

fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    }
    .to_string()
}

/// Key of a round record.
pub fn round_key(network: &str, round: u64) -> String {
    format!("{network}/{round}")
}

/// Key of a candidate record.
pub fn score_key(network: &str, round: u64, stash: &str) -> String {
    format!("{network}/{round}/{stash}")
}

/// The round record.
pub fn round_record(s: &RoundSnapshot) -> Round {
    let (valid, invalid, unknown) = s.counts();
    Round {
        network: s.network.clone(),
        round: s.round as i64,
        era: s.era.map(i64::from),
        chain: s.chain.clone(),
        block_number: s.block as i64,
        at_ms: s.at_ms,
        seed: s.seed.to_string(),
        weights: s.weights.named().iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        validity_config_json: serde_json::to_string(&s.validity).unwrap_or_default(),
        stats_json: serde_json::to_string(&s.stats).unwrap_or_default(),
        candidates: s.candidates.len() as i64,
        valid: valid as i64,
        invalid: invalid as i64,
        unknown: unknown as i64,
    }
}

/// The candidate records, in stash order (the order they are published in).
pub fn score_records(s: &RoundSnapshot) -> Vec<CandidateScore> {
    let mut out: Vec<CandidateScore> = s
        .candidates
        .iter()
        .map(|c| CandidateScore {
            network: s.network.clone(),
            round: s.round as i64,
            stash: c.candidate.stash.clone(),
            name: c.candidate.name.clone(),
            slot_id: c.candidate.slot_id,
            verdict: verdict(c.validity.verdict),
            valid: c.validity.valid,
            checks: c
                .validity
                .checks
                .iter()
                .map(|r| CheckRecord {
                    check: r.check.key().to_string(),
                    verdict: verdict(r.verdict),
                    reason: r.reason.to_string(),
                    value: r.evidence.value.as_ref().map(ToString::to_string),
                    bound: r.evidence.bound.as_ref().map(ToString::to_string),
                    source: r.evidence.source.to_string(),
                    at: r.evidence.at.as_ref().map(ToString::to_string),
                })
                .collect(),
            skipped: c.validity.skipped.iter().map(|k| k.key().to_string()).collect(),
            rank: i64::from(c.history.rank),
            inclusion: c.history.inclusion,
            span_inclusion: c.history.span_inclusion,
            nominated_at: c.history.nominated_at.map(i64::from),
            faults: c.history.faults.len() as i64,
            score: c.score.as_ref().map(|sc| ScoreRecord {
                components: sc.components.named().iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                aggregate: sc.aggregate,
                randomness: sc.randomness,
                total: sc.total,
                inputs_json: c.inputs.as_ref().and_then(|i| serde_json::to_string(i).ok()).unwrap_or_default(),
            }),
        })
        .collect();
    out.sort_by(|a, b| a.stash.cmp(&b.stash));
    out
}

/// Where a round's publication stands on the topics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// The round record is there: nothing to do.
    Complete,
    /// The round record is not; these candidates' records are (none, some,
    /// or all but a few: a record that failed can sit behind later ones).
    Candidates(BTreeSet<String>),
}

/// Read back the round and score topics of `network`'s partition.
pub async fn published(bus: &BusConfig, publisher: &Publisher, network: &str, round: u64) -> Result<Published, ScoringError> {
    let prefix = format!("{network}/");
    let of_network = |k: &[u8]| k.starts_with(prefix.as_bytes());
    let partition = publisher.partition_for(topics::ROUNDS, network.as_bytes()).await?;
    if let Some(last) = bus::consumer::last_matching(bus, topics::ROUNDS, partition, of_network).await?
        && let Some(r) = last.payload.as_deref().and_then(|p| Round::decode(p).ok())
        && r.round as u64 >= round
    {
        return Ok(Published::Complete);
    }
    let partition = publisher.partition_for(topics::SCORES, network.as_bytes()).await?;
    let mut present = BTreeSet::new();
    // Back to the network's previous round: a round's records follow it.
    bus::consumer::scan_back(bus, topics::SCORES, partition, 0, |r| {
        let Some((at, stash)) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()).and_then(|k| k.strip_prefix(&prefix)).and_then(|k| k.split_once('/')) else {
            return ControlFlow::Continue(());
        };
        match at.parse::<u64>() {
            Ok(n) if n == round => {
                present.insert(stash.to_string());
                ControlFlow::Continue(())
            }
            Ok(n) if n < round => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    })
    .await?;
    Ok(Published::Candidates(present))
}

/// Publish what of `snapshot` is not on the topics yet.
pub async fn publish_round(bus: &BusConfig, publisher: &Publisher, snapshot: &RoundSnapshot) -> Result<(), ScoringError> {
    let network = snapshot.network.as_str();
    let Published::Candidates(present) = published(bus, publisher, network, snapshot.round).await? else {
        return Ok(());
    };
    let records = score_records(snapshot);
    let todo: Vec<&CandidateScore> = records.iter().filter(|r| !present.contains(&r.stash)).collect();
    let encoded: Vec<(String, Vec<u8>)> = todo
        .iter()
        .map(|r| Ok((score_key(network, snapshot.round, &r.stash), r.encode()?)))
        .collect::<Result<_, schemas::SchemaError>>()
        .map_err(ScoringError::Schema)?;
    // Candidate records first (in order: the idempotent producer keeps it), then the round.
    for chunk in encoded.chunks(500) {
        let batch: Vec<Outgoing> = chunk
            .iter()
            .map(|(key, payload)| Outgoing {
                topic: topics::SCORES,
                partition_key: network.as_bytes(),
                key: key.as_bytes(),
                payload,
                headers: None,
            })
            .collect();
        publisher.publish_all(batch).await?;
    }
    let round = round_record(snapshot).encode().map_err(ScoringError::Schema)?;
    publisher
        .publish_keyed(topics::ROUNDS, network.as_bytes(), round_key(network, snapshot.round).as_bytes(), &round, None)
        .await?;
    Ok(())
}
