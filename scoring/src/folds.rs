//! Consumers that fold a topic into one state value, saved with their
//! position in one store write, so a restart resumes exactly: the uptime
//! consumer (telemetry -> [`UptimeState`]), the session-keys consumer
//! (session snapshots -> GRANDPA key to stash, per network) and the
//! validator-sets consumer (session snapshots -> the latest set with keys,
//! and eras per stash), the era-points consumer (points of the last 84
//! eras per chain), and two folds kept as many rows, too large for one value:
//! nominator stake (who nominates each validator, last eras) and rewards
//! (per account and era, with totals).

use std::sync::Arc;
use std::time::Duration;

use bus::{BusConfig, DeadLetter, Publisher, Record};
use schemas::topics;
use serde::{Deserialize, Serialize};
use store::{CheckpointDelta, StateWrite, Store};
use tokio_util::sync::CancellationToken;

use crate::ScoringError;
use rules::node_match::{self, GrandpaKeys};
use rules::uptime::UptimeState;

use crate::metrics;

/// Consumer name (store key and Kafka group).
pub const UPTIME_CONSUMER: &str = "stakeflow-uptime";
/// Key of the saved [`UptimeState`].
pub const UPTIME_STATE_KEY: &str = "uptime";

/// Key of a live fold's progress row (see [`FoldProgress`]).
pub const PROGRESS_KEY: &str = "progress";
/// How often a live fold says it is alive, and how far behind it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// A live fold's last word, for `/ready`: a quiet topic still reports every
/// [`PROGRESS_EVERY`], so a row that goes stale means a stalled consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldProgress {
    /// When it was written, ms.
    pub at_ms: i64,
    /// Records on the topic not applied yet, then.
    pub behind: u64,
}

/// A fold's progress row, when it has written one.
pub async fn progress(store: &dyn Store, consumer: &str) -> Result<Option<FoldProgress>, store::StoreError> {
    Ok(store.load_state(consumer, PROGRESS_KEY).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// The `[uptime]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UptimeConfig {
    /// Offline time is summed over this sliding window (default 7 days, as 1KV's weekly bound).
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Most records applied per store write (default 500).
    pub batch: usize,
}

impl Default for UptimeConfig {
    fn default() -> Self {
        Self { window: Duration::from_secs(7 * 24 * 3600), batch: 500 }
    }
}

impl UptimeConfig {
    /// The window in ms.
    pub fn window_ms(&self) -> i64 {
        self.window.as_millis() as i64
    }
}

/// A topic folded into one state value.
pub trait Fold: Send + Sync + 'static {
    /// The state, saved as JSON.
    type State: Serialize + serde::de::DeserializeOwned + Default + Send;
    /// Consumer name (store key and Kafka group).
    const NAME: &'static str;
    /// Key of the saved state.
    const KEY: &'static str;
    /// Topic read.
    const TOPIC: &'static str;
    /// Apply one record's value; `Err` sends it to the dead-letter topic.
    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String>;

    /// Rows of a fold kept as many store rows (history too large for one
    /// value): the keys a record needs that `state` has not loaded yet. The
    /// consumer loads them with [`Fold::load_row`] before [`Fold::apply`].
    fn rows_needed(&self, _state: &Self::State, _payload: &[u8]) -> Vec<String> {
        Vec::new()
    }

    /// Put a stored row (`None`: not stored yet) into `state`.
    fn load_row(&self, _state: &mut Self::State, _key: &str, _bytes: Option<&[u8]>) -> Result<(), String> {
        Ok(())
    }

    /// What a batch writes, with its position: by default the state whole,
    /// under [`Fold::KEY`]; a fold of rows writes the rows it changed and
    /// forgets them.
    fn writes(&self, state: &mut Self::State) -> Result<Vec<StateWrite>, String> {
        let value = serde_json::to_vec(state).map_err(|e| e.to_string())?;
        Ok(vec![StateWrite { key: Self::KEY.to_string(), value }])
    }
}

