//! The candidate list onto the bus: each time the file or URL changes and
//! the new version validates, the whole list goes to the candidates topic
//! under the network's key (every version kept, for rebuilds). An unchanged
//! list (same digest as the topic's latest) is not published again,
//! restarts included.

use bus::{BusConfig, Publisher};
use schemas::{CandidateList, topics};
use tokio_util::sync::CancellationToken;

use super::{CandidateSource, CandidateWatcher, LoadedList};
use crate::IngestError;

/// The record for a loaded list.
pub fn list_record(network: &str, source: &CandidateSource, list: &LoadedList, at_ms: i64) -> CandidateList {
    CandidateList {
        network: network.to_string(),
        source: source.to_string(),
        digest: list.digest.clone(),
        loaded_at_ms: at_ms,
        candidates: list.candidates.clone(),
    }
}

/// Watch `source` and publish every new valid version until `shutdown`.
pub async fn publish_lists(
    bus: BusConfig,
    network: String,
    source: CandidateSource,
    mut watcher: CandidateWatcher,
    shutdown: CancellationToken,
) -> Result<(), IngestError> {
    let publisher = Publisher::new(&bus)?;
    loop {
        let list = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            list = watcher.next_change() => list,
        };
        let partition = publisher.partition_for(topics::CANDIDATES, network.as_bytes()).await?;
        let latest = bus::consumer::last_with_key(&bus, topics::CANDIDATES, partition, network.as_bytes()).await?;
        let same = latest
            .and_then(|r| r.payload)
            .and_then(|p| CandidateList::decode(&p).ok())
            .is_some_and(|l| l.digest == list.digest);
        if same {
            tracing::info!(%network, candidates = list.candidates.len(), "candidate list unchanged since last published");
            continue;
        }
        let now = schemas::clock::now_ms();
        let record = list_record(&network, &source, &list, now).encode()?;
        publisher.publish(topics::CANDIDATES, network.as_bytes(), &record).await?;
        tracing::info!(%network, candidates = list.candidates.len(), digest = %list.digest, "candidate list published");
    }
}
