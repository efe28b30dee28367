//! flagd's Prometheus metrics.
//!
//! Counts that the hot path or the loader already keep (evaluations, loads)
//! are read at scrape time by a collector instead of being counted twice.
//! Request durations use prometheus-client histograms, one handle per route
//! created up front so a request never looks up a label set.

use std::collections::HashMap;
use std::fmt::Error;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::live::{Live, Status};
use crate::rollout::RolloutApi;
use crate::telemetry::ExportStats;
use hotswap_flags_client::wire::Phase;
use hotswap_flags_core::bundle::signing::SignatureFailure;
use hotswap_flags_core::eval::Reason;

type RouteLabel = [(&'static str, &'static str); 1];

/// The registry and the per-route duration histograms.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    durations: HashMap<&'static str, Histogram>,
    refreshes: Family<RefreshLabel, Counter>,
    streams_open: Gauge,
    events_sent: Counter,
}

type RefreshLabel = [(&'static str, &'static str); 1];

/// The outcomes of `POST /api/v1/ruleset/refresh`, created up front so each
/// series exists (at 0) from the first scrape.
const REFRESH_OUTCOMES: [&str; 3] = ["accepted", "ignored", "rejected"];

fn new_histogram() -> Histogram {
    Histogram::new([
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        1.0,
    ])
}

impl Metrics {
    /// Metrics over `live` (and the rollout controller, if any), with a
    /// duration histogram for each route pattern.
    pub fn new(
        live: Arc<Live>,
        rollouts: Option<Arc<dyn RolloutApi>>,
        routes: &[&'static str],
    ) -> Self {
        let mut registry = Registry::default();
        let family: Family<RouteLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(new_histogram);
        let durations = routes
            .iter()
            .map(|r| (*r, family.get_or_create(&[("route", *r)]).clone()))
            .collect();
        registry.register(
            "flagd_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            family,
        );
        let refreshes = Family::<RefreshLabel, Counter>::default();
        for outcome in REFRESH_OUTCOMES {
            let _ = refreshes.get_or_create(&[("result", outcome)]);
        }
        registry.register(
            "flagd_refresh_requests",
            "Refresh requests and webhooks: accepted (a check follows), ignored (ping, other events), rejected (bad or missing signature)",
            refreshes.clone(),
        );
        let streams_open = Gauge::default();
        registry.register(
            "flagd_event_streams_open",
            "OFREP change-event streams (server-sent events) open now",
            streams_open.clone(),
        );
        let events_sent = Counter::default();
        registry.register(
            "flagd_change_events_sent",
            "refetchEvaluation events sent over OFREP change-event streams",
            events_sent.clone(),
        );
        registry.register_collector(Box::new(LiveCollector(live)));
        if let Some(rollouts) = rollouts {
            registry.register_collector(Box::new(RolloutCollector(rollouts)));
        }
        Metrics {
            registry,
            durations,
            refreshes,
            streams_open,
            events_sent,
        }
    }

    /// Also the trace exporter's counts (docs/observability.md), when
    /// tracing is on.
    pub fn with_trace_export(mut self, stats: Arc<ExportStats>) -> Self {
        self.registry
            .register_collector(Box::new(TraceExportCollector(stats)));
        self
    }

    /// Counts an event stream opening.
    pub fn stream_opened(&self) {
        self.streams_open.inc();
    }

    /// Counts an event stream closing.
    pub fn stream_closed(&self) {
        self.streams_open.dec();
    }

    /// Counts one change event sent (on one stream).
    pub fn event_sent(&self) {
        self.events_sent.inc();
    }

    /// Counts one refresh request by outcome: `accepted`, `ignored` or `rejected`.
    pub fn count_refresh(&self, outcome: &'static str) {
        self.refreshes.get_or_create(&[("result", outcome)]).inc();
    }

    /// Records one request's duration.
    #[inline]
    pub fn observe(&self, route: &str, seconds: f64) {
        if let Some(h) = self.durations.get(route) {
            h.observe(seconds);
        }
    }

    /// The exposition text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Reads the trace exporter's counts at scrape time.
#[derive(Debug)]
struct TraceExportCollector(Arc<ExportStats>);

impl Collector for TraceExportCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), Error> {
        let stats = &self.0;
        counter(
            &mut encoder,
            "flagd_trace_spans_exported",
            "Sampled spans the OTLP collector took",
            &[(Vec::new(), stats.exported())],
        )?;
        counter(
            &mut encoder,
            "flagd_trace_spans_dropped",
            "Sampled spans dropped: the export queue was full, or the OTLP collector did not take them (down, refusing, timing out)",
            &[(Vec::new(), stats.dropped())],
        )?;
        let gauge = ConstGauge::new(stats.queued() as i64);
        let metric = encoder.encode_descriptor(
            "flagd_trace_spans_queued",
            "Sampled spans waiting for export",
            None,
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}

/// Reads evaluation counts and load status from [`Live`] at scrape time.
#[derive(Debug)]
struct LiveCollector(Arc<Live>);

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[(Vec<(&str, &str)>, u64)],
) -> Result<(), Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in series {
        metric
            .encode_family(labels)?
            .encode_counter::<NoLabelSet, _, u64>(value, None)?;
    }
    Ok(())
}

