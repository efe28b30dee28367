//! Health checks: render a query template, ask a metrics source, judge the
//! answer. Anything that is not one clean number — an HTTP error, a timeout,
//! an empty result, NaN, several series — is "no data", never "healthy".
//!
//! A comparison check (`compare: baseline`) sends four queries — failures
//! and total of the rollout variant, then of the baseline — and judges them
//! with the guardrail test of [`crate::stats::guardrail`]. One exception to
//! "empty is no data" applies there: a *failures* query without series
//! counts 0 failures, because an error counter labelled by status code
//! typically has no series until the first error (a healthy variant must be
//! able to pass). The totals get no such exception, so silence is still
//! never healthy.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::state::{CheckOutcome, CheckResult, Comparison};
use crate::ruleset::{CheckKind, CompiledCheck, CompiledComparison, CompiledFlag};
use crate::stats::guardrail::{self, Failures, Verdict};

/// The answer to one instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// One number.
    Value(f64),
    /// An instant vector without series: nothing matched the query.
    Empty,
    /// No usable number, and why.
    NoData(String),
}

/// Why an empty answer is no data.
const NO_SERIES: &str = "the query returned no series";

/// Where check values come from (Prometheus in flagd, a script in tests).
pub trait MetricsSource: Send + Sync + 'static {
    /// Runs an instant query against `endpoint` (the Prometheus base URL,
    /// if one is configured).
    fn query(
        &self,
        endpoint: Option<&str>,
        promql: &str,
    ) -> impl Future<Output = QueryValue> + Send;
}

/// The values substituted into query templates.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVars<'a> {
    /// The flag key.
    pub flag: &'a str,
    /// The variant being rolled out.
    pub variant: &'a str,
    /// The stage number, from 1.
    pub stage: u32,
    /// The live percentage.
    pub percentage: f64,
}

/// Fills `{{flag}}`, `{{variant}}`, `{{stage}}` and `{{percentage}}`
/// (spaces inside the braces allowed). Unknown placeholders were refused at
/// validation, so they are left as they are.
pub fn render(template: &str, vars: &TemplateVars<'_>) -> String {
    render_with(template, |name| match name {
        "flag" => Some(vars.flag.to_owned()),
        "variant" => Some(vars.variant.to_owned()),
        "stage" => Some(vars.stage.to_string()),
        "percentage" => Some(vars.percentage.to_string()),
        _ => None,
    })
}

/// Fills each `{{name}}` (spaces inside the braces allowed) with
/// `value(name)`; placeholders it does not know are left as they are.
pub fn render_with(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match value(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

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
    out.comparison = Some(Comparison {
        rollout_variant: variant.to_owned(),
        baseline_variant: baseline.to_owned(),
        result,
    });
}

/// Reads a Prometheus `/api/v1/query` answer.
pub fn parse_prometheus(body: &Value) -> QueryValue {
    if body["status"] != "success" {
        let error = body["error"].as_str().unwrap_or("unexpected answer");
        return QueryValue::NoData(format!("Prometheus error: {error}"));
    }
    let data = &body["data"];
    match data["resultType"].as_str() {
        Some("scalar") => sample(&data["result"]),
        Some("vector") => match data["result"].as_array().map(Vec::as_slice) {
            Some([]) => QueryValue::Empty,
            None => QueryValue::NoData("unexpected answer: the vector has no result list".into()),
            Some([one]) => sample(&one["value"]),
            Some(many) => QueryValue::NoData(format!(
                "the query returned {} series; a check needs exactly one (aggregate it, e.g. with sum(…))",
                many.len()
            )),
        },
        Some(other) => QueryValue::NoData(format!(
            "the query returned a {other}; a check needs an instant vector or scalar"
        )),
        None => QueryValue::NoData("unexpected answer: no resultType".into()),
    }
}

/// `[timestamp, "value"]` → the value. NaN (e.g. 0/0 without traffic) is no data.
fn sample(pair: &Value) -> QueryValue {
    let Some(text) = pair.get(1).and_then(Value::as_str) else {
        return QueryValue::NoData("unexpected sample format".into());
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_nan() => QueryValue::NoData("the query returned NaN (no traffic?)".into()),
        Ok(v) => QueryValue::Value(v),
        Err(_) => QueryValue::NoData(format!("`{text}` is not a number")),
    }
}

/// Instant queries against the Prometheus HTTP API.
#[derive(Debug, Clone)]
pub struct Prometheus {
    client: reqwest::Client,
    timeout: Duration,
}

impl Prometheus {
    /// A client whose queries give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        Ok(Prometheus {
            client: crate::http::client()?,
            timeout,
        })
    }
}

