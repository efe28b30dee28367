//! Rollouts (`rollout:`) and their health checks, as written.
//!
//! One flat struct for all five strategies: which fields a strategy takes is
//! checked by the compiler, which can then point at the offending key
//! ("`stages` is not used by strategy `linear`") instead of failing to match
//! a tagged enum.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::duration::DurationSpec;

/// How a rollout exposes `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Everyone at once.
    Direct,
    /// Stages of increasing percentage, each health-gated.
    Canary,
    /// A percentage ramp computed from elapsed time.
    Linear,
    /// Everyone, inside a time window.
    Scheduled,
    /// Members of the listed segments.
    Segment,
}

impl Strategy {
    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Direct => "direct",
            Strategy::Canary => "canary",
            Strategy::Linear => "linear",
            Strategy::Scheduled => "scheduled",
            Strategy::Segment => "segment",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A flag's rollout of one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rollout {
    /// `direct`, `canary`, `linear`, `scheduled` or `segment`.
    pub strategy: Strategy,
    /// The variant served to those inside the rollout.
    #[serde(deserialize_with = "super::flag::variant_name")]
    pub serve: String,
    /// Hash salt for rollout membership (default `"<flag>:rollout"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// `canary`: the stages, in increasing percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<Stage>>,
    /// `linear`: starting percentage (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    /// `linear`: final percentage (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    /// `linear`: how long the ramp from `from` to `to` takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<DurationSpec>,
    /// `linear`: the percentage moves in increments of this size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// `scheduled`: start of the window (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// `scheduled`: end of the window (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// `scheduled`: IANA zone for local `start`/`end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `segment`: the segments served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    /// Health checks gating progression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// The seed's shorthand for two checks on the named templates
    /// `error_rate` and `latency_p99`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SeedMetrics>,
    /// On failed health: `true` rolls back to 0 %, `false` pauses.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub rollback_on_error: bool,
}

fn default_true() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

/// One canary stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Share of users inside the rollout, 0–100 (three decimals honoured).
    pub percentage: f64,
    /// How long the stage lasts at least; the last stage may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationSpec>,
}

/// What to do when a check has no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoData {
    /// Count it as a failed check.
    Fail,
    /// Pause the rollout until someone resumes it.
    #[default]
    Pause,
    /// Skip the check this round (the stage still needs a pass to advance).
    Ignore,
}

/// Health checks of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Health {
    /// How often checks run during a stage (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationSpec>,
    /// Failed checks in one stage that trigger rollback (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_limit: Option<u32>,
    /// `fail`, `pause` (default) or `ignore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_data: Option<NoData>,
    /// The checks.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// One health check: a query and the bounds its value must stay within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Name shown in status and audit.
    pub name: String,
    /// A named template from `flags.toml` or inline PromQL.
    pub query: String,
    /// Fails when the value is above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Fails when the value is below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
}

/// The seed's `metrics: {errorRateThreshold, latencyP99Threshold}` shorthand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeedMetrics {
    /// Maximum of the `error_rate` template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate_threshold: Option<f64>,
    /// Maximum of the `latency_p99` template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_threshold: Option<f64>,
}
