//! The chain edge shared by ingest and the nominator: which networks exist,
//! how to reach them, and typed reads of the facts stakeflow publishes.

mod client;
mod error;
mod identity;
mod network;
pub mod nominate;
pub mod proxy;
mod rpc_count;
pub mod runtime_version;
pub mod staking;
pub mod value_json;

pub use client::{BlockData, BlockFacts, ChainClient, EventFacts, UndecodedEvents, decode_events};
pub use error::ChainError;
pub use identity::IdentityState;
pub use redact::{redact, scrub};
pub use rpc_count::{RPC_REQUESTS, rpc_requests};
pub use network::{Backend, FollowedChain, Latest, NetworkConfig, Roles, StartBlock, SystemChain};

/// Re-exported so callers name one subxt.
pub use subxt;
pub use subxt_rpcs;
pub use subxt_signer;
