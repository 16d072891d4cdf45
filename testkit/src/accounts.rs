//! Shaping the devnet with real signed extrinsics from dev accounts.

use anyhow::Context;
use scale_value::{Composite, Value};
use serde_json::json;
use subxt::dynamic;
use subxt::tx::DynamicPayload;
use subxt_signer::sr25519::Keypair;

use crate::Devnet;

/// 1 PAS in planck (10 decimals).
pub const UNIT: u128 = 10_000_000_000;

fn call(pallet: &str, name: &str, args: Vec<Value>) -> DynamicPayload<Composite<()>> {
    dynamic::tx(pallet, name, Composite::unnamed(args))
}

fn none() -> Value {
    Value::unnamed_variant("None", [])
}

/// The 32-byte public key of a keypair.
pub fn account_id(signer: &Keypair) -> [u8; 32] {
    signer.public_key().0
}

impl Devnet {
    /// Give a fresh account `free` planck. This writes the whole AccountInfo,
    /// so use it only before the account has a nonce, locks or reserves.
    pub async fn fund(&self, who: [u8; 32], free: u128) -> anyhow::Result<()> {
        let id = format!("0x{}", hex::encode(who));
        self.set_storage(json!({
            "System": { "Account": [[[id], { "providers": 1, "data": { "free": free.to_string() } }]] }
        }))
        .await
    }

    /// Sign, submit and wait until finalized with success; returns the event names.
    ///
    /// Bounded, and robust to two ways chopsticks keeps a watched transaction
    /// without a word: one whose application threw goes back to its pool until
    /// another block is built (in Instant mode only a new submission builds
    /// one), so after a quiet spell a block is built to take it; one dropped
    /// with a failed block build is neither in the pool nor on chain, so the
    /// same signed bytes are submitted again. Past the bound the error says
    /// what the pool and the log show, instead of hanging the test.
    pub async fn submit(
        &self,
        signer: &Keypair,
        payload: DynamicPayload<Composite<()>>,
    ) -> anyhow::Result<Vec<String>> {
        const QUIET: std::time::Duration = std::time::Duration::from_secs(15);
        const BOUND: std::time::Duration = std::time::Duration::from_secs(180);
        let client = self.client("devnet").await?;
        let who = subxt::utils::AccountId32(account_id(signer)).to_string();
        let next_nonce = || async { anyhow::Ok(self.rpc().request::<u64>("system_accountNextIndex", subxt_rpcs::rpc_params![who.clone()]).await?) };
        let nonce = next_nonce().await?;
        let tx = client.api().tx().await?.create_signed(&payload, signer, Default::default()).await.context("sign")?;
        let end = tokio::time::Instant::now() + BOUND;
        let mut finalized = Box::pin(tx.submit_and_watch().await.context("submit")?.wait_for_finalized_success());
        let events = loop {
            tokio::select! {
                r = &mut finalized => break r.context("wait for finalized success")?,
                _ = tokio::time::sleep(QUIET) => {
                    let pool = self.pool_report(account_id(signer)).await;
                    anyhow::ensure!(
                        tokio::time::Instant::now() < end,
                        "a transaction of {who} (nonce {nonce}) was not finalized within {BOUND:?}: {pool}\nchopsticks:\n{}",
                        self.log_tail(40)
                    );
                    // A block takes what the pool holds; it is built after any build under way.
                    tracing::warn!(%pool, "a transaction of {who} is not finalized after {QUIET:?}: building a block");
                    self.new_blocks(1).await?;
                    if next_nonce().await? <= nonce {
                        // Neither on chain nor in the pool, and no build is left that could hold it.
                        tracing::warn!("the node lost a transaction of {who} (nonce {nonce}): submitting it again");
                        finalized = Box::pin(tx.submit_and_watch().await.context("submit again")?.wait_for_finalized_success());
                    }
                }
            }
        };
        Ok(events
            .iter()
            .filter_map(Result::ok)
            .map(|e| format!("{}::{}", e.pallet_name(), e.event_name()))
            .collect())
    }