/// A fold's rows: the small part saved whole under its key, and the rows a
/// batch loaded (written back after it, then forgotten, so memory stays
/// bounded by a batch).
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "C: Serialize", deserialize = "C: Deserialize<'de> + Default"))]
pub struct Rows<C, R> {
    /// Saved under the fold's key.
    pub context: C,
    /// Rows loaded by this batch.
    #[serde(skip, default = "std::collections::BTreeMap::new")]
    pub loaded: std::collections::BTreeMap<String, R>,
}

impl<C: Default, R> Default for Rows<C, R> {
    fn default() -> Self {
        Self { context: C::default(), loaded: Default::default() }
    }
}

impl<C: Serialize + Default, R: Serialize> Rows<C, R> {
    /// The keys not loaded yet.
    fn missing(&self, keys: impl IntoIterator<Item = String>) -> Vec<String> {
        keys.into_iter().filter(|k| !self.loaded.contains_key(k)).collect()
    }

    /// Itself (the context: rows are not serialised) under `key`, as
    /// [`load_state`] reads it back, then every loaded row; the rows are forgotten.
    fn drain(&mut self, key: &str) -> Result<Vec<StateWrite>, String> {
        let mut out = vec![StateWrite { key: key.to_string(), value: serde_json::to_vec(&*self).map_err(|e| e.to_string())? }];
        for (k, row) in std::mem::take(&mut self.loaded) {
            out.push(StateWrite { key: k, value: serde_json::to_vec(&row).map_err(|e| e.to_string())? });
        }
        Ok(out)
    }
}

fn corrupt<F: Fold>(reason: String) -> ScoringError {
    ScoringError::Store(store::StoreError::Corrupt { what: F::NAME, reason })
}

/// Load a fold's saved state (the default when none).
pub async fn load_state<F: Fold>(store: &dyn Store) -> Result<F::State, ScoringError> {
    match store.load_state(F::NAME, F::KEY).await? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ScoringError::Store(store::StoreError::Corrupt { what: F::NAME, reason: e.to_string() })),
        None => Ok(F::State::default()),
    }
}

/// Telemetry node and feed events into uptime.
pub struct UptimeFold {
    window_ms: i64,
}

impl Fold for UptimeFold {
    type State = UptimeState;
    const NAME: &'static str = UPTIME_CONSUMER;
    const KEY: &'static str = UPTIME_STATE_KEY;
    const TOPIC: &'static str = topics::TELEMETRY_NODES;

    fn apply(&self, state: &mut UptimeState, payload: &[u8]) -> Result<(), String> {
        crate::scorer::telemetry::apply(&schemas::TelemetryRecord::decode(payload)?, state, self.window_ms);
        Ok(())
    }
}

/// Consumer name of the session-keys fold.
pub const SESSION_KEYS_CONSUMER: &str = "stakeflow-session-keys";

/// Per network, the latest session's GRANDPA key (0x hex) to stash (0x hex).
pub type SessionKeys = std::collections::BTreeMap<String, GrandpaKeys>;

/// Session snapshots into the GRANDPA key of each validator: telemetry
/// reports a node's GRANDPA authority id, and this says whose stash it is.
pub struct SessionKeysFold;

impl Fold for SessionKeysFold {
    type State = SessionKeys;
    const NAME: &'static str = SESSION_KEYS_CONSUMER;
    const KEY: &'static str = "grandpa";
    const TOPIC: &'static str = topics::SESSION_SNAPSHOTS;

    fn apply(&self, state: &mut SessionKeys, payload: &[u8]) -> Result<(), String> {
        let snap = schemas::SessionSnapshot::decode(payload).map_err(|e| e.to_string())?;
        let keys = node_match::grandpa_keys(
            snap.validators.iter().filter_map(|v| v.keys.get("grandpa").map(|k| (v.stash.as_str(), k.as_str()))),
        );
        state.insert(snap.chain, keys);
        Ok(())
    }
}

/// Consumer name of the validator-sets fold.
pub const VALIDATOR_SETS_CONSUMER: &str = "stakeflow-validator-sets";

/// Session snapshots into the latest validator set of each chain, with
/// session keys, and the eras each stash was in a set.
pub struct ValidatorSetsFold;

