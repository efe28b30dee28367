//! The controller as the HTTP API and the evaluator see it: listing,
//! status, steering, the audit trail and metrics ([`RolloutApi`]), and the
//! positions rulesets evaluate with ([`Positions`]).

use super::*;
use hotswap_flags_client::wire::{HistoryCheck, RolloutHistory};
use hotswap_flags_core::ruleset::{CheckKind, CompiledCheck};

/// A check of the spec as the history describes it: its bounds.
fn history_check(c: &CompiledCheck) -> HistoryCheck {
    match &c.kind {
        CheckKind::Threshold { query, max, min } => HistoryCheck {
            name: c.name.clone(),
            kind: "threshold".into(),
            min: *min,
            max: *max,
            query: query.clone(),
        },
        CheckKind::Baseline(b) => HistoryCheck {
            name: c.name.clone(),
            kind: "baseline".into(),
            min: None,
            max: Some(b.guardrail.tolerance),
            query: b.failures.clone(),
        },
    }
}

/// What the HTTP API needs from the controller (object-safe, so the server
/// does not depend on the metrics source's type).
pub trait RolloutApi: Send + Sync + std::fmt::Debug {
    /// Every rollout of the served ruleset.
    fn list(&self) -> Vec<Value>;
    /// One flag's rollout status, if it has one.
    fn status(&self, flag: &str) -> Option<Value>;
    /// A steering call by `actor`.
    fn steer<'a>(
        &'a self,
        flag: &'a str,
        action: Steer,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<Value, SteerFailure>>;
    /// Audit entries, oldest first.
    fn audit(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Value>, StoreError>>;
    /// The check history of `flag`'s rollout in service (`None`: it has
    /// none), from the store: the same from every replica of a cluster.
    fn history<'a>(
        &'a self,
        flag: &'a str,
    ) -> BoxFuture<'a, Result<Option<RolloutHistory>, StoreError>>;
    /// Gauges and counters for `/metrics`.
    fn metrics(&self) -> RolloutMetrics;
    /// The cluster as this replica sees it; `None` for a single flagd.
    fn cluster(&self) -> Option<ClusterView>;
}

/// Why a steering call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SteerFailure {
    /// The flag has no rollout in the served ruleset.
    #[error("flag `{0}` has no rollout")]
    NoRollout(String),
    /// The call does not apply now.
    #[error(transparent)]
    Conflict(#[from] SteerError),
    /// The state could not be written (the cluster store is unreachable,
    /// or the rollout kept changing under the call).
    #[error("the steering call was not recorded: {0}")]
    Store(String),
}

