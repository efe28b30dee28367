//! An experiment's counts from the running system: exposures from flagd
//! (`GET /api/v1/experiments/{flag}`), conversions from the flag's
//! `experiment.conversions` query against Prometheus, assembled into the
//! same [`ExperimentData`] a data file gives (`flagctl experiment analyze
//! --daemon`, [`live_counts`]). They are read against the experiment as the
//! repository defines it ([`ExperimentSettings`]): flagd must count the same
//! spec, or the weights and control would not fit its counts.
//!
//! **One window.** flagd counts exposures since the experiment's spec last
//! changed (or flagd started): `since`. The conversions query is rendered
//! per variant with `{{flag}}`, `{{variant}}` and `{{window}}` — the time
//! from `since` to the report's `at` in whole seconds (`86400s`), both by
//! flagd's clock, so a skewed local clock does not matter — so that
//! `increase(orders_total{…}[{{window}}])` counts conversions over the very
//! window the exposures cover.
//!
//! **Errors** are typed by what the caller should do: flagd or Prometheus
//! unreachable, or flagd refusing, is operational (flagctl exits 2); an
//! answer that gives no usable count, or counts of another version of the
//! experiment, is a problem with the data or the query (exit 1):
//! [`DataError::is_bad_data`].

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;

use hotswap_flags_client::flagd::{FlagdClient, FlagdError};
use hotswap_flags_client::prometheus::{Prometheus, QueryError, QueryValue, render_with};
use hotswap_flags_client::wire::{ExperimentSpec, ExposureReport};
use hotswap_flags_core::ruleset::{Ruleset, UnknownFlag};
use hotswap_flags_stats::ExperimentData;
use hotswap_flags_stats::experiment::{AnalysisConfig, Observed, VariantCounts, VariantData};

/// An experiment as an environment of the repository defines it: what the
/// analysis takes from the flag (control, weights, α, minimum detectable
/// effect), and what live counts must belong to (the spec hash) and are
/// counted with (the conversions query, Prometheus).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSettings {
    /// The experiment as flagd counts it.
    pub spec: ExperimentSpec,
    /// The environment the flag was read from.
    pub env: String,
    /// `experiment.conversions`, a template name resolved to its query.
    pub conversions: Option<String>,
    /// `flags.toml`'s `[metrics] prometheus`.
    pub prometheus: Option<String>,
}

/// Why a flag offers no experiment to analyse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No such flag.
    #[error(transparent)]
    UnknownFlag(#[from] UnknownFlag),
    /// The flag has no split with an `experiment` block.
    #[error(
        "flag `{flag}` in environment `{env}` has no experiment: add an `experiment:` block to \
         one of its splits (docs/flag-format.md §12)"
    )]
    NoExperiment {
        /// The flag without one.
        flag: String,
        /// Where it was looked up.
        env: String,
    },
}

impl ExperimentSettings {
    /// The experiment of `flag` in `ruleset`.
    pub fn of(ruleset: &Ruleset, flag: &str) -> Result<Self, SettingsError> {
        let env = ruleset.meta().env.clone();
        let compiled = ruleset.flag(ruleset.find_flag(flag)?);
        let Some((_, spec)) = ExperimentSpec::of(compiled) else {
            return Err(SettingsError::NoExperiment {
                flag: flag.to_owned(),
                env,
            });
        };
        let metrics = ruleset.metrics();
        // Validation resolved (and checked) a template name; do the same.
        let conversions = spec
            .experiment
            .conversions
            .as_ref()
            .map(|q| metrics.queries.get(q).unwrap_or(q).clone());
        Ok(ExperimentSettings {
            spec,
            env,
            conversions,
            prometheus: metrics.prometheus.clone(),
        })
    }
}

impl ExperimentSettings {
    /// The analysis settings the flag's `experiment` block gives, `alpha`
    /// and `mde` overriding its `alpha` and `minimumDetectableEffect`: the
    /// control and weights are always the split's, so the sample-ratio
    /// check and the comparisons are those of the experiment as run.
    pub fn analysis_config(&self, alpha: Option<f64>, mde: Option<f64>) -> AnalysisConfig {
        let defaults = AnalysisConfig::default();
        AnalysisConfig {
            alpha: alpha
                .or(self.spec.experiment.alpha)
                .unwrap_or(defaults.alpha),
            minimum_detectable_effect: mde
                .or(self.spec.experiment.minimum_detectable_effect)
                .unwrap_or(defaults.minimum_detectable_effect),
            control: Some(self.spec.control.clone()),
            weights: Some(self.spec.weights.clone()),
            ..defaults
        }
    }
}

