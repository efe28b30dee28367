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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rollout {
    /// `direct`, `canary`, `linear`, `scheduled` or `segment`.
    pub strategy: Strategy,
    /// The variant served to those inside the rollout.
    #[serde(deserialize_with = "super::flag::variant_name")]
    pub serve: String,
    /// Hash salt for rollout membership (default `"<flag>:rollout"`).
    pub salt: Option<String>,
    /// `canary`: the stages, in increasing percentage.
    pub stages: Option<Vec<Stage>>,
    /// `linear`: starting percentage (default 0).
    pub from: Option<f64>,
    /// `linear`: final percentage (default 100).
    pub to: Option<f64>,
    /// `linear`: how long the ramp from `from` to `to` takes.
    pub over: Option<DurationSpec>,
    /// `linear`: the percentage moves in increments of this size.
    pub step: Option<f64>,
    /// `scheduled`: start of the window (inclusive).
    pub start: Option<String>,
    /// `scheduled`: end of the window (exclusive).
    pub end: Option<String>,
    /// `scheduled`: IANA zone for local `start`/`end`.
    pub timezone: Option<String>,
    /// `segment`: the segments served.
    pub segments: Option<Vec<String>>,
    /// Health checks gating progression.
    pub health: Option<Health>,
    /// A shorthand for two checks on the named templates
    /// `error_rate` and `latency_p99`.
    pub metrics: Option<MetricsShorthand>,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Share of users inside the rollout, 0–100 (three decimals honoured).
    pub percentage: f64,
    /// How long the stage lasts at least; the last stage may omit it.
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Health {
    /// How often checks run during a stage (default 30s).
    pub interval: Option<DurationSpec>,
    /// Failed checks in one stage that trigger rollback (default 1).
    pub failure_limit: Option<u32>,
    /// `fail`, `pause` (default) or `ignore`.
    pub no_data: Option<NoData>,
    /// Run every `interval`; any failure counts towards `failureLimit`.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// One health check, of one of two kinds:
///
/// - a **threshold** check: `query` and the bounds (`max`, `min`) its value
///   must stay within;
/// - a **comparison** (`compare: baseline`): `failures` and `total`, each
///   queried for the rollout variant and for the `baseline` variant, and a
///   guardrail test of whether the rollout variant fails more often than
///   the baseline by more than `tolerance` (`stats::guardrail`).
///
/// One flat struct, like [`Rollout`]: the compiler says which key belongs to
/// which kind ("`max` is not used by a `compare: baseline` check") instead
/// of serde failing to match an untagged enum. Threshold fields come first
/// and the others are skipped when absent, so a threshold check serializes
/// (and hashes: the rollout's spec hash) exactly as before comparisons
/// existed.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Check {
    /// Name shown in status and audit.
    pub name: String,
    /// Threshold: a named template from `flags.toml` or inline PromQL.
    pub query: Option<String>,
    /// Threshold: fails when the value is above.
    pub max: Option<f64>,
    /// Threshold: fails when the value is below.
    pub min: Option<f64>,
    /// Makes this a comparison check; `baseline` is the only kind.
    pub compare: Option<Compare>,
    /// Comparison: the variant compared with (default: the flag's
    /// `offVariant`, what users outside the rollout get).
    #[serde(
        default,
        deserialize_with = "super::flag::opt_variant_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub baseline: Option<String>,
    /// Comparison: the query counting failures (errors) of `{{variant}}`.
    pub failures: Option<String>,
    /// Comparison: the query counting all requests of `{{variant}}`.
    pub total: Option<String>,
    /// Comparison: how much higher the rollout variant's failure rate may
    /// be, absolute (0.002 = 0.2 percentage points; default 0).
    pub tolerance: Option<f64>,
    /// Comparison: one-sided significance level (default 0.05).
    pub alpha: Option<f64>,
    /// Comparison: fewer requests than this in either variant is "no data"
    /// (default 100).
    pub min_samples: Option<f64>,
}

impl Check {
    /// A threshold check (`query` with `max` and/or `min`).
    pub fn threshold(
        name: impl Into<String>,
        query: impl Into<String>,
        max: Option<f64>,
        min: Option<f64>,
    ) -> Self {
        Check {
            name: name.into(),
            query: Some(query.into()),
            max,
            min,
            compare: None,
            baseline: None,
            failures: None,
            total: None,
            tolerance: None,
            alpha: None,
            min_samples: None,
        }
    }
}

/// What a comparison check compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// The `baseline` variant, serving the same traffic at the same time.
    Baseline,
}

/// The `metrics: {errorRateThreshold, latencyP99Threshold}` shorthand, written before health checks existed and still accepted.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsShorthand {
    /// Maximum of the `error_rate` template.
    pub error_rate_threshold: Option<f64>,
    /// Maximum of the `latency_p99` template.
    pub latency_p99_threshold: Option<f64>,
}
