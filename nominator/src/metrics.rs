//! Metric names of the nominator.

/// Nominations settled, by network and outcome (confirmed, failed, expired, dry_run).
pub const NOMINATIONS: &str = "stakeflow_nominations_total";
/// Eras since each account's on-chain nomination, by network and stash.
pub const ERAS_SINCE: &str = "stakeflow_nominator_eras_since_nomination";
/// Each signer's free balance in tokens, by network and signer.
pub const SIGNER_FREE: &str = "stakeflow_nominator_signer_free_tokens";
/// Transactions signed and not settled, by network.
pub const IN_FLIGHT: &str = "stakeflow_nominator_transactions_in_flight";
/// Accounts with no nomination for more eras than allowed, by network.
pub const STALE: &str = "stakeflow_nominator_stale_accounts";
/// Pending announcements of time-delay proxies, by network.
pub const ANNOUNCEMENTS: &str = "stakeflow_nominator_pending_announcements";
