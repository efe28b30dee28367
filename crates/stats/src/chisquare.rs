//! Pearson's chi-square tests, without continuity correction.
//!
//! - [`independence`]: are outcome and variant independent? The overall
//!   test of an A/B/n conversion experiment ("does any variant differ?"),
//!   one test instead of many pairwise ones.
//! - [`goodness_of_fit`]: do observed counts follow the expected shares?
//!   The sample-ratio-mismatch check of exposures against the split's
//!   weights.
//!
//! Yates' correction is left out on purpose: it is conservative, applies to
//! 2×2 tables only, and scipy's `chi2_contingency(correction=False)` and
//! `chisquare` — the references the tests compare with — do not apply it.

use super::dist::chi2_sf;
use super::{StatsError, non_negative};

/// A chi-square statistic, its degrees of freedom and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareTest {
    /// `Σ (observed − expected)² / expected`; infinite when a cell expected
    /// to be empty is not.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// `P(χ²(df) > statistic)`.
    pub p_value: f64,
}

impl ChiSquareTest {
    fn of(statistic: f64, df: f64) -> Self {
        let p_value = if statistic.is_infinite() {
            0.0
        } else if df <= 0.0 || statistic == 0.0 {
            1.0
        } else {
            chi2_sf(statistic, df)
        };
        ChiSquareTest {
            statistic,
            df,
            p_value,
        }
    }
}

/// The test of independence of an `r × c` table of counts (rows: variants,
/// columns: outcomes).
///
/// A column with no counts at all (no conversions anywhere yet) carries no
/// information and is left out, as is its degree of freedom; with fewer
/// than two columns left there is nothing to compare and the answer is
/// statistic 0, p = 1 (scipy refuses such a table). Every row needs a count.
pub fn independence(table: &[Vec<f64>]) -> Result<ChiSquareTest, StatsError> {
    let rows = table.len();
    if rows < 2 {
        return Err(StatsError::TooFewVariants(rows));
    }
    let cols = table[0].len();
    if table.iter().any(|r| r.len() != cols) {
        return Err(StatsError::Data(
            "the rows of a contingency table must have the same length".into(),
        ));
    }
    for (i, row) in table.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            non_negative(|| format!("cell ({i}, {j}) of the table"), v)?;
        }
    }
    let row_sums: Vec<f64> = table.iter().map(|r| r.iter().sum()).collect();
    if let Some(i) = row_sums.iter().position(|&s| s == 0.0) {
        return Err(StatsError::TooFew {
            what: format!("row {i} of the table"),
            n: 0.0,
            unit: "counts",
            min: 1.0,
        });
    }
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| table.iter().map(|r| r[j]).sum())
        .collect();
    let total: f64 = row_sums.iter().sum();
    let used: Vec<usize> = (0..cols).filter(|&j| col_sums[j] > 0.0).collect();
    if used.len() < 2 {
        return Ok(ChiSquareTest::of(0.0, 0.0));
    }
    let mut statistic = 0.0;
    for (row, row_sum) in table.iter().zip(&row_sums) {
        for &j in &used {
            let expected = row_sum * col_sums[j] / total;
            statistic += (row[j] - expected).powi(2) / expected;
        }
    }
    let df = ((rows - 1) * (used.len() - 1)) as f64;
    Ok(ChiSquareTest::of(statistic, df))
}

/// The goodness-of-fit test of `observed` counts against shares
/// proportional to `weights` (scipy's `chisquare(f_obs, f_exp)` with
/// `f_exp = N·wᵢ/Σw`).
///
/// A weight of 0 expects no counts: if its count is 0 too the cell is left
/// out (with its degree of freedom), otherwise the mismatch is certain
/// (statistic ∞, p = 0).
pub fn goodness_of_fit(observed: &[f64], weights: &[f64]) -> Result<ChiSquareTest, StatsError> {
    if observed.len() != weights.len() {
        return Err(StatsError::Data(format!(
            "{} observed counts but {} weights",
            observed.len(),
            weights.len()
        )));
    }
    if observed.len() < 2 {
        return Err(StatsError::TooFewVariants(observed.len()));
    }
    for (i, (&o, &w)) in observed.iter().zip(weights).enumerate() {
        non_negative(|| format!("observed count {i}"), o)?;
        non_negative(|| format!("weight {i}"), w)?;
    }
    let total: f64 = observed.iter().sum();
    let weight_sum: f64 = weights.iter().sum();
    if weight_sum <= 0.0 {
        return Err(StatsError::OutOfRange {
            what: "the sum of the weights".into(),
            range: "positive",
            value: weight_sum,
        });
    }
    if total == 0.0 {
        return Ok(ChiSquareTest::of(0.0, 0.0));
    }
    let mut statistic = 0.0;
    let mut cells = 0usize;
    for (&o, &w) in observed.iter().zip(weights) {
        let expected = total * w / weight_sum;
        if expected > 0.0 {
            statistic += (o - expected).powi(2) / expected;
            cells += 1;
        } else if o > 0.0 {
            statistic = f64::INFINITY;
            cells += 1;
        }
    }
    Ok(ChiSquareTest::of(statistic, cells.saturating_sub(1) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    // scipy 1.17: chi2_contingency([[120, 880], [150, 850], [135, 865]], correction=False)
    #[test]
    fn independence_matches_scipy() {
        let t =
            independence(&[vec![120.0, 880.0], vec![150.0, 850.0], vec![135.0, 865.0]]).unwrap();
        assert!(
            (t.statistic - 3.853_564_547_206_165_7).abs() < 1e-12,
            "{t:?}"
        );
        assert_eq!(t.df, 2.0);
        assert!(
            (t.p_value - 0.145_615_997_894_983_03).abs() < 1e-12,
            "{t:?}"
        );
    }

    // scipy 1.17: chisquare([5150, 4850], [5000, 5000])
    #[test]
    fn goodness_of_fit_matches_scipy() {
        let t = goodness_of_fit(&[5150.0, 4850.0], &[50.0, 50.0]).unwrap();
        assert!((t.statistic - 9.0).abs() < 1e-12);
        assert!(
            (t.p_value - 0.002_699_796_063_260_188_3).abs() < 1e-14,
            "{t:?}"
        );
    }

    #[test]
    fn no_conversions_anywhere_is_no_evidence() {
        let t = independence(&[vec![0.0, 100.0], vec![0.0, 90.0]]).unwrap();
        assert_eq!((t.statistic, t.p_value), (0.0, 1.0));
    }

    #[test]
    fn counts_where_none_were_expected_are_a_certain_mismatch() {
        let t = goodness_of_fit(&[10.0, 3.0], &[1.0, 0.0]).unwrap();
        assert_eq!(t.p_value, 0.0);
        let t = goodness_of_fit(&[10.0, 10.0, 0.0], &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!((t.statistic, t.df, t.p_value), (0.0, 1.0, 1.0));
    }

    #[test]
    fn bad_tables_are_errors() {
        assert!(independence(&[vec![1.0, 2.0]]).is_err());
        assert!(independence(&[vec![1.0, 2.0], vec![1.0]]).is_err());
        assert!(independence(&[vec![1.0, 2.0], vec![0.0, 0.0]]).is_err());
        assert!(independence(&[vec![1.0, -2.0], vec![1.0, 2.0]]).is_err());
        assert!(goodness_of_fit(&[1.0, 2.0], &[0.0, 0.0]).is_err());
        assert!(goodness_of_fit(&[1.0, f64::NAN], &[1.0, 1.0]).is_err());
    }
}
