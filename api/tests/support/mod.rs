//! What the API's tests share: a real embedded store holding rounds (and a
//! nominator's book) saved the way the scorer and nominator save them, and
//! the state the API is built on.
#![allow(dead_code)]

use std::sync::Arc;

use api::AppState;
use rules::RoundSnapshot;
use store::{EmbeddedStore, Store};

/// A fresh store in `dir` holding `rounds`, the last one the latest.
pub async fn store_with(rounds: &[&RoundSnapshot]) -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).await.unwrap());
    for r in rounds {
        save(store.as_ref(), r).await;
    }
    (dir, store)
}

/// Save `r` as its network's latest round, as the scorer does.
pub async fn save(store: &dyn Store, r: &RoundSnapshot) {
    store.commit_states(scoring::scorer::SCORER, &scoring::scorer::round_writes(r).unwrap(), &[]).await.unwrap();
}

/// The API's state over `store`, serving and scoring the synthetic network.
pub fn state(store: Arc<dyn Store>) -> AppState {
    let net = rules::synthetic::NET.to_string();
    AppState {
        store,
        networks: Arc::new(vec![net.clone()]),
        consumer: "c",
        ready_max_lag: 0,
        ready_max_silence_ms: i64::MAX, ready_max_behind: u64::MAX,
        metrics: None,
        uptime_window_ms: 0,
        namespaces: None,
        scored_networks: Arc::new(vec![net.clone()]),
        nominated_networks: Arc::new(vec![net.clone()]),
        events: None,
        decimals: Arc::new([(net, 10)].into()),
        broker: None,
    }
}

/// A nominator account of `net` nominating `targets` through a proxy, with
/// two confirmed nominations (eras 6 and 7), as the nominator stores them.
pub async fn nominated(store: &dyn Store, net: &str, stash: &str, signer: &str, targets: &[String]) {
    let status = serde_json::json!({
        "network": net, "stash": stash, "stash_hex": schemas::ss58::hex_account(stash).unwrap(), "signer": signer,
        "mode": "proxy", "bonded": "12340000000000", "bonded_tokens": 1234.0, "targets": targets, "submitted_in": 7, "era": 8,
        "eras_since": 1, "stale": false, "state": "Nominated", "why": "nominated for era 7", "signer_free": null, "dry_run": false,
        "proxy_delay_blocks": 0, "updated_at_ms": 1,
    });
    let mut book = nominator::book::Book::default();
    book.statuses.insert(stash.to_string(), serde_json::from_value(status).unwrap());
    store.put_state(nominator::lease::NOMINATOR, &format!("book/{net}"), &serde_json::to_vec(&book).unwrap()).await.unwrap();
    for era in [6u32, 7] {
        let record = nominator::book::NominationRecord {
            network: net.into(),
            era,
            round: u64::from(era) * 10,
            stash: stash.into(),
            signer: signer.into(),
            targets: targets
                .iter()
                .map(|t| nominator::book::TargetRecord { account: String::new(), stash: t.clone(), name: format!("name of {t}"), score: 1.0 })
                .collect(),
            tx_hash: format!("0x{era:02x}"),
            block: Some(u64::from(era) * 100),
            outcome: "confirmed".into(),
            reason: None,
            at_ms: i64::from(era) * 1000,
        };
        let key = nominator::book::history_key(net, era, &schemas::ss58::hex_account(stash).unwrap());
        store.put_state(nominator::lease::NOMINATOR, &key, &serde_json::to_vec(&record).unwrap()).await.unwrap();
    }
}

/// The validator-sets fold's state after `snapshots`, saved as the fold saves it.
pub async fn validator_sets(store: &dyn Store, snapshots: &[schemas::SessionSnapshot]) {
    use scoring::folds::Fold;
    let mut sets = rules::validator_sets::ValidatorSets::new();
    for s in snapshots {
        rules::validator_sets::apply(&mut sets, s);
    }
    store.put_state(scoring::ValidatorSetsFold::NAME, scoring::ValidatorSetsFold::KEY, &serde_json::to_vec(&sets).unwrap()).await.unwrap();
}

/// The era-points fold's state after `records`, each encoded and applied as the fold does.
pub async fn era_points(store: &dyn Store, records: &[schemas::EraPoints]) {
    use scoring::folds::Fold;
    let mut state = rules::era_points::EraPointsState::new();
    for r in records {
        scoring::EraPointsFold.apply(&mut state, &r.encode().unwrap()).unwrap();
    }
    store.put_state(scoring::EraPointsFold::NAME, scoring::EraPointsFold::KEY, &serde_json::to_vec(&state).unwrap()).await.unwrap();
}