impl Collector for LiveCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), Error> {
        encode_evaluations(&self.0, &mut encoder)?;
        let status = self.0.status();
        encode_loads(&status, &mut encoder)?;
        encode_ruleset(&status, &mut encoder)
    }
}

/// Evaluations and experiment exposures by flag and variant.
fn encode_evaluations(live: &Live, encoder: &mut DescriptorEncoder<'_>) -> Result<(), Error> {
    let counts = live.evaluation_counts();
    let mut series = Vec::new();
    for (flag, variant, by_reason) in &counts {
        for (reason, n) in Reason::ALL.iter().zip(by_reason) {
            if *n > 0 {
                series.push((
                    vec![
                        ("flag", flag.as_str()),
                        ("variant", variant.as_str()),
                        ("reason", reason.as_str()),
                    ],
                    *n,
                ));
            }
        }
    }
    counter(
        encoder,
        "flagd_evaluations",
        "Flag evaluations by flag, variant and reason",
        &series,
    )?;

    let exposures = live.exposure_counts();
    let series: Vec<_> = exposures
        .iter()
        .map(|(flag, variant, n)| {
            (
                vec![("flag", flag.as_str()), ("variant", variant.as_str())],
                *n,
            )
        })
        .collect();
    counter(
        encoder,
        "flagd_experiment_exposures",
        "Evaluations in which an experiment's split chose the variant, since the experiment's spec last changed",
        &series,
    )?;
    Ok(())
}

/// What loads of the source did: reloads, checks, files, compiles and
/// refused signatures.
fn encode_loads(status: &Status, encoder: &mut DescriptorEncoder<'_>) -> Result<(), Error> {
    counter(
        encoder,
        "flagd_reloads",
        "Loads of the ruleset by result (a failure keeps the last good ruleset)",
        &[
            (vec![("result", "success")], status.reloads_ok),
            (vec![("result", "failure")], status.reloads_failed),
        ],
    )?;
    counter(
        encoder,
        "flagd_source_checks",
        "Checks of the source that found nothing new",
        &[
            (vec![("result", "unchanged")], status.checks_unchanged),
            (vec![("result", "not_modified")], status.checks_not_modified),
        ],
    )?;
    counter(
        encoder,
        "flagd_source_files",
        "Flag files read by loads: parsed, or reused because their bytes had not changed",
        &[
            (vec![("result", "parsed")], status.files_parsed),
            (vec![("result", "reused")], status.files_reused),
        ],
    )?;
    counter(
        encoder,
        "flagd_compiles",
        "Whole-environment compiles (a check finding no file changed runs none)",
        &[(vec![], status.compiles)],
    )?;
    let signature_failures: Vec<_> = SignatureFailure::ALL
        .iter()
        .map(|kind| {
            let n = status.signature_failures.get(kind).copied().unwrap_or(0);
            (vec![("reason", kind.as_str())], n)
        })
        .collect();
    counter(
        encoder,
        "flagd_bundle_signature_failures",
        "Bundles refused for their signature (with --bundle-public-key), by reason",
        &signature_failures,
    )?;
    Ok(())
}

