//! Staking and session state at a block, read once per session or era so the
//! scorers never ask the chain again. Values are read dynamically, by field
//! name, so one code path serves runtimes with and without paged exposures.

use std::collections::BTreeMap;

use scale_value::{At, Composite, Value, ValueDef};
use subxt::dynamic;

use crate::value_json::value_to_json;
use crate::{ChainClient, ChainError};

/// A 32-byte account id.
pub type AccountId = [u8; 32];

/// A storage value that did not decode, kept raw for the dead-letter topic;
/// the snapshot goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodedStorage {
    /// Which entry, e.g. `Staking.Validators 0x…`.
    pub what: String,
    /// The raw value bytes.
    pub bytes: Vec<u8>,
    /// The decoder's error.
    pub error: String,
}

/// Decode a storage value, or record it as undecodable and go on.
pub(crate) fn lenient<V: scale_decode::DecodeAsType>(
    value: &subxt::storage::StorageValue<'_, V>,
    what: impl FnOnce() -> String,
    undecoded: &mut Vec<UndecodedStorage>,
) -> Option<V> {
    match value.decode() {
        Ok(v) => Some(v),
        Err(e) => {
            undecoded.push(UndecodedStorage { what: what(), bytes: value.bytes().to_vec(), error: e.to_string() });
            None
        }
    }
}

/// The validator set of a session with each validator's session keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// Session index (Session.CurrentIndex).
    pub session_index: u32,
    /// Active era at the block, if any.
    pub active_era: Option<u32>,
    /// Session.Validators in order, with Session.NextKeys of each.
    pub validators: Vec<(AccountId, BTreeMap<String, String>)>,
    /// Values that did not decode.
    pub undecoded: Vec<UndecodedStorage>,
}

/// A validator's exposure in an era.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Total backing.
    pub total: u128,
    /// Own stake in the exposure.
    pub own: u128,
    /// Nominators and the stake each puts behind this validator.
    pub others: Vec<(AccountId, u128)>,
}

/// A validator's state at the start of an era.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorEra {
    /// Stash.
    pub stash: AccountId,
    /// Commission, parts per billion.
    pub commission_perbill: u32,
    /// Whether it blocks new nominations.
    pub blocked: bool,
    /// Active bonded stake of the stash (its ledger's `active`).
    pub self_bonded: u128,
    /// Its exposure in the era, if elected.
    pub exposure: Option<Exposure>,
}

/// A nominator's state at the start of an era.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominatorState {
    /// Nominator stash.
    pub who: AccountId,
    /// Active bonded stake.
    pub bonded: u128,
    /// Nominated validators.
    pub targets: Vec<AccountId>,
}

/// Reward points of a finished era.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraPoints {
    /// The era.
    pub era: u32,
    /// Total points.
    pub total: u32,
    /// Points per validator.
    pub individual: Vec<(AccountId, u32)>,
}

/// Everything the scorers need about an era, read at the block it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraSnapshot {
    /// The era that began.
    pub era: u32,
    /// Every validator that intends to validate (Staking.Validators), with exposure if elected.
    pub validators: Vec<ValidatorEra>,
    /// Every nominator (Staking.Nominators).
    pub nominators: Vec<NominatorState>,
    /// Points of the era that just ended.
    pub points: Option<EraPoints>,
    /// Values that did not decode.
    pub undecoded: Vec<UndecodedStorage>,
}

/// The bytes of a value that is (a newtype around) a sequence of u8.
pub fn value_bytes<T>(v: &Value<T>) -> Option<Vec<u8>> {
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(items)) if items.len() == 1 => value_bytes(&items[0]).or_else(|| byte_seq(items)),
        ValueDef::Composite(Composite::Named(items)) if items.len() == 1 => value_bytes(&items[0].1),
        ValueDef::Composite(Composite::Unnamed(items)) => byte_seq(items),
        _ => None,
    }
}

fn byte_seq<T>(items: &[Value<T>]) -> Option<Vec<u8>> {
    items.iter().map(|i| i.as_u128().filter(|n| *n < 256).map(|n| n as u8)).collect()
}

pub(crate) fn account<T>(v: &Value<T>) -> Option<AccountId> {
    value_bytes(v)?.try_into().ok()
}

