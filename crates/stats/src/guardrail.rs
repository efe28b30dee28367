//! The guardrail health check of a rollout: is the variant being rolled out
//! worse than its baseline, beyond what chance explains?
//!
//! A fixed threshold (`error_rate < 0.05`) misses a variant that doubles a
//! 0.1 % error rate and trips on a traffic-wide incident that hits every
//! variant alike. Comparing the rollout variant with the baseline serving
//! the same traffic at the same time asks the question that matters.
//!
//! **The test.** Failures `f` out of totals `n` for the rollout variant (r)
//! and the baseline (b), a `tolerance` δ ≥ 0 on the *absolute* failure rate
//! (0.002 allows 0.2 percentage points more failures), and `alpha`. The
//! hypotheses are `H₀: p_r − p_b ≤ δ` (no worse than tolerated) against
//! `H₁: p_r − p_b > δ`, tested one-sided with the Agresti–Caffo adjusted Wald
//! statistic — one failure and one success added to each group:
//!
//! ```text
//! p̃ = (f + 1) / (n + 2),   z = (p̃_r − p̃_b − δ) / √(p̃_r(1−p̃_r)/(n_r+2) + p̃_b(1−p̃_b)/(n_b+2)),   p = 1 − Φ(z)
//! ```
//!
//! (statsmodels' `test_proportions_2indep(..., value=δ, method="agresti-caffo",
//! compare="diff", alternative="larger")`). The adjustment is why: error
//! counts are often 0 in one group, where the plain Wald variance is 0 and
//! the test meaningless, and it keeps the error rate near α at the small
//! counts of a first 10 % stage.
//!
//! **Verdict.** `NoData` when either group has fewer than `minSamples`
//! total (or none at all): a guardrail never passes on silence.
//! Otherwise `Fail` when `p ≤ alpha`, else `Pass`.

use serde::{Deserialize, Serialize};

use super::dist::normal_sf;
use super::{StatsError, non_negative, unit_open};

/// Failures out of a total, as a metrics query returns them (counts or
/// `increase()` values, which may be fractional).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    /// Failed requests (errors, timeouts, …).
    pub failures: f64,
    /// All requests.
    pub total: f64,
}

pub use hotswap_flags_core::ruleset::GuardrailConfig;

/// The outcome of one guardrail check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Not significantly worse than tolerated.
    Pass,
    /// Worse than tolerated, significantly at α.
    Fail,
    /// Too few requests to judge.
    NoData,
}

impl Verdict {
    /// `pass`, `fail` or `noData`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NoData => "noData",
        }
    }
}

/// A verdict with the values it was based on, for the rollout's status and
/// audit log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailResult {
    /// Pass, fail, or not enough data to tell.
    pub verdict: Verdict,
    /// The rollout variant's failure rate (`None` without requests).
    pub rollout_rate: Option<f64>,
    /// The baseline's failure rate (`None` without requests).
    pub baseline_rate: Option<f64>,
    /// `rollout_rate − baseline_rate`, unadjusted.
    pub difference: Option<f64>,
    /// The Agresti–Caffo z statistic (`None` for no data).
    pub statistic: Option<f64>,
    /// The one-sided p-value (`None` for no data).
    pub p_value: Option<f64>,
    /// The rollout variant's counts.
    pub rollout: Failures,
    /// The baseline's counts.
    pub baseline: Failures,
    /// The parameters used.
    pub config: GuardrailConfig,
}

fn check_failures(what: &str, f: Failures) -> Result<(), StatsError> {
    non_negative(|| format!("the {what} failures"), f.failures)?;
    non_negative(|| format!("the {what} total"), f.total)?;
    if f.failures > f.total {
        return Err(StatsError::Exceeds {
            what: format!("the {what}"),
            part: "failures",
            count: f.failures,
            whole: "total",
            total: f.total,
        });
    }
    Ok(())
}

