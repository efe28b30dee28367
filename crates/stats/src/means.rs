//! Continuous metrics (revenue per user, time on page): a mean and its
//! comparison with another.
//!
//! Data arrives as sufficient statistics — the count `n`, `Σx` and `Σx²` per
//! variant — because that is what a metrics backend can sum cheaply. From
//! them: the mean with a t interval, Welch's t-test (which does not assume
//! equal variances: a treatment often changes the spread as well as the
//! mean), Welch's interval for the difference, and a one-way ANOVA across
//! all variants.

use super::dist::{f_sf, t_quantile, t_two_sided};
use super::{Interval, StatsError, non_negative, unit_open};

/// Count, mean and sample variance of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    n: f64,
    mean: f64,
    variance: f64,
}

impl Summary {
    /// From `n`, `Σx` and `Σx²`. Needs `n ≥ 2` (a variance needs two
    /// values). `Σx² − (Σx)²/n` may come out slightly negative by rounding
    /// when all values are nearly equal; that is read as 0, but a clearly
    /// negative one (more than 10⁻⁹ of `Σx²`) is an error: the sums do not
    /// describe any data.
    pub fn from_sums(n: f64, sum: f64, sum_squares: f64) -> Result<Self, StatsError> {
        non_negative(|| "the number of observations".into(), n)?;
        if !sum.is_finite() {
            return Err(StatsError::NotFinite {
                what: "sum".into(),
                value: sum,
            });
        }
        non_negative(|| "sumSquares".into(), sum_squares)?;
        if n < 2.0 {
            return Err(StatsError::TooFew {
                what: "the group".into(),
                n,
                unit: "observations",
                min: 2.0,
            });
        }
        let mean = sum / n;
        let floor = sum * mean;
        let ss = sum_squares - floor;
        if ss < -1e-9 * sum_squares.max(f64::MIN_POSITIVE) {
            return Err(StatsError::NotSumOfSquares {
                what: "the group".into(),
                sum_squares,
                floor,
            });
        }
        Summary::new(n, mean, ss.max(0.0) / (n - 1.0))
    }

    /// From the count, the mean and the sample variance (divisor `n − 1`).
    pub fn new(n: f64, mean: f64, variance: f64) -> Result<Self, StatsError> {
        non_negative(|| "the number of observations".into(), n)?;
        non_negative(|| "the variance".into(), variance)?;
        if !mean.is_finite() {
            return Err(StatsError::NotFinite {
                what: "the mean".into(),
                value: mean,
            });
        }
        if n < 2.0 {
            return Err(StatsError::TooFew {
                what: "the group".into(),
                n,
                unit: "observations",
                min: 2.0,
            });
        }
        Ok(Summary { n, mean, variance })
    }

    /// The number of observations.
    pub fn n(&self) -> f64 {
        self.n
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample variance (divisor `n − 1`).
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// `variance / n`: the squared standard error of the mean.
    fn var_of_mean(&self) -> f64 {
        self.variance / self.n
    }
}

/// The t interval for the mean: `x̄ ± t(1 − α/2, n − 1)·s/√n`.
pub fn t_interval(summary: Summary, level: f64) -> Result<Interval, StatsError> {
    let level = unit_open("the confidence level", level)?;
    let t = t_quantile(0.5 + level / 2.0, summary.n - 1.0);
    Ok(Interval::around(
        summary.mean,
        t * summary.var_of_mean().sqrt(),
    ))
}

/// A t statistic, its degrees of freedom and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// `(x̄₁ − x̄₀) / SE`; infinite when both variances are 0 and the means differ.
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

/// Welch–Satterthwaite degrees of freedom of `x̄₁ − x̄₀`; with both
/// variances 0 it is undefined and `n₁ + n₀ − 2` is used.
fn welch_df(treatment: Summary, control: Summary) -> f64 {
    let (v1, v0) = (treatment.var_of_mean(), control.var_of_mean());
    let den = v1 * v1 / (treatment.n - 1.0) + v0 * v0 / (control.n - 1.0);
    if den > 0.0 {
        (v1 + v0).powi(2) / den
    } else {
        treatment.n + control.n - 2.0
    }
}

/// Welch's two-sided t-test of `mean(treatment) − mean(control)`
/// (scipy's `ttest_ind(equal_var=False)`).
///
/// Both variances 0: equal means give statistic 0 and p = 1; different
/// means are a certain difference, statistic ±∞ and p = 0.
pub fn welch_t_test(treatment: Summary, control: Summary) -> TTest {
    let diff = treatment.mean - control.mean;
    let se2 = treatment.var_of_mean() + control.var_of_mean();
    let df = welch_df(treatment, control);
    if se2 <= 0.0 {
        return if diff == 0.0 {
            TTest {
                statistic: 0.0,
                df,
                p_value: 1.0,
            }
        } else {
            TTest {
                statistic: diff.signum() * f64::INFINITY,
                df,
                p_value: 0.0,
            }
        };
    }
    let statistic = diff / se2.sqrt();
    TTest {
        statistic,
        df,
        p_value: t_two_sided(statistic, df),
    }
}

/// Welch's interval for `mean(treatment) − mean(control)`:
/// `d ± t(1 − α/2, df_W)·√(s₁²/n₁ + s₀²/n₀)`.
pub fn welch_difference_interval(
    treatment: Summary,
    control: Summary,
    level: f64,
) -> Result<Interval, StatsError> {
    let level = unit_open("the confidence level", level)?;
    let se = (treatment.var_of_mean() + control.var_of_mean()).sqrt();
    let diff = treatment.mean - control.mean;
    if se == 0.0 {
        return Ok(Interval::around(diff, 0.0));
    }
    let t = t_quantile(0.5 + level / 2.0, welch_df(treatment, control));
    Ok(Interval::around(diff, t * se))
}

/// An F statistic with its degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FTest {
    /// Between-group over within-group mean square.
    pub statistic: f64,
    /// `k − 1`.
    pub df_between: f64,
    /// `N − k`.
    pub df_within: f64,
    /// `P(F > statistic)`.
    pub p_value: f64,
}