fn unnamed<T>(v: &Value<T>) -> &[Value<T>] {
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(items)) => items,
        _ => &[],
    }
}

impl ChainClient {
    async fn at(&self, block: u64) -> Result<subxt::client::ClientAtBlock<subxt::PolkadotConfig, subxt::client::OnlineClientAtBlockImpl<subxt::PolkadotConfig>>, ChainError> {
        self.api().at_block(block).await.map_err(|e| self.fail(format!("open block {block}"), e))
    }

    /// Staking.ActiveEra at `block`; `None` also where the chain has no
    /// Staking pallet (a relay chain whose staking moved to Asset Hub).
    pub async fn active_era(&self, block: u64) -> Result<Option<u32>, ChainError> {
        let at = self.at(block).await?;
        let exists = at
            .metadata_ref()
            .pallet_by_name("Staking")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name("ActiveEra"))
            .is_some();
        if !exists {
            return Ok(None);
        }
        let v = at
            .storage()
            .try_fetch(dynamic::storage::<(), Value>("Staking", "ActiveEra"), ())
            .await
            .map_err(|e| self.fail("read Staking.ActiveEra", e))?;
        Ok(match v {
            Some(v) => v.decode().map_err(|e| self.fail("decode Staking.ActiveEra", e))?.at("index").and_then(Value::as_u128).map(|n| n as u32),
            None => None,
        })
    }

    /// The session's validators and their keys at `block`.
    pub async fn session_snapshot(&self, block: u64) -> Result<SessionSnapshot, ChainError> {
        let at = self.at(block).await?;
        let st = at.storage();
        let index = st
            .fetch(dynamic::storage::<(), u32>("Session", "CurrentIndex"), ())
            .await
            .map_err(|e| self.fail("read Session.CurrentIndex", e))?
            .decode()
            .map_err(|e| self.fail("decode Session.CurrentIndex", e))?;
        let validators = st
            .fetch(dynamic::storage::<(), Vec<AccountId>>("Session", "Validators"), ())
            .await
            .map_err(|e| self.fail("read Session.Validators", e))?
            .decode()
            .map_err(|e| self.fail("decode Session.Validators", e))?;
        let mut out = Vec::with_capacity(validators.len());
        let mut undecoded = Vec::new();
        for stash in validators {
            let keys = st
                .try_fetch(dynamic::storage::<(AccountId,), Value>("Session", "NextKeys"), (stash,))
                .await
                .map_err(|e| self.fail("read Session.NextKeys", e))?;
            let mut map = BTreeMap::new();
            if let Some(keys) = keys.as_ref().and_then(|k| lenient(k, || format!("Session.NextKeys 0x{}", hex::encode(stash)), &mut undecoded)) {
                if let ValueDef::Composite(Composite::Named(fields)) = &keys.value {
                    for (name, v) in fields {
                        let hex = value_bytes(v).map(|b| format!("0x{}", hex::encode(b)));
                        map.insert(name.clone(), hex.unwrap_or_else(|| value_to_json(v).to_string()));
                    }
                }
            }
            out.push((stash, map));
        }
        drop(st);
        let active_era = self.active_era(block).await?;
        Ok(SessionSnapshot { session_index: index, active_era, validators: out, undecoded })
    }

    /// Validators, their exposures in `era`, nominators and the previous era's points at `block`.
    pub async fn era_snapshot(&self, block: u64, era: u32) -> Result<EraSnapshot, ChainError> {
        let at = self.at(block).await?;
        let st = at.storage();
        let paged = at
            .metadata_ref()
            .pallet_by_name("Staking")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name("ErasStakersOverview"))
            .is_some();

        let mut undecoded = Vec::new();
        // Exposures of the era.
        let mut exposures: BTreeMap<AccountId, Exposure> = BTreeMap::new();
        let entry = if paged { "ErasStakersOverview" } else { "ErasStakers" };
        let mut it = st
            .iter(dynamic::storage::<(u32, AccountId), Value>("Staking", entry), (era,))
            .await
            .map_err(|e| self.fail(format!("iterate Staking.{entry}"), e))?;
        while let Some(kv) = it.next().await {
            let kv = kv.map_err(|e| self.fail(format!("iterate Staking.{entry}"), e))?;
            let key = kv.key().map_err(|e| self.fail("decode exposure key", e))?;
            let Some(stash) = key.part(1).and_then(|p| p.decode_as::<AccountId>().ok().flatten()) else { continue };
            let Some(v) = lenient(kv.value(), || format!("Staking.{entry} {era} 0x{}", hex::encode(stash)), &mut undecoded) else { continue };
            let mut exp = Exposure {
                total: v.at("total").and_then(Value::as_u128).unwrap_or_default(),
                own: v.at("own").and_then(Value::as_u128).unwrap_or_default(),
                others: Vec::new(),
            };
            if !paged {
                exp.others = v.at("others").map(unnamed).unwrap_or_default().iter().filter_map(individual).collect();
            }
            exposures.insert(stash, exp);
        }
        drop(it);
        if paged {
            let mut it = st
                .iter(dynamic::storage::<(u32, AccountId, u32), Value>("Staking", "ErasStakersPaged"), (era,))
                .await
                .map_err(|e| self.fail("iterate Staking.ErasStakersPaged", e))?;
            while let Some(kv) = it.next().await {
                let kv = kv.map_err(|e| self.fail("iterate Staking.ErasStakersPaged", e))?;
                let key = kv.key().map_err(|e| self.fail("decode exposure page key", e))?;
                let Some(stash) = key.part(1).and_then(|p| p.decode_as::<AccountId>().ok().flatten()) else { continue };
                let Some(v) = lenient(kv.value(), || format!("Staking.ErasStakersPaged {era} 0x{}", hex::encode(stash)), &mut undecoded) else { continue };
                let others = v.at("others").map(unnamed).unwrap_or_default().iter().filter_map(individual);
                exposures.entry(stash).or_default().others.extend(others);
            }
        }

        // Every validator's prefs and self stake.
        let mut validators = Vec::new();
        let mut it = st
            .iter(dynamic::storage::<(AccountId,), Value>("Staking", "Validators"), ())
            .await
            .map_err(|e| self.fail("iterate Staking.Validators", e))?;
        let mut prefs = Vec::new();
        while let Some(kv) = it.next().await {
            let kv = kv.map_err(|e| self.fail("iterate Staking.Validators", e))?;
            let key = kv.key().map_err(|e| self.fail("decode validator key", e))?;
            let Some(stash) = key.part(0).and_then(|p| p.decode_as::<AccountId>().ok().flatten()) else { continue };
            let Some(v) = lenient(kv.value(), || format!("Staking.Validators 0x{}", hex::encode(stash)), &mut undecoded) else { continue };
            let commission = v.at("commission").map(|c| unwrap_number(c)).unwrap_or_default() as u32;
            let blocked = v.at("blocked").and_then(Value::as_bool).unwrap_or(false);
            prefs.push((stash, commission, blocked));
        }
        drop(it);
        for (stash, commission_perbill, blocked) in prefs {
            validators.push(ValidatorEra {
                stash,
                commission_perbill,
                blocked,
                self_bonded: self.bonded_at(&at, stash).await?,
                exposure: exposures.remove(&stash),
            });
        }
        // Elected validators that no longer intend to validate still had an exposure.
        for (stash, exposure) in exposures {
            validators.push(ValidatorEra { stash, commission_perbill: 0, blocked: false, self_bonded: self.bonded_at(&at, stash).await?, exposure: Some(exposure) });
        }

        // Every nominator.
        let mut nominators = Vec::new();
        let mut it = st
            .iter(dynamic::storage::<(AccountId,), Value>("Staking", "Nominators"), ())
            .await
            .map_err(|e| self.fail("iterate Staking.Nominators", e))?;
        let mut found = Vec::new();
        while let Some(kv) = it.next().await {
            let kv = kv.map_err(|e| self.fail("iterate Staking.Nominators", e))?;
            let key = kv.key().map_err(|e| self.fail("decode nominator key", e))?;
            let Some(who) = key.part(0).and_then(|p| p.decode_as::<AccountId>().ok().flatten()) else { continue };
            let Some(v) = lenient(kv.value(), || format!("Staking.Nominators 0x{}", hex::encode(who)), &mut undecoded) else { continue };
            let targets: Vec<AccountId> = v.at("targets").map(all_accounts).unwrap_or_default();
            found.push((who, targets));
        }
        drop(it);
        for (who, targets) in found {
            nominators.push(NominatorState { who, bonded: self.bonded_at(&at, who).await?, targets });
        }

        // Points of the era that just ended.
        let points = match era.checked_sub(1) {
            None => None,
            Some(prev) => {
                let v = st
                    .try_fetch(dynamic::storage::<(u32,), Value>("Staking", "ErasRewardPoints"), (prev,))
                    .await
                    .map_err(|e| self.fail("read Staking.ErasRewardPoints", e))?;
                match v.as_ref().and_then(|v| lenient(v, || format!("Staking.ErasRewardPoints {prev}"), &mut undecoded)) {
                    None => None,
                    Some(v) => {
                        let total = v.at("total").and_then(Value::as_u128).unwrap_or_default() as u32;
                        let individual = v
                            .at("individual")
                            .map(unnamed)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|pair| {
                                let p = unnamed(pair);
                                Some((account(p.first()?)?, p.get(1)?.as_u128()? as u32))
                            })
                            .collect();
                        Some(EraPoints { era: prev, total, individual })
                    }
                }
            }
        };
        Ok(EraSnapshot { era, validators, nominators, points, undecoded })
    }

    /// The active bonded stake of a stash (Bonded -> controller -> Ledger.active).
    async fn bonded_at(
        &self,
        at: &subxt::client::ClientAtBlock<subxt::PolkadotConfig, subxt::client::OnlineClientAtBlockImpl<subxt::PolkadotConfig>>,
        stash: AccountId,
    ) -> Result<u128, ChainError> {
        let st = at.storage();
        let controller = match st
            .try_fetch(dynamic::storage::<(AccountId,), AccountId>("Staking", "Bonded"), (stash,))
            .await
            .map_err(|e| self.fail("read Staking.Bonded", e))?
        {
            Some(c) => c.decode().map_err(|e| self.fail("decode Staking.Bonded", e))?,
            None => return Ok(0),
        };
        let ledger = st
            .try_fetch(dynamic::storage::<(AccountId,), Value>("Staking", "Ledger"), (controller,))
            .await
            .map_err(|e| self.fail("read Staking.Ledger", e))?;
        Ok(match ledger {
            Some(l) => l.decode().map_err(|e| self.fail("decode Staking.Ledger", e))?.at("active").and_then(Value::as_u128).unwrap_or_default(),
            None => 0,
        })
    }
}

