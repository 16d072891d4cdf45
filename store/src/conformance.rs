//! The behaviour every [`Store`] implementation must have, as async functions
//! that take a way to open the store under test. `store/tests/conformance.rs`
//! runs them on the embedded store always and on ScyllaDB when `SCYLLA_URI` is set.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{ChainHead, CheckpointDelta, ObservedHead, StateWrite, Store};

/// Opens the store under test; calling it again opens the *same* data anew
/// (a restart), so persistence can be checked.
pub type Opener = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>> + Send + Sync>;

/// Names of the checks, with the function that runs each.
pub fn checks() -> Vec<(&'static str, fn(Opener) -> Pin<Box<dyn Future<Output = ()> + Send>>)> {
    vec![
        ("empty_store_has_nothing", |o| Box::pin(empty_store_has_nothing(o))),
        ("first_commit_creates_position_and_heads", |o| Box::pin(first_commit_creates_position_and_heads(o))),
        ("stale_commit_is_refused_and_changes_nothing", |o| Box::pin(stale_commit_is_refused_and_changes_nothing(o))),
        ("positions_are_per_consumer_topic_and_partition", |o| Box::pin(positions_are_per_consumer_topic_and_partition(o))),
        ("state_survives_reopen", |o| Box::pin(state_survives_reopen(o))),
        ("observed_heads_never_move_backwards", |o| Box::pin(observed_heads_never_move_backwards(o))),
        ("state_commits_with_its_position", |o| Box::pin(state_commits_with_its_position(o))),
        ("several_states_and_positions_commit_together", |o| Box::pin(several_states_and_positions_commit_together(o))),
        ("scoring_rows_scan_by_prefix_in_key_order", |o| Box::pin(scoring_rows_scan_by_prefix_in_key_order(o))),
        ("unguarded_settings_overwrite", |o| Box::pin(unguarded_settings_overwrite(o))),
        ("redoable_writes_read_back_and_a_later_commit_keeps_them", |o| Box::pin(redoable_writes_read_back_and_a_later_commit_keeps_them(o))),
    ]
}

fn head(chain: &str, number: u64, applied: u64) -> ChainHead {
    ChainHead {
        chain: chain.to_string(),
        number,
        hash: format!("0x{number:064x}"),
        parent_hash: format!("0x{:064x}", number.saturating_sub(1)),
        timestamp_ms: (number > 0).then_some(1_700_000_000_000 + number as i64 * 6000),
        spec_version: 1_001_002,
        applied_blocks: applied,
    }
}

fn delta(topic: &str, partition: i32, from: Option<i64>, to: i64) -> CheckpointDelta {
    CheckpointDelta { topic: topic.to_string(), partition, from, to }
}

async fn empty_store_has_nothing(open: Opener) {
    let store = open().await;
    assert!(store.positions("scoring", "t").await.unwrap().is_empty());
    assert!(store.chain_heads("scoring").await.unwrap().is_empty());
    assert!(store.observed_heads().await.unwrap().is_empty());
}

async fn first_commit_creates_position_and_heads(open: Opener) {
    let store = open().await;
    store.commit_heads("scoring", &[head("paseo", 5, 6)], &delta("t", 0, None, 6)).await.unwrap();
    let pos = store.positions("scoring", "t").await.unwrap();
    assert_eq!(pos.len(), 1);
    assert_eq!((pos[0].partition, pos[0].next_offset), (0, 6));
    assert_eq!(store.chain_heads("scoring").await.unwrap(), vec![head("paseo", 5, 6)]);
    // A second "first" commit means two writers started from nothing: refused.
    let err = store.commit_heads("scoring", &[head("paseo", 9, 10)], &delta("t", 0, None, 10)).await.unwrap_err();
    assert!(err.is_stale(), "{err}");
    // Moving on from the stored position works and replaces the head.
    store.commit_heads("scoring", &[head("paseo", 6, 7)], &delta("t", 0, Some(6), 7)).await.unwrap();
    assert_eq!(store.chain_heads("scoring").await.unwrap(), vec![head("paseo", 6, 7)]);
}

async fn stale_commit_is_refused_and_changes_nothing(open: Opener) {
    let store = open().await;
    store.commit_heads("scoring", &[head("paseo", 3, 4)], &delta("t", 1, None, 4)).await.unwrap();
    store.commit_heads("scoring", &[head("paseo", 4, 5)], &delta("t", 1, Some(4), 5)).await.unwrap();
    // A replay of the second commit (or a zombie writer) must not apply again.
    let err = store.commit_heads("scoring", &[head("paseo", 4, 6)], &delta("t", 1, Some(4), 5)).await.unwrap_err();
    assert!(err.is_stale(), "{err}");
    assert_eq!(store.chain_heads("scoring").await.unwrap(), vec![head("paseo", 4, 5)]);
    assert_eq!(store.positions("scoring", "t").await.unwrap()[0].next_offset, 5);
}

