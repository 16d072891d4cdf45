//! The proxy pallet as a time-delay nominator needs it: the stash's proxies
//! (to check a configured key before trusting it), a delegate's pending
//! announcements (the truth a restart reconciles against), and the block
//! clock the pallet counts delays in: the chain's own blocks on a relay
//! chain, relay-chain blocks on Asset Hub (its `BlockNumberProvider`).

use scale_value::{Composite, Value, ValueDef};
use subxt::dynamic;

use crate::ChainError;
use crate::nominate::{AccountId, StakingAt};
use crate::staking::{account, unwrap_number, value_bytes};

/// One entry of `Proxy.Proxies(stash)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyDef {
    /// The proxy's account.
    pub delegate: AccountId,
    /// Its type, by name (`Staking`, `Any`, ...).
    pub proxy_type: String,
    /// Its announcement delay, in the pallet's blocks.
    pub delay: u64,
}

/// One entry of `Proxy.Announcements(delegate)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The account the call is for.
    pub real: AccountId,
    /// The announced call's hash.
    pub call_hash: [u8; 32],
    /// The pallet's block number when it was announced.
    pub height: u64,
}

/// Which blocks the proxy pallet counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyClock {
    /// The staking chain's own block numbers (staking on the relay chain).
    Own,
    /// The relay chain's (staking on Asset Hub).
    Relay,
}

/// The relay chain's block time; every Polkadot-family relay chain targets it.
pub const RELAY_BLOCK_MS: u64 = 6_000;

/// Every named composite in `v` that has a field `key`, however deeply wrapped
/// (the storage values are tuples of bounded vectors of structs).
fn structs_with<'v, T>(v: &'v Value<T>, key: &str, out: &mut Vec<&'v Composite<T>>) {
    match &v.value {
        ValueDef::Composite(c @ Composite::Named(fields)) => {
            if fields.iter().any(|(k, _)| k == key) {
                out.push(c);
            } else {
                fields.iter().for_each(|(_, f)| structs_with(f, key, out));
            }
        }
        ValueDef::Composite(Composite::Unnamed(items)) => items.iter().for_each(|i| structs_with(i, key, out)),
        ValueDef::Variant(var) => var.values.values().for_each(|i| structs_with(i, key, out)),
        _ => {}
    }
}

fn field<'v, T>(c: &'v Composite<T>, key: &str) -> Option<&'v Value<T>> {
    match c {
        Composite::Named(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        Composite::Unnamed(_) => None,
    }
}

fn variant_name<T>(v: &Value<T>) -> Option<String> {
    match &v.value {
        ValueDef::Variant(var) => Some(var.name.clone()),
        ValueDef::Composite(Composite::Unnamed(items)) if items.len() == 1 => variant_name(&items[0]),
        _ => None,
    }
}

/// The proxy definitions in a `Proxy.Proxies` value.
pub fn proxy_defs<T>(v: &Value<T>) -> Vec<ProxyDef> {
    let mut found = Vec::new();
    structs_with(v, "delegate", &mut found);
    found
        .into_iter()
        .filter_map(|c| {
            Some(ProxyDef {
                delegate: account(field(c, "delegate")?)?,
                proxy_type: variant_name(field(c, "proxy_type")?)?,
                delay: unwrap_number(field(c, "delay")?) as u64,
            })
        })
        .collect()
}

/// The announcements in a `Proxy.Announcements` value.
pub fn announcements_in<T>(v: &Value<T>) -> Vec<Announcement> {
    let mut found = Vec::new();
    structs_with(v, "call_hash", &mut found);
    found
        .into_iter()
        .filter_map(|c| {
            Some(Announcement {
                real: account(field(c, "real")?)?,
                call_hash: value_bytes(field(c, "call_hash")?)?.try_into().ok()?,
                height: unwrap_number(field(c, "height")?) as u64,
            })
        })
        .collect()
}

impl StakingAt<'_> {
    /// `Proxy.Proxies(stash)`.
    pub async fn proxies(&self, stash: AccountId) -> Result<Vec<ProxyDef>, ChainError> {
        Ok(self.of("Proxy", "Proxies", stash).await?.map(|v| proxy_defs(&v)).unwrap_or_default())
    }

    /// `Proxy.Announcements(delegate)`.
    pub async fn announcements(&self, delegate: AccountId) -> Result<Vec<Announcement>, ChainError> {
        Ok(self.of("Proxy", "Announcements", delegate).await?.map(|v| announcements_in(&v)).unwrap_or_default())
    }

    /// Which blocks the proxy pallet counts, as far as the runtime shows:
    /// a parachain runtime (it has `ParachainSystem`) with staking counts the
    /// relay chain's (Asset Hub since the migration), a relay chain its own.
    pub fn proxy_clock(&self) -> ProxyClock {
        let parachain = self.at.metadata_ref().pallet_by_name("ParachainSystem").and_then(|p| p.storage()).and_then(|s| s.entry_by_name("LastRelayChainBlockNumber")).is_some();
        if parachain { ProxyClock::Relay } else { ProxyClock::Own }
    }

    /// The pallet's block number at this block, by `clock`.
    pub async fn clock_block(&self, clock: ProxyClock) -> Result<u64, ChainError> {
        match clock {
            ProxyClock::Own => Ok(self.block),
            ProxyClock::Relay => self.plain("ParachainSystem", "LastRelayChainBlockNumber").await?.map(|v| unwrap_number(&v) as u64).ok_or_else(|| {
                self.client.fail("read ParachainSystem.LastRelayChainBlockNumber", "the staking chain does not state a relay-chain block number; set proxy_clock = \"own\"")
            }),
        }
    }

    /// Milliseconds per block of `clock`: the runtime's own target where it states one.
    pub fn block_ms(&self, clock: ProxyClock) -> u64 {
        if clock == ProxyClock::Relay {
            return RELAY_BLOCK_MS;
        }
        let constant = |pallet: &str, name: &str| {
            self.at.constants().entry(dynamic::constant::<Value>(pallet, name)).ok().map(|v| unwrap_number(&v) as u64).filter(|n| *n > 0)
        };
        constant("Babe", "ExpectedBlockTime").or_else(|| constant("Aura", "SlotDuration")).unwrap_or(RELAY_BLOCK_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(b: u8, n: usize) -> Value {
        Value::unnamed_composite((0..n).map(|_| Value::u128(u128::from(b))))
    }

    #[test]
    fn definitions_and_announcements_are_found_inside_their_wrappers() {
        let def = Value::named_composite([
            ("delegate", Value::unnamed_composite([bytes(7, 32)])),
            ("proxy_type", Value::unnamed_variant("Staking", [])),
            ("delay", Value::u128(10_850)),
        ]);
        let proxies = Value::unnamed_composite([Value::unnamed_composite([Value::unnamed_composite([def])]), Value::u128(5)]);
        assert_eq!(proxy_defs(&proxies), vec![ProxyDef { delegate: [7; 32], proxy_type: "Staking".into(), delay: 10_850 }]);

        let ann = |h: u8| {
            Value::named_composite([("real", bytes(1, 32)), ("call_hash", Value::unnamed_composite([bytes(h, 32)])), ("height", Value::u128(40))])
        };
        let list = Value::unnamed_composite([Value::unnamed_composite([Value::unnamed_composite([ann(2), ann(3)])]), Value::u128(9)]);
        let found = announcements_in(&list);
        assert_eq!(found.len(), 2);
        assert_eq!((found[1].real, found[1].call_hash, found[1].height), ([1; 32], [3; 32], 40));
        assert!(announcements_in(&Value::unnamed_composite([])).is_empty());
    }
}
