//! Who is due and what they nominate, from the newest round (the pure rules
//! of `rules::nomination`), and each account's status once the pass has
//! signed what it decided.

use chain::nominate::{BatchItem, NominateItem, StakingAt};
use rules::RoundSnapshot;
use rules::nomination::{self, AccountState, DueSettings, NotDue, Outcome, Planned, Policy};

use super::sign::ToSign;
use super::{NetworkNominator, account_of_hex, hex0x, is_held, now_ms, tokens};
use crate::book::{AccountStatus, Book, ItemRecord, State, Step, TargetRecord, claim_key};
use crate::config::{Account, Control, PolicyKind};
use crate::{NominatorError, metrics};
use chain::ChainClient;

/// What a pass learnt of an account, for its status.
pub(super) struct AccountView {
    account: Account,
    state: AccountState,
    due: Result<(), NotDue>,
    outcome: Option<Outcome>,
    claim: Option<String>,
    bond: Option<u128>,
    signer_free: u128,
    eras_since: Option<u32>,
    on_chain: Option<Vec<[u8; 32]>>,
}

impl NetworkNominator {
    /// The runtime's quota, or the configured one where the runtime states none.
    fn max_nominations(&self, at: &StakingAt<'_>) -> Result<u32, NominatorError> {
        let net = &self.net;
        match (at.max_nominations(), net.settings.max_nominations) {
            (Some(runtime), configured) => Ok(configured.map_or(runtime, |c| c.min(runtime))),
            (None, Some(configured)) => Ok(configured),
            (None, None) => Err(NominatorError::Config(format!(
                "network {}: the runtime states no Staking.MaxNominations; set nominator.networks.{}.max_nominations",
                net.name, net.name
            ))),
        }
    }

