//! The short fault campaign (the full one is `stakeflow-campaign`): the
//! real binary as separate processes against the devnet and a broker
//! process, a few `kill -9`s at random instants through a backfill from
//! block 0 and live blocks, a second instance of each process beside the
//! first, and a broker outage; after each an independent reader finds every
//! record on its topic once, the rounds on the topics equal to the stored
//! ones and to a rebuild's, and no era nominated twice.

use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_fault_campaign_finds_no_violation() {
    testkit::init_tracing();
    let plan = campaign::Plan::short(PathBuf::from(env!("CARGO_BIN_EXE_stakeflow")));
    let report = campaign::run(&plan, &|line| eprintln!("campaign: {line}")).await.expect("the campaign ran");
    eprintln!("{report}");
    assert_eq!(report.runs, 3, "a check after the kills, the overlap and the outage");
    assert_eq!(report.kills.values().sum::<usize>(), plan.kills + 2, "each kill and each first instance of the overlap");
    assert_eq!(report.outages, plan.outages);
    assert!(report.rounds > 0 && report.blocks > u64::from(plan.history_blocks), "{report}");
    assert!(report.violations.is_empty(), "{report}");
}
