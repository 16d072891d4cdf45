//! One nominator per network: the store's lease ([`store::lease`]) on the
//! network, under the nominator's rows. Every write of a pass goes through
//! [`Lease::commit`], so a process that lost the lease can never write.

pub use store::lease::{Lease, LeaseError, LeaseRow};
use store::Store;

/// Consumer name of the nominator's rows in the store.
pub const NOMINATOR: &str = "stakeflow-nominator";

/// Take `network`'s nominator lease for `holder`.
pub async fn acquire(store: &dyn Store, network: &str, holder: &str, ttl_ms: i64, now_ms: i64) -> Result<Lease, LeaseError> {
    Lease::acquire(store, NOMINATOR, network, holder, ttl_ms, now_ms).await
}
