//! One writer per stream: a lease in the store with a fencing token.
//!
//! The token is a position of the lease's own "topic" in the store, so
//! taking the lease and every write made under it are compare-and-set moves
//! of that position, in the same guarded write as the state they carry (see
//! [`Lease::guard`]). Two holders can never both write: the second's move
//! from the same token is refused. A holder that stops renewing loses the
//! lease when it expires; one that finds its token moved stops at once.
//!
//! A store only one process can open (the embedded store: its file is
//! locked) proves a holder of another process dead, so the lease passes at
//! once after a crash instead of after its time to live.

use serde::{Deserialize, Serialize};

use crate::{CheckpointDelta, StateWrite, Store, StoreError};

fn lease_topic(subject: &str) -> String {
    format!("lease/{subject}")
}

fn lease_key(subject: &str) -> String {
    format!("lease/{subject}")
}

/// This process, as lease rows name it (host and process id); read once,
/// not on every renewal.
pub fn this_process() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
        format!("{host}:{}", std::process::id())
    })
    .clone()
}

/// Who holds a lease, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRow {
    /// The holder's id.
    pub holder: String,
    /// Expiry, Unix ms.
    pub expires_at_ms: i64,
    /// The fencing token it was written under.
    pub token: i64,
    /// The holder's process ([`this_process`]).
    #[serde(default)]
    pub process: String,
}

/// Whether `row` lets `holder` take the lease at `now_ms`: free, expired,
/// already its own, or held by a process known to be gone (`holder_gone`).
pub fn may_take(row: Option<&LeaseRow>, holder: &str, now_ms: i64, holder_gone: bool) -> bool {
    row.is_none_or(|r| r.holder == holder || r.expires_at_ms <= now_ms || holder_gone)
}

/// Why a lease could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another holder has it.
    #[error("{subject}: held by {holder} until {expires_at_ms} (Unix ms)")]
    Held {
        /// What the lease is for.
        subject: String,
        /// Its holder.
        holder: String,
        /// Until when.
        expires_at_ms: i64,
    },
    /// The store failed, or the token moved under us (another holder took over).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A held lease.
#[derive(Debug, Clone)]
pub struct Lease {
    consumer: String,
    subject: String,
    holder: String,
    token: Option<i64>,
    ttl_ms: i64,
    expires_at_ms: i64,
}

impl Lease {
    /// Take `consumer`'s lease on `subject` for `holder` if it is free, expired, ours,
    /// or held by a process of this one's store that is gone.
    pub async fn acquire(store: &dyn Store, consumer: &str, subject: &str, holder: &str, ttl_ms: i64, now_ms: i64) -> Result<Lease, LeaseError> {
        let token = store.positions(consumer, &lease_topic(subject)).await?.first().map(|c| c.next_offset);
        let row: Option<LeaseRow> = store.load_state(consumer, &lease_key(subject)).await?.and_then(|b| serde_json::from_slice(&b).ok());
        let gone = store.single_process() && row.as_ref().is_some_and(|r| r.process != this_process());
        if !may_take(row.as_ref(), holder, now_ms, gone) {
            let r = row.unwrap_or_else(|| LeaseRow { holder: String::new(), expires_at_ms: 0, token: 0, process: String::new() });
            return Err(LeaseError::Held { subject: subject.to_string(), holder: r.holder, expires_at_ms: r.expires_at_ms });
        }
        let mut lease = Lease { consumer: consumer.to_string(), subject: subject.to_string(), holder: holder.to_string(), token, ttl_ms, expires_at_ms: 0 };
        lease.commit(store, Vec::new(), now_ms).await?;
        Ok(lease)
    }

    /// The current fencing token.
    pub fn token(&self) -> i64 {
        self.token.unwrap_or(0)
    }

    /// Milliseconds the lease is still held for at `now_ms` (as last renewed).
    pub fn remaining_ms(&self, now_ms: i64) -> i64 {
        self.expires_at_ms - now_ms
    }

    /// Whether less than half the time to live is left: renew before relying on it.
    pub fn wants_renewal(&self, now_ms: i64) -> bool {
        self.remaining_ms(now_ms) < self.ttl_ms / 2
    }

    /// The lease's row and position move, for a caller's own guarded write
    /// (so its state and the renewal are one all-or-nothing write); call
    /// [`Lease::renewed`] once that write succeeded.
    pub fn guard(&self, now_ms: i64) -> (StateWrite, CheckpointDelta) {
        let next = self.token.unwrap_or(0) + 1;
        let row = LeaseRow { holder: self.holder.clone(), expires_at_ms: now_ms + self.ttl_ms, token: next, process: this_process() };
        let write = StateWrite { key: lease_key(&self.subject), value: serde_json::to_vec(&row).unwrap_or_default() };
        (write, CheckpointDelta { topic: lease_topic(&self.subject), partition: 0, from: self.token, to: next })
    }

    /// The write carrying [`Lease::guard`] at `now_ms` succeeded.
    pub fn renewed(&mut self, now_ms: i64) {
        self.token = Some(self.token.unwrap_or(0) + 1);
        self.expires_at_ms = now_ms + self.ttl_ms;
    }

    /// Write `writes` under the lease, renewing it: all or nothing, and
    /// refused when another holder has moved the token.
    pub async fn commit(&mut self, store: &dyn Store, mut writes: Vec<StateWrite>, now_ms: i64) -> Result<(), StoreError> {
        let (row, delta) = self.guard(now_ms);
        writes.push(row);
        store.commit_states(&self.consumer, &writes, std::slice::from_ref(&delta)).await?;
        self.renewed(now_ms);
        Ok(())
    }

