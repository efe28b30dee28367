//! The controller's spans (docs/observability.md): a check round, with the
//! value of each check as an event, and a transition, with the values it
//! was decided on. They are `tracing` spans at debug level, which flagd's
//! OpenTelemetry bridge exports (every one of them: the sampler keeps
//! `rollout.*` spans) and its log, at its default info level, leaves out,
//! so a log line reads the same with tracing on or off.

use hotswap_flags_client::wire::CheckResult;
use tracing::field::Empty;
use tracing::{Span, debug, debug_span};

use crate::rollout::machine::Transition;

/// The span of one rollout's check round; the outcome is recorded into
/// it by [`round_outcome`].
pub(super) fn check_round(flag: &str) -> Span {
    debug_span!(
        "rollout.check_round",
        feature_flag.key = flag,
        hotswap_flags.rollout.stage = Empty,
        hotswap_flags.rollout.percentage = Empty,
        hotswap_flags.rollout.decision = Empty,
    )
}

/// The round's stage and percentage measured, each check's result as an
/// event `rollout.check`, and what was decided (`none`, or the
/// transition's event: `advanced`, `check_failed`, `rolled_back`, …).
pub(super) fn round_outcome(
    (stage, percentage): (u32, f64),
    results: &[CheckResult],
    decision: Option<&Transition>,
) {
    let span = Span::current();
    span.record("hotswap_flags.rollout.stage", i64::from(stage) + 1);
    span.record("hotswap_flags.rollout.percentage", percentage);
    span.record(
        "hotswap_flags.rollout.decision",
        decision.map_or("none", |t| t.event),
    );
    for c in results {
        debug!(
            hotswap_flags.check.name = %c.name,
            hotswap_flags.check.value = c.value,
            hotswap_flags.check.outcome = c.outcome.as_str(),
            hotswap_flags.check.message = c.message.as_deref(),
            "rollout.check"
        );
    }
}

/// The span of a transition, stored: from where to where, why, by whom,
/// and the check values behind it (as JSON, `{"error-rate": 0.12}`).
pub(super) fn transition(flag: &str, t: &Transition, actor: &str) -> Span {
    let values = serde_json::to_string(&t.values).unwrap_or_default();
    debug_span!(
        "rollout.transition",
        feature_flag.key = flag,
        hotswap_flags.rollout.event = t.event,
        hotswap_flags.rollout.from.phase = t.from.phase.as_str(),
        hotswap_flags.rollout.from.stage = i64::from(t.from.stage),
        hotswap_flags.rollout.from.percentage = t.from.percentage,
        hotswap_flags.rollout.to.phase = t.to.phase.as_str(),
        hotswap_flags.rollout.to.stage = i64::from(t.to.stage),
        hotswap_flags.rollout.to.percentage = t.to.percentage,
        hotswap_flags.rollout.reason = %t.reason,
        hotswap_flags.rollout.actor = actor,
        hotswap_flags.check.values = %values,
    )
}
