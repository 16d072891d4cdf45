//! The devnet programme of `config/devnet.toml` made real on a devnet: the
//! six dev candidates of `config/candidates/devnet.json` bond and validate,
//! the programme's two nominator stashes bond (`//Nominator1`, which
//! nominates itself, and `//Nominator2`, whose Staking proxy is
//! `//Nominator1`), then a new era starts with the validators in its
//! snapshot, and a session so a round follows.

use anyhow::Context;
use subxt_signer::SecretUri;
use subxt_signer::sr25519::{Keypair, dev};

use crate::Devnet;
use crate::accounts::{UNIT, account_id};

/// `//Nominator{n}` of the public development phrase.
pub fn nominator(n: u8) -> anyhow::Result<Keypair> {
    let uri: SecretUri = format!("{}//Nominator{n}", subxt_signer::DEV_PHRASE).parse()?;
    Ok(Keypair::from_uri(&uri)?)
}

/// Shape the devnet; `say` hears each step. Returns the era started.
pub async fn shape(devnet: &Devnet, say: impl Fn(String)) -> anyhow::Result<u32> {
    let candidates = [dev::alice(), dev::bob(), dev::charlie(), dev::dave(), dev::eve(), dev::ferdie()];
    let (n1, n2) = (nominator(1)?, nominator(2)?);
    let ss58 = |k: &Keypair| schemas::ss58::encode(42, &account_id(k));
    for k in candidates.iter().chain([&n1, &n2]) {
        if devnet.free_balance(account_id(k)).await? < 1_000 * UNIT {
            devnet.fund(account_id(k), 1_000_000 * UNIT).await?;
        }
    }
    for (i, k) in candidates.iter().enumerate() {
        // Different stakes and commissions, so the scores differ.
        devnet.bond(k, (300_000 + 20_000 * i as u128) * UNIT).await.with_context(|| format!("bonding candidate {}", ss58(k)))?;
        devnet.validate(k, 10_000_000 * (1 + i as u32)).await.with_context(|| format!("validate for {}", ss58(k)))?;
        say(format!("candidate {} bonded and validating", ss58(k)));
    }
    devnet.bond(&n1, 50_000 * UNIT).await.context("bonding //Nominator1")?;
    devnet.bond(&n2, 50_000 * UNIT).await.context("bonding //Nominator2")?;
    devnet.add_staking_proxy(&n2, account_id(&n1)).await.context("adding //Nominator1 as //Nominator2's Staking proxy")?;
    say(format!("nominator {} (direct) and {} (through its proxy {}) bonded", ss58(&n1), ss58(&n2), ss58(&n1)));
    let era = devnet.advance_era().await?;
    devnet.force_session().await?;
    Ok(era)
}
