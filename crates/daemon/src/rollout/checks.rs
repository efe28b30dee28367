//! Health checks: render a query template, ask a metrics source, judge the
//! answer. Anything that is not one clean number — an HTTP error, a timeout,
//! an empty result, NaN, several series — is "no data", never "healthy".
//!
//! A comparison check (`compare: baseline`) sends four queries — failures
//! and total of the rollout variant, then of the baseline — and judges them
//! with the guardrail test of [`hotswap_flags_stats::guardrail`]. One exception to
//! "empty is no data" applies there: a *failures* query without series
//! counts 0 failures, because an error counter labelled by status code
//! typically has no series until the first error (a healthy variant must be
//! able to pass). The totals get no such exception, so silence is still
//! never healthy.

use jiff::Timestamp;

use hotswap_flags_client::prometheus::client::NO_SERIES;
use hotswap_flags_client::prometheus::{QueryValue, TemplateVars, render};
use hotswap_flags_client::wire::{BaselineComparison, CheckOutcome, CheckResult};
use hotswap_flags_core::ruleset::{CheckKind, CompiledCheck, CompiledComparison, CompiledFlag};
use hotswap_flags_stats::guardrail::{self, Failures, Verdict};

/// A check's queries for one round, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Threshold: the query. Comparison: failures and total of the rollout
    /// variant, then of the baseline.
    pub queries: Vec<String>,
    /// Comparison: the rollout variant's and the baseline's names.
    pub variants: Option<(String, String)>,
}

/// Renders `check`'s queries for `flag`'s rollout at `vars`.
pub fn render_check(
    check: &CompiledCheck,
    flag: &CompiledFlag,
    vars: &TemplateVars<'_>,
) -> Rendered {
    match &check.kind {
        CheckKind::Threshold { query, .. } => Rendered {
            queries: vec![render(query, vars)],
            variants: None,
        },
        CheckKind::Baseline(c) => {
            let baseline = &*flag.variant(c.baseline).name;
            let base = TemplateVars {
                variant: baseline,
                ..vars.clone()
            };
            Rendered {
                queries: vec![
                    render(&c.failures, vars),
                    render(&c.total, vars),
                    render(&c.failures, &base),
                    render(&c.total, &base),
                ],
                variants: Some((vars.variant.to_owned(), baseline.to_owned())),
            }
        }
    }
}

/// Judges a round's answers (one per query of `rendered`, in order).
pub fn judge(
    check: &CompiledCheck,
    rendered: Rendered,
    values: Vec<QueryValue>,
    at: Timestamp,
) -> CheckResult {
    let mut result = CheckResult {
        name: check.name.clone(),
        value: None,
        outcome: CheckOutcome::NoData,
        message: None,
        query: rendered.queries.join("\n"),
        comparison: None,
        at,
    };
    match &check.kind {
        CheckKind::Threshold { max, min, .. } => {
            let value = values.into_iter().next().unwrap_or(QueryValue::Empty);
            let (value, outcome, message) = judge_bounds(value, *max, *min);
            result.value = value;
            result.outcome = outcome;
            result.message = message;
        }
        CheckKind::Baseline(c) => {
            let (variant, baseline) = rendered.variants.unwrap_or_default();
            judge_comparison(c, &variant, &baseline, &values, &mut result);
        }
    }
    result
}

fn judge_bounds(
    value: QueryValue,
    max: Option<f64>,
    min: Option<f64>,
) -> (Option<f64>, CheckOutcome, Option<String>) {
    match value {
        QueryValue::NoData(why) => (None, CheckOutcome::NoData, Some(why)),
        QueryValue::Empty => (None, CheckOutcome::NoData, Some(NO_SERIES.into())),
        QueryValue::Value(v) => match (min, max) {
            (_, Some(max)) if v > max => (
                Some(v),
                CheckOutcome::Fail,
                Some(format!("above max {max}")),
            ),
            (Some(min), _) if v < min => (
                Some(v),
                CheckOutcome::Fail,
                Some(format!("below min {min}")),
            ),
            _ => (Some(v), CheckOutcome::Pass, None),
        },
    }
}

