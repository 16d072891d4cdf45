//! The async shell every consumer shares: where to start reading, and
//! retrying an interrupted run.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use bus::BusConfig;
use bus::consumer::PartitionReader;
use store::Store;
use tokio_util::sync::CancellationToken;

use crate::ScoringError;

/// A reader of `topic` assigned at `consumer`'s stored positions, with those
/// positions by partition (the `from` of the next store write).
pub async fn reader_at_stored_positions(
    bus: &BusConfig,
    store: &dyn Store,
    consumer: &str,
    topic: &str,
) -> Result<(PartitionReader, HashMap<i32, i64>), ScoringError> {
    let stored = store.positions(consumer, topic).await?;
    let positions = stored.iter().map(|c| (c.partition, c.next_offset)).collect();
    let from: Vec<bus::Position> =
        stored.iter().map(|c| bus::Position { partition: c.partition, next_offset: c.next_offset }).collect();
    let reader = PartitionReader::assign(bus, consumer, topic, &from).await?;
    Ok((reader, positions))
}

/// Run `attempt` until `shutdown`; an interrupted attempt (a refused stale
/// write, the broker gone) is retried from the store after a capped backoff.
pub async fn run_with_retries<Fut>(
    consumer: &str,
    shutdown: CancellationToken,
    mut attempt: impl FnMut() -> Fut,
) -> Result<(), ScoringError>
where
    Fut: Future<Output = Result<(), ScoringError>>,
{
    let mut backoff = Duration::from_millis(200);
    let mut standing_by = false;
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            r = attempt() => r,
        };
        match result {
            Ok(()) => return Ok(()),
            Err(ScoringError::NamespaceSwapped) => {
                tracing::info!(consumer, "the live scoring namespace changed; continuing from it");
                continue;
            }
            Err(ScoringError::Store(e)) if e.is_stale() => {
                tracing::warn!(consumer, error = %e, "position moved under us; reloading from the store");
            }
            // A position the topic cannot have, a topic with other settings: retrying cannot help.
            Err(ScoringError::Bus(e)) if !e.is_transient() => {
                tracing::error!(consumer, error = %e, "consumer stopped");
                return Err(ScoringError::Bus(e));
            }
            Err(ScoringError::LeaseHeld(holder)) => {
                if !standing_by {
                    tracing::info!(consumer, %holder, "another instance holds the lease; standing by");
                    standing_by = true;
                }
                // Poll for the lease at a steady pace, not a growing one.
                backoff = Duration::from_millis(500);
            }
            Err(e) => tracing::warn!(consumer, error = %e, retry_in = ?backoff, "consumer interrupted; reloading"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