    /// Decide from `round`; what is to be signed is added to `items`.
    pub(super) async fn decide(
        &self,
        chain: &ChainClient,
        at: &StakingAt<'_>,
        era: u32,
        round: Option<&RoundSnapshot>,
        book: &mut Book,
        items: &mut Vec<ToSign>,
    ) -> Result<Vec<AccountView>, NominatorError> {
        let net = &self.net;
        let s = &net.settings;
        let max = self.max_nominations(at)?;
        let active = at.active_era().await?.unwrap_or(era);
        let elected: Vec<f64> = at.elected_stakes(active).await?.into_iter().map(|p| tokens(p, net.decimals)).collect();
        let settings = DueSettings { era_buffer: s.era_buffer_for(&net.name), min_bond_tokens: s.min_bond };

        let mut planned = Vec::new();
        let mut views = Vec::new();
        for a in &net.accounts {
            let stash_hex = hex0x(&a.stash_account);
            let on_chain = at.nominations(a.stash_account).await?;
            let bond = at.active_bond(a.stash_account).await?;
            let stash_info = at.account_info(a.stash_account).await?;
            let signer_info = at.account_info(a.signer.public()).await?;
            // A dry run's claim does not hold back a live run on the same store.
            let claim = book.claims.get(&claim_key(&stash_hex, era)).cloned().filter(|c| self.settings.dry_run || c != "dry-run");
            let state = AccountState {
                bonded_tokens: bond.map_or(0.0, |b| tokens(b, net.decimals)),
                submitted_in: on_chain.as_ref().map(|n| n.submitted_in),
                on_chain_targets: on_chain.as_ref().map(|n| n.targets.iter().map(|t| hex0x(t)).collect()).unwrap_or_default(),
                in_flight: book.in_flight(&stash_hex) || claim.is_some() || book.announcement_of(&stash_hex).is_some(),
            };
            let policy = match s.policy {
                PolicyKind::Ranked => Policy::Ranked,
                PolicyKind::Pinned => {
                    let pinned: Vec<String> = a.pinned.iter().map(|p| hex0x(p)).collect();
                    // Judge drift against what would be sent: an invalid pinned target is never sent.
                    let excluded = book.excluded.get(&era);
                    let kept = round
                        .map_or(pinned.clone(), |r| nomination::pinned_targets(r, &pinned).0.into_iter().map(|t| t.account).collect())
                        .into_iter()
                        .filter(|t| excluded.is_none_or(|x| !x.contains(t)))
                        .collect();
                    Policy::Pinned { targets: kept }
                }
            };
            let mut due = nomination::due(&state, &policy, era, &settings);
            // A key that cannot act for the stash is reported whatever else holds the account back.
            let usable = self.usable(at, a).await?;
            if usable.is_err() {
                due = usable;
            }
            if due.is_ok()
                && let Some((after, why)) = book.replan_after.get(&stash_hex)
            {
                if round.is_some_and(|r| r.round > *after) {
                    book.replan_after.remove(&stash_hex);
                } else {
                    due = Err(NotDue::Replanning { round: *after, why: why.clone() });
                }
            }
            let balance = tokens(stash_info.free.saturating_add(stash_info.reserved), net.decimals);
            let count = nomination::target_count(balance, &elected, max);
            let full_policy = match s.policy {
                PolicyKind::Ranked => Policy::Ranked,
                PolicyKind::Pinned => Policy::Pinned { targets: a.pinned.iter().map(|p| hex0x(p)).collect() },
            };
            planned.push(Planned { stash: stash_hex.clone(), policy: full_policy, due: due.clone(), target_count: count });
            ::metrics::gauge!(metrics::SIGNER_FREE, "network" => net.name.clone(), "signer" => a.signer.address(net.ss58_prefix))
                .set(tokens(signer_info.free, net.decimals));
            let eras_since = nomination::eras_since(state.submitted_in, era);
            if let Some(n) = eras_since {
                ::metrics::gauge!(metrics::ERAS_SINCE, "network" => net.name.clone(), "stash" => a.stash.clone()).set(f64::from(n));
            }
            views.push(AccountView {
                account: a.clone(),
                state,
                due,
                outcome: None,
                claim,
                bond,
                signer_free: signer_info.free,
                eras_since,
                on_chain: on_chain.map(|n| n.targets),
            });
        }

        let Some(round) = round else { return Ok(views) };
        let decision = nomination::select(round, &planned);
        // Targets the chain refused this era are left out of what is sent.
        let excluded = book.excluded.get(&era).cloned().unwrap_or_default();
        let solo = book.solo.get(&era).cloned().unwrap_or_default();
        let nominates = decision.accounts.iter().any(|d| matches!(d.outcome, Outcome::Nominate { .. }));
        if nominates || book.last_decision != Some((round.round, era)) {
            let mut ev = self.event("decided");
            ev.round = Some(round.round as i64);
            ev.era = Some(i64::from(era));
            ev.reason = decision.reason.clone();
            ev.detail_json = serde_json::to_string(&decision).unwrap_or_default();
            book.push(ev);
            book.last_decision = Some((round.round, era));
            tracing::info!(network = %net.name, round = round.round, era, nominating = nominates, reason = ?decision.reason, "nomination decided");
        }

        for (view, d) in views.iter_mut().zip(&decision.accounts) {
            let a = &view.account;
            let stash_hex = hex0x(&a.stash_account);
            view.outcome = Some(d.outcome.clone());
            match &d.outcome {
                Outcome::Nominate { targets } => {
                    let targets: Vec<TargetRecord> = targets
                        .iter()
                        .filter(|t| !excluded.contains(&t.account))
                        .map(|t| TargetRecord { account: t.account.clone(), stash: t.stash_ss58.clone(), name: t.name.clone(), score: t.score })
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    let accounts: Vec<[u8; 32]> = targets.iter().filter_map(|t| account_of_hex(&t.account)).collect();
                    let mut record = ItemRecord::nominate(&stash_hex, &a.stash, a.mode == Control::Proxy, targets);
                    let call = if a.delay > 0 {
                        // Announced now, executed once the delay has passed: the hash of the exact call.
                        let call_hash = chain.nominate_call_hash(&accounts).await?;
                        record.step = Step::Announce;
                        record.via_proxy = false;
                        record.call_hash = Some(hex0x(&call_hash));
                        record.delegate_hex = Some(hex0x(&a.signer.public()));
                        BatchItem::Announce { stash: a.stash_account, call_hash }
                    } else {
                        BatchItem::Nominate(NominateItem { stash: a.stash_account, via_proxy: a.mode == Control::Proxy, targets: accounts })
                    };
                    items.push(ToSign { signer: a.signer.clone(), solo: solo.contains(&stash_hex), record, call });
                    book.last_skip.remove(&stash_hex);
                }
                Outcome::Skip { reason } => {
                    if book.last_skip.get(&stash_hex) != Some(reason) {
                        let mut ev = self.event("skipped");
                        ev.stash = Some(a.stash.clone());
                        ev.round = Some(round.round as i64);
                        ev.era = Some(i64::from(era));
                        ev.reason = Some(reason.clone());
                        book.push(ev);
                        book.last_skip.insert(stash_hex, reason.clone());
                    }
                }
            }
        }
        Ok(views)
    }

