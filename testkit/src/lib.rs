//! Test harness shared by the crates' tests: the real Kafka-API broker and the
//! real chain runtime on free loopback ports, each stopped when dropped, plus
//! helpers to shape chain state with real signed extrinsics.
//!
//! Needs `scripts/setup` to have run once (chopsticks in `devnet/node_modules`,
//! the Paseo spec in `~/.cache/stakeflow/chain-specs/`); `scripts/test` does it.

pub mod accounts;
pub mod blocks;
pub mod broker;
pub mod chain_time;
pub mod devnet;
pub mod programme;
pub mod proxy;
pub mod wait;

pub use broker::TestBroker;
pub use devnet::Devnet;
pub use proxy::TcpProxy;

/// A name unique to this test run, for topics, groups and keyspaces.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Log to the test's captured output (once per process).
pub fn init_tracing() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("STAKEFLOW_TEST_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_test_writer()
            .try_init();
    });
}