impl Fold for ValidatorSetsFold {
    type State = rules::validator_sets::ValidatorSets;
    const NAME: &'static str = VALIDATOR_SETS_CONSUMER;
    const KEY: &'static str = "sets";
    const TOPIC: &'static str = topics::SESSION_SNAPSHOTS;

    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String> {
        let snap = schemas::SessionSnapshot::decode(payload).map_err(|e| e.to_string())?;
        rules::validator_sets::apply(state, &snap);
        Ok(())
    }
}

/// Consumer name of the era-points fold.
pub const ERA_POINTS_CONSUMER: &str = "stakeflow-era-points";

/// Era-points records into the points of the last eras per chain.
pub struct EraPointsFold;

impl Fold for EraPointsFold {
    type State = rules::era_points::EraPointsState;
    const NAME: &'static str = ERA_POINTS_CONSUMER;
    const KEY: &'static str = "eras";
    const TOPIC: &'static str = topics::ERA_POINTS;

    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String> {
        let points = schemas::EraPoints::decode(payload).map_err(|e| e.to_string())?;
        rules::era_points::apply(state, &points);
        Ok(())
    }
}

/// Consumer name of the nominator-stake fold.
pub const NOMINATOR_STAKE_CONSUMER: &str = "stakeflow-nominator-stake";

/// Nominator records into who nominates each validator over the last
/// eras, a row per (validator, era slot, nominator): written, never read
/// back by the fold (see [`rules::nominator_stake`]).
pub struct NominatorStakeFold;

impl Fold for NominatorStakeFold {
    type State = Rows<(), rules::nominator_stake::Backing>;
    const NAME: &'static str = NOMINATOR_STAKE_CONSUMER;
    const KEY: &'static str = "context";
    const TOPIC: &'static str = topics::NOMINATORS;

    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String> {
        let n = schemas::NominatorEra::decode(payload).map_err(|e| e.to_string())?;
        state.loaded.extend(rules::nominator_stake::rows(&n));
        Ok(())
    }

    fn writes(&self, state: &mut Self::State) -> Result<Vec<StateWrite>, String> {
        state.drain(Self::KEY)
    }
}

/// Consumer name of the rewards fold.
pub const REWARDS_CONSUMER: &str = "stakeflow-rewards";

/// A row of the rewards fold: an account's rewards in an era, or its totals in a role.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RewardRow {
    Era(rules::rewards::EraRewards),
    Totals(rules::rewards::Totals),
}

/// Staking events into rewards per account and era, with totals per role
/// (see [`rules::rewards`]); the open payout of each chain is its context.
pub struct RewardsFold;

impl RewardsFold {
    fn credit(state: &<Self as Fold>::State, payload: &[u8]) -> Option<rules::rewards::Credit> {
        let ev = schemas::TypedEvent::decode(payload).ok()?;
        rules::rewards::credit(&state.context, &ev)
    }
}

impl Fold for RewardsFold {
    type State = Rows<rules::rewards::Payouts, RewardRow>;
    const NAME: &'static str = REWARDS_CONSUMER;
    const KEY: &'static str = "payouts";
    const TOPIC: &'static str = topics::STAKING_EVENTS;

    fn rows_needed(&self, state: &Self::State, payload: &[u8]) -> Vec<String> {
        Self::credit(state, payload).map_or_else(Vec::new, |c| state.missing([c.era_key(), c.totals_key()]))
    }

