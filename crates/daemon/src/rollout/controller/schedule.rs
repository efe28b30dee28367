//! A record read against its rollout's spec: the position the evaluator
//! serves, when the controller is next due, and the status the API
//! answers with.

use super::*;

/// The evaluator's view of a record.
pub(super) fn position(r: &RolloutRecord, spec: &CompiledRollout) -> RolloutPosition {
    RolloutPosition {
        threshold: r.threshold,
        stage: matches!(spec.plan, RolloutPlan::Canary { .. }).then_some(r.stage),
    }
}

/// When this rollout next needs the controller.
pub(super) fn due(r: &RolloutRecord, spec: &CompiledRollout) -> Option<Timestamp> {
    if r.phase != Phase::Progressing {
        return None;
    }
    let checks = machine::wants_checks(r, spec).then(|| machine::next_check(r, spec));
    let time = match &spec.plan {
        RolloutPlan::Canary { stages } => stages
            .get(r.stage as usize)
            .and_then(|s| s.duration)
            .map(|d| add(r.stage_started_at, d)),
        RolloutPlan::Scheduled(w) => w.before,
        RolloutPlan::Linear { .. } => None, // every tick
        _ => None,
    };
    [checks, time].into_iter().flatten().min()
}

/// When the current stage ends, if it does; for a scheduled window, when
/// it next opens or closes.
pub(super) fn stage_ends(
    r: &RolloutRecord,
    spec: &CompiledRollout,
    now: Timestamp,
) -> Option<Timestamp> {
    match &spec.plan {
        RolloutPlan::Canary { stages } => stages
            .get(r.stage as usize)
            .and_then(|s| s.duration)
            .map(|d| add(r.stage_started_at, d)),
        RolloutPlan::Scheduled(w) => w.after.filter(|start| now < *start).or(w.before),
        RolloutPlan::Linear { from, to, over, .. } => {
            let remaining = over.saturating_sub(Duration::from_millis(r.ramp_elapsed_ms));
            (r.threshold < *to && to > from)
                .then(|| add(r.stage_started_at.max(r.started_at), remaining))
        }
        _ => None,
    }
}

/// The percentage a rollout serves at `now`. A scheduled rollout holds
/// 100 % for its whole life but serves nobody outside its window, and the
/// status should say what users get, not what the record holds.
pub(super) fn served_percentage(r: &RolloutRecord, spec: &CompiledRollout, now: Timestamp) -> f64 {
    match &spec.plan {
        RolloutPlan::Scheduled(w) if !w.contains(now) => 0.0,
        _ => percentage(r.threshold),
    }
}

pub(super) fn window(spec: &CompiledRollout, now: Timestamp) -> Option<Window> {
    let RolloutPlan::Scheduled(w) = &spec.plan else {
        return None;
    };
    Some(if w.contains(now) {
        Window::Open
    } else if w.after.is_some_and(|start| now < start) {
        Window::Pending
    } else {
        Window::Closed
    })
}

/// The status of `flag`'s rollout `spec`, whose record is `r`, at `now`,
/// as the API answers it.
pub(super) fn status(
    flag: &CompiledFlag,
    spec: &CompiledRollout,
    r: &RolloutRecord,
    now: Timestamp,
) -> Value {
    let status = RolloutStatus {
        flag: r.flag.clone(),
        strategy: spec.strategy,
        phase: r.phase,
        stage: r.stage,
        stages: match &spec.plan {
            RolloutPlan::Canary { stages } => Some(stages.len()),
            _ => None,
        },
        percentage: served_percentage(r, spec, now),
        serve: flag.variant(spec.serve).name.to_string(),
        started_at: r.started_at,
        stage_started_at: r.stage_started_at,
        stage_ends_at: if r.phase == Phase::Progressing {
            stage_ends(r, spec, now)
        } else {
            None
        },
        window: window(spec, now),
        checks_passed: r.checks_passed,
        checks_failed: r.checks_failed,
        failure_limit: spec.health.failure_limit,
        checks: r.last_checks.clone(),
        reason: r.reason.clone(),
        spec_hash: r.spec_hash.clone(),
        leader: None,
    };
    // Plain data: serializing cannot fail (non-finite numbers become null).
    serde_json::to_value(status).unwrap_or_default()
}
