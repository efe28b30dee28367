//! The rollout controller: keeps one [`RolloutRecord`] per flag rollout of
//! the served ruleset, runs health checks when they are due, applies the
//! state machine, and publishes positions, durable state and audit lines.
//!
//! It holds no lock across a query: it plans under the lock, queries without
//! it, and applies results under it again (checking the rollout is still the
//! one it queried for).

mod api;
mod schedule;
mod sync;
mod trace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tracing::{Instrument as _, debug, info, warn};

use super::audit::AuditEntry;
use super::checks::{Rendered, judge, render_check};
use super::clock::{Clock, add, since};
use super::history;
use super::machine::{self, SteerError, Transition};
use super::state::RolloutRecord;
use super::store::{BoxFuture, Fence, LocalStore, RecordSink, Save, StateStore, StoreError};
pub use api::{RolloutApi, RolloutMetrics, SteerFailure};
use schedule::{due, position, served_percentage, status};

use crate::live::{Live, Positions, Served};
use hotswap_flags_client::prometheus::{MetricsSource, TemplateVars};
use hotswap_flags_client::wire::{ClusterView, HistoryRound, Phase, RolloutStatus, Steer, Window};
use hotswap_flags_core::eval::RolloutPosition;
use hotswap_flags_core::eval::bucket::percentage;
use hotswap_flags_core::ruleset::{CompiledFlag, CompiledRollout, RolloutPlan};

/// The actor recorded for transitions the controller makes on its own.
pub const CONTROLLER: &str = "controller";

/// The longest the controller sleeps between ticks.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// How long a leader decides nothing once the store was found to have lost
/// records: long enough for every replica's next tick (at most
/// [`MAX_SLEEP`] apart) to write back what it knows, so that the leader
/// decides from the newest record any replica held, not from its own
/// (docs/cluster.md, Failures).
const HOLD_AFTER_LOSS: Duration = Duration::from_secs(2);

/// How much of a linear ramp's clock may go unstored: a hundredth of the
/// ramp, between these bounds. Storing it on every tick wrote a record a
/// second per ramp (and in a cluster, once per etcd round trip); a restart
/// or a failover now loses at most this much of the ramp's healthy time.
const RAMP_SAVE_MIN: Duration = Duration::from_secs(1);
const RAMP_SAVE_MAX: Duration = Duration::from_secs(60);

/// How long a check round that changes no outcome and decides nothing may
/// go unstored: its results and counts are shown, not decided on (a
/// failed round is a transition, always stored), so the store is written
/// once a minute rather than every round.
const CHECKS_SAVE_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<String, RolloutRecord>,
    /// Per rollout: the previous tick and whether it was healthy then (a
    /// ramp gains only the time it spent healthy).
    last_tick: HashMap<String, (Timestamp, bool)>,
    /// Per rollout: the problem of its last check round (`None`: all
    /// passed), so that a lasting problem is logged once, not every round.
    last_problem: HashMap<String, Option<String>>,
    metrics: RolloutMetrics,
    /// Flags whose held record must be written back over the store's
    /// version of it (lost, stale or bad there).
    repair: HashSet<String>,
    /// Per flag with no held record: the store's revision of its unusable
    /// key, which a new rollout is written over.
    base: HashMap<String, i64>,
    /// The leader decides nothing before this (see [`HOLD_AFTER_LOSS`]).
    hold_until: Option<std::time::Instant>,
    /// Per rollout: a newer version of its record that decides nothing
    /// new (a ramp's clock, a passing check round), not stored yet; it
    /// counts only over the generation it was made from.
    pending: HashMap<String, RolloutRecord>,
}

impl Inner {
    /// `r` as this process has it: the pending version when there is one
    /// over `r`.
    fn with_pending(&self, r: RolloutRecord) -> RolloutRecord {
        match self.pending.get(&r.flag) {
            Some(p) if p.generation == r.generation && p.spec_hash == r.spec_hash => {
                RolloutRecord {
                    store_revision: r.store_revision,
                    ..p.clone()
                }
            }
            _ => r,
        }
    }