/// Metric values at scrape time.
#[derive(Debug, Clone, Default)]
pub struct RolloutMetrics {
    /// (flag, percentage, phase)
    pub rollouts: Vec<(String, f64, Phase)>,
    /// (flag, check, result) → count
    pub checks: BTreeMap<(String, String, &'static str), u64>,
    /// (flag, phase moved to) → count
    pub transitions: BTreeMap<(String, &'static str), u64>,
}

impl<M: MetricsSource + std::fmt::Debug> Positions for Controller<M> {
    fn position(&self, flag: &str, rollout: &CompiledRollout) -> Option<RolloutPosition> {
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        let p = published
            .get(flag)
            .filter(|p| p.spec_hash == rollout.spec_hash)?;
        Some(RolloutPosition {
            threshold: p.threshold,
            stage: matches!(rollout.plan, RolloutPlan::Canary { .. }).then_some(p.stage),
        })
    }
}

impl<M: MetricsSource + std::fmt::Debug> Controller<M> {
    /// The record of `flag`'s served rollout `spec`: the one held, or —
    /// until the controller has stored one (the ruleset was just
    /// installed, the store does not answer, the leader has not written
    /// it yet) — the record the rollout starts with, as of the ruleset's
    /// install, which is what evaluations serve meanwhile. So every
    /// rollout the served ruleset defines has a status from the moment it
    /// is served (`/readyz` is ready from then on too).
    fn held_or_starting(
        &self,
        inner: &Inner,
        served: &Served,
        flag: &CompiledFlag,
        spec: &CompiledRollout,
    ) -> RolloutRecord {
        match inner
            .records
            .get(&*flag.key)
            .filter(|r| r.spec_hash == spec.spec_hash)
        {
            Some(r) => inner.with_pending(r.clone()),
            None => machine::start(&flag.key, &self.env, spec, served.loaded_at).0,
        }
    }
}

impl<M: MetricsSource + std::fmt::Debug> RolloutApi for Controller<M> {
    fn list(&self) -> Vec<Value> {
        let Some(served) = self.live.current() else {
            return Vec::new();
        };
        let now = self.clock.now();
        let inner = self.lock();
        served
            .ruleset
            .flags()
            .iter()
            .filter_map(|f| {
                let spec = f.rollout.as_ref()?;
                let record = self.held_or_starting(&inner, &served, f, spec);
                Some(status(f, spec, &record, now))
            })
            .collect()
    }

    fn status(&self, flag: &str) -> Option<Value> {
        let served = self.live.current()?;
        let compiled = served.ruleset.flag(served.ruleset.flag_id(flag)?);
        let spec = compiled.rollout.as_ref()?;
        let record = self.held_or_starting(&self.lock(), &served, compiled, spec);
        Some(status(compiled, spec, &record, self.clock.now()))
    }

    fn steer<'a>(
        &'a self,
        flag: &'a str,
        action: Steer,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<Value, SteerFailure>> {
        Box::pin(async move {
            let _writer = self.writer.lock().await;
            let no_rollout = || SteerFailure::NoRollout(flag.to_owned());
            let (served, mut record) = self.current(flag).ok_or_else(no_rollout)?;
            let compiled = served
                .ruleset
                .flag(served.ruleset.flag_id(flag).ok_or_else(no_rollout)?);
            let spec = compiled.rollout.as_ref().ok_or_else(no_rollout)?;
            // A conflict means another replica wrote the record since this
            // one read it: steer the fresh record (a few tries, since the
            // leader may be writing a check round meanwhile).
            let mut tries = 0;
            loop {
                let now = self.clock.now();
                let t = machine::steer(&mut record, spec, action, actor, now)?;
                let change = Change::new(record.clone(), Some(t), actor, spec);
                match self.write(change, Fence::Record).await {
                    Ok(stored) => {
                        drop(_writer);
                        self.wake.notify_one();
                        return Ok(status(compiled, spec, &stored, now));
                    }
                    Err(StoreError::Conflict(_)) if tries < 3 => {
                        tries += 1;
                        record = self
                            .store
                            .fetch(flag.to_owned())
                            .await
                            .map_err(|e| SteerFailure::Store(e.to_string()))?
                            .filter(|r| r.spec_hash == spec.spec_hash)
                            .ok_or_else(no_rollout)?;
                        self.observe(record.clone(), true);
                    }
                    Err(e) => return Err(SteerFailure::Store(e.to_string())),
                }
            }
        })
    }

    fn audit(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Value>, StoreError>> {
        self.store.audit(flag, limit)
    }

    fn cluster(&self) -> Option<ClusterView> {
        self.store.cluster()
    }

    fn history<'a>(
        &'a self,
        flag: &'a str,
    ) -> BoxFuture<'a, Result<Option<RolloutHistory>, StoreError>> {
        Box::pin(async move {
            let Some(served) = self.live.current() else {
                return Ok(None);
            };
            let Some(spec) = served
                .ruleset
                .flag_id(flag)
                .and_then(|id| served.ruleset.flag(id).rollout.as_ref())
            else {
                return Ok(None);
            };
            let checks = spec.health.checks.iter().map(history_check).collect();
            let rounds = self
                .store
                .history(flag.to_owned(), spec.spec_hash.clone())
                .await?;
            Ok(Some(RolloutHistory {
                flag: flag.to_owned(),
                spec_hash: spec.spec_hash.clone(),
                checks,
                limit: history::LIMIT,
                rounds,
            }))
        })
    }

    fn metrics(&self) -> RolloutMetrics {
        let mut m = self.lock().metrics.clone();
        if let Some(served) = self.live.current() {
            let now = self.clock.now();
            let inner = self.lock();
            m.rollouts = served
                .ruleset
                .flags()
                .iter()
                .filter_map(|f| {
                    let spec = f.rollout.as_ref()?;
                    let r = inner
                        .records
                        .get(&*f.key)
                        .filter(|r| r.spec_hash == spec.spec_hash)?;
                    Some((r.flag.clone(), served_percentage(r, spec, now), r.phase))
                })
                .collect();
        }
        m
    }
}
