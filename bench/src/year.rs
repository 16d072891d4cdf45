//! `year`: the scoring time of a long history without the broker. Eras of
//! synthetic records, encoded as ingest writes them, go through the scorer's
//! own decoding and fold ([`ChunkDecoder`], [`ScorerState::apply`])
//! and rounds ([`ScorerState::evaluate`]) in passes of the size a rebuild
//! makes ([`next_pass_blocks`]), each pass writing its rounds, and the state
//! every [`REBUILD_STATE_EVERY`], to the embedded store as a rebuild does.
//! What a rebuild adds is reading the records (`replay` measures that against
//! a raw read). Making the records is not timed.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rules::synthetic::{NET, Rng};
use schemas::topics;
use scoring::scorer::chain_record::ChunkDecoder;
use scoring::scorer::{REBUILD_STATE_EVERY, SCORER, ScorerState, next_pass_blocks, rounds_writes};
use store::Store;

use crate::scoring::{candidate_list, era_records, memory, replay_network};

/// Time spent per step, summed over the history.
#[derive(Default)]
struct Spent {
    /// Decoding and folding; within it, the fold waiting for a chunk's
    /// decoding (the rest of decoding overlaps the fold).
    apply: Duration,
    decode: Duration,
    rounds: Duration,
    save: Duration,
    /// Within the saves: the state and the rounds as JSON.
    save_state: Duration,
    save_rounds: Duration,
}

impl Spent {
    fn total(&self) -> Duration {
        self.apply + self.rounds + self.save
    }
}

pub async fn year(eras: u64, validators: usize, nominators: usize) -> anyhow::Result<()> {
    println!("year: {eras} eras of {validators} candidates and {nominators} nominators through the scorer's fold and rounds, no broker");
    let dir = tempfile::tempdir()?;
    let store = store::EmbeddedStore::open(&dir.path().join("state.redb")).await?;
    let networks = vec![replay_network()?];
    let none = BTreeSet::new();
    let mut state = ScorerState::default();
    state.apply_list(&candidate_list(validators));

    let (mut spent, mut making) = (Spent::default(), Duration::ZERO);
    let (mut records, mut rounds_scored, mut valid) = (0usize, 0usize, 0usize);
    let (mut pass_blocks, mut in_pass, mut pass_bytes, mut passes) = (1usize, 0usize, 0usize, 0usize);
    let mut rounds = Vec::new();
    let mut rng = Rng(7);
    let mut state_bytes = 0;
    let (mut state_saved_at, mut state_saves) = (Duration::ZERO, 0usize);
    let progress_every = (eras / 10).max(1);
    for era in 1..=eras {
        let t = Instant::now();
        let (era_records, block) = era_records(era, validators, nominators, &mut rng)?;
        making += t.elapsed();

        records += era_records.len() + 1;
        pass_bytes += era_records.iter().map(|r| r.payload.len()).sum::<usize>() + block.len();
        // As a pass: decoded a chunk ahead on the pool, folded in order.
        let t = Instant::now();
        let items: Vec<(&'static str, Vec<u8>)> = era_records.into_iter().map(|r| (r.topic, r.payload)).chain([(topics::BLOCKS, block)]).collect();
        let mut chunks = ChunkDecoder::new(items, |(t, p)| (*t, p.as_slice()));
        loop {
            let t = Instant::now();
            let Some((_, decoded)) = chunks.next().await else { break };
            spent.decode += t.elapsed();
            for record in decoded {
                state.apply(NET, record.map_err(anyhow::Error::msg)?, &none);
            }
        }
        spent.apply += t.elapsed();

        let t = Instant::now();
        if let Some((session, _)) = state.take_due(NET) {
            for r in state.evaluate(&networks, NET, session, 7 * rules::synthetic::DAY) {
                valid = r.counts().0;
                rounds.push(r);
            }
        }
        spent.rounds += t.elapsed();

        in_pass += 1;
        if in_pass == pass_blocks || era == eras {
            // What a rebuild's pass writes: every round it scored, and the
            // state once REBUILD_STATE_EVERY of scoring has passed since it was (and at the end).
            let t = Instant::now();
            let mut writes = Vec::new();
            let with_state = spent.total() - state_saved_at >= REBUILD_STATE_EVERY || era == eras;
            if with_state {
                let state_json = serde_json::to_vec(&state)?;
                state_bytes = state_json.len();
                writes.push(store::StateWrite { key: scoring::scorer::STATE_KEY.into(), value: state_json });
                state_saves += 1;
            }
            spent.save_state += t.elapsed();
            let t_rounds = Instant::now();
            writes.extend(rounds_writes(&rounds)?);
            spent.save_rounds += t_rounds.elapsed();
            // As the scorer commits: the state (with positions, there) durably,
            // rounds alone as writes a rebuild would redo.
            if with_state {
                store.commit_states(SCORER, &writes, &[]).await?;
            } else {
                store.commit_redoable(SCORER, writes).await?;
            }
            spent.save += t.elapsed();
            if with_state {
                state_saved_at = spent.total();
            }
            rounds_scored += rounds.len();
            rounds.clear();
            passes += 1;
            pass_blocks = next_pass_blocks(in_pass, pass_bytes);
            (in_pass, pass_bytes) = (0, 0);
        }
        if era % progress_every == 0 {
            let scoring = spent.total();
            let rss = memory().map_or(String::new(), |(now, _)| format!(", resident {now:.0} MB"));
            println!("  era {era}: scoring {:.1}s so far, state {:.1} MB{rss}", scoring.as_secs_f64(), state_bytes as f64 / 1e6);
        }
    }
    let scoring = spent.total();
    println!(
        "year: {rounds_scored} rounds from {records} records in {:.1}s of scoring time ({:.0} records/s, {:.1} ms an era): decode and fold {:.1}s (waiting for decoding {:.1}s), rounds {:.1}s, saves {:.1}s ({passes} passes, the state in {state_saves} of them; the state as JSON {:.1}s, rounds as JSON {:.1}s, the rest the store's); last round {valid} valid",
        scoring.as_secs_f64(),
        records as f64 / scoring.as_secs_f64(),
        scoring.as_secs_f64() * 1e3 / eras as f64,
        spent.apply.as_secs_f64(),
        spent.decode.as_secs_f64(),
        spent.rounds.as_secs_f64(),
        spent.save.as_secs_f64(),
        spent.save_state.as_secs_f64(),
        spent.save_rounds.as_secs_f64(),
    );
    println!("year: the state at the end {:.1} MB as stored (JSON); making the records took {:.1}s (not timed)", state_bytes as f64 / 1e6, making.as_secs_f64());
    match memory() {
        Some((now, peak)) => println!("year: resident memory {now:.0} MB now, {peak:.0} MB at the peak (one era's records, the state, the store)"),
        None => println!("year: resident memory not measured (no /proc/self/status)"),
    }
    Ok(())
}
