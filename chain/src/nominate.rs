//! What the nominator needs of a chain, by metadata names so it works where
//! staking lives on the relay chain (the devnet) and on Asset Hub
//! (staking-async): reading nominations, bonds, balances and exposures,
//! building `utility.batch_all` of `staking.nominate`,
//! `proxy.proxy(stash, Staking, nominate)` and the time-delay steps
//! (`proxy.announce`, `proxy.proxy_announced`, `proxy.remove_announcement`),
//! signing with an explicit nonce and mortality, broadcasting stored bytes,
//! and finding an extrinsic by hash.

use scale_value::{At, Composite, Value, ValueDef};
use subxt::config::PolkadotExtrinsicParamsBuilder;
use subxt::dynamic;
use subxt_rpcs::rpc_params;
use subxt_signer::sr25519::Keypair;

use crate::staking::value_bytes;
use crate::{ChainClient, ChainError};

/// A 32-byte account.
pub type AccountId = [u8; 32];

/// One account's nomination inside a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominateItem {
    /// The nominator stash.
    pub stash: AccountId,
    /// Sent as `proxy.proxy(stash, Staking, ..)` (else the stash signs itself).
    pub via_proxy: bool,
    /// The targets, sorted.
    pub targets: Vec<AccountId>,
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    /// `staking.nominate`, by the stash or through its immediate proxy.
    Nominate(NominateItem),
    /// `proxy.announce(stash, call_hash)`: the first step of a time-delay proxy.
    Announce {
        /// The stash the call is for.
        stash: AccountId,
        /// [`ChainClient::nominate_call_hash`] of the call to execute later.
        call_hash: [u8; 32],
    },
    /// `proxy.proxy_announced(delegate, stash, Staking, nominate(targets))`:
    /// any signed origin may execute a matured announcement.
    Execute {
        /// The proxy that announced.
        delegate: AccountId,
        /// The stash.
        stash: AccountId,
        /// The announced targets, sorted.
        targets: Vec<AccountId>,
    },
    /// `proxy.remove_announcement(stash, call_hash)`, signed by the delegate that announced.
    Remove {
        /// The stash.
        stash: AccountId,
        /// The announced call's hash.
        call_hash: [u8; 32],
    },
}

impl BatchItem {
    /// Whether its events include a `Proxy.ProxyExecuted` of its own (the inner call's result).
    pub fn proxied(&self) -> bool {
        match self {
            BatchItem::Nominate(n) => n.via_proxy,
            BatchItem::Execute { .. } => true,
            BatchItem::Announce { .. } | BatchItem::Remove { .. } => false,
        }
    }
}

/// A signed transaction, as stored before it is broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The extrinsic bytes.
    pub bytes: Vec<u8>,
    /// Its hash, 0x hex.
    pub hash: String,
    /// The signer's nonce it uses.
    pub nonce: u64,
    /// Block its mortality counts from.
    pub birth: u64,
    /// Last block it can be included in.
    pub mortal_until: u64,
}

/// An account's on-chain nomination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nominations {
    /// Targets as stored (the runtime sorts and de-duplicates them).
    pub targets: Vec<AccountId>,
    /// The era it was submitted in.
    pub submitted_in: u32,
}

/// `System.Account` of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountInfo {
    /// Nonce of the next transaction.
    pub nonce: u64,
    /// Free balance, planck.
    pub free: u128,
    /// Reserved balance, planck.
    pub reserved: u128,
    /// Frozen (locked) balance, planck.
    pub frozen: u128,
}

/// A validator's preferences as they stand now (not as of an era's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatorPrefs {
    /// Commission, parts per billion.
    pub commission_perbill: u32,
    /// It refuses new nominations.
    pub blocked: bool,
}

/// What the node said to a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broadcast {
    /// In the pool now.
    Accepted,
    /// Refused; the outcome is settled from the chain, not from this.
    Refused(String),
}

fn multi(account: &AccountId) -> Value {
    Value::unnamed_variant("Id", [Value::from_bytes(account)])
}

/// The `staking.nominate(targets)` call as a `RuntimeCall` value.
fn nominate_call(targets: &[AccountId]) -> Value {
    let targets = Value::unnamed_composite(targets.iter().map(multi));
    Value::unnamed_variant("Staking", [Value::named_variant("nominate", [("targets", targets)])])
}

