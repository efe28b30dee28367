//! Instant queries against the Prometheus HTTP API, and how an answer is
//! read: anything that is not one clean number is "no data", never a value.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::http::ClientError;

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

/// Why Prometheus could not be asked at all (as opposed to answering
/// without a usable value, [`QueryValue::NoData`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No answer within the client's timeout.
    #[error("Prometheus did not answer within {0:?}")]
    Timeout(Duration),
    /// The request failed: refused, unresolvable, reset. Said without the
    /// request URL, whose URL-encoded query would bury the reason: flagd
    /// shows this in every check result and log line (docs/rollouts.md,
    /// "When Prometheus is unreachable"); the query is the check's `query`.
    #[error("cannot reach Prometheus at {host}: {reason}")]
    Unreachable {
        /// `host:port` of the Prometheus asked.
        host: String,
        /// The innermost cause (`Connection refused (os error 111)`).
        reason: String,
    },
    /// An answer that is not the query API's JSON (a proxy, another service).
    #[error("Prometheus answered HTTP {0} without JSON")]
    NotJson(reqwest::StatusCode),
}

/// Why an empty answer is no data.
pub const NO_SERIES: &str = "the query returned no series";

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
    pub fn new(timeout: Duration) -> Result<Self, ClientError> {
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
    pub async fn instant(&self, base: &str, promql: &str) -> Result<QueryValue, QueryError> {
        self.instant_json(base, promql)
            .await
            .map(|body| parse_prometheus(&body))
    }

    /// One instant query's whole answer, as Prometheus wrote it: for
    /// callers reading a vector of labelled series (`flagctl stale`'s
    /// evaluations by flag and variant) rather than one number.
    pub async fn instant_json(&self, base: &str, promql: &str) -> Result<Value, QueryError> {
        self.get_json(base, "query", &[("query", promql)]).await
    }

    /// One range query (`/api/v1/query_range`) from `start` to `end` every
    /// `step`: the points of its one series, oldest first. An answer of no
    /// series, of several, or a Prometheus error is no points; `Err` when
    /// Prometheus could not be asked at all. The dashboard draws it behind
    /// a check's recorded values, for context (docs/dashboard.md).
    pub async fn range(
        &self,
        base: &str,
        promql: &str,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
        step: Duration,
    ) -> Result<Vec<(jiff::Timestamp, f64)>, QueryError> {
        let seconds = |t: jiff::Timestamp| format!("{:.3}", t.as_millisecond() as f64 / 1000.0);
        let params = [
            ("query", promql),
            ("start", &seconds(start)),
            ("end", &seconds(end)),
            ("step", &format!("{:.3}", step.as_secs_f64().max(0.001))),
        ];
        let body = self.get_json(base, "query_range", &params).await?;
        Ok(parse_range(&body))
    }

    /// `GET {base}/api/v1/{api}?{params}` read as JSON, whatever its
    /// status (Prometheus explains its errors in JSON); `Err` when it could
    /// not be asked, took too long or did not answer JSON.
    async fn get_json(
        &self,
        base: &str,
        api: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, QueryError> {
        let url = format!("{}/api/v1/{api}", base.trim_end_matches('/'));
        let response = match self
            .client
            .get(&url)
            .query(params)
            .timeout(self.timeout)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(QueryError::Timeout(self.timeout)),
            Err(e) => {
                return Err(QueryError::Unreachable {
                    host: host_of(base),
                    reason: root_cause(&e),
                });
            }
        };
        let status = response.status();
        response
            .json::<Value>()
            .await
            .map_err(|_| QueryError::NotJson(status))
    }
}

/// The points of a `query_range` answer's one series (none otherwise);
/// points that are not finite numbers are left out.
pub fn parse_range(body: &Value) -> Vec<(jiff::Timestamp, f64)> {
    let series = body["data"]["result"].as_array();
    let Some([one]) = series.map(Vec::as_slice) else {
        return Vec::new();
    };
    one["values"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .filter_map(|p| {
                    let t = p[0].as_f64()?;
                    let v: f64 = p[1].as_str()?.parse().ok()?;
                    let t = jiff::Timestamp::from_millisecond((t * 1000.0) as i64).ok()?;
                    v.is_finite().then_some((t, v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `host:port` of a base URL (`http://127.0.0.1:9090/prom` → `127.0.0.1:9090`).
fn host_of(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// The last error of `e`'s source chain: reqwest's top level says only
/// "error sending request for url (…)", the reason sits at the bottom.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
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
            .unwrap_or_else(|e| QueryValue::NoData(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_range_answer_is_its_one_series() {
        let one = json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1700000000, "0.5"], [1700000001.5, "NaN"], [1700000002, "1"]]}
        ]}});
        let points = parse_range(&one);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].1, 0.5);
        assert_eq!(points[1].0.as_second(), 1_700_000_002);
        let two = json!({"data": {"result": [{"values": []}, {"values": []}]}});
        assert!(parse_range(&two).is_empty());
        assert!(parse_range(&json!({"status": "error"})).is_empty());
    }

    #[tokio::test]
    async fn unreachable_is_said_without_the_request_url() {
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let prometheus = Prometheus::new(Duration::from_secs(5)).unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let e = prometheus
            .instant(&base, "sum(rate(x{flag=\"f\"}[1m]))")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("cannot reach Prometheus at 127.0.0.1:{port}: ")),
            "{text}"
        );
        assert!(
            !text.contains("query") && !text.contains("http://"),
            "{text}"
        );
        assert!(text.len() < 100, "{text}");
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
}
