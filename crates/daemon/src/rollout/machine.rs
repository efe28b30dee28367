//! The rollout state machine, pure: a record, the compiled spec, the time
//! and (for check rounds) the results go in; the updated record and the
//! transition that happened come out. No I/O, no clock — which is what makes
//! every rule below testable without waiting.
//!
//! The rules (docs/rollouts.md, Progression):
//! - a canary stage advances only once its duration has passed *and* its
//!   latest check round passed (a stage without checks needs only time);
//! - a failed round counts; at `failureLimit` failures in a stage the
//!   rollout rolls back to 0 % (`rollbackOnError`) or pauses;
//! - missing data follows `noData` and never advances;
//! - a rolled-back rollout stays at 0 % until its spec changes;
//! - a linear ramp moves with the time it spends progressing and healthy,
//!   in `step` increments, and holds while health fails;
//! - after a restart a stage needs a fresh passing round to advance.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::clock::{add, since};
use super::state::RolloutRecord;
use hotswap_flags_client::wire::{CheckOutcome, CheckResult, Phase, Steer};
use hotswap_flags_core::eval::bucket::{BUCKETS, percentage};
use hotswap_flags_core::model::NoData;
use hotswap_flags_core::ruleset::{CompiledRollout, RolloutPlan};

/// Where a rollout stood, for transitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Position {
    /// Where in its life the rollout was (running, paused, rolled back, …).
    pub phase: Phase,
    /// The stage (canary) or 0.
    pub stage: u32,
    /// The live percentage.
    pub percentage: f64,
}

impl Position {
    fn of(r: &RolloutRecord) -> Self {
        Position {
            phase: r.phase,
            stage: r.stage,
            percentage: percentage(r.threshold),
        }
    }
}

/// Something that happened to a rollout: what the audit log records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// When it happened (the controller's clock at the decision, which is
    /// also when a new stage starts); `time` in the audit log.
    #[serde(rename = "time")]
    pub at: Timestamp,
    /// `started`, `advanced`, `completed`, `rolled_back`, `paused`,
    /// `resumed`, `promoted`, `aborted` or `check_failed`.
    pub event: &'static str,
    /// Before.
    pub from: Position,
    /// After.
    pub to: Position,
    /// Why, in words.
    pub reason: String,
    /// The measured values behind it, by check.
    pub values: BTreeMap<String, Option<f64>>,
}

fn transition(
    at: Timestamp,
    event: &'static str,
    from: Position,
    to: &RolloutRecord,
    reason: impl Into<String>,
) -> Transition {
    Transition {
        at,
        event,
        from,
        to: Position::of(to),
        reason: reason.into(),
        values: BTreeMap::new(),
    }
}

/// A new rollout of `spec`, starting at `now`.
pub fn start(
    flag: &str,
    env: &str,
    spec: &CompiledRollout,
    now: Timestamp,
) -> (RolloutRecord, Transition) {
    let mut r = RolloutRecord {
        flag: flag.to_owned(),
        env: env.to_owned(),
        spec_hash: spec.spec_hash.clone(),
        strategy: spec.strategy,
        phase: Phase::Progressing,
        stage: 0,
        threshold: BUCKETS,
        started_at: now,
        stage_started_at: now,
        paused_at: None,
        ramp_elapsed_ms: 0,
        checks_passed: 0,
        checks_failed: 0,
        last_checks: Vec::new(),
        last_check_at: None,
        reason: None,
        generation: 0,
        written_at: None,
        fresh_pass: false,
        store_revision: 0,
    };
    let from = Position {
        phase: Phase::Progressing,
        stage: 0,
        percentage: 0.0,
    };
    match &spec.plan {
        RolloutPlan::Canary { stages } => {
            r.threshold = stages.first().map_or(0, |s| s.threshold);
            complete_if_final(&mut r, spec);
        }
        RolloutPlan::Linear { from, .. } => r.threshold = *from,
        RolloutPlan::Direct | RolloutPlan::Segment { .. } => r.phase = Phase::Completed,
        RolloutPlan::Scheduled(_) => {}
    }
    let t = transition(
        now,
        "started",
        from,
        &r,
        format!("new {} rollout", spec.strategy),
    );
    (r, t)
}

