//! Binary outcomes: a conversion rate and its comparison with another.
//!
//! - The rate's interval is Wilson's score interval, because the plain Wald
//!   interval `p ± z·√(p(1−p)/n)` collapses to a point at 0 conversions and
//!   undercovers for small `n` or rates near 0 and 1 — exactly where early
//!   experiment data lives.
//! - The difference's interval is the unpooled Wald interval: away from the
//!   null there is no reason to assume both arms share one rate.
//! - The test is the two-sided z-test with the *pooled* variance, the
//!   variance under the null hypothesis "both rates are equal"
//!   (statsmodels' `proportions_ztest`).

use super::dist::normal_two_sided;
use super::{Interval, StatsError, critical_z, non_negative};

/// Successes out of trials (conversions out of exposures), validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    successes: f64,
    trials: f64,
}

impl Counts {
    /// `successes` of `trials`: both finite and ≥ 0, `successes ≤ trials`,
    /// and at least one trial. Counts may be fractional, as Prometheus'
    /// `increase()` returns them.
    pub fn new(successes: f64, trials: f64) -> Result<Self, StatsError> {
        non_negative(|| "the number of successes".into(), successes)?;
        non_negative(|| "the number of trials".into(), trials)?;
        if successes > trials {
            return Err(StatsError::Exceeds {
                what: "counts".into(),
                part: "successes",
                count: successes,
                whole: "trials",
                total: trials,
            });
        }
        if trials == 0.0 {
            return Err(StatsError::TooFew {
                what: "the group".into(),
                n: 0.0,
                unit: "trials",
                min: 1.0,
            });
        }
        Ok(Counts { successes, trials })
    }

    /// The number of successes.
    pub fn successes(&self) -> f64 {
        self.successes
    }

    /// The number of trials.
    pub fn trials(&self) -> f64 {
        self.trials
    }

    /// `successes / trials`.
    pub fn rate(&self) -> f64 {
        self.successes / self.trials
    }
}

/// Wilson's score interval for the rate at confidence `level` (e.g. 0.95).
///
/// `center = (p + z²/2n) / (1 + z²/n)`,
/// `half = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²)`, clipped to `[0, 1]`.
pub fn wilson_interval(counts: Counts, level: f64) -> Result<Interval, StatsError> {
    let z = critical_z(level)?;
    let (p, n) = (counts.rate(), counts.trials);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Ok(Interval {
        lower: (center - half).max(0.0),
        upper: (center + half).min(1.0),
    })
}

/// The unpooled Wald interval for `rate(treatment) − rate(control)`:
/// `d ± z·√(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀)`.
pub fn wald_difference_interval(
    treatment: Counts,
    control: Counts,
    level: f64,
) -> Result<Interval, StatsError> {
    let z = critical_z(level)?;
    let (p1, p0) = (treatment.rate(), control.rate());
    let se = (p1 * (1.0 - p1) / treatment.trials + p0 * (1.0 - p0) / control.trials).sqrt();
    Ok(Interval::around(p1 - p0, z * se))
}

/// A z statistic and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    /// `(p₁ − p₀) / SE`.
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
}

/// The variance of `p₁ − p₀` under the null hypothesis of one common rate:
/// `p̄(1−p̄)(1/n₁ + 1/n₀)` with `p̄` the pooled rate. Shared by the z-test and
/// the sequential test so that both measure evidence on the same scale.
pub fn pooled_variance(treatment: Counts, control: Counts) -> f64 {
    let pooled = (treatment.successes + control.successes) / (treatment.trials + control.trials);
    pooled * (1.0 - pooled) * (1.0 / treatment.trials + 1.0 / control.trials)
}

/// The two-sided two-proportion z-test with pooled variance.
///
/// When the pooled rate is 0 or 1 (no conversions at all, or all converted)
/// both arms are identical and the variance is 0: the statistic is 0 and the
/// p-value 1, where statsmodels would return NaN.
pub fn two_proportion_z_test(treatment: Counts, control: Counts) -> ZTest {
    let variance = pooled_variance(treatment, control);
    if variance <= 0.0 {
        return ZTest {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let statistic = (treatment.rate() - control.rate()) / variance.sqrt();
    ZTest {
        statistic,
        p_value: normal_two_sided(statistic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(s: f64, n: f64) -> Counts {
        Counts::new(s, n).unwrap()
    }

    #[test]
    fn counts_reject_impossible_numbers() {
        assert!(matches!(
            Counts::new(-1.0, 10.0),
            Err(StatsError::Negative { .. })
        ));
        assert!(matches!(
            Counts::new(11.0, 10.0),
            Err(StatsError::Exceeds { .. })
        ));
        assert!(matches!(
            Counts::new(f64::NAN, 10.0),
            Err(StatsError::NotFinite { .. })
        ));
        assert!(matches!(
            Counts::new(0.0, f64::INFINITY),
            Err(StatsError::NotFinite { .. })
        ));
        assert!(matches!(
            Counts::new(0.0, 0.0),
            Err(StatsError::TooFew { .. })
        ));
    }

    // statsmodels 0.15: proportion_confint(12, 100, method="wilson")
    #[test]
    fn wilson_matches_statsmodels() {
        let ci = wilson_interval(counts(12.0, 100.0), 0.95).unwrap();
        assert!(
            (ci.lower - 0.069_994_064_370_194_88).abs() < 1e-12,
            "{ci:?}"
        );
        assert!(
            (ci.upper - 0.198_120_994_267_114_21).abs() < 1e-12,
            "{ci:?}"
        );
    }

    #[test]
    fn wilson_at_zero_conversions_is_not_a_point() {
        let ci = wilson_interval(counts(0.0, 50.0), 0.95).unwrap();
        assert_eq!(ci.lower, 0.0);
        assert!(ci.upper > 0.05 && ci.upper < 0.08, "{ci:?}");
    }

    #[test]
    fn identical_arms_with_no_conversions_have_p_one() {
        let t = two_proportion_z_test(counts(0.0, 100.0), counts(0.0, 80.0));
        assert_eq!((t.statistic, t.p_value), (0.0, 1.0));
    }

    #[test]
    fn z_test_is_antisymmetric() {
        let a = two_proportion_z_test(counts(130.0, 1000.0), counts(100.0, 1000.0));
        let b = two_proportion_z_test(counts(100.0, 1000.0), counts(130.0, 1000.0));
        assert!(a.statistic > 0.0);
        assert_eq!(a.statistic, -b.statistic);
        assert_eq!(a.p_value, b.p_value);
    }

    #[test]
    fn confidence_level_is_validated() {
        assert!(wilson_interval(counts(1.0, 2.0), 1.0).is_err());
        assert!(wald_difference_interval(counts(1.0, 2.0), counts(1.0, 2.0), 0.0).is_err());
    }
}