    /// The held record of `flag`, with its pending version.
    fn record(&self, flag: &str) -> Option<RolloutRecord> {
        self.records.get(flag).map(|r| self.with_pending(r.clone()))
    }

    fn holding(&self) -> bool {
        self.hold_until
            .is_some_and(|t| std::time::Instant::now() < t)
    }
}

/// What went wrong in a check round, and what flagd does about it, in one
/// line (`check `errors`: cannot reach Prometheus at 127.0.0.1:9090:
/// Connection refused; no data: the rollout pauses until resumed`), or
/// `None` when every check passed (docs/rollouts.md, "When Prometheus is
/// unreachable").
fn round_problem(
    results: &[hotswap_flags_client::wire::CheckResult],
    health: &hotswap_flags_core::ruleset::CompiledHealth,
) -> Option<String> {
    use hotswap_flags_client::wire::CheckOutcome;
    let c = results
        .iter()
        .find(|c| c.outcome == CheckOutcome::NoData)
        .or_else(|| results.iter().find(|c| c.outcome == CheckOutcome::Fail))?;
    let why = c.message.as_deref().unwrap_or("failed");
    let action = match (c.outcome, health.no_data) {
        (CheckOutcome::NoData, hotswap_flags_core::model::NoData::Pause) => {
            "no data: the rollout pauses until resumed".to_owned()
        }
        (CheckOutcome::NoData, hotswap_flags_core::model::NoData::Ignore) => {
            "no data, ignored: the stage advances only after a passing round".to_owned()
        }
        _ => format!(
            "counted as a failure (failureLimit {} a stage)",
            health.failure_limit
        ),
    };
    Some(format!("check `{}`: {why}; {action}", c.name))
}

/// A check round to run: which rollout, which checks with their queries.
struct Planned {
    flag: String,
    spec_hash: String,
    checks: Vec<(usize, Rendered)>,
    endpoint: Option<String>,
}

/// What an install needs of a record: its position (see
/// [`Controller::publish`]).
#[derive(Debug, Clone)]
struct Published {
    spec_hash: String,
    threshold: u32,
    stage: u32,
}

impl Published {
    fn of(r: &RolloutRecord) -> Self {
        Published {
            spec_hash: r.spec_hash.clone(),
            threshold: r.threshold,
            stage: r.stage,
        }
    }
}

/// A decision to write: the record it produced, the transition (if any)
/// and the position to publish once it is stored.
struct Change {
    record: RolloutRecord,
    transition: Option<Transition>,
    actor: String,
    spec_hash: String,
    position: RolloutPosition,
    /// A record written back as it was (the store lost it): same
    /// generation, no decision.
    restore: bool,
}

impl Change {
    fn new(
        record: RolloutRecord,
        transition: Option<Transition>,
        actor: &str,
        spec: &CompiledRollout,
    ) -> Self {
        Change {
            position: position(&record, spec),
            record,
            transition,
            actor: actor.to_owned(),
            spec_hash: spec.spec_hash.clone(),
            restore: false,
        }
    }

    fn restore(record: RolloutRecord, spec: &CompiledRollout) -> Self {
        Change {
            restore: true,
            ..Change::new(record, None, CONTROLLER, spec)
        }
    }
}

/// Drives every rollout of the served ruleset.
#[derive(Debug)]
pub struct Controller<M> {
    env: String,
    live: Arc<Live>,
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    source: M,
    metrics_url: Option<String>,
    inner: Mutex<Inner>,
    /// The positions rulesets are installed with, by flag.
    published: Mutex<HashMap<String, Published>>,
    /// Held from a decision to its write, so that two writers of this
    /// process (a tick, a steering call) never decide over the same record.
    writer: tokio::sync::Mutex<()>,
    wake: tokio::sync::Notify,
}

