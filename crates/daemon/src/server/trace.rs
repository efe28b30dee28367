//! The server span of each request, when tracing is on
//! (docs/observability.md). With tracing off, or for a request the
//! sampler leaves out, a request pays one atomic load and, at most, the
//! sampler's decision: no context, no span data, no allocation.
//!
//! The span continues the caller's W3C `traceparent`/`tracestate`, is
//! named `METHOD /route/{pattern}` with the HTTP semantic conventions'
//! attributes, and is the current OpenTelemetry context while the
//! handler runs, which is where evaluations record themselves
//! (`telemetry::evaluation`). A sampled span answers with
//! `traceresponse` (W3C Trace Context Level 2): a response carries no
//! `traceparent` by any convention, and the caller already knows its
//! trace, only not flagd's span in it.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{
    FutureExt as _, Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::telemetry::{Recorder, recorder};

/// A request span's name until it is sampled.
const REQUEST: &str = "request";

/// The header a sampled span answers with.
const TRACE_RESPONSE: &str = "traceresponse";

/// The W3C Trace Context request headers.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The context of the request's server span when tracing is on, the
/// route is traced and the sampler takes the request; `None` otherwise,
/// and the request runs as it would with tracing off. Called from the
/// router's per-route layer (`layers::Track`), where the matched
/// pattern names the span: a layer of its own would add a boxed service
/// to every route.
pub fn span_for(request: &Request) -> Option<Context> {
    recorder()
        .filter(|_| !untraced(request))
        .and_then(|recorder| start(recorder, request))
}

/// Answers `response` as the current context of `cx`, then ends the span
/// ([`span_for`]).
pub async fn in_span(response: impl Future<Output = Response>, cx: Context) -> Response {
    let response = response.with_context(cx.clone()).await;
    finish(&cx, response)
}

/// Probes and scrapes: a span every few seconds from every prober, which
/// says nothing of the flags.
fn untraced(request: &Request) -> bool {
    request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|route| UNTRACED.contains(&route.as_str()))
}

/// The routes [`untraced`] leaves out.
const UNTRACED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The span, started under the caller's context, if it records: an
/// unsampled request (99 in 100 at 1 %) gets no context to carry, so the
/// evaluations find nothing recording and build nothing.
fn start(recorder: &Recorder, request: &Request) -> Option<Context> {
    // Without a `traceparent` there is nothing to continue, and the
    // propagator would give the current context after looking up both
    // headers by name: most callers send none.
    let continued = request.headers().contains_key(&TRACEPARENT);
    let parent = if continued {
        TraceContextPropagator::new().extract(&Headers(request.headers()))
    } else {
        Context::current()
    };
    // Named once sampled: the sampler needs no name to decide on a request.
    let builder = recorder
        .tracer
        .span_builder(REQUEST)
        .with_kind(SpanKind::Server);
    let span = if continued {
        builder.start_with_context(&recorder.tracer, &parent)
    } else {
        // A request that starts a trace asks the sampler first: unsampled,
        // it builds no span (`telemetry::ids`).
        recorder.start_root(builder, &parent)?
    };
    if !span.is_recording() {
        return None;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("", MatchedPath::as_str);
    let cx = parent.with_span(span);
    let span = cx.span();
    span.update_name(format!("{} {route}", request.method()));
    span.set_attributes([
        KeyValue::new("http.request.method", request.method().as_str().to_owned()),
        KeyValue::new("http.route", route.to_owned()),
        KeyValue::new("url.path", request.uri().path().to_owned()),
    ]);
    Some(cx)
}

/// Ends the span with the response's status, and answers with
/// `traceresponse`.
fn finish(cx: &Context, mut response: Response) -> Response {
    let span = cx.span();
    let status = response.status();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        span.set_status(Status::error(status.to_string()));
    }
    let sc = span.span_context();
    let value = format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8()
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(TRACE_RESPONSE, value);
    }
    span.end();
    response
}

/// A request's headers as the propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        // The propagator's two names as constants: a `&str` name is
        // parsed and validated on every lookup.
        let value = match key {
            "traceparent" => self.0.get(&TRACEPARENT),
            "tracestate" => self.0.get(&TRACESTATE),
            other => self.0.get(other),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