    /// `staking.bond(amount, Staked)`.
    pub async fn bond(&self, signer: &Keypair, amount: u128) -> anyhow::Result<Vec<String>> {
        self.submit(signer, call("Staking", "bond", vec![Value::u128(amount), Value::unnamed_variant("Staked", [])]))
            .await
    }

    /// `staking.validate({commission, blocked: false})`, commission in parts per billion.
    pub async fn validate(&self, signer: &Keypair, commission_perbill: u32) -> anyhow::Result<Vec<String>> {
        let prefs = Value::named_composite([
            ("commission", Value::u128(u128::from(commission_perbill))),
            ("blocked", Value::bool(false)),
        ]);
        self.submit(signer, call("Staking", "validate", vec![prefs])).await
    }

    /// `staking.nominate(targets)`.
    pub async fn nominate(&self, signer: &Keypair, targets: &[[u8; 32]]) -> anyhow::Result<Vec<String>> {
        let targets = Value::unnamed_composite(targets.iter().map(|t| Value::unnamed_variant("Id", [Value::from_bytes(t)])));
        self.submit(signer, call("Staking", "nominate", vec![targets])).await
    }

    /// `staking.validate({commission, blocked})`: a blocked validator takes no new nominations.
    pub async fn validate_blocked(&self, signer: &Keypair, commission_perbill: u32, blocked: bool) -> anyhow::Result<Vec<String>> {
        let prefs = Value::named_composite([
            ("commission", Value::u128(u128::from(commission_perbill))),
            ("blocked", Value::bool(blocked)),
        ]);
        self.submit(signer, call("Staking", "validate", vec![prefs])).await
    }

    /// `proxy.add_proxy(delegate, Staking, 0)`: `delegate` may nominate for the signer.
    pub async fn add_staking_proxy(&self, signer: &Keypair, delegate: [u8; 32]) -> anyhow::Result<Vec<String>> {
        let args = vec![Value::unnamed_variant("Id", [Value::from_bytes(delegate)]), Value::unnamed_variant("Staking", []), Value::u128(0)];
        self.submit(signer, call("Proxy", "add_proxy", args)).await
    }

    /// `proxy.add_proxy(delegate, proxy_type, delay)`: any type by name, any delay.
    pub async fn add_proxy(&self, signer: &Keypair, delegate: [u8; 32], proxy_type: &str, delay: u32) -> anyhow::Result<Vec<String>> {
        let args = vec![Value::unnamed_variant("Id", [Value::from_bytes(delegate)]), Value::unnamed_variant(proxy_type, []), Value::u128(u128::from(delay))];
        self.submit(signer, call("Proxy", "add_proxy", args)).await
    }

    /// `proxy.announce(real, call_hash)`, signed by the delegate.
    pub async fn announce(&self, delegate: &Keypair, real: [u8; 32], call_hash: [u8; 32]) -> anyhow::Result<Vec<String>> {
        let args = vec![Value::unnamed_variant("Id", [Value::from_bytes(real)]), Value::from_bytes(call_hash)];
        self.submit(delegate, call("Proxy", "announce", args)).await
    }

    /// `proxy.proxy_announced(delegate, real, Staking, staking.nominate(targets))`, signed by `origin`
    /// (any signed origin may execute a matured announcement).
    pub async fn proxy_announced(&self, origin: &Keypair, delegate: [u8; 32], real: [u8; 32], targets: &[[u8; 32]]) -> anyhow::Result<Vec<String>> {
        let id = |a: &[u8; 32]| Value::unnamed_variant("Id", [Value::from_bytes(a)]);
        let nominate = Value::unnamed_variant(
            "Staking",
            [Value::named_variant("nominate", [("targets", Value::unnamed_composite(targets.iter().map(id)))])],
        );
        let staking = Value::unnamed_variant("Some", [Value::unnamed_variant("Staking", [])]);
        self.submit(origin, call("Proxy", "proxy_announced", vec![id(&delegate), id(&real), staking, nominate])).await
    }

