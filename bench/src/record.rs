//! Recording the fixture from a devnet with real activity.

use std::path::Path;

use subxt_signer::sr25519::dev;
use subxt::rpcs::rpc_params;
use testkit::Devnet;
use testkit::accounts::{UNIT, account_id};

use crate::fixture::{Fixture, RecordedBlock};

pub async fn record(out: &Path) -> anyhow::Result<()> {
    eprintln!("starting a devnet...");
    let devnet = Devnet::start().await?;
    eprintln!("making activity: bonds, validators, identities, nominations, sessions, an era");
    for (i, who) in [dev::ferdie(), dev::eve(), dev::dave(), dev::charlie()].iter().enumerate() {
        devnet.fund(account_id(who), 1_000_000 * UNIT).await?;
        devnet.bond(who, 150_000 * UNIT).await?;
        if i % 2 == 0 {
            devnet.validate(who, 10_000_000 * (i as u32 + 1)).await?;
            devnet.set_identity(who, &format!("validator-{i}")).await?;
        } else {
            devnet.nominate(who, &[account_id(&dev::ferdie())]).await?;
        }
    }
    devnet.force_session().await?;
    devnet.advance_era().await?;
    devnet.new_blocks(5).await?;
    let client = devnet.client("paseo-devnet").await?;
    let head = devnet.finalized_number().await?;
    let metadata: String = devnet.rpc().request("state_getMetadata", rpc_params![]).await?;
    let at = client.api().at_current_block().await?;
    let (spec_version, transaction_version) = (at.spec_version(), at.transaction_version());
    let mut blocks = Vec::new();
    for n in 1..=head {
        let data = client.block(n).await?;
        let raw = client.raw_events(n).await?;
        blocks.push(RecordedBlock {
            number: n,
            hash: data.facts.hash,
            parent_hash: data.facts.parent_hash,
            timestamp_ms: data.facts.timestamp_ms,
            extrinsic_count: data.facts.extrinsic_count,
            events_hex: hex::encode(raw),
        });
    }
    let events: usize = blocks.len();
    Fixture {
        chain: "paseo-devnet".into(),
        spec_version,
        transaction_version,
        metadata_hex: metadata.trim_start_matches("0x").to_string(),
        blocks,
    }
    .save(out)?;
    eprintln!("recorded {events} blocks (1..={head}) into {}", out.display());
    devnet.stop().await;
    Ok(())
}
