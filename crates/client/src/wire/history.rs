//! A rollout's check history as flagd's API answers it
//! (`GET /api/v1/rollouts/{flag}/history`): every health check round the
//! controller ran for the rollout in service, with what each check
//! measured, kept in the rollout store for the life of the rollout
//! (docs/rollouts.md, Check history). The dashboard's charts are drawn
//! from it (docs/dashboard.md).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::rollout::CheckOutcome;

/// What one check measured in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// The check's name.
    pub name: String,
    /// The measured value (a comparison: the difference of the failure
    /// rates, rollout − baseline); none when there was no data.
    pub value: Option<f64>,
    /// Pass, fail or no data.
    pub outcome: CheckOutcome,
    /// Why, for fail and no data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A comparison's p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}

/// One check round, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRound {
    /// When the round ran.
    pub at: Timestamp,
    /// The rollout spec it ran for.
    pub spec_hash: String,
    /// The stage it measured (0-based; 0 for other strategies).
    pub stage: u32,
    /// The percentage served while it measured.
    pub percentage: f64,
    /// The round's outcome: `fail` if a check failed, else `no_data` if
    /// one had none, else `pass`.
    pub outcome: CheckOutcome,
    /// The transition the round caused (`check_failed`, `rolled_back`,
    /// `paused`, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Each check's measurement, in the spec's order.
    pub checks: Vec<HistoryPoint>,
}

impl HistoryRound {
    /// The round's outcome from its checks' (see [`HistoryRound::outcome`]).
    pub fn outcome_of(checks: &[HistoryPoint]) -> CheckOutcome {
        if checks.iter().any(|c| c.outcome == CheckOutcome::Fail) {
            CheckOutcome::Fail
        } else if checks.iter().any(|c| c.outcome == CheckOutcome::NoData) {
            CheckOutcome::NoData
        } else {
            CheckOutcome::Pass
        }
    }
}

/// A check of the served spec, with the bounds its values are judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryCheck {
    /// The check's name.
    pub name: String,
    /// `threshold` or `baseline` (`compare: baseline`).
    pub kind: String,
    /// A threshold's lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// A threshold's upper bound; a comparison's tolerance (its value, the
    /// difference of the rates, fails only well above it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The query template as written (a comparison: its failures query).
    pub query: String,
}

/// The answer of `GET /api/v1/rollouts/{flag}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutHistory {
    /// The flag.
    pub flag: String,
    /// The rollout spec in service; only its rounds are kept.
    pub spec_hash: String,
    /// The spec's checks, in order.
    pub checks: Vec<HistoryCheck>,
    /// How many rounds are kept whole; beyond it older rounds are thinned
    /// (docs/rollouts.md, Check history).
    pub limit: usize,
    /// The rounds, oldest first.
    pub rounds: Vec<HistoryRound>,
}
