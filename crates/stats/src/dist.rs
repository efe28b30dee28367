//! The distributions the tests need: tail probabilities and quantiles.
//!
//! The normal and chi-square distributions come from `statrs`. Student's t
//! and Fisher's F do not, for a measured reason: statrs computes them through
//! `ln Γ(a) − ln Γ(a + b)` with `a = df / 2`, and for the degrees of freedom
//! of a large experiment (10⁵ and up) that difference of two numbers near
//! `10⁶…10¹⁰` loses six or more digits. statrs' `StudentsT::inverse_cdf` is
//! off by 3·10⁻⁷ at df = 3·10⁴ and 3·10⁻⁶ at df = 10⁵, and does not return
//! at all from df ≈ 2·10⁷. Welch's test of two arms of a million users each
//! has df ≈ 2·10⁶, so we evaluate the regularized incomplete beta function
//! here: for a large first parameter by DiDonato and Morris's asymptotic
//! expansion BGRAT (ACM TOMS 18, 1992, Algorithm 708, eq. 9 — what Boost and
//! hence scipy use there), otherwise by its continued fraction, with the
//! log-gamma difference taken from its Stirling series, which has no
//! cancellation. (The continued fraction alone is not enough: for `a ≈ 10⁶`
//! and `x` near 1 its terms accumulate rounding of ~10⁻¹² each.)
//!
//! Every function here expects arguments its callers have validated (finite,
//! positive degrees of freedom, probabilities in (0, 1)); on anything else it
//! returns NaN rather than panicking, and callers check.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::function::gamma::{gamma_ur, ln_gamma};

/// `P(Z > z)` for a standard normal `Z`; accurate far into the tail.
pub(crate) fn normal_sf(z: f64) -> f64 {
    Normal::standard().sf(z)
}

/// The two-sided p-value of a z statistic: `2·P(Z > |z|)`.
pub(crate) fn normal_two_sided(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// The standard normal quantile `z` with `P(Z ≤ z) = p`, for `0 < p < 1`.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    Normal::standard().inverse_cdf(p)
}

/// `P(X > x)` for `X ~ χ²(df)`.
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(x))
}

/// `P(T > t)` for Student's `T` with `df` degrees of freedom.
pub(crate) fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 0.0 } else { 1.0 };
    }
    if df.is_infinite() {
        return normal_sf(t);
    }
    // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); 1 − x = t² / (df + t²).
    let t2 = t * t;
    let x = df / (df + t2);
    let y = t2 / (df + t2);
    let ln_x = -(t2 / df).ln_1p();
    let ln_y = if t2 == 0.0 {
        f64::NEG_INFINITY
    } else {
        2.0 * t.abs().ln() - (df + t2).ln()
    };
    let two_tailed = beta_reg(df / 2.0, 0.5, x, y, ln_x, ln_y);
    if t >= 0.0 {
        0.5 * two_tailed
    } else {
        1.0 - 0.5 * two_tailed
    }
}

/// The two-sided p-value of a t statistic: `P(|T| > |t|)`.
pub(crate) fn t_two_sided(t: f64, df: f64) -> f64 {
    (2.0 * t_sf(t.abs(), df)).min(1.0)
}

/// The density of Student's t at `t`.
fn t_pdf(t: f64, df: f64) -> f64 {
    let ln = ln_gamma_ratio(df / 2.0, 0.5)
        - 0.5 * (df * std::f64::consts::PI).ln()
        - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
    ln.exp()
}

/// The t quantile with `P(T ≤ t) = p`, for `0 < p < 1`.
///
/// Safeguarded Newton iteration on [`t_sf`] inside a bracket that bisection
/// keeps valid, started from the normal quantile with its first
/// Cornish–Fisher correction.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || p >= 1.0 || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return normal_quantile(p);
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let q = 1.0 - p; // upper tail wanted, 0 < q ≤ 1/2
    if q == 0.5 {
        return 0.0;
    }
    // Bracket [lo, hi] with t_sf(lo) > q ≥ t_sf(hi).
    let mut lo = 0.0_f64;
    let mut hi = 1.0_f64;
    while t_sf(hi, df) > q {
        lo = hi;
        hi *= 2.0;
        if !hi.is_finite() {
            return f64::NAN;
        }
    }
    let z = normal_quantile(p);
    let mut x = z + (z * z * z + z) / (4.0 * df);
    if !(x > lo && x < hi) {
        x = 0.5 * (lo + hi);
    }
    for _ in 0..200 {
        let f = t_sf(x, df) - q;
        if f > 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let step = f / t_pdf(x, df); // sf' = −pdf, so Newton adds f / pdf
        let mut next = x + step;
        if !(next.is_finite() && next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 4.0 * f64::EPSILON * next.abs() || hi - lo <= f64::EPSILON * hi {
            return next;
        }
        x = next;
    }
    x
}

