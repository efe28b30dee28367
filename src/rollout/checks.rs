//! Health checks: render a query template, ask a metrics source, judge the
//! answer. Anything that is not one clean number — an HTTP error, a timeout,
//! an empty result, NaN, several series — is "no data", never "healthy".

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::state::{CheckOutcome, CheckResult};
use crate::ruleset::CompiledCheck;

/// The answer to one instant query.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// One number.
    Value(f64),
    /// No usable number, and why.
    NoData(String),
}

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
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match after[..end].trim() {
            "flag" => out.push_str(vars.flag),
            "variant" => out.push_str(vars.variant),
            "stage" => out.push_str(&vars.stage.to_string()),
            "percentage" => out.push_str(&vars.percentage.to_string()),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Judges a value against a check's bounds.
pub fn judge(
    check: &CompiledCheck,
    query: String,
    value: QueryValue,
    at: Timestamp,
) -> CheckResult {
    let (value, outcome, message) = match value {
        QueryValue::NoData(why) => (None, CheckOutcome::NoData, Some(why)),
        QueryValue::Value(v) => match (check.min, check.max) {
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
    };
    CheckResult {
        name: check.name.clone(),
        value,
        outcome,
        message,
        query,
        at,
    }
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
            Some([]) | None => QueryValue::NoData("the query returned no series".into()),
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

impl MetricsSource for Prometheus {
    async fn query(&self, endpoint: Option<&str>, promql: &str) -> QueryValue {
        let Some(base) = endpoint else {
            return QueryValue::NoData(
                "no metrics endpoint: set --metrics-url or [metrics] prometheus in flags.toml"
                    .into(),
            );
        };
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
                return QueryValue::NoData(format!(
                    "Prometheus did not answer within {:?}",
                    self.timeout
                ));
            }
            Err(e) => return QueryValue::NoData(format!("cannot reach Prometheus: {e}")),
        };
        let status = response.status();
        match response.json::<Value>().await {
            Ok(body) => parse_prometheus(&body),
            Err(_) => QueryValue::NoData(format!("Prometheus answered HTTP {status} without JSON")),
        }
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
        assert!(
            matches!(parse_prometheus(&vector(json!([]))), QueryValue::NoData(m) if m.contains("no series"))
        );
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

    #[test]
    fn bounds() {
        let check = CompiledCheck {
            name: "errors".into(),
            query: String::new(),
            max: Some(0.05),
            min: Some(0.0),
        };
        let at = Timestamp::UNIX_EPOCH;
        assert_eq!(
            judge(&check, String::new(), QueryValue::Value(0.05), at).outcome,
            CheckOutcome::Pass
        );
        assert_eq!(
            judge(&check, String::new(), QueryValue::Value(0.051), at).outcome,
            CheckOutcome::Fail
        );
        assert_eq!(
            judge(&check, String::new(), QueryValue::Value(-1.0), at).outcome,
            CheckOutcome::Fail
        );
        assert_eq!(
            judge(&check, String::new(), QueryValue::Value(f64::INFINITY), at).outcome,
            CheckOutcome::Fail
        );
        assert_eq!(
            judge(&check, String::new(), QueryValue::NoData("x".into()), at).outcome,
            CheckOutcome::NoData
        );
    }
}
