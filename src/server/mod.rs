//! flagd's HTTP API (axum over hyper).
//!
//! Handlers read the served ruleset with one atomic load and never wait on a
//! lock; every error is a JSON body with a 4xx/5xx status. Guards (auth, rate
//! limits) wrap the router in one place: [`router`].

mod admin;
pub mod error;
mod evaluate;
pub mod metrics;
mod ofrep;
mod request;
pub mod rollouts;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use error::ApiError;
pub use metrics::Metrics;

use crate::live::{Live, Served};

/// Every route pattern, for per-route metrics.
pub const ROUTES: &[&str] = &[
    "/api/v1/flags/{key}/evaluate",
    "/api/v1/evaluate",
    "/ofrep/v1/evaluate/flags/{key}",
    "/ofrep/v1/evaluate/flags",
    "/ofrep/v1/configuration",
    "/api/v1/flags",
    "/api/v1/flags/{key}",
    "/api/v1/ruleset",
    "/api/v1/rollouts",
    "/api/v1/rollouts/{key}",
    "/api/v1/rollouts/{key}/{action}",
    "/api/v1/audit",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// What handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The served ruleset and load status.
    pub live: Arc<Live>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Wakes the feed for an immediate check.
    pub refresh: Arc<Notify>,
    /// The rollout controller, when this process drives rollouts.
    pub rollouts: Option<Arc<dyn crate::rollout::RolloutApi>>,
    /// What OFREP clients are told about polling.
    pub min_polling_interval_ms: u64,
}

impl AppState {
    /// The ruleset in service, or 503 before the first good load.
    pub fn served(&self) -> Result<Arc<Served>, ApiError> {
        self.live.current().ok_or_else(|| {
            let status = self.live.status();
            ApiError::not_ready(status.last_error.as_ref().map(|e| e.message.as_str()))
        })
    }
}

/// A 200 JSON response, serialized without an intermediate `Value`.
pub(crate) fn json_ok(body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(e) => ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL",
            format!("cannot encode the response: {e}"),
        )
        .into_response(),
    }
}

/// The whole API, in groups by who may call them: each group is where its
/// access guard goes.
pub fn router(state: Arc<AppState>) -> Router {
    let evaluation = Router::new()
        .route(
            "/api/v1/flags/{key}/evaluate",
            get(evaluate::get).post(evaluate::post),
        )
        .route("/api/v1/evaluate", post(evaluate::bulk))
        .route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::single))
        .route("/ofrep/v1/evaluate/flags", post(ofrep::bulk))
        .route("/ofrep/v1/configuration", get(ofrep::configuration));
    let read = Router::new()
        .route("/api/v1/flags", get(admin::flags))
        .route("/api/v1/flags/{key}", get(admin::flag))
        .route("/api/v1/ruleset", get(admin::ruleset))
        .route("/api/v1/rollouts", get(rollouts::list))
        .route("/api/v1/rollouts/{key}", get(rollouts::get))
        .route("/api/v1/audit", get(rollouts::audit));
    let steering = Router::new().route("/api/v1/rollouts/{key}/{action}", post(rollouts::steer));
    let probes = Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(admin::readyz))
        .route("/metrics", get(admin::metrics));
    Router::new()
        .merge(evaluation)
        .merge(read)
        .merge(steering)
        .merge(probes)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such endpoint") })
        .with_state(state)
}

/// Records each request's duration under its route pattern.
async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    if let Some(route) = route {
        state
            .metrics
            .observe(route.as_str(), start.elapsed().as_secs_f64());
    }
    response
}

/// Serves until `shutdown` completes; requests in flight then finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small request/response pairs: Nagle's algorithm would only add latency.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