/// A canary entering its last stage completes, unless that stage has a
/// duration (then it must pass like any other).
fn complete_if_final(r: &mut RolloutRecord, spec: &CompiledRollout) {
    if let RolloutPlan::Canary { stages } = &spec.plan
        && r.stage as usize + 1 >= stages.len()
        && stages
            .get(r.stage as usize)
            .is_none_or(|s| s.duration.is_none())
    {
        r.phase = Phase::Completed;
    }
}

/// Whether checks should run now.
pub fn wants_checks(r: &RolloutRecord, spec: &CompiledRollout) -> bool {
    r.phase == Phase::Progressing && !spec.health.checks.is_empty()
}

/// When the next check round is due.
pub fn next_check(r: &RolloutRecord, spec: &CompiledRollout) -> Timestamp {
    match r.last_check_at {
        None => r.stage_started_at,
        Some(at) => add(at, spec.health.interval),
    }
}

/// The verdict of one round of checks.
#[derive(Debug, Clone, PartialEq)]
enum RoundVerdict {
    Pass,
    Fail(String),
    Pause(String),
    NoData,
}

fn describe(c: &CheckResult) -> String {
    match (c.outcome, c.value) {
        (CheckOutcome::Fail, Some(v)) => format!(
            "check `{}` = {v}: {}",
            c.name,
            c.message.as_deref().unwrap_or("out of bounds")
        ),
        _ => format!(
            "check `{}`: {}",
            c.name,
            c.message.as_deref().unwrap_or("no data")
        ),
    }
}

fn verdict(results: &[CheckResult], no_data: NoData) -> RoundVerdict {
    if let Some(fail) = results.iter().find(|c| c.outcome == CheckOutcome::Fail) {
        return RoundVerdict::Fail(describe(fail));
    }
    let missing: Vec<&CheckResult> = results
        .iter()
        .filter(|c| c.outcome == CheckOutcome::NoData)
        .collect();
    let passed = results.iter().any(|c| c.outcome == CheckOutcome::Pass);
    match (missing.first(), no_data) {
        (None, _) => RoundVerdict::Pass,
        (Some(m), NoData::Fail) => RoundVerdict::Fail(describe(m)),
        (Some(m), NoData::Pause) => RoundVerdict::Pause(describe(m)),
        (Some(_), NoData::Ignore) if passed => RoundVerdict::Pass,
        (Some(_), NoData::Ignore) => RoundVerdict::NoData,
    }
}

/// Applies one round of check results.
pub fn on_checks(
    r: &mut RolloutRecord,
    spec: &CompiledRollout,
    results: Vec<CheckResult>,
    now: Timestamp,
) -> Option<Transition> {
    if r.phase != Phase::Progressing {
        return None;
    }
    let from = Position::of(r);
    let values: BTreeMap<String, Option<f64>> =
        results.iter().flat_map(CheckResult::audit_values).collect();
    let verdict = verdict(&results, spec.health.no_data);
    r.last_checks = results;
    r.last_check_at = Some(now);
    let mut t = match verdict {
        RoundVerdict::Pass => {
            r.checks_passed += 1;
            r.fresh_pass = true;
            return None;
        }
        RoundVerdict::NoData => {
            r.fresh_pass = false;
            return None;
        }
        RoundVerdict::Pause(reason) => {
            r.fresh_pass = false;
            r.phase = Phase::Paused;
            r.paused_at = Some(now);
            r.reason = Some(format!("paused on missing data: {reason}"));
            transition(
                now,
                "paused",
                from,
                r,
                format!("no data (noData: pause): {reason}"),
            )
        }
        RoundVerdict::Fail(reason) => {
            r.fresh_pass = false;
            r.checks_failed += 1;
            let limit = spec.health.failure_limit;
            if r.checks_failed < limit {
                transition(
                    now,
                    "check_failed",
                    from,
                    r,
                    format!(
                        "{reason} (failure {} of {limit} allowed in this stage)",
                        r.checks_failed
                    ),
                )
            } else if spec.rollback_on_error {
                r.phase = Phase::RolledBack;
                r.threshold = 0;
                r.reason = Some(reason.clone());
                transition(
                    now,
                    "rolled_back",
                    from,
                    r,
                    format!("{reason} ({} failed checks)", r.checks_failed),
                )
            } else {
                r.phase = Phase::Paused;
                r.paused_at = Some(now);
                r.reason = Some(reason.clone());
                transition(
                    now,
                    "paused",
                    from,
                    r,
                    format!("{reason} (rollbackOnError: false)"),
                )
            }
        }
    };
    t.values = values;
    Some(t)
}