/// Era `era`'s points of the synthetic network: candidate `i` earned `points[i]` (none when 0).
pub fn points(era: i64, points: &[i64]) -> schemas::EraPoints {
    let earned: Vec<schemas::ValidatorPoints> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| **p > 0)
        .map(|(i, p)| schemas::ValidatorPoints { stash: rules::synthetic::hex(rules::synthetic::key(i)), points: *p })
        .collect();
    schemas::EraPoints {
        chain: rules::synthetic::NET.into(),
        era,
        block_number: era * 100,
        block_hash: "0x00".into(),
        total: points.iter().sum(),
        points: earned,
    }
}

/// A session snapshot of the synthetic network: candidates `members` (by index) in the set at `era`.
pub fn snapshot(session: i64, era: i64, members: &[usize]) -> schemas::SessionSnapshot {
    schemas::SessionSnapshot {
        chain: rules::synthetic::NET.into(),
        session_index: session,
        block_number: session * 10,
        active_era: Some(era),
        validators: members
            .iter()
            .map(|&i| schemas::SessionValidator {
                stash: rules::synthetic::hex(rules::synthetic::key(i)),
                keys: std::collections::BTreeMap::from([
                    ("grandpa".to_string(), rules::synthetic::hex(rules::synthetic::grandpa(i))),
                    ("beefy".to_string(), "0x02".to_string()),
                ]),
            })
            .collect(),
        ..Default::default()
    }
}

/// Run fold `F` over `payloads` into `store` as its consumer does: the rows
/// a record needs loaded first, then applied, then the batch's writes saved.
pub async fn fold<F: scoring::folds::Fold>(store: &dyn Store, fold: &F, payloads: &[Vec<u8>]) {
    let mut state = scoring::load_state::<F>(store).await.unwrap();
    for p in payloads {
        for key in fold.rows_needed(&state, p) {
            let bytes = store.load_state(F::NAME, &key).await.unwrap();
            fold.load_row(&mut state, &key, bytes.as_deref()).unwrap();
        }
        fold.apply(&mut state, p).unwrap();
    }
    for w in fold.writes(&mut state).unwrap() {
        store.put_state(F::NAME, &w.key, &w.value).await.unwrap();
    }
}

/// A nominator's record of the synthetic network: `who` bonds `bonded` behind candidates `targets` (by index) in `era`.
pub fn nominator(era: i64, who: [u8; 32], bonded: u128, targets: &[usize]) -> Vec<u8> {
    schemas::NominatorEra {
        chain: rules::synthetic::NET.into(),
        era,
        block_number: era * 100,
        block_hash: "0x00".into(),
        nominator: rules::synthetic::hex(who),
        bonded: bonded.to_string(),
        targets: targets.iter().map(|&i| rules::synthetic::hex(rules::synthetic::key(i))).collect(),
    }
    .encode()
    .unwrap()
}

fn staking_event(block: i64, index: i32, kind: &str, account: Option<String>, amount: Option<u128>, era: Option<i64>, fields: Value) -> Vec<u8> {
    schemas::TypedEvent {
        chain: rules::synthetic::NET.into(),
        block_number: block,
        block_hash: "0x00".into(),
        index,
        extrinsic_index: Some(1),
        pallet: "Staking".into(),
        kind: kind.into(),
        account,
        counterpart: None,
        amount: amount.map(|a| a.to_string()),
        era,
        session_index: None,
        commission_perbill: None,
        blocked: None,
        registrar_index: None,
        accounts: vec![],
        outcome: None,
        fields_json: fields.to_string(),
    }
    .encode()
    .unwrap()
}

use serde_json::Value;

/// The staking events of one payout in `block`: era `era` of candidate
/// `validator` (by index), paying `paid` (account, planck) in order.
pub fn payout(block: i64, era: i64, validator: usize, paid: &[([u8; 32], u128)]) -> Vec<Vec<u8>> {
    let v = rules::synthetic::hex(rules::synthetic::key(validator));
    let started = staking_event(block, 0, "PayoutStarted", None, None, Some(era), serde_json::json!({"era_index": era, "validator_stash": v}));
    let rewarded = paid.iter().enumerate().map(|(i, (who, amount))| {
        staking_event(block, i as i32 + 1, "Rewarded", Some(rules::synthetic::hex(*who)), Some(*amount), None, serde_json::json!({}))
    });
    std::iter::once(started).chain(rewarded).collect()
}

/// A client release record of the synthetic network.
pub fn release(tag: &str, version: &str, published_at_ms: i64) -> Vec<u8> {
    schemas::Release { network: rules::synthetic::NET.into(), tag: tag.into(), version: version.into(), published_at_ms, observed_at_ms: published_at_ms + 60_000 }
        .encode()
        .unwrap()
}