impl Prometheus {
    /// One instant query against the Prometheus at `base`: its answer read
    /// as a value (a Prometheus error or an unusable result is
    /// [`QueryValue::NoData`]), or `Err` when Prometheus could not be asked
    /// at all — unreachable, too slow, or answering without JSON.
    pub async fn instant(&self, base: &str, promql: &str) -> Result<QueryValue, String> {
        let url = format!("{}/api/v1/query", base.trim_end_matches('/'));
        let response = match self
            .client
            .get(&url)
            .query(&[("query", promql)])
            .timeout(self.timeout)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(format!(
                    "Prometheus did not answer within {:?}",
                    self.timeout
                ));
            }
            Err(e) => return Err(format!("cannot reach Prometheus: {e}")),
        };
        let status = response.status();
        match response.json::<Value>().await {
            Ok(body) => Ok(parse_prometheus(&body)),
            Err(_) => Err(format!("Prometheus answered HTTP {status} without JSON")),
        }
    }
}

impl MetricsSource for Prometheus {
    async fn query(&self, endpoint: Option<&str>, promql: &str) -> QueryValue {
        let Some(base) = endpoint else {
            return QueryValue::NoData(
                "no metrics endpoint: set --metrics-url or [metrics] prometheus in flags.toml"
                    .into(),
            );
        };
        self.instant(base, promql)
            .await
            .unwrap_or_else(QueryValue::NoData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates() {
        let vars = TemplateVars {
            flag: "checkout",
            variant: "on",
            stage: 2,
            percentage: 12.5,
        };
        assert_eq!(
            render(
                "rate(x{flag=\"{{flag}}\",v=\"{{ variant }}\"}[1m]) * {{stage}} / {{percentage}} {{",
                &vars
            ),
            "rate(x{flag=\"checkout\",v=\"on\"}[1m]) * 2 / 12.5 {{"
        );
    }

    #[test]
    fn prometheus_answers() {
        let vector = |result: Value| json!({"status": "success", "data": {"resultType": "vector", "result": result}});
        assert_eq!(
            parse_prometheus(&vector(json!([{"metric": {}, "value": [1.0, "0.05"]}]))),
            QueryValue::Value(0.05)
        );
        assert_eq!(parse_prometheus(&vector(json!([]))), QueryValue::Empty);
        assert!(
            matches!(parse_prometheus(&vector(json!([{"value": [1, "1"]}, {"value": [1, "2"]}]))), QueryValue::NoData(m) if m.contains("2 series"))
        );
        assert!(
            matches!(parse_prometheus(&vector(json!([{"value": [1, "NaN"]}]))), QueryValue::NoData(m) if m.contains("NaN"))
        );
        let scalar =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}});
        assert_eq!(parse_prometheus(&scalar), QueryValue::Value(3.0));
        let inf =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "+Inf"]}});
        assert_eq!(parse_prometheus(&inf), QueryValue::Value(f64::INFINITY));
        let matrix = json!({"status": "success", "data": {"resultType": "matrix", "result": []}});
        assert!(matches!(parse_prometheus(&matrix), QueryValue::NoData(m) if m.contains("matrix")));
        let error = json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        assert!(
            matches!(parse_prometheus(&error), QueryValue::NoData(m) if m.contains("parse error"))
        );
    }

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

    fn flag() -> crate::ruleset::Ruleset {
        let yaml = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout:\n      strategy: canary\n      serve: on\n      stages: [ { percentage: 10, duration: 1m }, { percentage: 100 } ]\n      health:\n        checks:\n          - { name: guard, compare: baseline, failures: 'errors{v=\"{{variant}}\",s=\"{{stage}}\"}', total: 'requests{v=\"{{variant}}\"}', tolerance: 0.001, minSamples: 100 }\n";
        let meta = crate::ruleset::RulesetMeta {
            env: "e".into(),
            version: "v".into(),
            source: "t".into(),
        };
        let checked = crate::load::load_files([("f.yaml".to_owned(), yaml.as_bytes().to_vec())])
            .check(&crate::model::MetricsConfig::default(), meta);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        checked.ruleset.unwrap()
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