    /// Renew without other writes.
    pub async fn renew(&mut self, store: &dyn Store, now_ms: i64) -> Result<(), StoreError> {
        self.commit(store, Vec::new(), now_ms).await
    }

    /// Renew several leases of one consumer in one write (a scorer holds one
    /// per network), all or none: refused when any token moved.
    pub async fn renew_all(store: &dyn Store, leases: &mut [Lease], now_ms: i64) -> Result<(), StoreError> {
        let Some(consumer) = leases.first().map(|l| l.consumer.clone()) else { return Ok(()) };
        debug_assert!(leases.iter().all(|l| l.consumer == consumer), "leases of one consumer");
        let (writes, deltas): (Vec<_>, Vec<_>) = leases.iter().map(|l| l.guard(now_ms)).unzip();
        store.commit_states(&consumer, &writes, &deltas).await?;
        for lease in leases {
            lease.renewed(now_ms);
        }
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

    const C: &str = "stakeflow-test";

    #[test]
    fn a_lease_is_taken_when_free_expired_own_or_its_process_gone() {
        let row = LeaseRow { holder: "a".into(), expires_at_ms: 100, token: 3, process: "h:1".into() };
        assert!(may_take(None, "b", 0, false));
        assert!(may_take(Some(&row), "a", 50, false), "renewal");
        assert!(!may_take(Some(&row), "b", 99, false), "held");
        assert!(may_take(Some(&row), "b", 100, false), "expired");
        assert!(may_take(Some(&row), "b", 99, true), "its process is gone");
    }

    #[tokio::test]
    async fn two_holders_never_both_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        let mut a = Lease::acquire(&store, C, "net", "a", 1_000, 0).await.unwrap();
        assert!(matches!(Lease::acquire(&store, C, "net", "b", 1_000, 500).await, Err(LeaseError::Held { .. })));
        a.commit(&store, vec![], 600).await.unwrap();
        assert!(!a.wants_renewal(1_000) && a.wants_renewal(1_200));
        // a's renewal at 600 holds until 1600; b takes over only after that.
        assert!(matches!(Lease::acquire(&store, C, "net", "b", 1_000, 1_500).await, Err(LeaseError::Held { .. })));
        let mut b = Lease::acquire(&store, C, "net", "b", 1_000, 1_700).await.unwrap();
        // a, unaware, is fenced off: its next write is refused.
        let err = a.commit(&store, vec![StateWrite { key: "x".into(), value: b"a".to_vec() }], 1_800).await.unwrap_err();
        assert!(err.is_stale(), "{err}");
        assert_eq!(store.load_state(C, "x").await.unwrap(), None);
        b.commit(&store, vec![StateWrite { key: "x".into(), value: b"b".to_vec() }], 1_800).await.unwrap();
        assert_eq!(store.load_state(C, "x").await.unwrap().as_deref(), Some(&b"b"[..]));
        b.release(&store).await.unwrap();
        Lease::acquire(&store, C, "net", "a", 1_000, 1_900).await.expect("released: free at once");
    }

    /// Several leases renew in one write, and none when one was taken over.
    #[tokio::test]
    async fn leases_renewed_together_renew_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        let mut held = vec![
            Lease::acquire(&store, C, "x", "a", 1_000, 0).await.unwrap(),
            Lease::acquire(&store, C, "y", "a", 1_000, 0).await.unwrap(),
        ];
        Lease::renew_all(&store, &mut held, 600).await.unwrap();
        assert!(held.iter().all(|l| !l.wants_renewal(1_000)), "both renewed to 1600");
        assert!(matches!(Lease::acquire(&store, C, "y", "b", 1_000, 1_500).await, Err(LeaseError::Held { .. })));
        // y lapses and b takes it: renewing both together is refused, x included.
        Lease::acquire(&store, C, "y", "b", 1_000, 1_700).await.unwrap();
        assert!(Lease::renew_all(&store, &mut held, 1_800).await.unwrap_err().is_stale());
        Lease::acquire(&store, C, "x", "b", 1_000, 1_700).await.expect("x was not renewed at 1800");
    }

    #[tokio::test]
    async fn a_lease_of_a_process_gone_from_a_single_process_store_passes_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap();
        // A row left by a process that was killed (another pid) with an hour to go.
        let row = LeaseRow { holder: "old".into(), expires_at_ms: 3_600_000, token: 1, process: "elsewhere:1".into() };
        let delta = CheckpointDelta { topic: lease_topic("net"), partition: 0, from: None, to: 1 };
        store.commit_states(C, &[StateWrite { key: lease_key("net"), value: serde_json::to_vec(&row).unwrap() }], &[delta]).await.unwrap();
        assert!(store.single_process());
        let lease = Lease::acquire(&store, C, "net", "new", 1_000, 10).await.expect("the embedded store is ours alone");
        assert_eq!(lease.token(), 2);
        // Within this process, holders still exclude each other.
        assert!(matches!(Lease::acquire(&store, C, "net", "other", 1_000, 20).await, Err(LeaseError::Held { .. })));
    }

    #[tokio::test]
    async fn two_holders_taking_a_free_lease_at_once_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(crate::EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
        let (s1, s2) = (store.clone(), store.clone());
        let (a, b) = tokio::join!(
            async move { Lease::acquire(s1.as_ref(), C, "net", "a", 10_000, 0).await.is_ok() },
            async move { Lease::acquire(s2.as_ref(), C, "net", "b", 10_000, 0).await.is_ok() },
        );
        assert!(a ^ b, "exactly one holder (a: {a}, b: {b})");
    }
}