/// Applies the passage of time: stage ends, ramp steps, window ends.
/// `healthy_time` is how much time since the previous tick the rollout spent
/// healthy (the caller knows what the health was during that interval); a
/// ramp gains only that.
pub fn on_time(
    r: &mut RolloutRecord,
    spec: &CompiledRollout,
    now: Timestamp,
    healthy_time: Duration,
) -> Option<Transition> {
    if r.phase != Phase::Progressing {
        return None;
    }
    let from = Position::of(r);
    let healthy = r.fresh_pass || spec.health.checks.is_empty();
    match &spec.plan {
        RolloutPlan::Canary { stages } => {
            let stage = stages.get(r.stage as usize)?;
            let ends = add(r.stage_started_at, stage.duration?);
            if now < ends || !healthy {
                return None;
            }
            let next = stages.get(r.stage as usize + 1);
            match next {
                Some(next) => {
                    enter_stage(r, r.stage + 1, next.threshold, now);
                    complete_if_final(r, spec);
                    let event = if r.phase == Phase::Completed {
                        "completed"
                    } else {
                        "advanced"
                    };
                    Some(transition(
                        now,
                        event,
                        from,
                        r,
                        format!("stage {} passed its time and checks", from.stage + 1),
                    ))
                }
                None => {
                    r.phase = Phase::Completed;
                    Some(transition(
                        now,
                        "completed",
                        from,
                        r,
                        "the last stage passed its time and checks",
                    ))
                }
            }
        }
        RolloutPlan::Linear {
            from: start,
            to,
            over,
            step,
        } => {
            r.ramp_elapsed_ms = r
                .ramp_elapsed_ms
                .saturating_add(healthy_time.as_millis() as u64);
            let target = ramp(
                *start,
                *to,
                *over,
                *step,
                Duration::from_millis(r.ramp_elapsed_ms),
            );
            if target == r.threshold {
                return None;
            }
            r.threshold = target;
            if target >= *to {
                r.phase = Phase::Completed;
                return Some(transition(
                    now,
                    "completed",
                    from,
                    r,
                    "the ramp reached its end",
                ));
            }
            Some(transition(now, "advanced", from, r, "the ramp moved on"))
        }
        RolloutPlan::Scheduled(window) => {
            if window.before.is_some_and(|end| now >= end) {
                r.phase = Phase::Completed;
                return Some(transition(
                    now,
                    "completed",
                    from,
                    r,
                    "the scheduled window ended",
                ));
            }
            None
        }
        RolloutPlan::Direct | RolloutPlan::Segment { .. } => None,
    }
}

fn enter_stage(r: &mut RolloutRecord, stage: u32, threshold: u32, now: Timestamp) {
    r.stage = stage;
    r.threshold = threshold;
    r.stage_started_at = now;
    r.checks_passed = 0;
    r.checks_failed = 0;
    r.fresh_pass = false;
    r.last_check_at = None;
}

/// The ramp's threshold after `elapsed` of healthy progress: linear from
/// `from` to `to` over `over`, rounded down to `step` increments.
pub fn ramp(from: u32, to: u32, over: Duration, step: u32, elapsed: Duration) -> u32 {
    if elapsed >= over || over.is_zero() {
        return to;
    }
    let span = f64::from(to - from);
    let raw = span * elapsed.as_secs_f64() / over.as_secs_f64();
    let gained = if step > 0 {
        (raw / f64::from(step)).floor() * f64::from(step)
    } else {
        raw.floor()
    };
    (from + gained as u32).min(to)
}