/// Runs the guardrail test (see the module documentation for the exact test).
///
/// Errors for impossible inputs: NaN or infinite numbers, negative counts,
/// more failures than requests, a tolerance outside `[0, 1)`, an alpha
/// outside `(0, 1)`, a negative `min_samples`.
pub fn evaluate(
    rollout: Failures,
    baseline: Failures,
    config: &GuardrailConfig,
) -> Result<GuardrailResult, StatsError> {
    check_failures("rollout variant's", rollout)?;
    check_failures("baseline's", baseline)?;
    let tolerance = non_negative(|| "the tolerance".into(), config.tolerance)?;
    if tolerance >= 1.0 {
        return Err(StatsError::OutOfRange {
            what: "the tolerance".into(),
            range: "at least 0 and less than 1 (a difference of failure rates)",
            value: tolerance,
        });
    }
    let alpha = unit_open("alpha", config.alpha)?;
    non_negative(|| "minSamples".into(), config.min_samples)?;

    let rate = |f: Failures| (f.total > 0.0).then(|| f.failures / f.total);
    let (rollout_rate, baseline_rate) = (rate(rollout), rate(baseline));
    let mut result = GuardrailResult {
        verdict: Verdict::NoData,
        rollout_rate,
        baseline_rate,
        difference: rollout_rate.zip(baseline_rate).map(|(r, b)| r - b),
        statistic: None,
        p_value: None,
        rollout,
        baseline,
        config: *config,
    };
    let fewest = rollout.total.min(baseline.total);
    if fewest == 0.0 || fewest < config.min_samples {
        return Ok(result);
    }
    let adjusted = |f: Failures| ((f.failures + 1.0) / (f.total + 2.0), f.total + 2.0);
    let ((pr, nr), (pb, nb)) = (adjusted(rollout), adjusted(baseline));
    let se = (pr * (1.0 - pr) / nr + pb * (1.0 - pb) / nb).sqrt();
    let z = (pr - pb - tolerance) / se;
    let p = normal_sf(z);
    result.statistic = Some(z);
    result.p_value = Some(p);
    result.verdict = if p <= alpha {
        Verdict::Fail
    } else {
        Verdict::Pass
    };
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(failures: f64, total: f64) -> Failures {
        Failures { failures, total }
    }

    fn cfg(tolerance: f64, alpha: f64, min_samples: f64) -> GuardrailConfig {
        GuardrailConfig {
            tolerance,
            alpha,
            min_samples,
        }
    }

    #[test]
    fn a_clearly_worse_variant_fails() {
        // 3 % errors against 1 %, 2000 requests each.
        let r = evaluate(f(60.0, 2000.0), f(20.0, 2000.0), &cfg(0.0, 0.05, 100.0)).unwrap();
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.p_value.unwrap() < 1e-4, "{r:?}");
        assert!((r.difference.unwrap() - 0.02).abs() < 1e-12);
    }

    #[test]
    fn the_same_rate_passes() {
        let r = evaluate(f(20.0, 2000.0), f(20.0, 2000.0), &cfg(0.0, 0.05, 100.0)).unwrap();
        assert_eq!(r.verdict, Verdict::Pass);
        assert!((r.p_value.unwrap() - 0.5).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn tolerance_absorbs_a_small_regression() {
        // 1.5 % vs 1.0 %: significant with no tolerance, within 1 point.
        let worse = f(300.0, 20_000.0);
        let base = f(200.0, 20_000.0);
        assert_eq!(
            evaluate(worse, base, &cfg(0.0, 0.05, 100.0))
                .unwrap()
                .verdict,
            Verdict::Fail
        );
        assert_eq!(
            evaluate(worse, base, &cfg(0.01, 0.05, 100.0))
                .unwrap()
                .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn a_better_variant_passes() {
        let r = evaluate(f(5.0, 5000.0), f(50.0, 5000.0), &cfg(0.0, 0.05, 100.0)).unwrap();
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.p_value.unwrap() > 0.99);
    }

    #[test]
    fn zero_failures_on_both_sides_pass_instead_of_dividing_by_zero() {
        let r = evaluate(f(0.0, 500.0), f(0.0, 500.0), &cfg(0.0, 0.05, 100.0)).unwrap();
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.statistic.unwrap().is_finite());
    }

    #[test]
    fn few_requests_are_no_data_whatever_they_show() {
        let r = evaluate(f(40.0, 50.0), f(0.0, 5000.0), &cfg(0.0, 0.05, 100.0)).unwrap();
        assert_eq!(r.verdict, Verdict::NoData);
        assert_eq!(r.p_value, None);
        assert_eq!(r.rollout_rate, Some(0.8));
        let r = evaluate(f(0.0, 0.0), f(0.0, 0.0), &cfg(0.0, 0.05, 0.0)).unwrap();
        assert_eq!(r.verdict, Verdict::NoData);
        assert_eq!(r.rollout_rate, None);
    }

    #[test]
    fn alpha_decides_borderline_cases() {
        // z ≈ 1.9: significant at 0.05, not at 0.01.
        let worse = f(130.0, 5000.0);
        let base = f(100.0, 5000.0);
        let r = evaluate(worse, base, &cfg(0.0, 0.05, 100.0)).unwrap();
        assert!(
            r.p_value.unwrap() > 0.01 && r.p_value.unwrap() < 0.05,
            "{r:?}"
        );
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            evaluate(worse, base, &cfg(0.0, 0.01, 100.0))
                .unwrap()
                .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn impossible_inputs_are_errors() {
        let ok = f(1.0, 100.0);
        let c = cfg(0.0, 0.05, 10.0);
        assert!(evaluate(f(101.0, 100.0), ok, &c).is_err());
        assert!(evaluate(ok, f(-1.0, 100.0), &c).is_err());
        assert!(evaluate(f(f64::NAN, 100.0), ok, &c).is_err());
        assert!(evaluate(ok, f(1.0, f64::INFINITY), &c).is_err());
        assert!(evaluate(ok, ok, &cfg(-0.1, 0.05, 10.0)).is_err());
        assert!(evaluate(ok, ok, &cfg(1.0, 0.05, 10.0)).is_err());
        assert!(evaluate(ok, ok, &cfg(0.0, 0.0, 10.0)).is_err());
        assert!(evaluate(ok, ok, &cfg(0.0, 0.05, f64::NAN)).is_err());
    }

    #[test]
    fn serializes_for_the_audit_log() {
        let r = evaluate(
            f(60.0, 2000.0),
            f(20.0, 2000.0),
            &GuardrailConfig::default(),
        )
        .unwrap();
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["verdict"], "fail");
        assert_eq!(json["config"]["minSamples"], 100.0);
        assert_eq!(json["rollout"]["failures"], 60.0);
    }
}