/// `{who, value}` of an exposure.
fn individual<T>(v: &Value<T>) -> Option<(AccountId, u128)> {
    Some((account(v.at("who")?)?, v.at("value")?.as_u128()?))
}

/// A number, through newtypes such as Perbill.
pub(crate) fn unwrap_number<T>(v: &Value<T>) -> u128 {
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(items)) if items.len() == 1 => unwrap_number(&items[0]),
        _ => v.as_u128().unwrap_or_default(),
    }
}

/// Every account in a (bounded) vector of accounts.
fn all_accounts<T>(v: &Value<T>) -> Vec<AccountId> {
    let items = unnamed(v);
    // BoundedVec wraps the Vec in a newtype.
    if items.len() == 1 && account(&items[0]).is_none() {
        return all_accounts(&items[0]);
    }
    items.iter().filter_map(account).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(b: u8) -> Value {
        Value::unnamed_composite([Value::unnamed_composite((0..32).map(|_| Value::u128(b.into())))])
    }

    #[test]
    fn accounts_and_numbers_through_newtypes() {
        assert_eq!(account(&acct(7)), Some([7u8; 32]));
        assert_eq!(unwrap_number(&Value::unnamed_composite([Value::u128(50_000_000)])), 50_000_000);
        let bounded = Value::unnamed_composite([Value::unnamed_composite([acct(1), acct(2)])]);
        assert_eq!(all_accounts(&bounded), vec![[1u8; 32], [2u8; 32]]);
        let plain = Value::unnamed_composite([acct(3)]);
        assert_eq!(all_accounts(&plain), vec![[3u8; 32]]);
        let ind = Value::named_composite([("who", acct(4)), ("value", Value::u128(9))]);
        assert_eq!(individual(&ind), Some(([4u8; 32], 9)));
    }
}