async fn positions_are_per_consumer_topic_and_partition(open: Opener) {
    let store = open().await;
    store.commit_heads("a", &[], &delta("t1", 0, None, 10)).await.unwrap();
    store.commit_heads("a", &[], &delta("t1", 2, None, 20)).await.unwrap();
    store.commit_heads("a", &[], &delta("t2", 0, None, 30)).await.unwrap();
    store.commit_heads("b", &[head("kusama", 1, 1)], &delta("t1", 0, None, 40)).await.unwrap();
    let mut a: Vec<(i32, i64)> =
        store.positions("a", "t1").await.unwrap().into_iter().map(|c| (c.partition, c.next_offset)).collect();
    a.sort_unstable();
    assert_eq!(a, vec![(0, 10), (2, 20)]);
    assert_eq!(store.positions("a", "t2").await.unwrap()[0].next_offset, 30);
    assert_eq!(store.positions("b", "t1").await.unwrap()[0].next_offset, 40);
    assert!(store.chain_heads("a").await.unwrap().is_empty());
    assert_eq!(store.chain_heads("b").await.unwrap().len(), 1);
}

async fn state_survives_reopen(open: Opener) {
    {
        let store = open().await;
        store
            .commit_heads("scoring", &[head("paseo", 7, 8), head("kusama", 2, 3)], &delta("t", 0, None, 11))
            .await
            .unwrap();
        store.record_observed(&ObservedHead { chain: "paseo".into(), number: 9, observed_at_ms: 1 }).await.unwrap();
    }
    let store = open().await;
    let mut heads = store.chain_heads("scoring").await.unwrap();
    heads.sort_by(|a, b| a.chain.cmp(&b.chain));
    assert_eq!(heads, vec![head("kusama", 2, 3), head("paseo", 7, 8)]);
    assert_eq!(store.positions("scoring", "t").await.unwrap()[0].next_offset, 11);
    assert_eq!(store.observed_heads().await.unwrap()[0].number, 9);
}

async fn observed_heads_never_move_backwards(open: Opener) {
    let store = open().await;
    let seen = |number, at| ObservedHead { chain: "paseo".into(), number, observed_at_ms: at };
    store.record_observed(&seen(10, 100)).await.unwrap();
    store.record_observed(&seen(12, 200)).await.unwrap();
    store.record_observed(&seen(11, 300)).await.unwrap();
    assert_eq!(store.observed_heads().await.unwrap(), vec![seen(12, 200)]);
}

async fn state_commits_with_its_position(open: Opener) {
    {
        let store = open().await;
        assert_eq!(store.load_state("uptime", "all").await.unwrap(), None);
        store.commit_state("uptime", "all", b"v1", &delta("t", 0, None, 3)).await.unwrap();
        store.commit_state("uptime", "all", b"v2", &delta("t", 0, Some(3), 5)).await.unwrap();
        // A replay of the last commit is refused and leaves state and position as they were.
        let err = store.commit_state("uptime", "all", b"v3", &delta("t", 0, Some(3), 6)).await.unwrap_err();
        assert!(err.is_stale(), "{err}");
        store.commit_state("other", "all", b"x", &delta("t", 0, None, 1)).await.unwrap();
    }
    let store = open().await;
    assert_eq!(store.load_state("uptime", "all").await.unwrap().as_deref(), Some(&b"v2"[..]));
    assert_eq!(store.positions("uptime", "t").await.unwrap()[0].next_offset, 5);
    assert_eq!(store.load_state("other", "all").await.unwrap().as_deref(), Some(&b"x"[..]));
    assert_eq!(store.load_state("uptime", "missing").await.unwrap(), None);
}

fn write(key: &str, value: &[u8]) -> StateWrite {
    StateWrite { key: key.to_string(), value: value.to_vec() }
}

