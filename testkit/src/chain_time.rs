//! Moving the devnet through sessions and eras on demand.
//!
//! Sessions: write `Timestamp.Now` one BABE epoch ahead, then build a block
//! (dev_timeTravel breaks BABE here). Eras: Paseo's election falls back to
//! NoElection, so when the election provider is in Emergency, Alice (made
//! sudo) submits `governance_fallback`. Measured in
//! shared/research/chain-harness.md §7: about 15–23 s per era.

use std::time::Instant;

use anyhow::Context;
use scale_value::{Composite, Value, ValueDef};
use serde_json::json;
use subxt::dynamic;
use subxt_signer::sr25519::dev;

use crate::Devnet;
use crate::accounts::{UNIT, account_id};

/// The block that started a forced session.
#[derive(Debug, Clone, Copy)]
pub struct SessionBlock {
    /// When the block was asked for.
    pub requested: Instant,
    /// When it was built and finalized.
    pub built: Instant,
    /// The session it started.
    pub index: u32,
}

/// One BABE epoch in ms on Paseo (600 slots of 6 s).
pub const EPOCH_MS: u64 = 600 * 6000;

impl Devnet {
    async fn storage_value(&self, pallet: &str, item: &str) -> anyhow::Result<Option<Value>> {
        let client = self.client("devnet").await?;
        let at = client.api().at_current_block().await?;
        let v = at.storage().try_fetch(dynamic::storage::<(), Value>(pallet, item), ()).await?;
        Ok(match v {
            Some(v) => Some(v.decode()?),
            None => None,
        })
    }

    /// Staking.ActiveEra index.
    pub async fn active_era(&self) -> anyhow::Result<u32> {
        use scale_value::At;
        let v = self.storage_value("Staking", "ActiveEra").await?.context("no active era")?;
        Ok(v.at("index").and_then(Value::as_u128).context("ActiveEra.index")? as u32)
    }

    /// Session.CurrentIndex.
    pub async fn session_index(&self) -> anyhow::Result<u32> {
        let v = self.storage_value("Session", "CurrentIndex").await?.context("no session index")?;
        Ok(v.as_u128().context("CurrentIndex")? as u32)
    }

    /// Build a block that starts a new session. A block another client had
    /// built meanwhile (a transaction submitted at the same moment) can carry
    /// the clock forward without the jump: then the jump is made again, until
    /// the session index has moved.
    pub async fn force_session(&self) -> anyhow::Result<()> {
        self.force_session_timed().await.map(|_| ())
    }

    /// [`Devnet::force_session`], saying when the block that started the
    /// session was asked for and when it was built (chopsticks finalizes a
    /// block as it builds it), and the new session's index.
    pub async fn force_session_timed(&self) -> anyhow::Result<SessionBlock> {
        let before = self.session_index().await?;
        for _ in 0..5 {
            let now = self.storage_value("Timestamp", "Now").await?.and_then(|v| v.as_u128()).context("Timestamp.Now")? as u64;
            self.set_storage(json!({ "Timestamp": { "Now": now + EPOCH_MS } })).await?;
            let requested = Instant::now();
            self.new_blocks(1).await?;
            let built = Instant::now();
            let index = self.session_index().await?;
            if index > before {
                return Ok(SessionBlock { requested, built, index });
            }
        }
        anyhow::bail!("the session did not change after 5 forced epochs (still {before})")
    }

    /// Force sessions until the active era moves on; returns the new era.
    /// Makes Alice the sudo key (and funds her) to rescue the failed election.
    pub async fn advance_era(&self) -> anyhow::Result<u32> {
        let alice = dev::alice();
        let alice_id = format!("0x{}", hex::encode(account_id(&alice)));
        self.set_storage(json!({ "Sudo": { "Key": alice_id } })).await?;
        if self.free_balance(account_id(&alice)).await? < 1_000 * UNIT {
            self.fund(account_id(&alice), 1_000_000 * UNIT).await?;
        }
        let start = self.active_era().await?;
        for _ in 0..40 {
            self.force_session().await?;
            if self.active_era().await? > start {
                return self.active_era().await;
            }
            let phase = self.storage_value("ElectionProviderMultiPhase", "CurrentPhase").await?;
            if matches!(phase.map(|p| p.value), Some(ValueDef::Variant(v)) if v.name == "Emergency") {
                let none = || Value::unnamed_variant("None", []);
                let fallback = dynamic::tx("ElectionProviderMultiPhase", "governance_fallback", Composite::unnamed([none(), none()]));
                let sudo = dynamic::tx("Sudo", "sudo", Composite::unnamed([fallback.into_value()]));
                self.submit(&alice, sudo).await.context("sudo governance_fallback")?;
            }
        }
        anyhow::bail!("the era did not advance after 40 sessions")
    }

    /// Free balance of an account.
    pub async fn free_balance(&self, who: [u8; 32]) -> anyhow::Result<u128> {
        use scale_value::At;
        let client = self.client("devnet").await?;
        let at = client.api().at_current_block().await?;
        let v = at.storage().try_fetch(dynamic::storage::<([u8; 32],), Value>("System", "Account"), (who,)).await?;
        Ok(match v {
            Some(v) => v.decode()?.at("data").and_then(|d| d.at("free")).and_then(Value::as_u128).unwrap_or_default(),
            None => 0,
        })
    }
}
