//! A connection to one network's node, with endpoint failover and genesis check.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use subxt::backend::LegacyBackend;
use subxt::{OnlineClient, PolkadotConfig};
use subxt_rpcs::{RpcClient, rpc_params};
use url::Url;

use crate::{Backend, ChainError, NetworkConfig};

/// One decoded event of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFacts {
    /// Index in System.Events.
    pub index: u32,
    /// `ApplyExtrinsic`, `Initialization` or `Finalization`.
    pub phase: &'static str,
    /// Emitting extrinsic, for `ApplyExtrinsic`.
    pub extrinsic_index: Option<u32>,
    /// Pallet name.
    pub pallet: String,
    /// Event name.
    pub variant: String,
    /// Fields as JSON (see [`crate::value_json`]).
    pub fields: serde_json::Value,
}

/// Event bytes that could not be decoded, kept whole for the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodedEvents {
    /// Index of the first event not decoded.
    pub from_index: u32,
    /// The raw bytes: one event's field bytes when only its fields failed,
    /// else the block's whole System.Events.
    pub bytes: Vec<u8>,
    /// Pallet and event name when known.
    pub what: Option<String>,
    /// The decoder's error.
    pub error: String,
}

/// A block with its events.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockData {
    /// Header-level facts.
    pub facts: BlockFacts,
    /// Decoded events in order (up to the first undecodable one, if any).
    pub events: Vec<EventFacts>,
    /// What could not be decoded.
    pub undecoded: Vec<UndecodedEvents>,
}

/// What ingest publishes about a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFacts {
    /// Number.
    pub number: u64,
    /// Hash, 0x hex.
    pub hash: String,
    /// Parent hash, 0x hex.
    pub parent_hash: String,
    /// Timestamp.Now, Unix ms, if set.
    pub timestamp_ms: Option<u64>,
    /// Extrinsics in the body.
    pub extrinsic_count: u32,
    /// Events emitted.
    pub event_count: u32,
    /// Runtime spec version.
    pub spec_version: u32,
}

/// A connected network.
#[derive(Clone)]
pub struct ChainClient {
    network: String,
    endpoint: Url,
    api: OnlineClient<PolkadotConfig>,
    rpc: RpcClient,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

impl ChainClient {
    /// Connect to the first endpoint that answers and serves the configured genesis.
    pub async fn connect(net: &NetworkConfig) -> Result<Self, ChainError> {
        let mut tried = Vec::new();
        for endpoint in &net.endpoints {
            match Self::connect_one(net, endpoint).await {
                Ok(c) => return Ok(c),
                Err(e @ ChainError::WrongGenesis { .. }) => return Err(e),
                Err(e) => {
                    let shown = ::redact::redact(endpoint);
                    tracing::warn!(network = %net.name, endpoint = %shown, error = %e, "endpoint failed, trying the next");
                    tried.push(format!("{shown}: {e}"));
                }
            }
        }
        Err(ChainError::Unreachable { network: net.name.clone(), tried: tried.join("; ") })
    }

    async fn connect_one(net: &NetworkConfig, endpoint: &Url) -> Result<Self, ChainError> {
        let fail = |op: &str, reason: String| ChainError::Rpc {
            network: net.name.clone(),
            endpoint: ::redact::redact(endpoint),
            op: op.to_string(),
            reason: ::redact::scrub(&reason, endpoint),
        };
        let rpc = RpcClient::from_insecure_url(endpoint.as_str())
            .await
            .map_err(|e| fail("connect", e.to_string()))?;
        let rpc = RpcClient::new(crate::rpc_count::Counted::new(rpc, &net.name));
        let api = match net.backend {
            Backend::Legacy => {
                OnlineClient::<PolkadotConfig>::from_backend(Arc::new(LegacyBackend::builder().build(rpc.clone())))
                    .await
            }
            Backend::Default => OnlineClient::<PolkadotConfig>::from_rpc_client(rpc.clone()).await,
        }
        .map_err(|e| fail("initialise client", e.to_string()))?;
        let genesis = hex0x(api.genesis_hash().as_ref());
        if let Some(expected) = &net.genesis_hash
            && !expected.eq_ignore_ascii_case(&genesis)
        {
            return Err(ChainError::WrongGenesis {
                network: net.name.clone(),
                endpoint: ::redact::redact(endpoint),
                found: genesis,
                expected: expected.clone(),
            });
        }
        tracing::info!(network = %net.name, endpoint = %::redact::redact(endpoint), %genesis, "connected to chain");
        Ok(Self { network: net.name.clone(), endpoint: endpoint.clone(), api, rpc })
    }

    pub(crate) fn fail(&self, op: impl Into<String>, reason: impl ToString) -> ChainError {
        ChainError::Rpc {
            network: self.network.clone(),
            endpoint: ::redact::redact(&self.endpoint),
            op: op.into(),
            reason: ::redact::scrub(&reason.to_string(), &self.endpoint),
        }
    }

    /// The subxt client.
    pub fn api(&self) -> &OnlineClient<PolkadotConfig> {
        &self.api
    }

    /// The raw RPC client (for dev_* methods on a devnet).
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// The endpoint in use, as it may be shown (no credentials, path or query).
    pub fn endpoint(&self) -> String {
        ::redact::redact(&self.endpoint)
    }

    /// Genesis hash, 0x hex.
    pub fn genesis_hash(&self) -> String {
        hex0x(self.api.genesis_hash().as_ref())
    }