impl<M: MetricsSource + std::fmt::Debug> Controller<M> {
    /// A controller over `live`, with state in `state_dir`. Records stored
    /// there are loaded now, so the first ruleset installed already gets
    /// their positions; `metrics_url` overrides `flags.toml`'s endpoint.
    pub fn new(
        env: &str,
        live: Arc<Live>,
        state_dir: &std::path::Path,
        clock: Arc<dyn Clock>,
        source: M,
        metrics_url: Option<String>,
    ) -> Arc<Self> {
        let store = LocalStore::new(state_dir, env);
        let records = store.load();
        Controller::with_store(
            env,
            live,
            Arc::new(store),
            records,
            clock,
            source,
            metrics_url,
        )
    }

    /// A controller over `live` keeping its state in `store`, starting from
    /// `records`.
    pub fn with_store(
        env: &str,
        live: Arc<Live>,
        store: Arc<dyn StateStore>,
        records: HashMap<String, RolloutRecord>,
        clock: Arc<dyn Clock>,
        source: M,
        metrics_url: Option<String>,
    ) -> Arc<Self> {
        let controller = Arc::new(Controller {
            env: env.to_owned(),
            live: live.clone(),
            store,
            clock,
            source,
            metrics_url,
            published: Mutex::new(
                records
                    .values()
                    .map(|r| (r.flag.clone(), Published::of(r)))
                    .collect(),
            ),
            inner: Mutex::new(Inner {
                records,
                ..Inner::default()
            }),
            writer: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        });
        live.set_positions(controller.clone());
        controller
    }
}