/// A steering request that does not apply in the current phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SteerError(pub String);

/// Applies a steering call by `actor`.
pub fn steer(
    r: &mut RolloutRecord,
    spec: &CompiledRollout,
    action: Steer,
    actor: &str,
    now: Timestamp,
) -> Result<Transition, SteerError> {
    let from = Position::of(r);
    let refuse = |why: &str| {
        Err(SteerError(format!(
            "cannot {} a rollout that is {}: {why}",
            verb(action),
            r.phase
        )))
    };
    match action {
        Steer::Pause => {
            if r.phase != Phase::Progressing {
                return refuse("only a progressing rollout can be paused");
            }
            r.phase = Phase::Paused;
            r.paused_at = Some(now);
            r.reason = Some(format!("paused by {actor}"));
        }
        Steer::Resume => {
            if r.phase != Phase::Paused {
                return refuse(if r.phase == Phase::RolledBack {
                    "change the rollout spec to start a new rollout"
                } else {
                    "only a paused rollout can be resumed"
                });
            }
            // The stage clock stood still while paused.
            if let Some(paused_at) = r.paused_at.take() {
                r.stage_started_at = add(r.stage_started_at, since(now, paused_at));
            }
            r.phase = Phase::Progressing;
            r.reason = None;
            r.fresh_pass = false;
            r.checks_failed = 0;
        }
        Steer::Promote { full } => {
            if !matches!(r.phase, Phase::Progressing | Phase::Paused) {
                return refuse("only a progressing or paused rollout can be promoted");
            }
            promote(r, spec, full, now).map_err(SteerError)?;
            r.paused_at = None;
            r.reason = Some(format!("promoted by {actor}"));
        }
        Steer::Abort => {
            if r.phase == Phase::RolledBack {
                return refuse("it is already at 0 %");
            }
            r.phase = Phase::RolledBack;
            r.threshold = 0;
            r.paused_at = None;
            r.reason = Some(format!("aborted by {actor}"));
        }
    }
    Ok(transition(
        now,
        action.event(),
        from,
        r,
        format!("{} by {actor}", action.event()),
    ))
}

fn verb(s: Steer) -> &'static str {
    match s {
        Steer::Pause => "pause",
        Steer::Resume => "resume",
        Steer::Promote { .. } => "promote",
        Steer::Abort => "abort",
    }
}

fn promote(
    r: &mut RolloutRecord,
    spec: &CompiledRollout,
    full: bool,
    now: Timestamp,
) -> Result<(), String> {
    match &spec.plan {
        RolloutPlan::Canary { stages } => {
            let target = if full {
                stages.len() - 1
            } else {
                (r.stage as usize + 1).min(stages.len() - 1)
            };
            let threshold = stages[target].threshold;
            enter_stage(r, target as u32, threshold, now);
            r.phase = Phase::Progressing;
            if full || target + 1 == stages.len() {
                r.phase = Phase::Completed;
            }
        }
        RolloutPlan::Linear {
            from,
            to,
            over,
            step,
        } => {
            let increment = if *step > 0 {
                *step
            } else {
                (to - from).div_ceil(10)
            };
            r.threshold = if full {
                *to
            } else {
                (r.threshold + increment).min(*to)
            };
            // Keep the ramp's clock consistent with the new position.
            let fraction = f64::from(r.threshold - from) / f64::from((to - from).max(1));
            r.ramp_elapsed_ms = (over.as_millis() as f64 * fraction).ceil() as u64;
            r.phase = if r.threshold >= *to {
                Phase::Completed
            } else {
                Phase::Progressing
            };
        }
        _ => {
            return Err(format!(
                "a {} rollout has no stages to promote",
                spec.strategy
            ));
        }
    }
    Ok(())
}