/// `P(F > f)` for Fisher's `F` with `d1`, `d2` degrees of freedom.
pub(crate) fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if f.is_nan() || d1.is_nan() || d2.is_nan() || d1 <= 0.0 || d2 <= 0.0 {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    if f.is_infinite() {
        return 0.0;
    }
    // P(F > f) = I_x(d2/2, d1/2) with x = d2 / (d2 + d1·f).
    let r = d1 * f / d2;
    let x = 1.0 / (1.0 + r);
    let y = r / (1.0 + r);
    let ln_x = -r.ln_1p();
    let ln_y = r.ln() - r.ln_1p();
    beta_reg(d2 / 2.0, d1 / 2.0, x, y, ln_x, ln_y)
}

/// `ln Γ(a + b) − ln Γ(a)`, accurate when `a` is large.
///
/// For `a ≥ 20` the difference of Stirling series, arranged as
/// `(a − ½)·ln(1 + b/a) + b·ln(a + b) − b + Σ c_k [(a+b)^{1−2k} − a^{1−2k}]`,
/// has no cancellation between large terms.
fn ln_gamma_ratio(a: f64, b: f64) -> f64 {
    if a < 20.0 {
        return ln_gamma(a + b) - ln_gamma(a);
    }
    // B_2k / (2k (2k − 1)) for k = 1…5.
    const C: [f64; 5] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
    ];
    let ab = a + b;
    let mut series = 0.0;
    for (k, c) in C.iter().enumerate() {
        let e = -(2.0 * k as f64 + 1.0);
        series += c * (ab.powf(e) - a.powf(e));
    }
    (a - 0.5) * (b / a).ln_1p() + b * ab.ln() - b + series
}

/// `ln B(a, b)`, accurate when one argument is large.
fn ln_beta(a: f64, b: f64) -> f64 {
    let (big, small) = if a >= b { (a, b) } else { (b, a) };
    ln_gamma(small) - ln_gamma_ratio(big, small)
}

/// The regularized incomplete beta function `I_x(a, b)`.
///
/// The caller passes `x`, `y = 1 − x` and their logarithms, each computed
/// without cancellation, because for the t and F tails `x` is within
/// `10⁻⁸` of 1 and `1 − x` cannot be recovered from it.
fn beta_reg(a: f64, b: f64, x: f64, y: f64, ln_x: f64, ln_y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    if a >= BGRAT_MIN_A && b <= BGRAT_MAX_B {
        return bgrat(a, b, ln_x);
    }
    let front = (a * ln_x + b * ln_y - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, y) / b
    }
}

/// [`bgrat`] is used from this `a` on: checked against mpmath (40 digits) for
/// `a` from 15 to 10⁹, `b` from ½ to 20 and `x` from 0.05 to `1 − 10⁻⁹`, it is
/// within 10⁻¹³ relative; below, the continued fraction converges in a few
/// terms and is as accurate.
const BGRAT_MIN_A: f64 = 15.0;
/// ... and up to this `b` (the F test of 41 variants).
const BGRAT_MAX_B: f64 = 20.0;

/// `I_x(a, b)` for large `a` and small `b`: DiDonato and Morris's
/// asymptotic expansion (their eq. 9 to 9.6), with `T = a + (b − 1)/2` and
/// `u = −T·ln x`:
///
/// ```text
/// I_x(a, b) = Γ(a+b)/(Γ(a)·T^b) · Σₙ pₙ·Kₙ,   K₀ = Q(b, u),
/// Kₙ = ((b+2n−2)(b+2n−1)·Kₙ₋₁ + (u+b+2n−1)·(ln x / 2)^{2n−2}·h) / (4T²),  h = u^b e^{−u} / Γ(b)
/// pₙ = (b−1)/(2n+1)! + (1/n)·Σ_{m=1}^{n−1} (m·b − n)·pₙ₋ₘ/(2m+1)!
/// ```
///
/// (`Kₙ = h·Jₙ` of the paper, so that nothing is divided by an `h` that may
/// have underflowed.)
fn bgrat(a: f64, b: f64, ln_x: f64) -> f64 {
    const TERMS: usize = 30;
    let t = a + (b - 1.0) / 2.0;
    let u = -t * ln_x;
    if u.is_nan() || u <= 0.0 {
        return 1.0;
    }
    let h = (b * u.ln() - u - ln_gamma(b)).exp();
    let scale = (ln_gamma_ratio(a, b) - b * t.ln()).exp();
    // (2m + 1)! for m = 0…TERMS.
    let mut odd_factorial = [1.0_f64; TERMS + 1];
    let mut f = 1.0;
    for (m, slot) in odd_factorial.iter_mut().enumerate().skip(1) {
        let k = (2 * m) as f64;
        f *= k * (k + 1.0);
        *slot = f;
    }
    let mut p = [0.0_f64; TERMS];
    p[0] = 1.0;
    let mut k_n = gamma_ur(b, u);
    let mut sum = k_n;
    let lx2 = (ln_x / 2.0).powi(2);
    let mut lxp = 1.0;
    let t4 = 4.0 * t * t;
    let mut b2n = b;
    for n in 1..TERMS {
        let mut acc = 0.0;
        for m in 1..n {
            acc += (m as f64 * b - n as f64) * p[n - m] / odd_factorial[m];
        }
        p[n] = acc / n as f64 + (b - 1.0) / odd_factorial[n];
        k_n = (b2n * (b2n + 1.0) * k_n + (u + b2n + 1.0) * lxp * h) / t4;
        lxp *= lx2;
        b2n += 2.0;
        let term = p[n] * k_n;
        sum += term;
        if term.abs() <= f64::EPSILON * 0.1 * sum.abs() {
            break;
        }
    }
    (scale * sum).min(1.0)
}

