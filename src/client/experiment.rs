//! An experiment's counts from the running system: exposures from flagd
//! (`GET /api/v1/experiments/{flag}`), conversions from the flag's
//! `experiment.conversions` query against Prometheus, assembled into the
//! same [`ExperimentData`] a data file gives (`flagctl experiment analyze
//! --daemon`).
//!
//! **One window.** flagd counts exposures since the experiment's spec last
//! changed (or flagd started): `since`. The conversions query is rendered
//! per variant with `{{flag}}`, `{{variant}}` and `{{window}}` — the time
//! from `since` to the report's `at` in whole seconds (`86400s`), both by
//! flagd's clock, so a skewed local clock does not matter — so that
//! `increase(orders_total{…}[{{window}}])` counts conversions over the very
//! window the exposures cover.
//!
//! **Errors** are typed by what the caller should do: [`Unreachable`]
//! services and a [`Refused`] request are operational (flagctl exits 2);
//! [`BadAnswer`]s — a Prometheus error, several series, NaN, nothing at all
//! for any variant — are problems with the data or the query (exit 1).
//!
//! [`Unreachable`]: DataError::Unreachable
//! [`Refused`]: DataError::Refused
//! [`BadAnswer`]: DataError::BadAnswer

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::daemon::exposure::ExposureReport;
use crate::prometheus::{Prometheus, QueryError, QueryValue, render_with};
use crate::stats::ExperimentData;
use crate::stats::experiment::{Observed, VariantCounts, VariantData};

/// Why the counts could not be assembled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// flagd or Prometheus could not be asked.
    #[error("cannot reach {service} at {url}: {reason}")]
    Unreachable {
        /// `flagd` or `Prometheus`.
        service: &'static str,
        /// The address tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// flagd answered with an error (no such flag, no experiment, not
    /// ready, not authorized).
    #[error("flagd at {url} answered HTTP {status}: {message}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// flagd's error code, if it gave one (`NO_EXPERIMENT`, …).
        code: Option<String>,
        /// flagd's message.
        message: String,
    },
    /// An answer that gives no usable count.
    #[error("{0}")]
    BadAnswer(String),
}

/// The conversions of one variant as Prometheus answered.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantConversions {
    /// The variant.
    pub variant: String,
    /// The query sent.
    pub query: String,
    /// The count; 0 when the query matched no series.
    pub conversions: f64,
    /// True when the query matched no series (read as 0).
    pub empty: bool,
}

/// Asks flagd for an experiment's exposures; `token` is sent as a bearer
/// token.
pub async fn exposures(
    client: &reqwest::Client,
    daemon: &str,
    flag: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<ExposureReport, DataError> {
    let url = format!("{}/api/v1/experiments/{flag}", daemon.trim_end_matches('/'));
    let mut request = client.get(&url).timeout(timeout);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let unreachable = |reason: String| DataError::Unreachable {
        service: "flagd",
        url: url.clone(),
        reason,
    };
    let response = request
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| unreachable(format!("reading the answer: {e}")))?;
    if !status.is_success() {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let error = &body["error"];
        return Err(DataError::Refused {
            url,
            status: status.as_u16(),
            code: error["code"].as_str().map(str::to_owned),
            message: error["message"]
                .as_str()
                .map_or_else(|| text.trim().to_owned(), str::to_owned),
        });
    }
    serde_json::from_str(&text).map_err(|e| {
        DataError::BadAnswer(format!(
            "flagd at {url} answered something that is not an experiment report: {e}"
        ))
    })
}

/// The variants to analyse: those the split can assign (positive weight)
/// and any that were exposed anyway.
pub fn variants(report: &ExposureReport) -> Vec<&str> {
    report
        .weights
        .iter()
        .filter(|(name, weight)| {
            **weight > 0.0 || report.exposures.get(*name).is_some_and(|n| *n > 0)
        })
        .map(|(name, _)| name.as_str())
        .collect()
}

/// `{{window}}`: the time from `since` to `now` in whole seconds, at least
/// one (a Prometheus range must not be empty).
pub fn window(since: Timestamp, now: Timestamp) -> String {
    let millis = now.duration_since(since).as_millis().max(0);
    let seconds = (millis + 999) / 1000;
    format!("{}s", seconds.max(1))
}

/// Renders the conversions `template` for one variant.
pub fn render_conversions(template: &str, flag: &str, variant: &str, window: &str) -> String {
    render_with(template, |name| match name {
        "flag" => Some(flag.to_owned()),
        "variant" => Some(variant.to_owned()),
        "window" => Some(window.to_owned()),
        _ => None,
    })
}

