//! flagd's HTTP API (axum over hyper).
//!
//! Handlers read the served ruleset with one atomic load and never wait on a
//! lock; every error is a JSON body with a 4xx/5xx status. Guards (auth, rate
//! limits) wrap the router in one place: [`router`].

mod admin;
pub mod audience;
pub mod auth;
mod cors;
pub mod error;
mod evaluate;
pub mod events;
mod experiments;
pub mod guard;
mod layers;
pub mod listen;
pub mod metrics;
mod ofrep;
pub mod request;
pub mod rollouts;
pub mod tls;
pub mod trace;
pub mod ui;
pub mod webhook;
mod wire_errors;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use guard::{Access, Security};
pub use metrics::Metrics;

use crate::live::{Live, Served};
use hotswap_flags_core::ruleset::FlagId;

/// Every route pattern, for per-route metrics. The router takes no route
/// missing here, and a test requests each one.
pub const ROUTES: &[&str] = &[
    "/api/v1/flags/{key}/evaluate",
    "/api/v1/evaluate",
    "/ofrep/v1/evaluate/flags/{key}",
    "/ofrep/v1/evaluate/flags",
    "/ofrep/v1/configuration",
    "/ofrep/v1/events",
    "/api/v1/flags",
    "/api/v1/flags/{key}",
    "/api/v1/ruleset",
    "/api/v1/ruleset/refresh",
    "/api/v1/rollouts",
    "/api/v1/rollouts/{key}",
    "/api/v1/rollouts/{key}/{action}",
    "/api/v1/rollouts/{key}/audit",
    "/api/v1/rollouts/{key}/history",
    "/api/v1/audit",
    "/api/v1/experiments",
    "/api/v1/experiments/{key}",
    "/healthz",
    "/readyz",
    "/metrics",
    "/ui",
    "/ui/",
    "/ui/flags/{key}",
    "/ui/assets/{name}",
    "/ui/login",
    "/ui/logout",
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
    /// Who may call what, and how often.
    pub security: guard::Security,
    /// Caps on requests.
    pub limits: request::Limits,
    /// Browsers' change-event streams.
    pub events: events::EventStreams,
    /// The secret push webhooks are signed with (`--webhook-secret-file`).
    pub webhook: Option<Arc<webhook::WebhookSecret>>,
    /// In a cluster: the other replicas' exposure counts, summed into the
    /// experiments' reports.
    pub shared_exposures: Option<Arc<dyn crate::cluster::SharedExposures>>,
    /// The dashboard (`--ui`).
    pub ui: ui::UiConfig,
}

impl AppState {
    /// The ruleset in service, or 503 before the first good load.
    pub fn served(&self) -> Result<Arc<Served>, ApiError> {
        self.live.current().ok_or_else(|| {
            let status = self.live.status();
            ApiError::not_ready(status.last_error.as_ref().map(|e| e.message.as_str()))
        })
    }

    /// The ruleset in service and flag `key`'s id in it, or 404
    /// `FLAG_NOT_FOUND` (503 before the first good load).
    pub fn served_flag(&self, key: &str) -> Result<(Arc<Served>, FlagId), ApiError> {
        let served = self.served()?;
        let id = served
            .ruleset
            .flag_id(key)
            .ok_or_else(|| ApiError::flag_not_found(key))?;
        Ok((served, id))
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

/// The whole API, in groups by who may call them; each group has its
/// access guard (authentication, then rate limiting). Health probes are
/// always open and never limited.
pub fn router(state: Arc<AppState>) -> Router {
    let guarded = |access| layers::guard(state.clone(), access);
    let evaluation = Router::new()
        .listed_route(
            "/api/v1/flags/{key}/evaluate",
            get(evaluate::get).post(evaluate::post),
        )
        .listed_route("/api/v1/evaluate", post(evaluate::bulk))
        .listed_route("/ofrep/v1/evaluate/flags/{key}", post(ofrep::single))
        .listed_route("/ofrep/v1/evaluate/flags", post(ofrep::bulk))
        .listed_route("/ofrep/v1/configuration", get(ofrep::configuration))
        .listed_route(events::EVENTS_PATH, get(events::stream))
        .route_layer(guarded(Access::Evaluate));
    let evaluation = cors::allow(evaluation, &state.security.cors_origins);
    let read = Router::new()
        .listed_route("/api/v1/flags", get(admin::flags))
        .listed_route("/api/v1/flags/{key}", get(admin::flag))
        .listed_route("/api/v1/ruleset", get(admin::ruleset))
        .listed_route("/api/v1/rollouts", get(rollouts::list))
        .listed_route("/api/v1/rollouts/{key}", get(rollouts::get))
        .listed_route("/api/v1/rollouts/{key}/audit", get(rollouts::flag_audit))
        .listed_route("/api/v1/rollouts/{key}/history", get(rollouts::history))
        .listed_route("/api/v1/audit", get(rollouts::audit))
        .listed_route("/api/v1/experiments", get(experiments::list))
        .listed_route("/api/v1/experiments/{key}", get(experiments::get))
        .route_layer(guarded(Access::Read));
    // Signed webhook calls pass the guard and are verified by the handler.
    let same_site = || axum::middleware::from_fn_with_state(state.clone(), guard::same_site_only);
    let refresh = Router::new()
        .listed_route("/api/v1/ruleset/refresh", post(webhook::refresh))
        .route_layer(guarded(Access::Refresh))
        .route_layer(same_site());
    let steering = Router::new()
        .listed_route("/api/v1/rollouts/{key}/{action}", post(rollouts::steer))
        .route_layer(guarded(Access::Steer))
        .route_layer(same_site());
    // Pages allowed to steer may also read (a dashboard on its own origin).
    let operations = cors::allow(
        read.merge(refresh).merge(steering),
        &state.security.allowed_origins,
    );
    let metrics = Router::new()
        .listed_route("/metrics", get(admin::metrics))
        .route_layer(guarded(Access::Metrics));
    // The dashboard (docs/dashboard.md): pages for the read role, behind
    // their own guard (a login page rather than a JSON 401); assets and
    // sign-in open; every response with the dashboard's CSP.
    let dashboard = if state.ui.mode == crate::dashboard::Mode::Off {
        Router::new()
    } else {
        let pages = Router::new()
            .listed_route("/ui/", get(ui::overview))
            .listed_route("/ui/flags/{key}", get(ui::flag_page))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                ui::guard,
            ));
        Router::new()
            .merge(pages)
            .listed_route("/ui", get(ui::root))
            .listed_route("/ui/assets/{name}", get(ui::asset))
            .listed_route("/ui/login", get(ui::login_form).post(ui::login))
            .listed_route("/ui/logout", post(ui::logout))
            .route_layer(axum::middleware::from_fn(ui::secure_headers))
    };
    let probes = Router::new()
        .listed_route("/healthz", get(admin::healthz))
        .listed_route("/readyz", get(admin::readyz));
    let routes = Router::new()
        .merge(evaluation)
        .merge(operations)
        .merge(metrics)
        .merge(dashboard)
        .merge(probes)
        .route_layer(layers::track(state.clone()))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such endpoint") })
        .with_state(state.clone());
    // The guards every request passes, outermost first, around the router
    // rather than through `Router::layer`: that would wrap each route's
    // every method in a box of its own, and a request would then clone the
    // whole chain of boxes once per layer (docs/performance.md, "Where a
    // request's time goes"). The door checks sizes and Host before the
    // timeout starts, as it did as separate layers.
    let guarded_routes = tower::ServiceBuilder::new()
        .layer(layers::door(state.clone()))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.limits.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .service(routes);
    Router::new().fallback_service(guarded_routes)
}