    fn load_row(&self, state: &mut Self::State, key: &str, bytes: Option<&[u8]>) -> Result<(), String> {
        let row = match (key.starts_with("reward/"), bytes) {
            (true, Some(b)) => RewardRow::Era(serde_json::from_slice(b).map_err(|e| format!("row {key}: {e}"))?),
            (false, Some(b)) => RewardRow::Totals(serde_json::from_slice(b).map_err(|e| format!("row {key}: {e}"))?),
            (true, None) => RewardRow::Era(Default::default()),
            (false, None) => RewardRow::Totals(Default::default()),
        };
        state.loaded.insert(key.to_string(), row);
        Ok(())
    }

    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String> {
        let ev = schemas::TypedEvent::decode(payload).map_err(|e| e.to_string())?;
        if rules::rewards::open(&mut state.context, &ev) {
            return Ok(());
        }
        let Some(c) = rules::rewards::credit(&state.context, &ev) else { return Ok(()) };
        let (era_key, totals_key) = (c.era_key(), c.totals_key());
        // Both were loaded by `rows_needed`; taken out to borrow them together.
        let (Some(RewardRow::Era(mut era)), Some(RewardRow::Totals(mut totals))) = (state.loaded.remove(&era_key), state.loaded.remove(&totals_key)) else {
            return Err(format!("rows {era_key} and {totals_key} were not loaded"));
        };
        rules::rewards::book(&mut era, &mut totals, &c);
        state.loaded.insert(era_key, RewardRow::Era(era));
        state.loaded.insert(totals_key, RewardRow::Totals(totals));
        Ok(())
    }

    fn writes(&self, state: &mut Self::State) -> Result<Vec<StateWrite>, String> {
        state.drain(Self::KEY)
    }
}

/// Consumer name of the releases fold.
pub const RELEASES_CONSUMER: &str = "stakeflow-releases";

/// Release records into the newest client release per network (`/1kv/release`).
pub struct ReleasesFold;

impl Fold for ReleasesFold {
    type State = std::collections::BTreeMap<String, schemas::Release>;
    const NAME: &'static str = RELEASES_CONSUMER;
    const KEY: &'static str = "latest";
    const TOPIC: &'static str = topics::RELEASES;

    fn apply(&self, state: &mut Self::State, payload: &[u8]) -> Result<(), String> {
        let r = schemas::Release::decode(payload).map_err(|e| e.to_string())?;
        state.insert(r.network.clone(), r);
        Ok(())
    }
}

/// Every live fold's consumer name, for readiness.
pub const FOLD_CONSUMERS: &[&str] =
    &[UPTIME_CONSUMER, SESSION_KEYS_CONSUMER, VALIDATOR_SETS_CONSUMER, ERA_POINTS_CONSUMER, NOMINATOR_STAKE_CONSUMER, REWARDS_CONSUMER, RELEASES_CONSUMER];

/// Load the saved uptime state (empty when none).
pub async fn load_uptime(store: &dyn Store) -> Result<UptimeState, ScoringError> {
    load_state::<UptimeFold>(store).await
}

/// The uptime consumer.
pub type UptimeConsumer = FoldConsumer<UptimeFold>;

impl FoldConsumer<UptimeFold> {
    /// Prepare the uptime consumer (connects on [`FoldConsumer::run`]).
    pub fn new(bus: BusConfig, store: Arc<dyn Store>, cfg: UptimeConfig) -> Self {
        let fold = UptimeFold { window_ms: cfg.window_ms() };
        Self { bus, store, batch: cfg.batch, fold, namespaces: None }
    }
}

impl FoldConsumer<SessionKeysFold> {
    /// Prepare the session-keys consumer.
    pub fn session_keys(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 100, fold: SessionKeysFold, namespaces: None }
    }
}

impl FoldConsumer<ValidatorSetsFold> {
    /// Prepare the validator-sets consumer.
    pub fn validator_sets(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 100, fold: ValidatorSetsFold, namespaces: None }
    }
}

impl FoldConsumer<EraPointsFold> {
    /// Prepare the era-points consumer (a record per era: small batches).
    pub fn era_points(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 20, fold: EraPointsFold, namespaces: None }
    }
}

impl FoldConsumer<NominatorStakeFold> {
    /// Prepare the nominator-stake consumer (a record writes one row per target: batches of 50).
    pub fn nominator_stake(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 50, fold: NominatorStakeFold, namespaces: None }
    }
}

impl FoldConsumer<RewardsFold> {
    /// Prepare the rewards consumer.
    pub fn rewards(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 200, fold: RewardsFold, namespaces: None }
    }
}

impl FoldConsumer<ReleasesFold> {
    /// Prepare the releases consumer (a record per new release).
    pub fn releases(bus: BusConfig, store: Arc<dyn Store>) -> Self {
        Self { bus, store, batch: 20, fold: ReleasesFold, namespaces: None }
    }
}

