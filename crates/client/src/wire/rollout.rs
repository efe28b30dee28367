//! A rollout as flagd's API answers it (`GET /api/v1/rollouts`,
//! `GET /api/v1/rollouts/{flag}`, and every steering call) and as
//! `flagctl rollout` reads it back: one type on both sides, so the client
//! cannot miss a field the server renamed.

use std::fmt;

use hotswap_flags_core::model::Strategy;
use hotswap_flags_stats::guardrail::GuardrailResult;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Moving on as stages pass their time and their checks.
    Progressing,
    /// Held by a person or by missing data; the percentage stays.
    Paused,
    /// At its last stage (or, for `direct`/`segment`, fully on).
    Completed,
    /// Back at 0 % after failed checks or an abort; stays there until the
    /// rollout spec changes.
    RolledBack,
}

impl Phase {
    /// All phases, for metrics.
    pub const ALL: [Phase; 4] = [
        Phase::Progressing,
        Phase::Paused,
        Phase::Completed,
        Phase::RolledBack,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Progressing => "progressing",
            Phase::Paused => "paused",
            Phase::Completed => "completed",
            Phase::RolledBack => "rolled_back",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Inside its bounds.
    Pass,
    /// Outside its bounds.
    Fail,
    /// No usable value (empty, NaN, several series, HTTP error, timeout).
    NoData,
}

impl CheckOutcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "fail",
            CheckOutcome::NoData => "no_data",
        }
    }
}

/// The latest result of one check, with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The measured value.
    pub value: Option<f64>,
    /// Pass, fail or no data.
    pub outcome: CheckOutcome,
    /// Why, for fail and no data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The PromQL sent (a comparison: its four queries, one per line —
    /// failures and total of the rollout variant, then of the baseline).
    pub query: String,
    /// A comparison check's measurements: both failure rates, the counts,
    /// the test statistic and p-value. `value` is then the difference of
    /// the rates (rollout − baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<BaselineComparison>,
    /// When it ran.
    pub at: Timestamp,
}

impl CheckResult {
    /// The values the audit log records for this check: its value, and for
    /// a comparison both rates and the p-value (`<name>.rolloutRate`,
    /// `<name>.baselineRate`, `<name>.pValue`).
    pub fn audit_values(&self) -> Vec<(String, Option<f64>)> {
        let mut values = vec![(self.name.clone(), self.value)];
        if let Some(c) = &self.comparison {
            values.extend([
                (format!("{}.rolloutRate", self.name), c.result.rollout_rate),
                (
                    format!("{}.baselineRate", self.name),
                    c.result.baseline_rate,
                ),
                (format!("{}.pValue", self.name), c.result.p_value),
            ]);
        }
        values
    }
}

/// What a `compare: baseline` check measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineComparison {
    /// The variant rolled out.
    pub rollout_variant: String,
    /// The variant compared with.
    pub baseline_variant: String,
    /// The guardrail test's verdict, rates, counts, statistic and p-value.
    #[serde(flatten)]
    pub result: GuardrailResult,
}

/// A steering request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    /// Hold where it is.
    Pause,
    /// Continue after a pause.
    Resume,
    /// Go to the next stage now (`full`: to the end).
    Promote {
        /// Jump to the last stage / 100 %.
        full: bool,
    },
    /// Back to 0 %, for good (until the spec changes).
    Abort,
}

impl Steer {
    /// The steering call named `action` in the API's path
    /// (`/api/v1/rollouts/{flag}/{action}`); `full` is `promote`'s query.
    pub fn from_action(action: &str, full: bool) -> Option<Steer> {
        Some(match action {
            "pause" => Steer::Pause,
            "resume" => Steer::Resume,
            "promote" => Steer::Promote { full },
            "abort" => Steer::Abort,
            _ => return None,
        })
    }

    /// Its name in the API's path, the inverse of [`Steer::from_action`].
    pub fn action(self) -> &'static str {
        match self {
            Steer::Pause => "pause",
            Steer::Resume => "resume",
            Steer::Promote { .. } => "promote",
            Steer::Abort => "abort",
        }
    }

    /// The event name.
    pub fn event(self) -> &'static str {
        match self {
            Steer::Pause => "paused",
            Steer::Resume => "resumed",
            Steer::Promote { .. } => "promoted",
            Steer::Abort => "aborted",
        }
    }
}

/// The cluster as one replica sees it (`GET /api/v1/rollouts`, `/readyz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// This replica's name.
    pub replica: String,
    /// The replica that leads, when known.
    pub leader: Option<String>,
    /// Whether this replica leads.
    pub leading: bool,
    /// Whether the store answered the last call.
    pub store_reachable: bool,
    /// Whether this replica has read the cluster's rollout state at least
    /// once (before that it is not ready).
    pub synced: bool,
    /// Records in the store this replica refused (unreadable, under the
    /// key of another flag, or out of range), each version counted once.
    pub rejected_records: u64,
    /// How far this replica's wall clock was ahead of the writer's (in
    /// milliseconds, negative when behind) when it last received a record
    /// live, delivery included; `None` before any (docs/cluster.md,
    /// Clocks).
    pub clock_skew_ms: Option<i64>,
}

/// Where a scheduled rollout's window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Not open yet.
    Pending,
    /// Open: the rollout serves.
    Open,
    /// Over.
    Closed,
}

/// One rollout: its durable record joined with the served spec, as people
/// read it (the percentage users get now, when the stage ends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    /// The flag rolled out.
    pub flag: String,
    /// How it is rolled out (stages, a ramp, a window, segments, at once).
    pub strategy: Strategy,
    /// Progressing, paused, completed or rolled back.
    pub phase: Phase,
    /// The canary stage (0-based; 0 for other strategies).
    pub stage: u32,
    /// A canary's number of stages.
    pub stages: Option<usize>,
    /// The percentage served now: 0 outside a scheduled window, whatever
    /// the record holds.
    pub percentage: f64,
    /// The variant rolled out.
    pub serve: String,
    /// When flagd first loaded the rollout's spec.
    pub started_at: Timestamp,
    /// When the current stage started.
    pub stage_started_at: Timestamp,
    /// When the stage ends while progressing; for a scheduled window, when
    /// it next opens or closes.
    pub stage_ends_at: Option<Timestamp>,
    /// A scheduled rollout's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Passed check rounds in the current stage.
    pub checks_passed: u32,
    /// Failed check rounds in the current stage.
    pub checks_failed: u32,
    /// Failed rounds that roll back.
    pub failure_limit: u32,
    /// The latest result of each check.
    pub checks: Vec<CheckResult>,
    /// Why the phase is what it is (rollback cause, pause cause).
    pub reason: Option<String>,
    /// Hash of the rollout spec the state belongs to.
    pub spec_hash: String,
    /// In a cluster, the replica that leads (decides) the rollouts
    /// (docs/cluster.md); absent for a single flagd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
}

/// The answer of `GET /api/v1/rollouts`: the served ruleset's rollouts,
/// in flag order. Generic only so that the server can fill it with what
/// its controller hands out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutList<S = RolloutStatus> {
    /// One per flag with a rollout and a record.
    pub rollouts: Vec<S>,
    /// In a cluster: this replica, the leader, and whether the store
    /// answers (docs/cluster.md); absent for a single flagd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterView>,
}