/// The guardrail test on the four answers; the measured rates go into the
/// result (and from there into the status and the audit log) whatever the
/// verdict.
fn judge_comparison(
    c: &CompiledComparison,
    variant: &str,
    baseline: &str,
    values: &[QueryValue],
    out: &mut CheckResult,
) {
    let labels = [
        format!("failures of `{variant}`"),
        format!("total of `{variant}`"),
        format!("failures of `{baseline}`"),
        format!("total of `{baseline}`"),
    ];
    let mut numbers = [0.0; 4];
    for (i, label) in labels.iter().enumerate() {
        numbers[i] = match values.get(i).unwrap_or(&QueryValue::Empty) {
            QueryValue::Value(v) => *v,
            // No failure series yet: no failures (see the module docs).
            QueryValue::Empty if i % 2 == 0 => 0.0,
            QueryValue::Empty => {
                out.message = Some(format!("{label}: {NO_SERIES}"));
                return;
            }
            QueryValue::NoData(why) => {
                out.message = Some(format!("{label}: {why}"));
                return;
            }
        };
    }
    let rollout = Failures {
        failures: numbers[0],
        total: numbers[1],
    };
    let base = Failures {
        failures: numbers[2],
        total: numbers[3],
    };
    let result = match guardrail::evaluate(rollout, base, &c.guardrail) {
        Ok(r) => r,
        Err(e) => {
            out.message = Some(format!("the queries' answers cannot be compared: {e}"));
            return;
        }
    };
    let pct = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| format!("{:.3} %", 100.0 * r));
    let rates = format!(
        "`{variant}` fails {} of {}, `{baseline}` {} of {}",
        pct(result.rollout_rate),
        rollout.total,
        pct(result.baseline_rate),
        base.total
    );
    out.value = result.difference;
    out.outcome = match result.verdict {
        Verdict::Pass => CheckOutcome::Pass,
        Verdict::Fail => CheckOutcome::Fail,
        Verdict::NoData => CheckOutcome::NoData,
    };
    // In percentage points, without float noise (0.7, not 0.7000000000000001).
    let tolerance = (1e9 * c.guardrail.tolerance).round() / 1e7;
    let p = result
        .p_value
        .map_or_else(|| "–".to_owned(), |p| format!("{p:.3e}"));
    out.message = Some(match result.verdict {
        Verdict::Fail => format!(
            "{rates}: worse than the baseline by more than {tolerance} pp (one-sided p = {p} ≤ α {})",
            c.guardrail.alpha
        ),
        Verdict::Pass => format!(
            "{rates}: not worse than the baseline by more than {tolerance} pp (one-sided p = {p} > α {})",
            c.guardrail.alpha
        ),
        Verdict::NoData => format!(
            "{rates}: fewer than minSamples = {} requests in a variant",
            c.guardrail.min_samples
        ),
    });
    out.comparison = Some(BaselineComparison {
        rollout_variant: variant.to_owned(),
        baseline_variant: baseline.to_owned(),
        result,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threshold(max: Option<f64>, min: Option<f64>) -> CompiledCheck {
        CompiledCheck {
            name: "errors".into(),
            kind: CheckKind::Threshold {
                query: String::new(),
                max,
                min,
            },
        }
    }

    fn one(value: QueryValue) -> (Rendered, Vec<QueryValue>) {
        let rendered = Rendered {
            queries: vec!["q".into()],
            variants: None,
        };
        (rendered, vec![value])
    }

    #[test]
    fn bounds() {
        let check = threshold(Some(0.05), Some(0.0));
        let at = Timestamp::UNIX_EPOCH;
        let outcome = |v: QueryValue| {
            let (r, values) = one(v);
            judge(&check, r, values, at).outcome
        };
        assert_eq!(outcome(QueryValue::Value(0.05)), CheckOutcome::Pass);
        assert_eq!(outcome(QueryValue::Value(0.051)), CheckOutcome::Fail);
        assert_eq!(outcome(QueryValue::Value(-1.0)), CheckOutcome::Fail);
        assert_eq!(
            outcome(QueryValue::Value(f64::INFINITY)),
            CheckOutcome::Fail
        );
        assert_eq!(
            outcome(QueryValue::NoData("x".into())),
            CheckOutcome::NoData
        );
        let (r, values) = one(QueryValue::Empty);
        let empty = judge(&check, r, values, at);
        assert_eq!(empty.outcome, CheckOutcome::NoData);
        assert_eq!(empty.message.as_deref(), Some(NO_SERIES));
    }

    fn flag() -> hotswap_flags_core::ruleset::Ruleset {
        let yaml = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout:\n      strategy: canary\n      serve: on\n      stages: [ { percentage: 10, duration: 1m }, { percentage: 100 } ]\n      health:\n        checks:\n          - { name: guard, compare: baseline, failures: 'errors{v=\"{{variant}}\",s=\"{{stage}}\"}', total: 'requests{v=\"{{variant}}\"}', tolerance: 0.001, minSamples: 100 }\n";
        hotswap_flags_core::testing::compile_yaml(yaml)
    }

    #[test]
    fn comparisons_render_four_queries_and_judge_them_with_the_guardrail() {
        let ruleset = flag();
        let f = ruleset.flag(0);
        let check = &f.rollout.as_ref().unwrap().health.checks[0];
        let vars = TemplateVars {
            flag: "f",
            variant: "on",
            stage: 1,
            percentage: 10.0,
        };
        let rendered = render_check(check, f, &vars);
        assert_eq!(
            rendered.queries,
            [
                "errors{v=\"on\",s=\"1\"}",
                "requests{v=\"on\"}",
                "errors{v=\"off\",s=\"1\"}",
                "requests{v=\"off\"}",
            ]
        );
        assert_eq!(rendered.variants, Some(("on".into(), "off".into())));
        let at = Timestamp::UNIX_EPOCH;
        let run = |values: [QueryValue; 4]| judge(check, rendered.clone(), values.to_vec(), at);
        use QueryValue::{Empty, NoData, Value};

        // 3 % against 1 %: fails, with both rates measured.
        let r = run([Value(60.0), Value(2000.0), Value(20.0), Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::Fail);
        let c = r.comparison.as_ref().unwrap();
        assert_eq!(
            (c.result.rollout_rate, c.result.baseline_rate),
            (Some(0.03), Some(0.01))
        );
        assert_eq!(c.baseline_variant, "off");
        assert!((r.value.unwrap() - 0.02).abs() < 1e-12);
        assert!(
            r.message
                .as_ref()
                .unwrap()
                .contains("worse than the baseline by more than 0.1 pp"),
            "{r:?}"
        );
        assert_eq!(r.query.lines().count(), 4);
        // Stored in the rollout's state file and read back after a restart.
        let stored = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<CheckResult>(&stored).unwrap(), r);
        let json: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(json["comparison"]["baselineRate"], 0.01);
        assert_eq!(json["comparison"]["verdict"], "fail");

        // Within the tolerance: passes.
        let r = run([Value(21.0), Value(2000.0), Value(20.0), Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");

        // No failure series on either side: zero failures, passes.
        let r = run([Empty, Value(2000.0), Empty, Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::Pass, "{r:?}");
        assert_eq!(r.value, Some(0.0));

        // No total series, an error, too few requests, impossible counts:
        // no data, never a pass.
        let r = run([Value(0.0), Empty, Value(0.0), Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::NoData);
        assert!(r.message.unwrap().contains("total of `on`"));
        let r = run([
            Value(0.0),
            Value(2000.0),
            NoData("timeout".into()),
            Value(2000.0),
        ]);
        assert_eq!(r.outcome, CheckOutcome::NoData);
        assert_eq!(r.message.as_deref(), Some("failures of `off`: timeout"));
        let r = run([Value(40.0), Value(50.0), Value(0.0), Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::NoData);
        assert_eq!(r.comparison.unwrap().result.rollout_rate, Some(0.8));
        let r = run([Value(60.0), Value(50.0), Value(0.0), Value(2000.0)]);
        assert_eq!(r.outcome, CheckOutcome::NoData);
        assert!(r.message.unwrap().contains("cannot be compared"));
    }
}