/// Any fold consumer, for code that runs or rebuilds them all alike.
pub trait AnyFold: Send + Sync {
    /// Consumer name.
    fn name(&self) -> &'static str;
    /// Topic read.
    fn topic(&self) -> &'static str;
    /// [`FoldConsumer::catch_up`].
    fn catch_up(&self, store: Arc<dyn Store>) -> futures::future::BoxFuture<'_, Result<usize, ScoringError>>;
    /// [`FoldConsumer::run`].
    fn run(self: Box<Self>, shutdown: CancellationToken) -> futures::future::BoxFuture<'static, Result<(), ScoringError>>;
}

impl<F: Fold> AnyFold for FoldConsumer<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }

    fn topic(&self) -> &'static str {
        F::TOPIC
    }

    fn catch_up(&self, store: Arc<dyn Store>) -> futures::future::BoxFuture<'_, Result<usize, ScoringError>> {
        Box::pin(FoldConsumer::catch_up(self, store))
    }

    fn run(self: Box<Self>, shutdown: CancellationToken) -> futures::future::BoxFuture<'static, Result<(), ScoringError>> {
        Box::pin(FoldConsumer::run(*self, shutdown))
    }
}

/// Every folding consumer (the names in [`FOLD_CONSUMERS`]), keeping its
/// state in `store`, or in the live namespace when `namespaces` is given.
pub fn all_folds(bus: &BusConfig, store: Arc<dyn Store>, uptime: &UptimeConfig, namespaces: Option<Arc<store::Namespaces>>) -> Vec<Box<dyn AnyFold>> {
    fn boxed<F: Fold>(fold: FoldConsumer<F>, namespaces: &Option<Arc<store::Namespaces>>) -> Box<dyn AnyFold> {
        Box::new(match namespaces {
            Some(ns) => fold.following(ns.clone()),
            None => fold,
        })
    }
    vec![
        boxed(UptimeConsumer::new(bus.clone(), store.clone(), uptime.clone()), &namespaces),
        boxed(FoldConsumer::session_keys(bus.clone(), store.clone()), &namespaces),
        boxed(FoldConsumer::validator_sets(bus.clone(), store.clone()), &namespaces),
        boxed(FoldConsumer::era_points(bus.clone(), store.clone()), &namespaces),
        boxed(FoldConsumer::nominator_stake(bus.clone(), store.clone()), &namespaces),
        boxed(FoldConsumer::rewards(bus.clone(), store.clone()), &namespaces),
        boxed(FoldConsumer::releases(bus.clone(), store), &namespaces),
    ]
}

/// Folds a topic into a state saved with its position.
pub struct FoldConsumer<F: Fold> {
    bus: BusConfig,
    store: Arc<dyn Store>,
    batch: usize,
    fold: F,
    /// When set, the state lives in the live scoring namespace and a swap reloads.
    namespaces: Option<Arc<store::Namespaces>>,
}

impl<F: Fold> FoldConsumer<F> {
    /// Keep the state in the live scoring namespace instead of the given store.
    pub fn following(mut self, namespaces: Arc<store::Namespaces>) -> Self {
        self.namespaces = Some(namespaces);
        self
    }

