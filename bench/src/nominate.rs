//! The nominator's costs: deciding for 100 accounts from a 10,000-candidate
//! round (pure), signing their batches against a real runtime (the devnet),
//! and the RPC requests one decision pass makes.

use std::time::{Duration, Instant};

use chain::nominate::{BatchItem, NominateItem};
use rules::nomination::{self, Planned, Policy};
use subxt_signer::SecretUri;
use subxt_signer::sr25519::Keypair;

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn keypair(path: &str) -> anyhow::Result<Keypair> {
    let uri: SecretUri = format!("{}{path}", subxt_signer::DEV_PHRASE).parse()?;
    Ok(Keypair::from_uri(&uri)?)
}

/// Decide and sign for `accounts` accounts of `targets` targets each from a round of `candidates`.
pub async fn nominate(candidates: usize, accounts: usize, targets: u32, repeat: usize) -> anyhow::Result<()> {
    let round = rules::synthetic::round(candidates);
    let valid = round.counts().0;
    let planned: Vec<Planned> = (0..accounts)
        .map(|i| Planned { stash: format!("0x{:064x}", i + 1), policy: Policy::Ranked, due: Ok(()), target_count: targets })
        .collect();
    let mut times = Vec::new();
    let mut decision = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        decision = Some(nomination::select(&round, &planned));
        times.push(t.elapsed());
    }
    let decision = decision.expect("one decision");
    let picked: usize = decision
        .accounts
        .iter()
        .map(|a| match &a.outcome {
            nomination::Outcome::Nominate { targets } => targets.len(),
            nomination::Outcome::Skip { .. } => 0,
        })
        .sum();
    let decide = median(times);
    println!("nominate: decision (pure) for {accounts} accounts x {targets} targets from a {candidates}-candidate round ({valid} valid): {:.2} ms median of {repeat} ({picked} targets chosen)", decide.as_secs_f64() * 1e3);
    let count = nomination::target_count(1_000_000.0, &(0..candidates).map(|i| 10_000.0 + i as f64).collect::<Vec<_>>(), 24);
    let t = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(nomination::target_count(1_000_000.0, &(0..candidates).map(|i| 10_000.0 + i as f64).collect::<Vec<_>>(), 24));
    }
    println!("nominate: target count over {candidates} elected stakes: {:.1} us each (gives {count})", t.elapsed().as_secs_f64() * 1e3);

    // Signing needs the runtime's metadata and a finalized block: the devnet.
    let devnet = testkit::Devnet::start().await?;
    let client = devnet.client("bench").await?;
    let targets_of = |a: &nomination::AccountDecision| match &a.outcome {
        nomination::Outcome::Nominate { targets } => targets.iter().filter_map(|t| hex::decode(t.account.trim_start_matches("0x")).ok()?.try_into().ok()).collect(),
        nomination::Outcome::Skip { .. } => Vec::new(),
    };
    let items: Vec<BatchItem> = decision
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            BatchItem::Nominate(NominateItem { stash: keypair(&format!("//stash{i}")).map(|k| k.public_key().0).unwrap_or_default(), via_proxy: true, targets: targets_of(a) })
        })
        .collect();
    let signer = keypair("//Nominator1")?;
    for (label, batches) in [("one signer, one batch of every account", vec![items.clone()]), ("one batch per account", items.iter().map(|i| vec![i.clone()]).collect::<Vec<_>>())] {
        let before = chain::rpc_requests();
        let t = Instant::now();
        let mut bytes = 0;
        for (nonce, batch) in batches.iter().enumerate() {
            bytes += client.sign_batch(&signer, batch, nonce as u64, 64).await?.bytes.len();
        }
        let took = t.elapsed();
        let rpc = chain::rpc_requests() - before;
        println!(
            "nominate: signing {accounts} accounts ({label}: {} batch(es), {bytes} bytes): {:.1} ms, {:.2} ms per account, {rpc} RPC requests",
            batches.len(),
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3 / accounts as f64
        );
    }

    // The chain reads of one decision pass: fixed ones, then four per account.
    let before = chain::rpc_requests();
    let (fin, _) = client.finalized_head().await?;
    let at = client.staking_at(fin).await?;
    let era = at.current_era().await?.unwrap_or_default();
    at.max_nominations();
    let active = at.active_era().await?.unwrap_or(era);
    at.elected_stakes(active).await?;
    let fixed = chain::rpc_requests() - before;
    let before = chain::rpc_requests();
    let stashes = items.iter().filter_map(|i| match i {
        BatchItem::Nominate(n) => Some(n.stash),
        _ => None,
    });
    for stash in stashes.take(10) {
        at.nominations(stash).await?;
        at.active_bond(stash).await?;
        at.account_info(stash).await?;
        at.proxies(stash).await?;
        at.account_info(signer.public_key().0).await?;
    }
    let per_account = (chain::rpc_requests() - before) as f64 / 10.0;
    println!(
        "nominate: RPC requests of one decision pass: {fixed} fixed + {per_account:.1} per account = {:.0} for {accounts} accounts (proxied accounts; plus 1 fee estimate and 1 broadcast per batch)",
        fixed as f64 + per_account * accounts as f64
    );
    devnet.stop().await;
    Ok(())
}
