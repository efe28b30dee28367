//! Always-valid p-values: the mixture sequential probability ratio test
//! (mSPRT) of Johari, Koomen, Pekelis and Walsh, "Peeking at A/B tests"
//! (KDD 2017), with a normal mixture.
//!
//! A fixed-horizon p-value is valid once, at a sample size chosen in
//! advance. Teams look every day and stop when it dips below α; with 20
//! looks that declares a winner in a third or more of A/A tests. The mSPRT
//! p-value may be looked at after every observation: the probability that it
//! *ever* falls to α under the null is at most α (Ville's inequality applied
//! to the mixture likelihood ratio, a nonnegative martingale under H₀).
//!
//! With an estimate `θ̂` of the difference whose variance is `V`, and the
//! mixture `θ ~ N(0, τ²)` over alternatives, the likelihood ratio of "some
//! effect" against "no effect" is
//!
//! ```text
//! Λ = √(V / (V + τ²)) · exp( θ̂² τ² / (2 V (V + τ²)) )
//! ```
//!
//! and each look's p-value is `min(1, 1/Λ)`; the reported one is the running
//! minimum over looks, so it never increases as data accumulates.
//!
//! **τ** is the effect size the test is most sensitive to. We set it to the
//! experiment's minimum detectable effect in absolute terms,
//! `τ = MDE × baseline` (see [`mixture_scale`]): the team already said which
//! effect is worth finding, and a mixture centred on much larger effects
//! would be slow to detect it while a much smaller one would spend its power
//! on effects nobody acts on. The baseline is the pooled rate (or mean) of
//! the two arms compared — under the null it estimates the control's — so
//! that a control without conversions yet does not switch the test off.
//!
//! **Never below the fixed-horizon p-value.** With the same `V` and a normal
//! statistic `z = θ̂/√V`, `1/Λ ≥ 2(1 − Φ(|z|))` for every τ: minimised over
//! τ, `1/Λ` is 1 for `|z| ≤ 1` and `|z|·e^{(1−z²)/2}` above, while Mills'
//! inequality bounds the two-sided p-value by `2φ(z)/|z|`, and
//! `|z|·e^{(1−z²)/2} / (2φ(z)/|z|) = z²·√(2πe)/2 > 1`. For means the
//! fixed-horizon test is Welch's t, whose heavier tails can exceed `1/Λ` for
//! a handful of observations; [`look_p_value`] takes the larger of the two, which
//! keeps validity (a larger p-value is conservative) and the guarantee.

use super::StatsError;

/// `τ`, the standard deviation of the normal mixture: `relative_mde ×
/// |baseline|`, or `relative_mde × spread` (the per-unit standard deviation)
/// when the baseline is 0 and a relative effect has no size.
pub fn mixture_scale(relative_mde: f64, baseline: f64, spread: f64) -> f64 {
    if baseline != 0.0 {
        relative_mde * baseline.abs()
    } else {
        relative_mde * spread
    }
}

/// One look's mSPRT p-value `min(1, 1/Λ)` for an estimate with variance
/// `variance` and mixture scale `tau`.
///
/// No variance: an estimate of 0 is no evidence (1), any other is certain
/// (0). No mixture (`τ = 0`): the test has no alternative, 1.
pub fn msprt_p_value(estimate: f64, variance: f64, tau: f64) -> Result<f64, StatsError> {
    for (what, v) in [
        ("the estimate", estimate),
        ("its variance", variance),
        ("τ", tau),
    ] {
        if !v.is_finite() {
            return Err(StatsError::NotFinite {
                what: what.into(),
                value: v,
            });
        }
    }
    if variance < 0.0 || tau < 0.0 {
        return Err(StatsError::Negative {
            what: if variance < 0.0 { "the variance" } else { "τ" }.into(),
            value: variance.min(tau),
        });
    }
    if variance == 0.0 {
        return Ok(if estimate == 0.0 { 1.0 } else { 0.0 });
    }
    let tau2 = tau * tau;
    let ln_lambda = 0.5 * (variance / (variance + tau2)).ln()
        + estimate * estimate * tau2 / (2.0 * variance * (variance + tau2));
    Ok((-ln_lambda).exp().min(1.0))
}

