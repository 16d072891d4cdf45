//! One nominator per network: a lease in the store with a fencing token.
//!
//! The token is a position of the lease's own "topic" in the store, so taking
//! the lease and every write made under it are compare-and-set moves of that
//! position, in the same guarded write as the state they carry. Two processes
//! can never both write: the second's move from the same token is refused. A
//! holder that stops renewing loses the lease when it expires; a process that
//! finds its token moved stops writing at once.

use serde::{Deserialize, Serialize};
use store::{CheckpointDelta, StateWrite, Store, StoreError};

/// Consumer name of the nominator's rows in the store.
pub const NOMINATOR: &str = "stakeflow-nominator";

fn lease_topic(network: &str) -> String {
    format!("lease/{network}")
}

fn lease_key(network: &str) -> String {
    format!("lease/{network}")
}

/// Who holds a network's lease, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRow {
    /// The holder's id (host and process).
    pub holder: String,
    /// Expiry, Unix ms.
    pub expires_at_ms: i64,
    /// The fencing token it was written under.
    pub token: i64,
}

/// Whether `row` lets `holder` take the lease at `now_ms` (free, expired or already its own).
pub fn may_take(row: Option<&LeaseRow>, holder: &str, now_ms: i64) -> bool {
    row.is_none_or(|r| r.holder == holder || r.expires_at_ms <= now_ms)
}

/// A held lease: every write of the holder goes through [`Lease::guard`].
#[derive(Debug, Clone)]
pub struct Lease {
    network: String,
    holder: String,
    token: Option<i64>,
    ttl_ms: i64,
}

/// Why the lease could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another process holds it.
    #[error("network {network}: the nominator lease is held by {holder} until {expires_at_ms} (ms)")]
    Held { network: String, holder: String, expires_at_ms: i64 },
    /// The store failed, or the token moved under us (another process took over).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Lease {
    /// Take `network`'s lease for `holder` if it is free, expired or ours.
    pub async fn acquire(store: &dyn Store, network: &str, holder: &str, ttl_ms: i64, now_ms: i64) -> Result<Lease, LeaseError> {
        let token = store.positions(NOMINATOR, &lease_topic(network)).await?.first().map(|c| c.next_offset);
        let row: Option<LeaseRow> =
            store.load_state(NOMINATOR, &lease_key(network)).await?.and_then(|b| serde_json::from_slice(&b).ok());
        if !may_take(row.as_ref(), holder, now_ms) {
            let r = row.unwrap_or_else(|| LeaseRow { holder: String::new(), expires_at_ms: 0, token: 0 });
            return Err(LeaseError::Held { network: network.to_string(), holder: r.holder, expires_at_ms: r.expires_at_ms });
        }
        let mut lease = Lease { network: network.to_string(), holder: holder.to_string(), token, ttl_ms };
        lease.commit(store, Vec::new(), now_ms).await?;
        Ok(lease)
    }

    /// The current fencing token.
    pub fn token(&self) -> i64 {
        self.token.unwrap_or(0)
    }

    /// Write `writes` under the lease, renewing it: all or nothing, and
    /// refused when another process has moved the token.
    pub async fn commit(&mut self, store: &dyn Store, mut writes: Vec<StateWrite>, now_ms: i64) -> Result<(), StoreError> {
        let next = self.token.unwrap_or(0) + 1;
        let row = LeaseRow { holder: self.holder.clone(), expires_at_ms: now_ms + self.ttl_ms, token: next };
        writes.push(StateWrite { key: lease_key(&self.network), value: serde_json::to_vec(&row).unwrap_or_default() });
        let delta = CheckpointDelta { topic: lease_topic(&self.network), partition: 0, from: self.token, to: next };
        store.commit_states(NOMINATOR, &writes, std::slice::from_ref(&delta)).await?;
        self.token = Some(next);
        Ok(())
    }

    /// Give the lease up now (a clean shutdown), so a standby takes over at once.
    pub async fn release(mut self, store: &dyn Store) -> Result<(), StoreError> {
        self.ttl_ms = 0;
        self.commit(store, Vec::new(), 0).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_taken_when_free_expired_or_own() {
        let row = LeaseRow { holder: "a".into(), expires_at_ms: 100, token: 3 };
        assert!(may_take(None, "b", 0));
        assert!(may_take(Some(&row), "a", 50), "renewal");
        assert!(!may_take(Some(&row), "b", 99), "held");
        assert!(may_take(Some(&row), "b", 100), "expired");
    }

    #[tokio::test]
    async fn two_holders_never_both_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        let mut a = Lease::acquire(&store, "net", "a", 1_000, 0).await.unwrap();
        assert!(matches!(Lease::acquire(&store, "net", "b", 1_000, 500).await, Err(LeaseError::Held { .. })));
        a.commit(&store, vec![], 600).await.unwrap();
        // a's renewal at 600 holds until 1600; b takes over only after that.
        assert!(matches!(Lease::acquire(&store, "net", "b", 1_000, 1_500).await, Err(LeaseError::Held { .. })));
        let mut b = Lease::acquire(&store, "net", "b", 1_000, 1_700).await.unwrap();
        // a, unaware, is fenced off: its next write is refused.
        let err = a.commit(&store, vec![StateWrite { key: "x".into(), value: b"a".to_vec() }], 1_800).await.unwrap_err();
        assert!(err.is_stale(), "{err}");
        assert_eq!(store.load_state(NOMINATOR, "x").await.unwrap(), None);
        b.commit(&store, vec![StateWrite { key: "x".into(), value: b"b".to_vec() }], 1_800).await.unwrap();
        assert_eq!(store.load_state(NOMINATOR, "x").await.unwrap().as_deref(), Some(&b"b"[..]));
        b.release(&store).await.unwrap();
        Lease::acquire(&store, "net", "a", 1_000, 1_900).await.expect("released: free at once");
    }

    #[tokio::test]
    async fn two_processes_taking_a_free_lease_at_once_get_one_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(store::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
        let (s1, s2) = (store.clone(), store.clone());
        let (a, b) = tokio::join!(
            async move { Lease::acquire(s1.as_ref(), "net", "a", 10_000, 0).await.is_ok() },
            async move { Lease::acquire(s2.as_ref(), "net", "b", 10_000, 0).await.is_ok() },
        );
        assert!(a ^ b, "exactly one holder (a: {a}, b: {b})");
    }
}
