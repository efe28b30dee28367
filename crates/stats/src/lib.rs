//! Statistics for A/B/n experiments and rollout guardrails: the
//! `hotswap-flags-stats` crate, over the core's parser for its data files
//! (docs/architecture.md, Crates).
//!
//! One concept a file; [`experiment::analyze`] puts them together for
//! `flagctl experiment analyze`, and [`guardrail::evaluate`] is the health
//! check a rollout runs against its baseline. `docs/experiments.md` gives
//! every formula and the reasons for each choice; the test suite checks the
//! numbers against scipy and statsmodels (`tests/data/stats/`).
//!
//! | file | what |
//! | --- | --- |
//! | [`proportions`] | Wilson interval, unpooled Wald difference interval, pooled two-proportion z-test |
//! | [`means`] | summaries from sums, t interval, Welch's t-test, one-way ANOVA |
//! | [`multiple`] | Holm's step-down adjustment |
//! | [`sequential`] | the mSPRT always-valid p-value (normal mixture) |
//! | [`chisquare`] | independence and goodness of fit (sample-ratio mismatch) |
//! | [`power`] | sample size per variant for a relative minimum detectable effect |
//! | [`guardrail`] | "is the rollout variant worse than its baseline?" |
//! | [`experiment`] | the data file, and the whole analysis of one experiment |
//!
//! Every function validates its inputs and returns [`StatsError`] rather than
//! panicking or producing NaN: counts come from files and metrics endpoints,
//! and a wrong number must be reported, not averaged into a result.

#![warn(missing_docs)]

use hotswap_flags_core::diagnostic::Diagnostic;

pub mod chisquare;
mod dist;
pub mod experiment;
pub mod guardrail;
pub mod means;
pub mod multiple;
pub mod power;
pub mod proportions;
pub mod sequential;

pub use experiment::{Analysis, AnalysisConfig, ExperimentData, Metric, analyze};
pub use guardrail::{Failures, GuardrailConfig, GuardrailResult, Verdict};

/// Why a statistic could not be computed from the numbers given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A number is NaN or infinite.
    #[error("{what} must be a finite number, got {value}")]
    NotFinite {
        /// Which number.
        what: String,
        /// The offending value (NaN or infinite).
        value: f64,
    },
    /// A count or sum of squares is negative.
    #[error("{what} must not be negative, got {value}")]
    Negative {
        /// Which number.
        what: String,
        /// The offending value.
        value: f64,
    },
    /// More successes (conversions, failures) than trials.
    #[error("{what}: {part} ({count}) exceed {whole} ({total})")]
    Exceeds {
        /// Where (e.g. "variant `green`").
        what: String,
        /// The part's name ("conversions").
        part: &'static str,
        /// The part.
        count: f64,
        /// The whole's name ("exposures").
        whole: &'static str,
        /// The whole.
        total: f64,
    },
    /// A group has too few observations for the statistic.
    #[error("{what} has {n} {unit}; the analysis needs at least {min}")]
    TooFew {
        /// Which group.
        what: String,
        /// How many it has.
        n: f64,
        /// What was counted ("exposures").
        unit: &'static str,
        /// How many are needed.
        min: f64,
    },
    /// `sumSquares` is smaller than `sum² / n`, which no real data gives.
    #[error(
        "{what}: sumSquares ({sum_squares}) is less than sum²/exposures ({floor}); it must be the sum of the squared values"
    )]
    NotSumOfSquares {
        /// Which group.
        what: String,
        /// The sum of squares given.
        sum_squares: f64,
        /// Its least possible value.
        floor: f64,
    },
    /// A parameter is outside its range.
    #[error("{what} must be {range}, got {value}")]
    OutOfRange {
        /// Which parameter.
        what: String,
        /// The allowed range, in words.
        range: &'static str,
        /// Its value.
        value: f64,
    },
    /// Fewer than two variants.
    #[error("an experiment needs at least two variants (a control and a treatment), got {0}")]
    TooFewVariants(usize),
    /// The control is not among the variants.
    #[error("the control `{control}` is not a variant of the data (variants: {variants})")]
    UnknownControl {
        /// The control asked for.
        control: String,
        /// The variants there are.
        variants: String,
    },
    /// The data and the configured split disagree about the variants.
    #[error("{0}")]
    VariantMismatch(String),
    /// The data does not have the expected shape.
    #[error("{0}")]
    Data(String),
    /// The data file is malformed, located as a flag file's findings are:
    /// line and column, key path (`variants.b.conversion`), a hint.
    #[error("{}", located(.0))]
    File(Diagnostic),
}

/// A file finding without its file: `3:24: unknown key `x` (at variants.b.x);
/// did you mean `y`?`.
fn located(d: &Diagnostic) -> String {
    let mut out = match d.pos {
        Some(pos) => format!("{pos}: {}", d.message),
        None => d.message.clone(),
    };
    if !d.path.is_root() {
        out.push_str(&format!(" (at {})", d.path));
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!("; {hint}"));
    }
    out
}

impl StatsError {
    fn not_finite(what: impl Into<String>, value: f64) -> Self {
        StatsError::NotFinite {
            what: what.into(),
            value,
        }
    }
}

/// A confidence interval `[lower, upper]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// `[lower, upper]`, as intervals are written.
impl serde::Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.lower, self.upper].serialize(s)
    }
}

impl Interval {
    /// `center ± half_width`.
    pub fn around(center: f64, half_width: f64) -> Self {
        Interval {
            lower: center - half_width,
            upper: center + half_width,
        }
    }

    /// True if `x` lies inside (bounds included).
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// Checks that `value` is a finite number ≥ 0.
pub(crate) fn non_negative(what: impl Fn() -> String, value: f64) -> Result<f64, StatsError> {
    if !value.is_finite() {
        return Err(StatsError::not_finite(what(), value));
    }
    if value < 0.0 {
        return Err(StatsError::Negative {
            what: what(),
            value,
        });
    }
    Ok(value)
}

/// Checks that `value` lies strictly between 0 and 1 (a significance level,
/// a confidence level, a power).
pub(crate) fn unit_open(what: &str, value: f64) -> Result<f64, StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(StatsError::OutOfRange {
            what: what.to_owned(),
            range: "strictly between 0 and 1",
            value,
        })
    }
}

/// The two-sided critical value `z` with `P(|Z| > z) = 1 − level`.
pub(crate) fn critical_z(level: f64) -> Result<f64, StatsError> {
    let level = unit_open("the confidence level", level)?;
    Ok(dist::normal_quantile(0.5 + level / 2.0))
}
