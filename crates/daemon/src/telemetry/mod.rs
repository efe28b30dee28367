//! OpenTelemetry traces over OTLP (docs/observability.md): the tracer
//! provider flagd exports with, and what it records.
//!
//! Off unless configured: [`install`] is the only way in, and until it is
//! called [`recorder`] is `None`, so the request path pays one atomic load
//! ([`evaluation::record`]) and the router adds no layer
//! (`server::trace`). Once on, every HTTP request is a server span that
//! continues the caller's W3C trace context, each evaluation an event on
//! it under OpenTelemetry's feature-flag semantic conventions
//! ([`names`]), and the rollout controller's check rounds and transitions
//! spans of their own (through `tracing`, bridged by the binary).
//!
//! The exporter batches on the SDK's own thread and never blocks a
//! request: past a bounded queue, spans are dropped and counted
//! ([`export::ExportStats`], `flagd_trace_spans_dropped` on /metrics).

pub mod evaluation;
pub mod export;
mod ids;
pub mod names;
pub mod sampler;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::trace::{SpanBuilder, SpanKind, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SamplingDecision, SdkTracer, SdkTracerProvider,
    ShouldSample as _, Span,
};

pub use evaluation::Scope;
pub use export::ExportStats;
pub use sampler::Sampling;

/// The instrumentation scope flagd's spans carry.
pub const SCOPE: &str = "hotswap-flags";

/// Spans waiting for export at most; past that, new ones are dropped and
/// counted (the SDK's default queue size).
pub const QUEUE: usize = 2048;

/// How traces are exported and what they record, resolved from flagd's
/// options and the standard `OTEL_*` variables (docs/observability.md).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceConfig {
    /// Where spans go: the full traces URL (`…/v1/traces` for HTTP).
    pub endpoint: String,
    /// `http/protobuf` or `http/json`.
    pub protocol: ExportProtocol,
    /// `service.name` of the resource.
    pub service_name: String,
    /// Which traces are kept.
    pub sampling: Sampling,
    /// Record the targeting key as `feature_flag.context.id`: off unless
    /// asked for, since it can be personal data.
    pub context_id: bool,
    /// The environment served: `feature_flag.set.id` and the resource's
    /// `deployment.environment.name`.
    pub env: String,
}

/// The OTLP encodings flagd exports with. gRPC is not built in: it would
/// bring a second HTTP/2 client stack for what an OTLP/HTTP port
/// (4318) of every collector already takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportProtocol {
    /// `http/protobuf`, the default.
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
}

impl ExportProtocol {
    /// The `OTEL_EXPORTER_OTLP_PROTOCOL` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportProtocol::HttpProtobuf => "http/protobuf",
            ExportProtocol::HttpJson => "http/json",
        }
    }
}

impl std::str::FromStr for ExportProtocol {
    type Err = TelemetryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http/protobuf" => Ok(ExportProtocol::HttpProtobuf),
            "http/json" => Ok(ExportProtocol::HttpJson),
            "grpc" => Err(TelemetryError::Config(
                "OTLP over grpc is not built into flagd; use http/protobuf (a collector's port 4318)"
                    .into(),
            )),
            other => Err(TelemetryError::Config(format!(
                "unknown OTLP protocol `{other}`: http/protobuf or http/json"
            ))),
        }
    }
}

/// Tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// An option or `OTEL_*` variable is wrong.
    #[error("{0}")]
    Config(String),
    /// The exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// What the request path records with, set once by [`install`].
#[derive(Debug)]
pub struct Recorder {
    /// flagd's tracer, for the server spans.
    pub tracer: SdkTracer,
    /// The tracer's sampler, asked before a span is built
    /// ([`Recorder::start_root`]).
    sampler: sampler::Flagd,
    /// Trace ids for those questions.
    ids: ids::Ids,
    /// Whether `feature_flag.context.id` is recorded.
    pub context_id: bool,
    /// `feature_flag.set.id`: the environment.
    pub set_id: opentelemetry::StringValue,
}

impl Recorder {
    /// Starts `span` under `parent` as the root of a new trace, if the
    /// tracer's sampler keeps it — asked first, as the SDK asks it, so
    /// that a dropped request builds no span at all, and the span then
    /// gets the trace id the sampler decided on (module `ids`).
    pub fn start_root(&self, span: SpanBuilder, parent: &Context) -> Option<Span> {
        let id = self.ids.random_trace_id();
        let kind = span.span_kind.clone().unwrap_or(SpanKind::Internal);
        let attributes = span.attributes.as_deref().unwrap_or(&[]);
        let decision = self
            .sampler
            .should_sample(Some(parent), id, &span.name, &kind, attributes, &[])
            .decision;
        (decision != SamplingDecision::Drop)
            .then(|| ids::with_trace_id(id, || span.start_with_context(&self.tracer, parent)))
    }
}

static RECORDER: OnceLock<Recorder> = OnceLock::new();

/// The recorder when tracing is on: one atomic load.
#[inline]
pub fn recorder() -> Option<&'static Recorder> {
    RECORDER.get()
}

/// Tracing, installed: the provider to hand the `tracing` bridge and to
/// shut down on exit, and the export counters for /metrics.
#[derive(Debug)]
pub struct Installed {
    /// The provider every flagd span goes through.
    pub provider: SdkTracerProvider,
    /// Spans exported and dropped.
    pub stats: Arc<ExportStats>,
}

impl Installed {
    /// Exports what is queued (for at most the exporter's timeout) and
    /// stops; called once, outside the async runtime.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown_with_timeout(Duration::from_secs(5)) {
            tracing::debug!(error = %e, "trace exporter shut down with an error");
        }
    }
}

/// Builds the exporter and the provider and turns recording on for the
/// process. Called at most once, before the runtime starts (the blocking
/// HTTP client it builds must not live inside it).
pub fn install(config: &TraceConfig) -> Result<Installed, TelemetryError> {
    // The exporter's client is reqwest over rustls, as every client of ours.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let protocol = match config.protocol {
        ExportProtocol::HttpProtobuf => Protocol::HttpBinary,
        ExportProtocol::HttpJson => Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(config.endpoint.clone())
        .build()?;
    let stats = Arc::new(ExportStats::default());
    let batch = BatchSpanProcessor::builder(export::Counting::new(exporter, stats.clone()))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build(),
        )
        .build();
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("deployment.environment.name", config.env.clone()),
        ])
        .build();
    let sampler = sampler::Flagd::new(config.sampling);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(export::Bounded::new(batch, stats.clone(), QUEUE))
        .with_sampler(sampler.clone())
        .with_id_generator(ids::Ids::default())
        .with_resource(resource)
        .build();
    let recorder = Recorder {
        tracer: provider.tracer(SCOPE),
        sampler,
        ids: ids::Ids::default(),
        context_id: config.context_id,
        set_id: config.env.clone().into(),
    };
    if RECORDER.set(recorder).is_err() {
        return Err(TelemetryError::Config(
            "tracing is already installed".into(),
        ));
    }
    Ok(Installed { provider, stats })
}