impl<M: MetricsSource + std::fmt::Debug> Controller<M> {
    /// Runs forever: tick, then sleep until something is due, a ruleset is
    /// installed or a steering call arrives.
    pub async fn run(self: Arc<Self>) {
        loop {
            let next = self.tick().await;
            let now = self.clock.now();
            let sleep = next.map_or(MAX_SLEEP, |t| since(t, now)).min(MAX_SLEEP);
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = self.live.installed() => {}
            }
        }
    }

    /// One pass over every rollout; returns when the next thing is due.
    pub async fn tick(&self) -> Option<Timestamp> {
        let served = self.live.current()?;
        if !self.store.leads() {
            // A follower decides nothing: the leader's records arrive
            // through `observe` (docs/cluster.md). It only writes back
            // records the store lost, as they were, over the version it
            // read there (docs/cluster.md, Failures).
            self.lock().last_tick.clear();
            let _writer = self.writer.lock().await;
            let changes = self.repairs(&served);
            self.write_all(changes, Fence::Record).await;
            return None;
        }
        let now = self.clock.now();
        {
            let _writer = self.writer.lock().await;
            let mut changes = self.repairs(&served);
            if !self.lock().holding() {
                changes.extend(self.reconcile(&served));
            }
            self.write_all(changes, Fence::Leader).await;
        }
        if self.lock().holding() {
            return None;
        }
        let planned = self.plan_checks(&served, now);
        for plan in planned {
            let span = trace::check_round(&plan.flag);
            self.check_round(&served, plan).instrument(span).await;
        }
        let _writer = self.writer.lock().await;
        let (changes, next) = self.apply_time(&served, self.clock.now());
        self.write_all(changes, Fence::Leader).await;
        next
    }

    /// One rollout's check round: its queries, the decision and its write.
    async fn check_round(&self, served: &Served, plan: Planned) {
        let mut values = Vec::with_capacity(plan.checks.len());
        for (_, rendered) in &plan.checks {
            let mut answers = Vec::with_capacity(rendered.queries.len());
            for q in &rendered.queries {
                answers.push(self.source.query(plan.endpoint.as_deref(), q).await);
            }
            values.push(answers);
        }
        let _writer = self.writer.lock().await;
        let flag = plan.flag.clone();
        let (changes, round) = self.apply_checks(served, plan, values);
        self.write_all(changes, Fence::Leader).await;
        // After the decision it led to, fenced like it: a replica that
        // lost the lead records nothing (docs/rollouts.md, Check
        // history).
        if let Some(round) = round
            && self.store.leads()
            && let Err(e) = self.store.record_round(flag.clone(), round).await
        {
            debug!(flag = %flag, error = %e, "check round not recorded in the history");
        }
    }

    /// The held records to write back as they are, where the store lost
    /// them or holds a bad or older version.
    fn repairs(&self, served: &Served) -> Vec<Change> {
        let inner = self.lock();
        inner
            .repair
            .iter()
            .filter_map(|flag| {
                let spec = served
                    .ruleset
                    .flag(served.ruleset.flag_id(flag)?)
                    .rollout
                    .as_ref()?;
                let record = inner.records.get(flag)?;
                Some(Change::restore(record.clone(), spec))
            })
            .collect()
    }

    /// Writes the controller's decisions (or write-backs), in order.
    async fn write_all(&self, changes: Vec<Change>, fence: Fence) {
        for change in changes {
            let flag = change.record.flag.clone();
            match self.write(change, fence).await {
                Ok(_) => {}
                Err(StoreError::Fenced) => {
                    info!("no longer leading: this replica stops deciding");
                    return;
                }
                Err(StoreError::Conflict(_)) => {
                    // Someone wrote the record meanwhile, or the store lost
                    // or spoiled it: read it again. A newer record is
                    // installed; a lost, older or bad one is written over
                    // next round (`superseded`).
                    debug!(flag = %flag, "rollout record changed in the store; reading it again");
                    match self.store.fetch(flag.clone()).await {
                        Ok(Some(r)) => {
                            self.observe(r, true);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            warn!(flag = %flag, error = %e, "rollout decision not stored; retried next round")
                        }
                    }
                }
                Err(e) => warn!(error = %e, "rollout decision not stored; retried next round"),
            }
        }
    }

    /// Stores one change, then (only then) logs it, counts it and
    /// publishes its position. Returns the record as stored.
    async fn write(&self, change: Change, fence: Fence) -> Result<RolloutRecord, StoreError> {
        let Change {
            mut record,
            transition,
            actor,
            spec_hash,
            position,
            restore,
        } = change;
        if !restore {
            record.generation += 1;
        }
        // A write-back too: a follower measures clock skew by it.
        record.written_at = Some(self.clock.now());
        let audit = transition.as_ref().map(|t| {
            let entry = AuditEntry {
                flag: &record.flag,
                actor: &actor,
                replica: self.store.replica(),
                transition: t,
            };
            // Plain data: serializing cannot fail.
            serde_json::to_string(&entry).unwrap_or_default()
        });
        let revision = self
            .store
            .save(Save {
                record: record.clone(),
                audit,
                fence,
            })
            .await?;
        record.store_revision = revision;
        let mut inner = self.lock();
        if let Some(t) = &transition {
            let _span = trace::transition(&record.flag, t, &actor).entered();
            info!(flag = %record.flag, event = t.event, from = %t.from.phase, to = %t.to.phase, percentage = t.to.percentage, reason = %t.reason, actor, "rollout");
            if t.event != "check_failed" {
                *inner
                    .metrics
                    .transitions
                    .entry((record.flag.clone(), t.to.phase.as_str()))
                    .or_default() += 1;
            }
        }
        let newer = inner
            .records
            .get(&record.flag)
            .is_none_or(|known| known.generation <= record.generation);
        if newer {
            inner.repair.remove(&record.flag);
            inner.base.remove(&record.flag);
            debug_assert_eq!(record.spec_hash, spec_hash);
            self.publish(&record, Some(position));
            inner.records.insert(record.flag.clone(), record.clone());
        }
        Ok(record)
    }

    /// Starts rollouts for new or changed specs.
    fn reconcile(&self, served: &Served) -> Vec<Change> {
        let inner = self.lock();
        let mut changes = Vec::new();
        for flag in served.ruleset.flags() {
            let Some(spec) = &flag.rollout else { continue };
            let current = inner
                .records
                .get(&*flag.key)
                .is_some_and(|r| r.spec_hash == spec.spec_hash);
            if current {
                continue;
            }
            let (mut record, t) = machine::start(&flag.key, &self.env, spec, self.clock.now());
            // Over whatever version of the flag's record the store holds,
            // and after it in generations.
            match inner.records.get(&*flag.key) {
                Some(r) => {
                    record.store_revision = r.store_revision;
                    record.generation = r.generation;
                }
                None => record.store_revision = inner.base.get(&*flag.key).copied().unwrap_or(0),
            }
            changes.push(Change::new(record, Some(t), CONTROLLER, spec));
        }
        changes
    }

    fn plan_checks(&self, served: &Served, now: Timestamp) -> Vec<Planned> {
        let inner = self.lock();
        let endpoint = self
            .metrics_url
            .clone()
            .or_else(|| served.ruleset.metrics().prometheus.clone());
        served
            .ruleset
            .flags()
            .iter()
            .filter_map(|flag| {
                let spec = flag.rollout.as_ref()?;
                let r = &inner.record(&flag.key)?;
                if r.spec_hash != spec.spec_hash
                    || !machine::wants_checks(r, spec)
                    || machine::next_check(r, spec) > now
                {
                    return None;
                }
                let vars = TemplateVars {
                    flag: &flag.key,
                    variant: &flag.variant(spec.serve).name,
                    stage: r.stage + 1,
                    percentage: percentage(r.threshold),
                };
                let checks = spec
                    .health
                    .checks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i, render_check(c, flag, &vars)))
                    .collect();
                Some(Planned {
                    flag: flag.key.to_string(),
                    spec_hash: spec.spec_hash.clone(),
                    checks,
                    endpoint: endpoint.clone(),
                })
            })
            .collect()
    }

    fn apply_checks(
        &self,
        served: &Served,
        plan: Planned,
        values: Vec<Vec<hotswap_flags_client::prometheus::QueryValue>>,
    ) -> (Vec<Change>, Option<HistoryRound>) {
        let Some(spec) = served
            .ruleset
            .flag_id(&plan.flag)
            .and_then(|id| served.ruleset.flag(id).rollout.as_ref())
        else {
            return (Vec::new(), None);
        };
        let now = self.clock.now();
        let results: Vec<_> = plan
            .checks
            .into_iter()
            .zip(values)
            .map(|((i, rendered), v)| judge(&spec.health.checks[i], rendered, v, now))
            .collect();
        let mut inner = self.lock();
        for c in &results {
            *inner
                .metrics
                .checks
                .entry((plan.flag.clone(), c.name.clone(), c.outcome.as_str()))
                .or_default() += 1;
        }
        let problem = round_problem(&results, &spec.health);
        let last = inner
            .last_problem
            .insert(plan.flag.clone(), problem.clone());
        let changed = match &last {
            Some(last) => *last != problem,
            None => problem.is_some(),
        };
        if changed {
            match &problem {
                Some(p) => warn!(flag = %plan.flag, "health checks: {p}"),
                None => info!(flag = %plan.flag, "health checks pass again"),
            }
        }
        let Some(stored) = inner
            .records
            .get(&plan.flag)
            .filter(|r| r.spec_hash == plan.spec_hash)
            .cloned()
        else {
            return (Vec::new(), None);
        };
        let mut record = inner.with_pending(stored.clone());
        let measured = (record.stage, percentage(record.threshold));
        let recorded = results.clone();
        // Every round at debug level, with the queries sent; what a round
        // changes (a failure counted, a pause) is logged once, as the
        // transition below (docs/rollouts.md, "When Prometheus is
        // unreachable").
        debug!(flag = %plan.flag, checks = ?results.iter().map(|c| (&c.name, c.value, c.outcome, &c.message, &c.query)).collect::<Vec<_>>(), "health check round");
        let t = machine::on_checks(&mut record, spec, results, now);
        trace::round_outcome(measured, &recorded, t.as_ref());
        let round = history::round_of(
            &plan.spec_hash,
            measured.0,
            measured.1,
            &recorded,
            t.as_ref().map(|t| t.event),
        );
        let outcomes = |r: &RolloutRecord| {
            r.last_checks
                .iter()
                .map(|c| (c.name.clone(), c.outcome))
                .collect::<Vec<_>>()
        };
        let stored_long_ago = stored
            .last_check_at
            .is_none_or(|at| since(now, at) >= CHECKS_SAVE_EVERY);
        if t.is_none()
            && record.phase == stored.phase
            && outcomes(&record) == outcomes(&stored)
            && !stored_long_ago
        {
            // Nothing decided, nothing new to show: kept in memory.
            inner.pending.insert(plan.flag.clone(), record);
            return (Vec::new(), round);
        }
        inner.pending.remove(&plan.flag);
        (vec![Change::new(record, t, CONTROLLER, spec)], round)
    }

    /// Applies the passage of time to every rollout; returns what changed
    /// and the next due time.
    fn apply_time(&self, served: &Served, now: Timestamp) -> (Vec<Change>, Option<Timestamp>) {
        let mut inner = self.lock();
        let mut next: Option<Timestamp> = None;
        let mut changes = Vec::new();
        for flag in served.ruleset.flags() {
            let Some(spec) = &flag.rollout else { continue };
            let Some(stored) = inner
                .records
                .get(&*flag.key)
                .filter(|r| r.spec_hash == spec.spec_hash)
                .cloned()
            else {
                continue;
            };
            let stored_ramp = stored.ramp_elapsed_ms;
            let mut record = inner.with_pending(stored);
            let healthy_now = record.fresh_pass || spec.health.checks.is_empty();
            let last = inner
                .last_tick
                .insert(flag.key.to_string(), (now, healthy_now));
            let healthy_time = match last {
                Some((at, true)) => since(now, at),
                _ => Duration::ZERO,
            };
            if let Some(t) = machine::on_time(&mut record, spec, now, healthy_time) {
                inner.pending.remove(&*flag.key);
                changes.push(Change::new(record.clone(), Some(t), CONTROLLER, spec));
            } else if let RolloutPlan::Linear { over, .. } = &spec.plan
                && record.phase == Phase::Progressing
            {
                // The ramp's clock moved: stored once it moved by a
                // hundredth of the ramp (bounded), else kept in memory.
                let every = (*over / 100).clamp(RAMP_SAVE_MIN, RAMP_SAVE_MAX);
                if record.ramp_elapsed_ms.saturating_sub(stored_ramp) >= every.as_millis() as u64 {
                    inner.pending.remove(&*flag.key);
                    changes.push(Change::new(record.clone(), None, CONTROLLER, spec));
                } else {
                    inner.pending.insert(flag.key.to_string(), record.clone());
                }
            }
            if let Some(due) = due(&record, spec) {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        (changes, next)
    }

    /// Moves the position served for `r`: first in the table rulesets
    /// installed from now on read, then in the ruleset in service. Called
    /// with `inner` held, which orders the writers; the table's lock is
    /// never held while taking another, and `Live::install` takes it under
    /// its own install lock, so an install and an update cannot deadlock
    /// and the install sees either the old position (then updated in the
    /// new ruleset right after) or the new one.
    fn publish(&self, r: &RolloutRecord, position: Option<RolloutPosition>) {
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(r.flag.clone(), Published::of(r));
        if let Some(position) = position {
            self.live.set_position(&r.flag, &r.spec_hash, position);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The served rollout spec of `flag`, with its record.
    fn current(&self, flag: &str) -> Option<(Arc<Served>, RolloutRecord)> {
        let served = self.live.current()?;
        let id = served.ruleset.flag_id(flag)?;
        let spec = served.ruleset.flag(id).rollout.as_ref()?;
        let inner = self.lock();
        let record = inner
            .records
            .get(flag)
            .filter(|r| r.spec_hash == spec.spec_hash)
            .cloned()?;
        Some((served, inner.with_pending(record)))
    }
}