/// The continued fraction of the incomplete beta function, by the modified
/// Lentz method (Numerical Recipes §6.4). Converges in `O(√max(a, b))`
/// terms for the `x` [`beta_reg`] passes.
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const MAX_TERMS: u32 = 1_000_000;
    let fix = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / fix(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_TERMS {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / fix(1.0 + aa * d);
        c = fix(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / fix(1.0 + aa * d);
        c = fix(1.0 + aa / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            return h;
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, rel: f64) {
        assert!(
            (actual - expected).abs() <= rel * expected.abs(),
            "{actual:e} vs {expected:e} (relative {:e})",
            ((actual - expected) / expected).abs()
        );
    }

    // Expected values: scipy 1.17 (`stats.t.ppf`, `stats.t.sf`, `stats.f.sf`),
    // which evaluates them with Boost's incomplete beta.
    #[test]
    fn t_quantiles_match_scipy_at_small_and_huge_df() {
        for (df, q) in [
            (1.0, 12.706_204_736_174_694),
            (2.5, 3.574_654_842_003_681_7),
            (30.0, 2.042_272_456_301_237_8),
            (3e4, 1.960_043_063_383_934_8),
            (1e5, 1.959_987_707_534_609_5),
            (2e6, 1.959_965_170_676_374_8),
            (2e7, 1.959_964_103_153_622),
        ] {
            close(t_quantile(0.975, df), q, 1e-12);
            close(t_quantile(0.025, df), -q, 1e-12);
        }
    }

    #[test]
    fn t_tails_match_scipy_at_small_and_huge_df() {
        for (t, df, sf) in [
            (2.5, 1.0, 1.211_189_415_908_434_1e-1),
            (8.0, 9.0, 1.106_740_840_470_007_8e-5),
            (8.0, 199.0, 5.030_730_029_388_498e-14),
            (2.5, 2e6, 6.209_705_038_380_413e-3),
            (2.5, 2e7, 6.209_669_297_032_201e-3),
            (8.0, 2e7, 6.221_288_979_864_819e-16),
            // mpmath, 50 digits:
            (12.0, 3e6, 1.779_596_996_874_822_4e-33),
            (0.3, 5e8, 0.382_088_577_873_404_3),
            (5.0, 31.0, 1.073_891_733_508_781_6e-5),
        ] {
            close(t_sf(t, df), sf, 1e-10);
            close(t_sf(-t, df), 1.0 - sf, 1e-12);
        }
    }

    #[test]
    fn f_tails_match_scipy() {
        for (f, d1, d2, sf) in [
            (3.0, 2.0, 100.0, 5.428_836_181_669_085e-2),
            (1.2, 3.0, 40000.0, 3.080_368_101_984_688e-1),
            (50.0, 4.0, 10.0, 1.410_813_484_266_123_5e-6),
            // mpmath, 50 digits:
            (2.5, 4.0, 2e6, 0.040_428_018_892_073_316),
            (30.0, 2.0, 1e5, 9.442_187_722_155_992e-14),
        ] {
            close(f_sf(f, d1, d2), sf, 1e-10);
        }
    }

    #[test]
    fn tails_beyond_f64_underflow_to_zero() {
        // mpmath: 2.07e-347 for t = 40, df = 10⁵.
        assert_eq!(t_sf(40.0, 1e5), 0.0);
        assert_eq!(t_sf(-40.0, 1e5), 1.0);
    }

    #[test]
    fn degenerate_arguments_give_nan_not_a_panic() {
        assert!(t_quantile(1.0, 5.0).is_nan());
        assert!(t_quantile(0.5, 0.0).is_nan());
        assert!(t_sf(1.0, -1.0).is_nan());
        assert!(f_sf(1.0, 0.0, 3.0).is_nan());
        assert!(normal_quantile(0.0).is_nan());
        assert_eq!(t_sf(f64::INFINITY, 3.0), 0.0);
        assert_eq!(chi2_sf(0.0, 2.0), 1.0);
    }
}
