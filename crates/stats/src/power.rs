//! Sample size: how many units each variant needs before a real effect of
//! the minimum detectable size (relative to the control) is found with the
//! given power by a two-sided test at level α.
//!
//! The closed forms below are the standard normal-approximation ones (Fleiss,
//! *Statistical Methods for Rates and Proportions*, §4.2, without continuity
//! correction, for rates; the two-sample z formula for means). They answer a
//! planning question from estimates, so their precision is that of the
//! control's estimate, not of the last digit.

use super::dist::normal_quantile;
use super::{StatsError, non_negative, unit_open};

fn check(relative_mde: f64, alpha: f64, power: f64) -> Result<(f64, f64), StatsError> {
    if !(relative_mde > 0.0 && relative_mde.is_finite()) {
        return Err(StatsError::OutOfRange {
            what: "the minimum detectable effect".into(),
            range: "a positive number",
            value: relative_mde,
        });
    }
    let alpha = unit_open("alpha", alpha)?;
    let power = unit_open("the power", power)?;
    Ok((normal_quantile(1.0 - alpha / 2.0), normal_quantile(power)))
}

/// Units per variant to detect a change of the rate from `baseline_rate` to
/// `baseline_rate × (1 + relative_mde)`:
///
/// ```text
/// n = (z₁₋α/₂·√(2p̄(1−p̄)) + z_power·√(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)²,  p̄ = (p₁+p₂)/2
/// ```
///
/// `None` when no such effect exists: a baseline of 0 (a relative change of
/// nothing is nothing) or a target rate above 1.
pub fn sample_size_proportions(
    baseline_rate: f64,
    relative_mde: f64,
    alpha: f64,
    power: f64,
) -> Result<Option<f64>, StatsError> {
    let (za, zb) = check(relative_mde, alpha, power)?;
    let p1 = non_negative(|| "the baseline rate".into(), baseline_rate)?;
    if p1 > 1.0 {
        return Err(StatsError::OutOfRange {
            what: "the baseline rate".into(),
            range: "between 0 and 1",
            value: p1,
        });
    }
    let p2 = p1 * (1.0 + relative_mde);
    if p1 == 0.0 || p2 > 1.0 {
        return Ok(None);
    }
    let mean = (p1 + p2) / 2.0;
    let numerator =
        za * (2.0 * mean * (1.0 - mean)).sqrt() + zb * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Ok(Some((numerator / (p2 - p1)).powi(2)))
}

/// Units per variant to detect a change of the mean by `relative_mde ×
/// |baseline_mean|` when values vary with `variance`:
/// `n = 2 (z₁₋α/₂ + z_power)² σ² / δ²`.
///
/// `None` for a baseline mean of 0 (no size for a relative effect) or a
/// variance of 0 (no spread observed yet to plan with).
pub fn sample_size_means(
    baseline_mean: f64,
    variance: f64,
    relative_mde: f64,
    alpha: f64,
    power: f64,
) -> Result<Option<f64>, StatsError> {
    let (za, zb) = check(relative_mde, alpha, power)?;
    if !baseline_mean.is_finite() {
        return Err(StatsError::NotFinite {
            what: "the baseline mean".into(),
            value: baseline_mean,
        });
    }
    let variance = non_negative(|| "the variance".into(), variance)?;
    let delta = relative_mde * baseline_mean.abs();
    if delta == 0.0 || variance == 0.0 {
        return Ok(None);
    }
    Ok(Some(2.0 * (za + zb).powi(2) * variance / (delta * delta)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // R's power.prop.test(p1 = 0.1, p2 = 0.11, power = 0.8) (strict = FALSE,
    // its default) inverts the same equation: n = 14750.79.
    #[test]
    fn proportions_agree_with_r_power_prop_test() {
        let n = sample_size_proportions(0.10, 0.10, 0.05, 0.8)
            .unwrap()
            .unwrap();
        assert!((n - 14_750.790_469_044_954).abs() < 1e-6, "{n}");
    }

    #[test]
    fn smaller_effects_need_more_units() {
        let big = sample_size_proportions(0.1, 0.2, 0.05, 0.8)
            .unwrap()
            .unwrap();
        let small = sample_size_proportions(0.1, 0.05, 0.05, 0.8)
            .unwrap()
            .unwrap();
        assert!(small > 3.5 * big, "{small} vs {big}");
    }

    #[test]
    fn means_formula() {
        // σ = 10, δ = 0.1 × 50 = 5: n = 2·(1.959964 + 0.841621)²·100/25.
        let n = sample_size_means(50.0, 100.0, 0.1, 0.05, 0.8)
            .unwrap()
            .unwrap();
        let expected = 2.0 * (1.959_963_984_540_054 + 0.841_621_233_572_914_3_f64).powi(2) * 4.0;
        assert!((n - expected).abs() < 1e-9 * expected, "{n} vs {expected}");
    }

    #[test]
    fn undefined_plans_are_none_and_bad_parameters_errors() {
        assert_eq!(sample_size_proportions(0.0, 0.1, 0.05, 0.8).unwrap(), None);
        assert_eq!(sample_size_proportions(0.95, 0.1, 0.05, 0.8).unwrap(), None);
        assert_eq!(sample_size_means(0.0, 4.0, 0.1, 0.05, 0.8).unwrap(), None);
        assert!(sample_size_proportions(0.1, 0.0, 0.05, 0.8).is_err());
        assert!(sample_size_proportions(0.1, 0.1, 1.0, 0.8).is_err());
        assert!(sample_size_proportions(1.5, 0.1, 0.05, 0.8).is_err());
        assert!(sample_size_means(f64::NAN, 1.0, 0.1, 0.05, 0.8).is_err());
    }
}