    /// `proxy.remove_proxy(delegate, Staking, 0)`.
    pub async fn remove_staking_proxy(&self, signer: &Keypair, delegate: [u8; 32]) -> anyhow::Result<Vec<String>> {
        let args = vec![Value::unnamed_variant("Id", [Value::from_bytes(delegate)]), Value::unnamed_variant("Staking", []), Value::u128(0)];
        self.submit(signer, call("Proxy", "remove_proxy", args)).await
    }

    /// `staking.chill()`.
    pub async fn chill(&self, signer: &Keypair) -> anyhow::Result<Vec<String>> {
        self.submit(signer, call("Staking", "chill", vec![])).await
    }

    /// `staking.payout_stakers(validator, era)`: pays an ended era's rewards of a validator and its nominators.
    pub async fn payout_stakers(&self, signer: &Keypair, validator: [u8; 32], era: u32) -> anyhow::Result<Vec<String>> {
        self.submit(signer, call("Staking", "payout_stakers", vec![Value::from_bytes(validator), Value::u128(u128::from(era))])).await
    }

    /// `identity.add_sub(sub, Raw(name))`: `sub` becomes a sub-identity of the signer.
    pub async fn add_sub(&self, signer: &Keypair, sub: [u8; 32], name: &str) -> anyhow::Result<Vec<String>> {
        anyhow::ensure!(name.len() <= 32, "sub names are at most 32 bytes");
        let data = Value::unnamed_variant(format!("Raw{}", name.len()), [Value::from_bytes(name.as_bytes())]);
        self.submit(signer, call("Identity", "add_sub", vec![Value::unnamed_variant("Id", [Value::from_bytes(sub)]), data]))
            .await
    }

    /// `identity.set_identity` with only a display name (at most 32 bytes).
    pub async fn set_identity(&self, signer: &Keypair, display: &str) -> anyhow::Result<Vec<String>> {
        anyhow::ensure!(display.len() <= 32, "display names are at most 32 bytes");
        let info = Value::named_composite([
            ("additional", Value::unnamed_composite([])),
            ("display", Value::unnamed_variant(format!("Raw{}", display.len()), [Value::from_bytes(display.as_bytes())])),
            ("legal", none()),
            ("web", none()),
            ("riot", none()),
            ("email", none()),
            ("pgp_fingerprint", none()),
            ("image", none()),
            ("twitter", none()),
        ]);
        self.submit(signer, call("Identity", "set_identity", vec![info])).await
    }

    /// Give `who`'s identity a judgement by registrar 0 (`Reasonable` = 2,
    /// `KnownGood` = 3 in the Judgement enum), writing the registration in
    /// place: getting a judgement the real way takes a registrar and a fee
    /// round trip the scoring tests do not need. `who` must have an identity
    /// and no judgement yet. No event is emitted: ingest reads it at the next era.
    pub async fn give_judgement(&self, who: [u8; 32], judgement: u8) -> anyhow::Result<()> {
        let client = self.client("devnet").await?;
        let at = client.api().at_current_block().await?;
        let key = at.storage().entry(dynamic::storage::<([u8; 32],), Value>("Identity", "IdentityOf"))?.fetch_key((who,))?;
        let raw = at.storage().fetch_raw(key.clone()).await.context("IdentityOf of the account")?;
        // Registration starts with its judgements: compact length 0, then the rest.
        anyhow::ensure!(raw.first() == Some(&0), "the identity already has judgements");
        let mut value = vec![0x04, 0, 0, 0, 0, judgement];
        value.extend_from_slice(&raw[1..]);
        self.set_storage(json!([[format!("0x{}", hex::encode(&key)), format!("0x{}", hex::encode(&value))]])).await
    }
}