    /// Each account's status after the pass signed what it decided (`sent`: stashes signed for).
    pub(super) fn statuses(&self, views: Vec<AccountView>, era: u32, have_round: bool, sent: &std::collections::BTreeSet<String>, book: &mut Book) {
        let net = &self.net;
        let stale_after = net.settings.stale_after_for(&net.name);
        for view in views {
            let a = &view.account;
            let stash_hex = hex0x(&a.stash_account);
            let settled_claim = view.claim.as_deref().filter(|c| !is_held(c) && !book.txs.contains_key(*c));
            let announcement = book.announcement_of(&stash_hex).cloned();
            let (st, why) = if let Some(tx) = book.tx_of(&stash_hex) {
                // Which transaction, and until when it can land: what an operator needs when it takes long.
                (
                    State::Nominating,
                    format!(
                        "a nomination (or a step of its announcement) is in flight: transaction {} (nonce {}), signed at block {}, not yet found in a finalized block; it cannot land after block {}",
                        tx.hash, tx.nonce, tx.birth, tx.mortal_until
                    ),
                )
            } else if sent.contains(&stash_hex) {
                (State::Nominating, "a nomination (or a step of its announcement) is in flight".to_string())
            } else if let Some(ann) = &announcement {
                (State::AwaitingProxyExecution, ann.next.clone())
            } else if !have_round {
                (State::NotNominating, "no round has been scored yet".to_string())
            } else if settled_claim == Some("dry-run") {
                (State::Nominated, format!("dry run: the nomination for era {era} is recorded, not sent"))
            } else if let Some(tx) = settled_claim {
                (State::Nominated, format!("nominated for era {era} (transaction {tx})"))
            } else {
                match (&view.due, &view.outcome) {
                    (Ok(()), Some(Outcome::Skip { reason })) => (State::NotNominating, reason.clone()),
                    (Ok(()), _) => (State::ReadyToNominate, "due".to_string()),
                    (Err(NotDue::NominatedRecently { .. }), _) => (State::Nominated, view.due.as_ref().err().map(ToString::to_string).unwrap_or_default()),
                    (Err(NotDue::NoDrift), _) => (State::Nominated, "the chain nominates the pinned targets".into()),
                    (Err(e), _) => (
                        State::NotNominating,
                        view.claim
                            .as_deref()
                            .and_then(|c| c.strip_prefix("refused:").or_else(|| c.strip_prefix("failed:")))
                            .map_or_else(|| e.to_string(), |why| format!("{why}; tried again next era")),
                    ),
                }
            };
            let status = self.status(&view, era, stale_after, st, &why, announcement, book);
            book.statuses.insert(stash_hex, status);
        }
        let stale = book.statuses.values().filter(|s| s.stale).count();
        ::metrics::gauge!(metrics::STALE, "network" => net.name.clone()).set(stale as f64);
    }

    #[allow(clippy::too_many_arguments)]
    fn status(
        &self,
        view: &AccountView,
        era: u32,
        stale_after: u32,
        st: State,
        why: &str,
        announcement: Option<crate::book::AnnouncementRecord>,
        book: &Book,
    ) -> AccountStatus {
        let net = &self.net;
        let a = &view.account;
        let waiting = matches!(st, State::Nominating | State::AwaitingProxyExecution);
        let stale = nomination::is_stale(view.state.submitted_in, era, stale_after) && !waiting;
        // A stated reason for not nominating says more than "stale"; the flag stays either way.
        let (st, why) = if stale && st != State::NotNominating {
            let why = match view.eras_since {
                Some(n) => format!("no nomination for {n} eras (more than {stale_after}); {why}"),
                None => format!("never nominated; {why}"),
            };
            tracing::warn!(network = %net.name, stash = %a.stash, %why, "stale nominator account");
            (State::Stale, why)
        } else {
            (st, why.to_string())
        };
        let previous = a.previous.as_ref().map(|p| {
            let key = hex0x(&p.public());
            let pending = book.announcements.values().filter(|r| r.stash_hex == hex0x(&a.stash_account) && r.delegate_hex == key).count()
                + book.txs.values().filter(|t| t.signer_hex == key).count();
            (p.address(net.ss58_prefix), pending)
        });
        let removable = previous.as_ref().is_some_and(|(_, pending)| *pending == 0);
        let subject = format!("previous key of {}", a.stash);
        let message = previous.as_ref().filter(|_| removable).map(|(addr, _)| {
            format!(
                "the previous key {addr} has nothing pending: remove previous_secret_* from the configuration and {addr} from the stash's proxies (proxy.remove_proxy)"
            )
        });
        self.report(&subject, message.as_deref(), false);
        AccountStatus {
            network: net.name.clone(),
            stash: a.stash.clone(),
            stash_hex: hex0x(&a.stash_account),
            signer: a.signer.address(net.ss58_prefix),
            mode: match a.mode {
                Control::Direct => "direct".into(),
                Control::Proxy => "proxy".into(),
            },
            bonded: view.bond.map(|b| b.to_string()),
            bonded_tokens: view.bond.map(|b| tokens(b, net.decimals)),
            targets: view.on_chain.clone().unwrap_or_default().iter().map(|t| schemas::ss58::encode(net.ss58_prefix, t)).collect(),
            submitted_in: view.state.submitted_in,
            era: Some(era),
            eras_since: view.eras_since,
            stale,
            state: st,
            why: match (&message, removable) {
                (Some(m), true) => format!("{why}; {m}"),
                _ => why,
            },
            signer_free: Some(view.signer_free.to_string()),
            dry_run: self.settings.dry_run,
            proxy_delay_blocks: a.delay,
            announcement,
            previous_signer_pending: previous.as_ref().map_or(0, |(_, n)| *n),
            previous_signer: previous.map(|(addr, _)| addr),
            previous_signer_removable: removable,
            updated_at_ms: now_ms(),
        }
    }
}