/// The ruleset in service, and whether it is the stored last good one.
fn encode_ruleset(status: &Status, encoder: &mut DescriptorEncoder<'_>) -> Result<(), Error> {
    let version = status.version.as_deref().unwrap_or("");
    let source = status.source.as_deref().unwrap_or("");
    let info = [
        ("env", status.env.as_str()),
        ("version", version),
        ("source", source),
    ];
    let mut metric = encoder.encode_descriptor(
        "flagd_ruleset_info",
        "The ruleset in service (value 1; no series before the first load)",
        None,
        MetricType::Gauge,
    )?;
    if status.version.is_some() {
        ConstGauge::new(1i64).encode(metric.encode_family(&info)?)?;
    }
    let offline = ConstGauge::new(i64::from(status.offline.is_some()));
    offline.encode(encoder.encode_descriptor(
        "flagd_ruleset_offline",
        "1 while serving the stored last good ruleset because the source failed",
        None,
        MetricType::Gauge,
    )?)?;
    Ok(())
}

/// Rollout gauges and counters from the controller.
#[derive(Debug)]
struct RolloutCollector(Arc<dyn RolloutApi>);

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[(Vec<(&str, &str)>, f64)],
) -> Result<(), Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for RolloutCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), Error> {
        let m = self.0.metrics();
        let percentages: Vec<_> = m
            .rollouts
            .iter()
            .map(|(flag, pct, _)| (vec![("flag", flag.as_str())], *pct))
            .collect();
        gauge(
            &mut encoder,
            "rollout_percentage",
            "Live rollout percentage by flag",
            &percentages,
        )?;
        let phases: Vec<_> = m
            .rollouts
            .iter()
            .flat_map(|(flag, _, phase)| {
                Phase::ALL.iter().map(move |p| {
                    (
                        vec![("flag", flag.as_str()), ("phase", p.as_str())],
                        f64::from(u8::from(p == phase)),
                    )
                })
            })
            .collect();
        gauge(
            &mut encoder,
            "rollout_phase",
            "1 for each rollout's current phase, 0 for the others",
            &phases,
        )?;
        let checks: Vec<_> = m
            .checks
            .iter()
            .map(|((flag, check, result), n)| {
                (
                    vec![
                        ("flag", flag.as_str()),
                        ("check", check.as_str()),
                        ("result", *result),
                    ],
                    *n,
                )
            })
            .collect();
        counter(
            &mut encoder,
            "health_checks",
            "Health check results by flag, check and result",
            &checks,
        )?;
        let transitions: Vec<_> = m
            .transitions
            .iter()
            .map(|((flag, to), n)| (vec![("flag", flag.as_str()), ("to", *to)], *n))
            .collect();
        counter(
            &mut encoder,
            "rollout_transitions",
            "Rollout transitions by flag and the phase moved to",
            &transitions,
        )?;
        if let Some(c) = self.0.cluster() {
            let gauges = [
                (
                    "flagd_cluster_store_up",
                    "1 while the cluster store (etcd) answers, 0 while it is unreachable",
                    c.store_reachable,
                ),
                (
                    "flagd_cluster_synced",
                    "1 once this replica has read the cluster's rollout state",
                    c.synced,
                ),
                (
                    "flagd_cluster_leader",
                    "1 while this replica leads the cluster's rollouts",
                    c.leading,
                ),
            ];
            for (name, help, value) in gauges {
                ConstGauge::new(i64::from(value)).encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    MetricType::Gauge,
                )?)?;
            }
            if let Some(skew) = c.clock_skew_ms {
                ConstGauge::new(skew as f64 / 1000.0).encode(encoder.encode_descriptor(
                    "flagd_cluster_clock_skew_seconds",
                    "How far this replica's wall clock was ahead of the rollout leader's at the last record received (negative: behind)",
                    None,
                    MetricType::Gauge,
                )?)?;
            }
            ConstCounter::new(c.rejected_records).encode(encoder.encode_descriptor(
                "flagd_cluster_rejected_records",
                "Records in etcd this replica refused (unreadable, under another flag's key, out of range; a leader key on no lease), each version once",
                None,
                MetricType::Counter,
            )?)?;
        }
        Ok(())
    }
}