/// One-way ANOVA across all groups (scipy's `f_oneway`).
///
/// The overall question is "does the variant make any difference?", and
/// under that null hypothesis a randomized experiment's arms have one
/// distribution, hence one variance: the classical F-test is the test of it.
/// No spread within the groups: equal means give F = 0, p = 1; different
/// means F = ∞, p = 0.
pub fn one_way_anova(groups: &[Summary]) -> Result<FTest, StatsError> {
    if groups.len() < 2 {
        return Err(StatsError::TooFewVariants(groups.len()));
    }
    let k = groups.len() as f64;
    let total: f64 = groups.iter().map(|g| g.n).sum();
    let grand = groups.iter().map(|g| g.n * g.mean).sum::<f64>() / total;
    let between: f64 = groups.iter().map(|g| g.n * (g.mean - grand).powi(2)).sum();
    let within: f64 = groups.iter().map(|g| (g.n - 1.0) * g.variance).sum();
    let (df_between, df_within) = (k - 1.0, total - k);
    let (statistic, p_value) = if within > 0.0 {
        let f = (between / df_between) / (within / df_within);
        (f, f_sf(f, df_between, df_within))
    } else if between > 0.0 {
        (f64::INFINITY, 0.0)
    } else {
        (0.0, 1.0)
    };
    Ok(FTest {
        statistic,
        df_between,
        df_within,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The values 1, 2, 3, 4 and 2, 4, 6, 8, 10.
    fn a() -> Summary {
        Summary::from_sums(4.0, 10.0, 30.0).unwrap()
    }
    fn b() -> Summary {
        Summary::from_sums(5.0, 30.0, 220.0).unwrap()
    }

    #[test]
    fn summary_from_sums() {
        let s = a();
        assert_eq!(s.mean(), 2.5);
        assert!((s.variance() - 5.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn impossible_sums_are_rejected() {
        // Σx² = 10 < (Σx)²/n = 25.
        assert!(matches!(
            Summary::from_sums(4.0, 10.0, 10.0),
            Err(StatsError::NotSumOfSquares { .. })
        ));
        assert!(matches!(
            Summary::from_sums(1.0, 3.0, 9.0),
            Err(StatsError::TooFew { .. })
        ));
        assert!(matches!(
            Summary::from_sums(4.0, f64::INFINITY, 9.0),
            Err(StatsError::NotFinite { .. })
        ));
    }

    // scipy 1.17: ttest_ind([2,4,6,8,10], [1,2,3,4], equal_var=False)
    #[test]
    fn welch_matches_scipy() {
        let t = welch_t_test(b(), a());
        assert!(
            (t.statistic - 2.251_436_323_159_369_5).abs() < 1e-12,
            "{t:?}"
        );
        assert!((t.df - 5.520_787_746_170_677).abs() < 1e-9, "{t:?}");
        assert!(
            (t.p_value - 0.069_133_593_192_392_37).abs() < 1e-10,
            "{t:?}"
        );
    }

    // scipy 1.17: f_oneway([1,2,3,4], [2,4,6,8,10])
    #[test]
    fn anova_matches_scipy() {
        let f = one_way_anova(&[a(), b()]).unwrap();
        assert!((f.statistic - 4.234_567_901_234_567).abs() < 1e-12, "{f:?}");
        assert!(
            (f.p_value - 0.078_619_235_058_693_78).abs() < 1e-10,
            "{f:?}"
        );
    }

    #[test]
    fn constant_groups_give_certain_answers() {
        let one = Summary::new(10.0, 1.0, 0.0).unwrap();
        let two = Summary::new(10.0, 2.0, 0.0).unwrap();
        assert_eq!(welch_t_test(one, one).p_value, 1.0);
        assert_eq!(welch_t_test(two, one).p_value, 0.0);
        assert_eq!(one_way_anova(&[one, two]).unwrap().p_value, 0.0);
        assert_eq!(one_way_anova(&[one, one]).unwrap().p_value, 1.0);
    }
}