/// Asks the Prometheus at `base` for each variant's conversions, with the
/// `template` rendered over the report's window.
pub async fn conversions(
    prometheus: &Prometheus,
    base: &str,
    report: &ExposureReport,
    template: &str,
) -> Result<Vec<VariantConversions>, DataError> {
    let window = window(report.since, report.at);
    let mut out = Vec::new();
    for variant in variants(report) {
        let query = render_conversions(template, &report.flag, variant, &window);
        let answer =
            prometheus
                .instant(base, &query)
                .await
                .map_err(|e| DataError::Unreachable {
                    service: "Prometheus",
                    url: base.to_owned(),
                    reason: match e {
                        // Said once: "cannot reach Prometheus at URL: why".
                        QueryError::Unreachable(why) => why,
                        e => e.to_string(),
                    },
                })?;
        let (conversions, empty) = match answer {
            QueryValue::Value(v) => (v, false),
            QueryValue::Empty => (0.0, true),
            QueryValue::NoData(why) => {
                return Err(DataError::BadAnswer(format!(
                    "the conversions query for variant `{variant}` gave no count: {why} (query: {query})"
                )));
            }
        };
        out.push(VariantConversions {
            variant: variant.to_owned(),
            query,
            conversions,
            empty,
        });
    }
    if !out.is_empty() && out.iter().all(|c| c.empty) {
        return Err(DataError::BadAnswer(format!(
            "the conversions query matched no series for any variant — check the metric and \
             its labels (first query: {})",
            out[0].query
        )));
    }
    Ok(out)
}

/// The data a file would give: exposures and conversions per variant, in
/// the split's order, with flagd's control.
pub fn assemble(report: &ExposureReport, conversions: &[VariantConversions]) -> ExperimentData {
    let variants = conversions
        .iter()
        .map(|c| VariantData {
            name: c.variant.clone(),
            exposures: report.exposures.get(&c.variant).copied().unwrap_or(0) as f64,
            observed: Observed::Conversions(c.conversions),
        })
        .collect();
    ExperimentData {
        control: Some(report.control.clone()),
        current: VariantCounts {
            at: Some(format!("since {}", report.since)),
            variants,
        },
        history: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn report() -> ExposureReport {
        ExposureReport {
            flag: "layout".into(),
            spec_hash: "h".into(),
            since: "2026-03-01T12:00:00Z".parse().unwrap(),
            at: "2026-03-01T13:00:00Z".parse().unwrap(),
            version: "v".into(),
            rule: None,
            bucket_by: "targetingKey".into(),
            salt: "layout".into(),
            control: "control".into(),
            weights: IndexMap::from([
                ("control".into(), 50.0),
                ("retired".into(), 0.0),
                ("green".into(), 50.0),
            ]),
            exposures: IndexMap::from([
                ("control".into(), 1000),
                ("retired".into(), 0),
                ("green".into(), 990),
            ]),
            total: 1990,
            experiment: crate::model::Experiment {
                hypothesis: None,
                control: None,
                minimum_detectable_effect: None,
                alpha: None,
                conversions: None,
            },
        }
    }

    #[test]
    fn windows_and_templates() {
        let since: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            window(since, "2026-03-01T13:00:00Z".parse().unwrap()),
            "3600s"
        );
        assert_eq!(
            window(since, "2026-03-01T12:00:00.2Z".parse().unwrap()),
            "1s"
        );
        assert_eq!(window(since, since), "1s");
        assert_eq!(
            render_conversions(
                "sum(increase(o{f=\"{{flag}}\",v=\"{{ variant }}\"}[{{window}}])) {{stage}}",
                "layout",
                "green",
                "60s"
            ),
            "sum(increase(o{f=\"layout\",v=\"green\"}[60s])) {{stage}}"
        );
    }

    #[test]
    fn zero_weight_variants_without_exposures_are_left_out() {
        let mut r = report();
        assert_eq!(variants(&r), ["control", "green"]);
        r.exposures.insert("retired".into(), 3);
        assert_eq!(variants(&r), ["control", "retired", "green"]);
    }

    #[test]
    fn the_data_is_what_a_file_would_give() {
        let r = report();
        let conversions = [
            VariantConversions {
                variant: "control".into(),
                query: "q".into(),
                conversions: 120.0,
                empty: false,
            },
            VariantConversions {
                variant: "green".into(),
                query: "q".into(),
                conversions: 0.0,
                empty: true,
            },
        ];
        let data = assemble(&r, &conversions);
        let file = ExperimentData::from_json(
            r#"{"control": "control", "variants": {"control": {"exposures": 1000, "conversions": 120}, "green": {"exposures": 990, "conversions": 0}}}"#,
        )
        .unwrap();
        assert_eq!(data.control, file.control);
        assert_eq!(data.current.variants, file.current.variants);
        assert!(data.history.is_empty());
    }
}
