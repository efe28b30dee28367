//! A rollout's status as flagd's API answers it (`GET /api/v1/rollouts`,
//! `GET /api/v1/rollouts/{flag}`, and every steering call) and as
//! `flagctl rollout` reads it back: one type on both sides, so the client
//! cannot miss a field the server renamed.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::state::{CheckResult, Phase};
use super::store::ClusterView;
use crate::model::Strategy;

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