/// [`Router::route`] for a pattern of [`ROUTES`], which the per-route
/// metrics are registered from: a route missing there would go unmeasured,
/// so building the router fails instead (and with it every test that starts
/// flagd). The other direction, a pattern in [`ROUTES`] that no route
/// serves, is this module's `every_listed_route_is_served` test.
trait ListedRoute<S> {
    fn listed_route(self, path: &'static str, method: MethodRouter<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> ListedRoute<S> for Router<S> {
    fn listed_route(self, path: &'static str, method: MethodRouter<S>) -> Self {
        assert!(
            ROUTES.contains(&path),
            "route `{path}` is missing from ROUTES"
        );
        self.route(path, method)
    }
}

/// Serves until `shutdown` completes; requests in flight then finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    options: listen::ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    for warning in state.security.warnings() {
        tracing::warn!("{warning}");
    }
    // Event streams never end on their own: they close first, so the
    // drain that follows only waits for real requests.
    let streams = state.clone();
    let shutdown = async move {
        shutdown.await;
        streams.events.close();
    };
    listen::serve(listener, router(state), options, shutdown).await
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;

    fn state() -> Arc<AppState> {
        let live = Arc::new(Live::new("test"));
        Arc::new(AppState {
            shared_exposures: None,
            metrics: Arc::new(Metrics::new(live.clone(), None, ROUTES)),
            live,
            refresh: Arc::new(Notify::new()),
            rollouts: None,
            min_polling_interval_ms: 1000,
            security: Security::default(),
            limits: request::Limits::default(),
            events: events::EventStreams::new(10, std::time::Duration::from_secs(15)),
            webhook: None,
            ui: ui::UiConfig::default(),
        })
    }

    /// How many requests the router has measured under `pattern`: the
    /// `Track` layer records the pattern a request matched, so a count
    /// proves the router has a route of exactly that pattern.
    fn measured(state: &AppState, pattern: &str) -> u64 {
        let series = format!("flagd_http_request_duration_seconds_count{{route=\"{pattern}\"}} ");
        let text = state.metrics.encode();
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no series for {pattern}:\n{text}"))
    }

    /// Every pattern of [`ROUTES`] is served (the router refuses routes
    /// missing from it, see [`ListedRoute`]): requested by GET and by POST,
    /// the router matches it to that very pattern for at least one method.
    #[tokio::test]
    async fn every_listed_route_is_served() {
        let mut unique = ROUTES.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ROUTES.len(), "ROUTES lists a pattern twice");

        let state = state();
        let app = router(state.clone());
        for pattern in ROUTES {
            let path = pattern
                .replace("{key}", "k")
                .replace("{action}", "pause")
                .replace("{name}", "dashboard.css");
            let mut allowed = false;
            for method in ["GET", "POST"] {
                let request = axum::http::Request::builder()
                    .method(method)
                    .uri(&path)
                    .header(CONTENT_TYPE, "application/json")
                    .body(Body::from("{}"))
                    .unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                allowed |= response.status() != StatusCode::METHOD_NOT_ALLOWED;
            }
            assert!(allowed, "{pattern}: neither GET nor POST is routed");
            assert!(
                measured(&state, pattern) > 0,
                "{pattern} is in ROUTES, but no route of that pattern served {path}"
            );
        }
    }
}