    /// Number of the latest finalized block.
    pub async fn finalized_number(&self) -> Result<u64, ChainError> {
        let hash: String =
            self.rpc.request("chain_getFinalizedHead", rpc_params![]).await.map_err(|e| self.fail("chain_getFinalizedHead", e))?;
        let header: serde_json::Value =
            self.rpc.request("chain_getHeader", rpc_params![hash]).await.map_err(|e| self.fail("chain_getHeader", e))?;
        header_number(&header).ok_or_else(|| self.fail("chain_getHeader", format!("no block number in {header}")))
    }

    /// Numbers of newly finalized heads, as the node announces them. The node
    /// may skip numbers; callers fill gaps by number.
    pub async fn finalized_heads(&self) -> Result<impl Stream<Item = Result<u64, ChainError>> + use<>, ChainError> {
        let sub = self
            .rpc
            .subscribe::<serde_json::Value>(
                "chain_subscribeFinalizedHeads",
                rpc_params![],
                "chain_unsubscribeFinalizedHeads",
            )
            .await
            .map_err(|e| self.fail("chain_subscribeFinalizedHeads", e))?;
        let this = self.clone();
        Ok(sub.map(move |item| match item {
            Ok(header) => header_number(&header)
                .ok_or_else(|| this.fail("finalized head", format!("no block number in {header}"))),
            Err(e) => Err(this.fail("finalized head subscription", e)),
        }))
    }

    /// The raw System.Events bytes of block `number` (SCALE, length-prefixed),
    /// for recording fixtures.
    pub async fn raw_events(&self, number: u64) -> Result<Vec<u8>, ChainError> {
        let at = self.api.at_block(number).await.map_err(|e| self.fail(format!("open block {number}"), e))?;
        let events = at.events().fetch().await.map_err(|e| self.fail(format!("events of block {number}"), e))?;
        Ok(events.bytes().to_vec())
    }

    /// Header-level facts of block `number`.
    pub async fn block_facts(&self, number: u64) -> Result<BlockFacts, ChainError> {
        Ok(self.block(number).await?.facts)
    }

    /// Everything stakeflow records about block `number`: its facts and its
    /// events decoded against the metadata of that block's runtime (so a
    /// runtime upgrade is followed without restart).
    pub async fn block(&self, number: u64) -> Result<BlockData, ChainError> {
        let op = |what: &str| format!("{what} of block {number}");
        let at = self.api.at_block(number).await.map_err(|e| self.fail(op("open"), e))?;
        let header = at.block_header().await.map_err(|e| self.fail(op("header"), e))?;
        let extrinsics = at.extrinsics().fetch().await.map_err(|e| self.fail(op("extrinsics"), e))?;
        let events = at.events().fetch().await.map_err(|e| self.fail(op("events"), e))?;
        let timestamp_ms = at
            .storage()
            .try_fetch(subxt::dynamic::storage::<(), u64>("Timestamp", "Now"), ())
            .await
            .map_err(|e| self.fail(op("Timestamp.Now"), e))?
            .map(|v| v.decode_as::<u64>())
            .transpose()
            .map_err(|e| self.fail(op("decode Timestamp.Now"), e))?
            // Genesis stores no timestamp; 0 means "not set" on every substrate chain.
            .filter(|&t| t > 0);
        let (decoded, undecoded) = decode_events(&events);
        let facts = BlockFacts {
            number,
            hash: hex0x(at.block_hash().as_ref()),
            parent_hash: hex0x(header.parent_hash.as_ref()),
            timestamp_ms,
            extrinsic_count: extrinsics.len() as u32,
            event_count: events.len(),
            spec_version: at.spec_version(),
        };
        Ok(BlockData { facts, events: decoded, undecoded })
    }
}

/// Decode every event; one whose fields fail is kept raw and decoding goes
/// on, one whose boundaries are unknown stops decoding (nothing after it can
/// be located) and the block's whole event bytes are kept raw.
pub fn decode_events(events: &subxt::events::Events<PolkadotConfig>) -> (Vec<EventFacts>, Vec<UndecodedEvents>) {
    use subxt::events::Phase;
    let mut decoded = Vec::new();
    let mut undecoded = Vec::new();
    for (position, ev) in events.iter().enumerate() {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                undecoded.push(UndecodedEvents {
                    from_index: position as u32,
                    bytes: events.bytes().to_vec(),
                    what: None,
                    error: e.to_string(),
                });
                break;
            }
        };
        let (phase, extrinsic_index) = match ev.phase() {
            Phase::ApplyExtrinsic(i) => ("ApplyExtrinsic", Some(i)),
            Phase::Initialization => ("Initialization", None),
            Phase::Finalization => ("Finalization", None),
        };
        match ev.decode_fields_unchecked_as::<scale_value::Composite<()>>() {
            Ok(fields) => decoded.push(EventFacts {
                index: ev.index(),
                phase,
                extrinsic_index,
                pallet: ev.pallet_name().to_string(),
                variant: ev.event_name().to_string(),
                fields: crate::value_json::composite_to_json(&fields),
            }),
            Err(e) => undecoded.push(UndecodedEvents {
                from_index: ev.index(),
                bytes: ev.field_bytes().to_vec(),
                what: Some(format!("{}::{}", ev.pallet_name(), ev.event_name())),
                error: e.to_string(),
            }),
        }
    }
    (decoded, undecoded)
}

fn header_number(header: &serde_json::Value) -> Option<u64> {
    let n = header.get("number")?.as_str()?;
    u64::from_str_radix(n.trim_start_matches("0x"), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_numbers_are_hex() {
        assert_eq!(header_number(&serde_json::json!({"number": "0x1f"})), Some(31));
        assert_eq!(header_number(&serde_json::json!({"number": 31})), None);
        assert_eq!(header_number(&serde_json::json!({})), None);
    }
}