fn staking_proxy_type() -> Value {
    Value::unnamed_variant("Some", [Value::unnamed_variant("Staking", [])])
}

fn proxy_call(name: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::unnamed_variant("Proxy", [Value::named_variant(name, fields)])
}

/// One batch item as a `RuntimeCall` value.
fn item_call(item: &BatchItem) -> Value {
    match item {
        BatchItem::Nominate(n) if !n.via_proxy => nominate_call(&n.targets),
        BatchItem::Nominate(n) => {
            proxy_call("proxy", vec![("real", multi(&n.stash)), ("force_proxy_type", staking_proxy_type()), ("call", nominate_call(&n.targets))])
        }
        BatchItem::Announce { stash, call_hash } => {
            proxy_call("announce", vec![("real", multi(stash)), ("call_hash", Value::from_bytes(call_hash))])
        }
        BatchItem::Execute { delegate, stash, targets } => proxy_call(
            "proxy_announced",
            vec![("delegate", multi(delegate)), ("real", multi(stash)), ("force_proxy_type", staking_proxy_type()), ("call", nominate_call(targets))],
        ),
        BatchItem::Remove { stash, call_hash } => {
            proxy_call("remove_announcement", vec![("real", multi(stash)), ("call_hash", Value::from_bytes(call_hash))])
        }
    }
}

/// `utility.batch_all(items)`: every item or none (a proxied item's inner
/// failure does not roll back: it shows in its `Proxy.ProxyExecuted`).
fn batch(items: &[BatchItem]) -> subxt::tx::DynamicPayload<Composite<()>> {
    dynamic::tx("Utility", "batch_all", Composite::named([("calls", Value::unnamed_composite(items.iter().map(item_call)))]))
}

/// The number of blocks a mortality of `n` gives (the runtime rounds the period up to a power of two, at least 4).
pub fn mortality_period(n: u64) -> u64 {
    n.clamp(4, 65_536).next_power_of_two()
}

fn account_of<T>(v: &Value<T>) -> Option<AccountId> {
    value_bytes(v)?.try_into().ok()
}

/// Every account in a value, however it is wrapped (`BoundedVec(Vec<AccountId32([u8; 32])>)`).
fn accounts_in<T>(v: &Value<T>) -> Vec<AccountId> {
    if let Some(a) = account_of(v) {
        return vec![a];
    }
    match &v.value {
        ValueDef::Composite(Composite::Unnamed(items)) => items.iter().flat_map(accounts_in).collect(),
        ValueDef::Composite(Composite::Named(items)) => items.iter().flat_map(|(_, v)| accounts_in(v)).collect(),
        _ => Vec::new(),
    }
}

/// One finalized block opened once, for every read a nominator pass makes:
/// each read is then one storage request, not a block look-up as well.
pub struct StakingAt<'a> {
    pub(crate) client: &'a ChainClient,
    pub(crate) at: subxt::client::ClientAtBlock<subxt::PolkadotConfig, subxt::client::OnlineClientAtBlockImpl<subxt::PolkadotConfig>>,
    pub(crate) block: u64,
}

