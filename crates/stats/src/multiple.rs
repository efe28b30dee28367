//! Multiple comparisons: with several treatments, each compared with the
//! control at α, the chance that *some* comparison is a false positive grows
//! with their number. Holm's step-down procedure keeps that family-wise
//! error rate at α for any dependence between the tests, and is uniformly
//! more powerful than Bonferroni, at no extra assumption.

use super::StatsError;

/// Holm-adjusted p-values, in the order given (statsmodels'
/// `multipletests(method="holm")`).
///
/// Sorted ascending `p₍₁₎ ≤ … ≤ p₍ₘ₎`, the adjusted value of `p₍ᵢ₎` is
/// `max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎)`; a hypothesis is rejected at α
/// when its adjusted p-value is ≤ α. Any valid p-values may be adjusted, the
/// always-valid sequential ones included.
pub fn holm(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    for &p in p_values {
        if !(0.0..=1.0).contains(&p) {
            return Err(StatsError::OutOfRange {
                what: "a p-value".into(),
                range: "between 0 and 1",
                value: p,
            });
        }
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let factor = (m - rank) as f64;
        running = running.max((factor * p_values[i]).min(1.0));
        adjusted[i] = running;
    }
    Ok(adjusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    // statsmodels 0.15: multipletests([0.01, 0.04, 0.03, 0.005], method="holm")[1]
    #[test]
    fn matches_statsmodels() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]).unwrap();
        assert_eq!(adj, vec![0.03, 0.06, 0.06, 0.02]);
    }

    #[test]
    fn one_test_is_unchanged_and_values_cap_at_one() {
        assert_eq!(holm(&[0.2]).unwrap(), vec![0.2]);
        assert_eq!(holm(&[0.6, 0.7]).unwrap(), vec![1.0, 1.0]);
        assert!(holm(&[]).unwrap().is_empty());
    }

    #[test]
    fn nan_is_an_error() {
        assert!(holm(&[0.1, f64::NAN]).is_err());
        assert!(holm(&[1.5]).is_err());
    }
}