/// The scorer's write: its state, a round's rows and positions on several
/// topics and partitions, in one step.
async fn several_states_and_positions_commit_together(open: Opener) {
    {
        let store = open().await;
        let first = [delta("blocks", 0, None, 4), delta("validators", 1, None, 9)];
        store.commit_states("scorer", &[write("state", b"s1"), write("round/p/0001", b"r1")], &first).await.unwrap();
        // One stale position among fresh ones refuses the whole write.
        let mixed = [delta("blocks", 0, Some(4), 6), delta("validators", 1, Some(8), 12)];
        let err = store.commit_states("scorer", &[write("state", b"bad"), write("round/p/0002", b"bad")], &mixed).await.unwrap_err();
        assert!(err.is_stale(), "{err}");
        assert_eq!(store.load_state("scorer", "state").await.unwrap().as_deref(), Some(&b"s1"[..]));
        assert_eq!(store.load_state("scorer", "round/p/0002").await.unwrap(), None);
        assert_eq!(store.positions("scorer", "blocks").await.unwrap()[0].next_offset, 4, "the fresh position did not move either");
        // A position new to the consumer joins existing ones.
        let next = [delta("blocks", 0, Some(4), 6), delta("validators", 1, Some(9), 12), delta("identities", 0, None, 2)];
        store.commit_states("scorer", &[write("state", b"s2"), write("round/p/0002", b"r2")], &next).await.unwrap();
    }
    let store = open().await;
    assert_eq!(store.load_state("scorer", "state").await.unwrap().as_deref(), Some(&b"s2"[..]));
    assert_eq!(store.load_state("scorer", "round/p/0002").await.unwrap().as_deref(), Some(&b"r2"[..]));
    assert_eq!(store.positions("scorer", "validators").await.unwrap()[0].next_offset, 12);
    assert_eq!(store.positions("scorer", "identities").await.unwrap()[0].next_offset, 2);
}

async fn scoring_rows_scan_by_prefix_in_key_order(open: Opener) {
    let store = open().await;
    let d = [delta("t", 0, None, 1)];
    let rows = [write("round/polkadot/000000000010", b"10"), write("round/polkadot/000000000002", b"2"), write("round/kusama/000000000001", b"k"), write("roundx", b"x")];
    store.commit_states("scorer", &rows, &d).await.unwrap();
    store.commit_states("other", &[write("round/polkadot/000000000003", b"o")], &d).await.unwrap();
    let got = store.scan_states("scorer", "round/polkadot/").await.unwrap();
    let got: Vec<(&str, &[u8])> = got.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
    assert_eq!(got, vec![("round/polkadot/000000000002", &b"2"[..]), ("round/polkadot/000000000010", &b"10"[..])]);
    assert_eq!(store.scan_states("scorer", "round/").await.unwrap().len(), 3);
    assert!(store.scan_states("scorer", "none/").await.unwrap().is_empty());
    assert_eq!(store.scan_keys("scorer", "round/polkadot/").await.unwrap(), vec!["round/polkadot/000000000002", "round/polkadot/000000000010"]);
    assert!(store.scan_keys("scorer", "none/").await.unwrap().is_empty());
}

async fn unguarded_settings_overwrite(open: Opener) {
    {
        let store = open().await;
        store.put_state("control", "scoring.live", b"a").await.unwrap();
        store.put_state("control", "scoring.live", b"b").await.unwrap();
        assert!(store.positions("control", "t").await.unwrap().is_empty(), "no position is written");
    }
    let store = open().await;
    assert_eq!(store.load_state("control", "scoring.live").await.unwrap().as_deref(), Some(&b"b"[..]));
}

async fn redoable_writes_read_back_and_a_later_commit_keeps_them(open: Opener) {
    let w = |key: &str, value: &[u8]| StateWrite { key: key.to_string(), value: value.to_vec() };
    {
        let store = open().await;
        store.commit_redoable("scoring", vec![w("round/a/1", b"one"), w("round/a/2", b"two")]).await.unwrap();
        store.commit_redoable("scoring", vec![w("round/a/2", b"two again")]).await.unwrap();
        assert_eq!(store.load_state("scoring", "round/a/1").await.unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(store.load_state("scoring", "round/a/2").await.unwrap().as_deref(), Some(&b"two again"[..]));
        assert!(store.positions("scoring", "t").await.unwrap().is_empty(), "no position is written");
        store.commit_states("scoring", &[w("state", b"s")], &[delta("t", 0, None, 3)]).await.unwrap();
    }
    let store = open().await;
    assert_eq!(store.load_state("scoring", "round/a/1").await.unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(store.load_state("scoring", "round/a/2").await.unwrap().as_deref(), Some(&b"two again"[..]));
    assert_eq!(store.load_state("scoring", "state").await.unwrap().as_deref(), Some(&b"s"[..]));
}