/// Why the live counts could not be assembled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// flagd could not be asked, refused, or answered no experiment report.
    #[error(transparent)]
    Flagd(#[from] FlagdError),
    /// Prometheus could not be asked.
    #[error("cannot reach Prometheus at {url}: {reason}")]
    PrometheusUnreachable {
        /// The address tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// No Prometheus to ask: neither given nor in `flags.toml`.
    #[error(
        "no Prometheus to ask for conversions: give --metrics-url URL or set [metrics] \
         prometheus in flags.toml"
    )]
    NoPrometheus,
    /// The flag has no query to count conversions with.
    #[error(
        "flag `{flag}` in environment `{env}` has no `experiment.conversions` query, so there \
         is nothing to count conversions with: add one (docs/flag-format.md §12)"
    )]
    NoConversionsQuery {
        /// The flag without one.
        flag: String,
        /// Where it was looked up.
        env: String,
    },
    /// flagd counts exposures of a spec other than the repository defines:
    /// the weights or the control would be wrong for its counts.
    #[error(
        "flagd at {daemon} counts exposures for another version of experiment `{flag}` (spec \
         {served}, ruleset {version}) than environment `{env}` of this repository defines (spec \
         {defined}): the split, salt or experiment block differ, so the counts do not belong \
         to these settings. Analyse the revision flagd serves."
    )]
    OtherSpec {
        /// flagd's base URL.
        daemon: String,
        /// The flag running the experiment.
        flag: String,
        /// The spec hash flagd counts for.
        served: String,
        /// flagd's ruleset version.
        version: String,
        /// The repository's environment.
        env: String,
        /// The spec hash the environment defines.
        defined: String,
    },
    /// An answer that gives no usable count.
    #[error("{0}")]
    BadAnswer(String),
}

impl DataError {
    /// Whether the data or the query is at fault (flagctl exits 1), rather
    /// than reaching the services or the settings (exit 2).
    pub fn is_bad_data(&self) -> bool {
        matches!(
            self,
            DataError::BadAnswer(_)
                | DataError::OtherSpec { .. }
                | DataError::Flagd(FlagdError::BadAnswer { .. })
        )
    }
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
        let answer = prometheus.instant(base, &query).await.map_err(|e| {
            DataError::PrometheusUnreachable {
                url: base.to_owned(),
                reason: match e {
                    // Said once: "cannot reach Prometheus at URL: why".
                    QueryError::Unreachable { reason, .. } => reason,
                    e => e.to_string(),
                },
            }
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

/// Where live counts came from (`source` in `flagctl experiment analyze
/// --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsSource {
    /// flagd's base URL.
    pub daemon: String,
    /// Prometheus's base URL.
    pub prometheus: String,
    /// The spec flagd counted for.
    pub spec_hash: String,
    /// flagd's ruleset version.
    pub version: String,
    /// When flagd started counting.
    pub since: Timestamp,
    /// `{{window}}`: since … flagd's answer.
    pub window: String,
    /// The conversions query sent, by variant.
    pub queries: IndexMap<String, String>,
}

/// An experiment's counts from the running system.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCounts {
    /// What a data file with the same numbers would give.
    pub data: ExperimentData,
    /// Where they came from.
    pub source: CountsSource,
    /// Each variant's conversions as Prometheus answered; a query that
    /// matched no series counts 0, which a caller should say.
    pub conversions: Vec<VariantConversions>,
}

/// Exposures from `flagd`, conversions from Prometheus over the same
/// window, for the experiment `settings` define — refused when flagd counts
/// another version of it. `prometheus_url` overrides the settings' one.
pub async fn live_counts(
    flagd: &FlagdClient,
    prometheus: &Prometheus,
    prometheus_url: Option<&str>,
    settings: &ExperimentSettings,
) -> Result<LiveCounts, DataError> {
    let flag = &settings.spec.flag;
    let Some(template) = settings.conversions.as_deref() else {
        return Err(DataError::NoConversionsQuery {
            flag: flag.clone(),
            env: settings.env.clone(),
        });
    };
    let prometheus_url = prometheus_url
        .or(settings.prometheus.as_deref())
        .ok_or(DataError::NoPrometheus)?;
    let report = flagd.experiment(flag).await?;
    if report.spec_hash != settings.spec.spec_hash {
        return Err(DataError::OtherSpec {
            daemon: flagd.base().to_owned(),
            flag: flag.clone(),
            served: report.spec_hash,
            version: report.version,
            env: settings.env.clone(),
            defined: settings.spec.spec_hash.clone(),
        });
    }
    let conversions = conversions(prometheus, prometheus_url, &report, template).await?;
    let source = CountsSource {
        daemon: flagd.base().to_owned(),
        prometheus: prometheus_url.to_owned(),
        spec_hash: report.spec_hash.clone(),
        version: report.version.clone(),
        since: report.since,
        window: window(report.since, report.at),
        queries: conversions
            .iter()
            .map(|c| (c.variant.clone(), c.query.clone()))
            .collect(),
    };
    Ok(LiveCounts {
        data: assemble(&report, &conversions),
        source,
        conversions,
    })
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
            experiment: hotswap_flags_core::model::Experiment {
                hypothesis: None,
                control: None,
                minimum_detectable_effect: None,
                alpha: None,
                conversions: None,
            },
            replicas: None,
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