impl StakingAt<'_> {
    /// The block read.
    pub fn block(&self) -> u64 {
        self.block
    }

    pub(crate) async fn plain(&self, pallet: &str, entry: &str) -> Result<Option<Value>, ChainError> {
        let v = self
            .at
            .storage()
            .try_fetch(dynamic::storage::<(), Value>(pallet, entry), ())
            .await
            .map_err(|e| self.client.fail(format!("read {pallet}.{entry}"), e))?;
        v.map(|v| v.decode().map_err(|e| self.client.fail(format!("decode {pallet}.{entry}"), e))).transpose()
    }

    pub(crate) async fn of(&self, pallet: &str, entry: &str, who: AccountId) -> Result<Option<Value>, ChainError> {
        let v = self
            .at
            .storage()
            .try_fetch(dynamic::storage::<(AccountId,), Value>(pallet, entry), (who,))
            .await
            .map_err(|e| self.client.fail(format!("read {pallet}.{entry}"), e))?;
        v.map(|v| v.decode().map_err(|e| self.client.fail(format!("decode {pallet}.{entry}"), e))).transpose()
    }

    /// Staking.CurrentEra (the era `submitted_in` is counted in).
    pub async fn current_era(&self) -> Result<Option<u32>, ChainError> {
        Ok(self.plain("Staking", "CurrentEra").await?.and_then(|v| v.as_u128()).map(|n| n as u32))
    }

    /// Staking.ActiveEra's index.
    pub async fn active_era(&self) -> Result<Option<u32>, ChainError> {
        Ok(self.plain("Staking", "ActiveEra").await?.and_then(|v| v.at("index").and_then(Value::as_u128)).map(|n| n as u32))
    }

    /// `Staking.Nominators(stash)`.
    pub async fn nominations(&self, stash: AccountId) -> Result<Option<Nominations>, ChainError> {
        let Some(v) = self.of("Staking", "Nominators", stash).await? else { return Ok(None) };
        let targets = v.at("targets").map(accounts_in).unwrap_or_default();
        let submitted_in = v.at("submitted_in").and_then(Value::as_u128).unwrap_or_default() as u32;
        Ok(Some(Nominations { targets, submitted_in }))
    }

    /// The stash's active bond (planck), through `Staking.Bonded` and `Staking.Ledger`; `None` when not bonded.
    pub async fn active_bond(&self, stash: AccountId) -> Result<Option<u128>, ChainError> {
        let Some(controller) = self.of("Staking", "Bonded", stash).await?.and_then(|c| account_of(&c)) else { return Ok(None) };
        Ok(self.of("Staking", "Ledger", controller).await?.and_then(|l| l.at("active").and_then(Value::as_u128)))
    }

    /// `System.Account(who)`.
    pub async fn account_info(&self, who: AccountId) -> Result<AccountInfo, ChainError> {
        let Some(v) = self.of("System", "Account", who).await? else { return Ok(AccountInfo::default()) };
        let data = |k: &str| v.at("data").and_then(|d| d.at(k)).and_then(Value::as_u128).unwrap_or_default();
        Ok(AccountInfo {
            nonce: v.at("nonce").and_then(Value::as_u128).unwrap_or_default() as u64,
            free: data("free"),
            reserved: data("reserved"),
            frozen: data("frozen").max(data("misc_frozen")),
        })
    }

    /// `Staking.Validators(who)`: `Some(blocked)` for a validator, `None` otherwise.
    pub async fn validator_blocked(&self, who: AccountId) -> Result<Option<bool>, ChainError> {
        Ok(self.validator_prefs(who).await?.map(|p| p.blocked))
    }

    /// `Staking.Validators(who)`: the validator's current preferences, `None` when it is not one.
    pub async fn validator_prefs(&self, who: AccountId) -> Result<Option<ValidatorPrefs>, ChainError> {
        Ok(self.of("Staking", "Validators", who).await?.map(|v| ValidatorPrefs {
            commission_perbill: v.at("commission").map(crate::staking::unwrap_number).unwrap_or_default() as u32,
            blocked: v.at("blocked").and_then(Value::as_bool).unwrap_or(false),
        }))
    }

    /// The runtime's most nominations per nominator (`Staking.MaxNominations`), from metadata.
    pub fn max_nominations(&self) -> Option<u32> {
        let v = self.at.constants().entry(dynamic::constant::<Value>("Staking", "MaxNominations")).ok()?;
        v.as_u128().map(|n| n.min(u128::from(u32::MAX)) as u32)
    }

    /// The exposure totals (planck) of the validators elected for `era`.
    pub async fn elected_stakes(&self, era: u32) -> Result<Vec<u128>, ChainError> {
        let paged = self
            .at
            .metadata_ref()
            .pallet_by_name("Staking")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name("ErasStakersOverview"))
            .is_some();
        let entry = if paged { "ErasStakersOverview" } else { "ErasStakers" };
        let mut it = self
            .at
            .storage()
            .iter(dynamic::storage::<(u32, AccountId), Value>("Staking", entry), (era,))
            .await
            .map_err(|e| self.client.fail(format!("iterate Staking.{entry}"), e))?;
        let mut out = Vec::new();
        while let Some(kv) = it.next().await {
            let kv = kv.map_err(|e| self.client.fail(format!("iterate Staking.{entry}"), e))?;
            if let Ok(v) = kv.value().decode() {
                out.push(v.at("total").and_then(Value::as_u128).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

impl ChainClient {
    /// Open `block` once for a pass's reads.
    pub async fn staking_at(&self, block: u64) -> Result<StakingAt<'_>, ChainError> {
        let at = self.api().at_block(block).await.map_err(|e| self.fail(format!("open block {block}"), e))?;
        Ok(StakingAt { client: self, at, block })
    }

    /// The finalized head's number and hash.
    pub async fn finalized_head(&self) -> Result<(u64, String), ChainError> {
        let n = self.finalized_number().await?;
        let hash: String =
            self.rpc().request("chain_getBlockHash", rpc_params![n]).await.map_err(|e| self.fail("chain_getBlockHash", e))?;
        Ok((n, hash))
    }

    /// Sign `utility.batch_all(items)` with `keypair`, at `nonce`, mortal for
    /// `mortality` blocks from the finalized block `birth`. Nothing is sent.
    pub async fn sign_batch(&self, keypair: &Keypair, items: &[BatchItem], nonce: u64, mortality: u64) -> Result<SignedTx, ChainError> {
        let (birth, _) = self.finalized_head().await?;
        let at = self.api().at_block(birth).await.map_err(|e| self.fail(format!("open block {birth}"), e))?;
        let params = PolkadotExtrinsicParamsBuilder::new().nonce(nonce).mortal(mortality).build();
        let signed = at.tx().create_signed(&batch(items), keypair, params).await.map_err(|e| self.fail("sign utility.batch_all", e))?;
        Ok(SignedTx {
            bytes: signed.encoded().to_vec(),
            hash: format!("0x{}", hex::encode(signed.hash().as_ref())),
            nonce,
            birth,
            mortal_until: birth + mortality_period(mortality),
        })
    }

    /// The SCALE bytes of the unsigned call, for a dry run's record.
    pub async fn call_bytes(&self, items: &[BatchItem]) -> Result<Vec<u8>, ChainError> {
        let at = self.api().at_current_block().await.map_err(|e| self.fail("open the current block", e))?;
        at.tx().call_data(&batch(items)).map_err(|e| self.fail("encode utility.batch_all", e))
    }

    /// `blake2_256` of the SCALE-encoded `staking.nominate(targets)` call, as
    /// `proxy.announce` records it. The caller sorts the targets, so one
    /// decision has one hash on every instance and after every restart.
    pub async fn nominate_call_hash(&self, targets: &[AccountId]) -> Result<[u8; 32], ChainError> {
        use blake2::digest::consts::U32;
        use blake2::{Blake2b, Digest};
        let at = self.api().at_current_block().await.map_err(|e| self.fail("open the current block", e))?;
        let targets = Value::unnamed_composite(targets.iter().map(multi));
        let payload = dynamic::tx("Staking", "nominate", Composite::named([("targets", targets)]));
        let bytes = at.tx().call_data(&payload).map_err(|e| self.fail("encode staking.nominate", e))?;
        Ok(Blake2b::<U32>::digest(&bytes).into())
    }

    /// The fee the signed bytes would pay (planck), at the current block.
    pub async fn fee_of(&self, bytes: &[u8]) -> Result<u128, ChainError> {
        let at = self.api().at_current_block().await.map_err(|e| self.fail("open the current block", e))?;
        at.tx().from_bytes(bytes.to_vec()).partial_fee_estimate().await.map_err(|e| self.fail("estimate the fee", e))
    }

    /// Send stored bytes. A refusal is not an outcome: what landed is read from the chain.
    pub async fn broadcast(&self, bytes: &[u8]) -> Result<Broadcast, ChainError> {
        let hex = format!("0x{}", hex::encode(bytes));
        match self.rpc().request::<serde_json::Value>("author_submitExtrinsic", rpc_params![hex]).await {
            Ok(_) => Ok(Broadcast::Accepted),
            Err(subxt_rpcs::Error::User(e)) => Ok(Broadcast::Refused(format!("{} {}", e.code, e.message))),
            Err(e) => Err(self.fail("author_submitExtrinsic", e)),
        }
    }

    /// The block and index of the extrinsic with `hash` in blocks `from..=to`, if any.
    pub async fn find_extrinsic(&self, from: u64, to: u64, hash: &str) -> Result<Option<(u64, u32)>, ChainError> {
        use blake2::digest::consts::U32;
        use blake2::{Blake2b, Digest};
        for n in from..=to {
            let block_hash: Option<String> =
                self.rpc().request("chain_getBlockHash", rpc_params![n]).await.map_err(|e| self.fail("chain_getBlockHash", e))?;
            let Some(block_hash) = block_hash else { break };
            let block: serde_json::Value =
                self.rpc().request("chain_getBlock", rpc_params![block_hash]).await.map_err(|e| self.fail("chain_getBlock", e))?;
            let extrinsics = block.pointer("/block/extrinsics").and_then(|x| x.as_array()).cloned().unwrap_or_default();
            for (i, x) in extrinsics.iter().enumerate() {
                let Some(bytes) = x.as_str().and_then(|s| hex::decode(s.trim_start_matches("0x")).ok()) else { continue };
                let h = format!("0x{}", hex::encode(Blake2b::<U32>::digest(&bytes)));
                if h.eq_ignore_ascii_case(hash) {
                    return Ok(Some((n, i as u32)));
                }
            }
        }
        Ok(None)
    }

    /// `Pallet.Error` for a module error, by the current metadata.
    pub async fn module_error_name(&self, pallet_index: u8, error_index: u8) -> String {
        let named = async {
            let at = self.api().at_current_block().await.ok()?;
            let pallet = at.metadata_ref().pallet_by_error_index(pallet_index)?;
            let variant = pallet.error_variant_by_index(error_index)?;
            Some(format!("{}.{}", pallet.name(), variant.name))
        };
        named.await.unwrap_or_else(|| format!("module error {pallet_index}/{error_index}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mortality_periods_are_powers_of_two() {
        assert_eq!((mortality_period(1), mortality_period(4), mortality_period(64), mortality_period(65)), (4, 4, 64, 128));
        assert_eq!(mortality_period(u64::MAX), 65_536);
    }

    #[test]
    fn accounts_are_found_inside_their_wrappers() {
        let account = |b: u8| Value::unnamed_composite([Value::unnamed_composite((0..32).map(|_| Value::u128(u128::from(b))))]);
        let bounded = Value::unnamed_composite([Value::unnamed_composite([account(1), account(2)])]);
        assert_eq!(accounts_in(&bounded), vec![[1; 32], [2; 32]]);
        assert_eq!(accounts_in(&Value::unnamed_composite([])), Vec::<AccountId>::new());
    }

    fn call_name(v: &Value) -> (String, String) {
        let ValueDef::Variant(outer) = &v.value else { panic!("{v:?}") };
        let inner = outer.values.values().next().unwrap();
        let ValueDef::Variant(call) = &inner.value else { panic!("{inner:?}") };
        (outer.name.clone(), call.name.clone())
    }

    #[test]
    fn each_item_is_the_call_it_names() {
        let item = NominateItem { stash: [1; 32], via_proxy: true, targets: vec![[2; 32]] };
        let name = |i: BatchItem| call_name(&item_call(&i));
        assert_eq!(name(BatchItem::Nominate(item.clone())), ("Proxy".into(), "proxy".into()));
        assert_eq!(name(BatchItem::Nominate(NominateItem { via_proxy: false, ..item })), ("Staking".into(), "nominate".into()));
        assert_eq!(name(BatchItem::Announce { stash: [1; 32], call_hash: [3; 32] }), ("Proxy".into(), "announce".into()));
        let execute = BatchItem::Execute { delegate: [4; 32], stash: [1; 32], targets: vec![[2; 32]] };
        assert!(execute.proxied() && !BatchItem::Remove { stash: [1; 32], call_hash: [3; 32] }.proxied());
        assert_eq!(name(execute), ("Proxy".into(), "proxy_announced".into()));
        assert_eq!(name(BatchItem::Remove { stash: [1; 32], call_hash: [3; 32] }), ("Proxy".into(), "remove_announcement".into()));
    }
}