/// The sequential p-value of one look: the mSPRT value, but never below
/// the same look's fixed-horizon p-value (see the module documentation).
pub fn look_p_value(
    estimate: f64,
    variance: f64,
    tau: f64,
    fixed_horizon: f64,
) -> Result<f64, StatsError> {
    Ok(msprt_p_value(estimate, variance, tau)?.max(fixed_horizon))
}

/// The running always-valid p-value over successive looks at accumulating
/// data: the minimum of the looks' values, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlwaysValid {
    p: f64,
}

impl Default for AlwaysValid {
    fn default() -> Self {
        AlwaysValid { p: 1.0 }
    }
}

impl AlwaysValid {
    /// Before any look: 1.
    pub fn new() -> Self {
        AlwaysValid::default()
    }

    /// Takes one look's p-value (from [`look_p_value`]) and returns the
    /// running value, which never increases. A NaN look is ignored.
    pub fn observe(&mut self, look: f64) -> f64 {
        if look < self.p {
            self.p = look;
        }
        self.p
    }

    /// The current value.
    pub fn p_value(&self) -> f64 {
        self.p
    }
}

#[cfg(test)]
mod tests {
    use super::super::dist::normal_two_sided;
    use super::*;

    #[test]
    fn never_below_the_fixed_horizon_z_test() {
        for zi in 0..=120 {
            let z = f64::from(zi) * 0.1;
            for r in [
                1e-6_f64, 1e-3, 0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1e4, 1e8,
            ] {
                // V = 1, θ̂ = z, τ² = r.
                let p = msprt_p_value(z, 1.0, r.sqrt()).unwrap();
                let fixed = normal_two_sided(z);
                assert!(p >= fixed, "z {z}, τ²/V {r}: {p} < {fixed}");
            }
        }
    }

    #[test]
    fn tau_is_the_absolute_mde_or_falls_back_to_the_spread() {
        assert!((mixture_scale(0.05, 0.12, 0.3) - 0.006).abs() < 1e-15);
        assert!((mixture_scale(0.1, -20.0, 4.0) - 2.0).abs() < 1e-15);
        assert!((mixture_scale(0.1, 0.0, 4.0) - 0.4).abs() < 1e-15);
        assert_eq!(mixture_scale(0.1, 0.0, 0.0), 0.0);
    }

    #[test]
    fn evidence_grows_with_the_estimate() {
        let a = msprt_p_value(0.01, 1e-5, 0.005).unwrap();
        let b = msprt_p_value(0.02, 1e-5, 0.005).unwrap();
        assert!(b < a, "{b} vs {a}");
        assert_eq!(msprt_p_value(0.0, 1e-5, 0.005).unwrap(), 1.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(msprt_p_value(0.0, 0.0, 1.0).unwrap(), 1.0);
        assert_eq!(msprt_p_value(0.3, 0.0, 1.0).unwrap(), 0.0);
        assert_eq!(msprt_p_value(5.0, 1.0, 0.0).unwrap(), 1.0);
        assert!(msprt_p_value(f64::NAN, 1.0, 1.0).is_err());
        assert!(msprt_p_value(1.0, -1.0, 1.0).is_err());
        // A huge statistic underflows to 0 instead of overflowing.
        assert_eq!(msprt_p_value(1.0, 1e-12, 0.1).unwrap(), 0.0);
    }

    #[test]
    fn running_value_only_decreases() {
        let mut av = AlwaysValid::new();
        let seen: Vec<f64> = [0.8, 0.3, 0.9, f64::NAN, 0.05, 0.2]
            .into_iter()
            .map(|p| av.observe(p))
            .collect();
        assert_eq!(seen, vec![0.8, 0.3, 0.3, 0.3, 0.05, 0.05]);
    }
}