    /// Run until `shutdown`; a stale write (another instance) reloads and goes on.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ScoringError> {
        crate::shell::run_with_retries(F::NAME, shutdown, || async {
            let (name, store) = match &self.namespaces {
                Some(ns) => ns.live().await?,
                None => (None, self.store.clone()),
            };
            self.consume(store, None, name).await.map(|_| ())
        })
        .await
    }

    /// Fold into `store` until every partition is read to where it ended
    /// when this began (a rebuild); returns the records applied.
    pub async fn catch_up(&self, store: Arc<dyn Store>) -> Result<usize, ScoringError> {
        let highs = bus::admin::high_watermarks(&self.bus, &[F::TOPIC]).await?;
        let until = highs.into_iter().map(|(_, p, h)| (p, h)).collect();
        self.consume(store, Some(until), None).await
    }

    /// Write the progress row: now, and the records not applied yet.
    async fn report(&self, store: &dyn Store, positions: &std::collections::HashMap<i32, i64>) -> Result<(), ScoringError> {
        let highs = bus::admin::high_watermarks(&self.bus, &[F::TOPIC]).await?;
        let behind = highs.iter().map(|(_, p, h)| (h - positions.get(p).copied().unwrap_or(0)).max(0) as u64).sum();
        let row = FoldProgress { at_ms: crate::now_ms(), behind };
        store.put_state(F::NAME, PROGRESS_KEY, &serde_json::to_vec(&row).unwrap_or_default()).await?;
        Ok(())
    }

    async fn consume(
        &self,
        store: Arc<dyn Store>,
        until: Option<std::collections::HashMap<i32, i64>>,
        namespace: Option<String>,
    ) -> Result<usize, ScoringError> {
        let mut state = load_state::<F>(store.as_ref()).await?;
        let (reader, mut positions) =
            crate::shell::reader_at_stored_positions(&self.bus, store.as_ref(), F::NAME, F::TOPIC).await?;
        let done = |positions: &std::collections::HashMap<i32, i64>| {
            until.as_ref().is_some_and(|u| u.iter().all(|(p, h)| positions.get(p).copied().unwrap_or(0) >= *h))
        };
        let dlq = Publisher::new(&self.bus)?;
        let mut carry: Option<Record> = None;
        let mut applied = 0;
        let live = until.is_none();
        if live {
            self.report(store.as_ref(), &positions).await?;
        }
        let mut reported = std::time::Instant::now();
        loop {
            if done(&positions) {
                return Ok(applied);
            }
            let first = match carry.take() {
                Some(r) => r,
                None if until.is_some() => match reader.next_within(Duration::from_secs(5)).await? {
                    Some(r) => r,
                    None => return Ok(applied), // a gap (compaction) below the watermark
                },
                None => match reader.next_within(PROGRESS_EVERY).await? {
                    Some(r) => r,
                    None => {
                        // Quiet, not stalled: say so.
                        self.report(store.as_ref(), &positions).await?;
                        reported = std::time::Instant::now();
                        continue;
                    }
                },
            };
            let partition = first.partition;
            let mut batch = vec![first];
            // Gather what is already there, one partition per write.
            while batch.len() < self.batch.max(1) {
                match reader.next_within(Duration::from_millis(20)).await? {
                    Some(r) if r.partition == partition => batch.push(r),
                    Some(r) => {
                        carry = Some(r);
                        break;
                    }
                    None => break,
                }
            }
            let start = positions.get(&partition).copied();
            let mut last = None;
            for record in &batch {
                if start.is_some_and(|s| record.offset < s) {
                    continue; // re-delivered
                }
                last = Some(record.offset);
                applied += 1;
                let payload = record.payload.as_deref().unwrap_or_default();
                for key in self.fold.rows_needed(&state, payload) {
                    let bytes = store.load_state(F::NAME, &key).await?;
                    self.fold.load_row(&mut state, &key, bytes.as_deref()).map_err(|reason| corrupt::<F>(reason))?;
                }
                if let Err(reason) = self.fold.apply(&mut state, payload) {
                    DeadLetter { consumer: F::NAME, record, reason: &reason }.emit(&dlq).await?;
                }
            }
            let Some(last) = last else { continue };
            let writes = self.fold.writes(&mut state).map_err(corrupt::<F>)?;
            let delta = CheckpointDelta { topic: F::TOPIC.to_string(), partition, from: start, to: last + 1 };
            store.commit_states(F::NAME, &writes, std::slice::from_ref(&delta)).await?;
            positions.insert(partition, delta.to);
            reader.commit_advisory(F::TOPIC, partition, delta.to);
            metrics::applied(F::NAME, F::TOPIC, partition, batch.len() as u64, delta.to);
            if live && reported.elapsed() >= PROGRESS_EVERY {
                self.report(store.as_ref(), &positions).await?;
                reported = std::time::Instant::now();
            }
            if let Some(ns) = &self.namespaces
                && ns.live_name().await? != namespace
            {
                return Err(ScoringError::NamespaceSwapped);
            }
        }
    }
}
