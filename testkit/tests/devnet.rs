//! The harness itself against the real chain runtime: blocks on demand, and
//! dev accounts that fund, bond, validate and set an identity with real
//! signed extrinsics whose effects a storage read confirms.

use std::time::Duration;

use scale_value::Value;
use subxt::dynamic;
use subxt_signer::sr25519::dev;
use testkit::accounts::{UNIT, account_id};
use testkit::Devnet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_builds_blocks_and_accepts_staking_extrinsics() {
    testkit::init_tracing();
    let devnet = tokio::time::timeout(Duration::from_secs(240), Devnet::start()).await.unwrap().unwrap();
    let before = devnet.finalized_number().await.unwrap();
    devnet.new_blocks(2).await.unwrap();
    assert_eq!(devnet.finalized_number().await.unwrap(), before + 2);

    let ferdie = dev::ferdie();
    let who = account_id(&ferdie);
    devnet.fund(who, 1_000_000 * UNIT).await.unwrap();
    let events = devnet.bond(&ferdie, 200_000 * UNIT).await.unwrap();
    assert!(events.iter().any(|e| e == "Staking::Bonded"), "{events:?}");
    let events = devnet.validate(&ferdie, 50_000_000).await.unwrap();
    assert!(events.iter().any(|e| e == "Staking::ValidatorPrefsSet"), "{events:?}");
    let events = devnet.set_identity(&ferdie, "Ferdie").await.unwrap();
    assert!(events.iter().any(|e| e == "Identity::IdentitySet"), "{events:?}");

    let client = devnet.client("devnet").await.unwrap();
    let at = client.api().at_current_block().await.unwrap();
    #[derive(Debug, scale_decode::DecodeAsType)]
    struct Prefs {
        commission: u32,
        blocked: bool,
    }
    let prefs = at
        .storage()
        .fetch(dynamic::storage::<([u8; 32],), Prefs>("Staking", "Validators"), (who,))
        .await
        .unwrap()
        .decode_as::<Prefs>()
        .unwrap();
    assert_eq!((prefs.commission, prefs.blocked), (50_000_000, false));
    let identity = at
        .storage()
        .try_fetch(dynamic::storage::<([u8; 32],), Value>("Identity", "IdentityOf"), (who,))
        .await
        .unwrap();
    assert!(identity.is_some(), "IdentityOf[ferdie] is set");

    // A transaction the node holds without building its block (as chopsticks
    // does with one whose application threw) is still brought to finality:
    // after a quiet spell the harness builds the block itself, once.
    let _: serde_json::Value = devnet.rpc().request("dev_setBlockBuildMode", subxt_rpcs::rpc_params!["Manual"]).await.unwrap();
    let before = devnet.finalized_number().await.unwrap();
    let events = devnet.chill(&ferdie).await.unwrap();
    assert!(events.iter().any(|e| e == "Staking::Chilled"), "{events:?}");
    assert_eq!(devnet.finalized_number().await.unwrap(), before + 1, "one block, built by the harness");
    let _: serde_json::Value = devnet.rpc().request("dev_setBlockBuildMode", subxt_rpcs::rpc_params!["Instant"]).await.unwrap();

    // Core_version as the client answers it (from the node's runtime version)
    // is byte for byte what executing the runtime gives, at a block and at the best block.
    let hash = devnet.block_hash(devnet.finalized_number().await.unwrap()).await.unwrap();
    let rpc = devnet.rpc();
    for at in [serde_json::json!(hash), serde_json::Value::Null] {
        let executed: String = rpc.request("state_call", subxt_rpcs::rpc_params!["Core_version", "0x", at.clone()]).await.unwrap();
        let version: serde_json::Value = rpc.request("state_getRuntimeVersion", subxt_rpcs::rpc_params![at.clone()]).await.unwrap();
        let encoded = chain::runtime_version::encode_runtime_version(&version).unwrap();
        assert_eq!(format!("0x{}", hex::encode(encoded)), executed, "at {at}: {version}");
        let through_client: String =
            client.rpc().request("state_call", subxt_rpcs::rpc_params!["Core_version", "0x", at.clone()]).await.unwrap();
        assert_eq!(through_client, executed, "the client's answer at {at}");
    }
}
