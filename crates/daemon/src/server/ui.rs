//! The dashboard under `/ui/` (docs/dashboard.md): its pages, assets and
//! sign-in, behind the same guards as the API — the read role to view,
//! the operator (admin) role and `--ui steer` for steering controls,
//! never a client credential or an API key; `--allowed-host` applies as
//! everywhere, and steering goes through the steering API with its
//! Origin check (docs/security.md, The dashboard).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::AppState;
use super::auth::Role;
use super::guard::ClientKey;
use super::request::context_of;
use crate::dashboard::flag::FlagData;
use crate::dashboard::html::{esc, page};
use crate::dashboard::overview::Filter;
use crate::dashboard::{CSP, CSS, JS, Mode, Viewer, flag, overview};
use crate::rollout::checks::render_check;
use hotswap_flags_client::prometheus::{Prometheus, TemplateVars};
use hotswap_flags_client::wire::{ExposureReport, RolloutStatus};
use hotswap_flags_gitops::experiment::{ExperimentSettings, assemble, conversions};
use hotswap_flags_stats::{Analysis, analyze};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "flagd_ui";

/// How the dashboard is served.
#[derive(Debug, Clone, Default)]
pub struct UiConfig {
    /// `--ui`.
    pub mode: Mode,
    /// Session cookies are `Secure` (flagd serves TLS).
    pub secure_cookies: bool,
    /// The Prometheus client of the charts' context (`query_range`), and
    /// `--metrics-url` (else `flags.toml`'s endpoint is asked).
    pub prometheus: Option<Prometheus>,
    /// `--metrics-url`.
    pub metrics_url: Option<String>,
    /// What was last asked of Prometheus per flag, reused for 15 s: a
    /// page refreshed on every event does not wait for Prometheus each
    /// time, nor do many viewers multiply its queries.
    pub context_cache: Arc<std::sync::Mutex<HashMap<String, (std::time::Instant, Fetched)>>>,
}

/// Prometheus' series of a flag's checks, by check name.
type Context = HashMap<String, Vec<(jiff::Timestamp, f64)>>;

/// What a flag page asks of Prometheus.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The charts' context.
    context: Context,
    /// The experiment's analysis over its conversions.
    conversions: Option<Result<Analysis, String>>,
}

/// How long what was asked of Prometheus is reused.
const CONTEXT_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// The experiment's conversions per variant from Prometheus, analysed as
/// `flagctl experiment analyze --daemon` analyses them (docs/dashboard.md,
/// Flag page): `None` when the flag counts no conversions (no
/// `experiment.conversions` query) or no Prometheus is configured, the
/// reason when Prometheus or the statistics could not give an answer.
async fn conversion_analysis(
    state: &AppState,
    served: &crate::live::Served,
    key: &str,
    report: &ExposureReport,
) -> Option<Result<Analysis, String>> {
    let settings = ExperimentSettings::of(&served.ruleset, key).ok()?;
    let template = settings.conversions.as_deref()?;
    let client = state.ui.prometheus.as_ref()?;
    let endpoint = state
        .ui
        .metrics_url
        .clone()
        .or_else(|| settings.prometheus.clone())?;
    let counts = match conversions(client, &endpoint, report, template).await {
        Ok(counts) => counts,
        Err(e) => return Some(Err(e.to_string())),
    };
    let config = settings.analysis_config(None, None);
    Some(analyze(&assemble(report, &counts), &config).map_err(|e| e.to_string()))
}

/// Prometheus' own series of each threshold check of `flag`'s rollout,
/// over the recorded rounds' time, for context on the charts; nothing when
/// Prometheus is not configured or does not answer (within the client's
/// timeout). The recorded rounds stay the primary source
/// (docs/dashboard.md, Flag page).
async fn prometheus_context(
    state: &AppState,
    served: &crate::live::Served,
    flag: &hotswap_flags_core::ruleset::CompiledFlag,
    data: &FlagData,
) -> Context {
    let mut out = HashMap::new();
    let (Some(client), Some(spec), Some(status), Some(history)) = (
        &state.ui.prometheus,
        flag.rollout.as_ref(),
        &data.status,
        &data.history,
    ) else {
        return out;
    };
    let Some(endpoint) = state
        .ui
        .metrics_url
        .clone()
        .or_else(|| served.ruleset.metrics().prometheus.clone())
    else {
        return out;
    };
    let Some(start) = history.rounds.first().map(|r| r.at) else {
        return out;
    };
    let end = jiff::Timestamp::now();
    let span = (end.as_millisecond() - start.as_millisecond()).max(1000) as f64 / 1000.0;
    let step = std::time::Duration::from_secs_f64((span / 240.0).max(1.0));
    let vars = TemplateVars {
        flag: &flag.key,
        variant: &flag.variant(spec.serve).name,
        stage: status.stage + 1,
        percentage: status.percentage,
    };
    let queries: Vec<(String, String)> = spec
        .health
        .checks
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                hotswap_flags_core::ruleset::CheckKind::Threshold { .. }
            )
        })
        .filter_map(|c| {
            let rendered = render_check(c, flag, &vars);
            Some((c.name.clone(), rendered.queries.into_iter().next()?))
        })
        .collect();
    let answers = futures_util::future::join_all(
        queries
            .iter()
            .map(|(_, q)| client.range(&endpoint, q, start, end, step)),
    )
    .await;
    for ((name, _), answer) in queries.into_iter().zip(answers) {
        if let Ok(points) = answer
            && !points.is_empty()
        {
            out.insert(name, points);
        }
    }
    out
}

/// The dashboard session in `headers`' cookies, if any.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

/// Middleware: the security headers of every `/ui` response.
pub async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// An error as a page.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\">{}</p><p><a href=\"/ui/\">All flags</a></p>",
        status.as_u16(),
        esc(message)
    );
    html(status, page("Error", "", &Viewer::default(), &body))
}

/// The page asked for, as a place to come back to after signing in.
fn here(request: &Request) -> String {
    request
        .uri()
        .path_and_query()
        .map_or("/ui/".to_owned(), |p| p.as_str().to_owned())
}

/// Middleware: who is looking, and what they may do; a login page for a
/// browser without a session, 403 for credentials that may not look.
pub async fn guard(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let mode = state.ui.mode;
    let viewer = match &state.security.auth {
        None => Viewer {
            subject: None,
            can_steer: mode == Mode::Steer,
            events: events_url(&state, None),
            signed_in: false,
        },
        Some(auth) => {
            let now = jiff::Timestamp::now().as_second();
            let headers = request.headers();
            let key = auth.api_key(headers);
            let (identity, signed_in) = match auth.bearer(headers) {
                Ok(Some(id)) => (id, false),
                // A key (a client key above all) is no way in, valid or not.
                Ok(None) if !matches!(key, Ok(None)) => {
                    return error_page(
                        StatusCode::FORBIDDEN,
                        "API keys and client keys cannot see the dashboard; it needs a token with the viewer role",
                    );
                }
                Ok(None) => match session_cookie(headers).map(|s| auth.redeem_session(s, now)) {
                    Some(Ok(id)) => (id, true),
                    Some(Err(_)) => {
                        return html(
                            StatusCode::UNAUTHORIZED,
                            crate::dashboard::html::login(
                                Some("Your session has expired: sign in again."),
                                &here(&request),
                            ),
                        );
                    }
                    None => {
                        return html(
                            StatusCode::UNAUTHORIZED,
                            crate::dashboard::html::login(None, &here(&request)),
                        );
                    }
                },
                Err(e) => return error_page(StatusCode::UNAUTHORIZED, &e.to_string()),
            };
            if identity.client || identity.role.is_none() {
                return error_page(
                    StatusCode::FORBIDDEN,
                    "the dashboard needs a token with the viewer role; client credentials and API keys cannot see it",
                );
            }
            Viewer {
                subject: Some(identity.subject.to_string()),
                can_steer: mode == Mode::Steer && identity.role >= Some(Role::Admin),
                events: events_url(&state, Some(&identity)),
                signed_in,
            }
        }
    };
    // The API's per-client rate limit, per subject or else per address.
    if let Some(limit) = &state.security.rate_limit {
        let key = match &viewer.subject {
            Some(subject) => ClientKey::Subject(subject.as_str().into()),
            None => ClientKey::Ip(
                request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip()),
            ),
        };
        if let Err(wait) = limit.check(&key) {
            return super::guard::too_many(wait);
        }
    }
    request.extensions_mut().insert(viewer);
    next.run(request).await
}

/// Where the page hears of changes: the change-event stream, with a
/// ticket when evaluation needs credentials.
fn events_url(state: &AppState, identity: Option<&super::auth::Identity>) -> Option<String> {
    if !state.events.enabled() {
        return None;
    }
    let path = super::events::EVENTS_PATH;
    match (&state.security.auth, identity) {
        (Some(auth), Some(id)) if state.security.auth_eval => {
            let ticket = auth.stream_ticket(id, jiff::Timestamp::now().as_second())?;
            Some(format!(
                "{path}?ticket={}",
                crate::dashboard::html::url_part(&ticket)
            ))
        }
        _ => Some(path.to_owned()),
    }
}

/// `GET /ui`: to `/ui/`.
pub async fn root() -> Response {
    redirect("/ui/")
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The rollouts' statuses by flag.
fn statuses(state: &AppState) -> HashMap<String, RolloutStatus> {
    let Some(rollouts) = &state.rollouts else {
        return HashMap::new();
    };
    rollouts
        .list()
        .into_iter()
        .filter_map(|v| serde_json::from_value::<RolloutStatus>(v).ok())
        .map(|s| (s.flag.clone(), s))
        .collect()
}

fn not_ready() -> Response {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "no ruleset is in service yet",
    )
}

/// `GET /ui/`: the overview.
pub async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(viewer): Extension<Viewer>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(served) = state.live.current() else {
        return not_ready();
    };
    let filter = Filter::parse(query.as_deref());
    let statuses = statuses(&state);
    html(
        StatusCode::OK,
        overview::render(&served, &statuses, &filter, &viewer, jiff::Timestamp::now()),
    )
}

/// `GET /ui/flags/{key}`: one flag's page.
pub async fn flag_page(
    State(state): State<Arc<AppState>>,
    Extension(viewer): Extension<Viewer>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(served) = state.live.current() else {
        return not_ready();
    };
    let Some(id) = served.ruleset.flag_id(&key) else {
        return error_page(
            StatusCode::NOT_FOUND,
            &format!("no flag `{key}` in the ruleset in service"),
        );
    };
    let compiled = served.ruleset.flag(id);
    let mut data = FlagData::default();
    if let Some(rollouts) = &state.rollouts {
        data.status = rollouts
            .status(&key)
            .and_then(|v| serde_json::from_value::<RolloutStatus>(v).ok())
            .map(|mut s| {
                // In a cluster, the replica deciding (as the API says it).
                s.leader = rollouts.cluster().and_then(|c| c.leader);
                s
            });
        if data.status.is_some() {
            data.history = rollouts.history(&key).await.ok().flatten();
        }
        match rollouts.audit(Some(key.clone()), 500).await {
            Ok(entries) => data.audit = entries,
            Err(e) => data.audit_error = Some(format!("cannot read the audit trail: {e}")),
        }
    }
    if let Some(set) = served.experiments().get(id) {
        let report = set.report(served.ruleset.version(), jiff::Timestamp::now());
        data.experiment = Some(match &state.shared_exposures {
            Some(shared) => shared.merge(report.clone()).await.unwrap_or(report),
            None => report,
        });
    }
    let cached = state
        .ui
        .context_cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .filter(|(at, _)| at.elapsed() < CONTEXT_FOR)
        .map(|(_, c)| c.clone());
    let fetched = match cached {
        Some(c) => c,
        None => {
            let (context, conversions) = futures_util::future::join(
                prometheus_context(&state, &served, compiled, &data),
                async {
                    match &data.experiment {
                        Some(report) => conversion_analysis(&state, &served, &key, report).await,
                        None => None,
                    }
                },
            )
            .await;
            let fresh = Fetched {
                context,
                conversions,
            };
            let mut cache = state
                .ui
                .context_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            // Bounded by the flags looked at; forgotten when stale.
            cache.retain(|_, (at, _)| at.elapsed() < CONTEXT_FOR);
            cache.insert(key.clone(), (std::time::Instant::now(), fresh.clone()));
            fresh
        }
    };
    data.context = fetched.context;
    data.conversions = fetched.conversions;
    let context = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "context")
        .map(|(_, v)| v.into_owned());
    if let Some(text) = context {
        data.explanation = Some(explain(&state, &served, &key, &text));
        data.context_text = Some(text);
    }
    html(
        StatusCode::OK,
        flag::render(&served, compiled, &data, &viewer),
    )
}

/// The explanation of `key` for the context typed in as `text` (JSON), as
/// `flagctl eval --format json` prints it.
fn explain(
    state: &AppState,
    served: &crate::live::Served,
    key: &str,
    text: &str,
) -> Result<Value, String> {
    let parsed: Value =
        serde_json::from_str(text).map_err(|e| format!("the context is not JSON: {e}"))?;
    let mut body = Map::new();
    body.insert("context".into(), parsed);
    let ctx = context_of(&mut body, &state.limits, &[]).map_err(|e| e.message)?;
    let explanation = served
        .ruleset
        .explain(key, &ctx, &served.eval_env())
        .map_err(|e| e.to_string())?;
    serde_json::to_value(&explanation).map_err(|e| e.to_string())
}

/// `GET /ui/assets/{name}`: the stylesheet and the script.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type) = match name.as_str() {
        "dashboard.css" => (CSS, "text/css; charset=utf-8"),
        "dashboard.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return error_page(StatusCode::NOT_FOUND, "no such asset"),
    };
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /ui/login`: the sign-in form (auth off: nothing to sign in to).
pub async fn login_form(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    if state.security.auth.is_none() {
        return redirect("/ui/");
    }
    let next = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "/ui/".to_owned());
    html(
        StatusCode::OK,
        crate::dashboard::html::login(None, &safe_next(&next)),
    )
}

/// Only a dashboard page is a place to go after signing in.
fn safe_next(next: &str) -> String {
    if next.starts_with("/ui/") && !next.starts_with("/ui//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/ui/".to_owned()
    }
}

/// Whether a sign-in form was posted by a page of flagd itself or of an
/// allowed origin (against login CSRF). Without `Origin`, a non-browser.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if state.security.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let scheme = if state.ui.secure_cookies {
        "https"
    } else {
        "http"
    };
    origin == format!("{scheme}://{host}")
}

/// `POST /ui/login` (a form: `token`, `next`): exchanges a token with a
/// role for a session cookie (docs/security.md, The dashboard).
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(auth) = &state.security.auth else {
        return redirect("/ui/");
    };
    if !same_origin(&state, &headers) {
        return error_page(StatusCode::FORBIDDEN, "sign in from flagd's own page");
    }
    let mut token = String::new();
    let mut next = "/ui/".to_owned();
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "token" => token = v.trim().to_owned(),
            "next" => next = v.into_owned(),
            _ => {}
        }
    }
    let next = safe_next(&next);
    let token = token.strip_prefix("Bearer ").unwrap_or(&token).trim();
    let refuse = |message: &str| {
        html(
            StatusCode::UNAUTHORIZED,
            crate::dashboard::html::login(Some(message), &next),
        )
    };
    let identity = match auth.verify(token) {
        Ok(id) => id,
        Err(e) => return refuse(&e.to_string()),
    };
    if identity.client || identity.role.is_none() {
        return refuse(
            "this token has no role that may see the dashboard (viewer, developer or admin)",
        );
    }
    let now = jiff::Timestamp::now().as_second();
    let Some(session) = auth.session(&identity, now) else {
        return refuse("no session can be made for this token");
    };
    let max_age = (super::auth::SESSION_LIFETIME_SECS).min(match identity.via {
        super::auth::Via::Token { expires } => (expires - now).max(0),
        super::auth::Via::Key(_) => 0,
    });
    let cookie = format!(
        "{COOKIE_NAME}={session}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if state.ui.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut r = redirect(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

/// `POST /ui/logout`: forgets the session cookie.
pub async fn logout(State(state): State<Arc<AppState>>) -> Response {
    let mut r = redirect("/ui/");
    let cookie = format!(
        "{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if state.ui.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; flagd_ui=s.1.viewer.x.y; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("s.1.viewer.x.y"));
        h.insert(COOKIE, HeaderValue::from_static("flagd_uix=1; flagd_ui="));
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn only_dashboard_pages_follow_a_sign_in() {
        assert_eq!(safe_next("/ui/flags/a?x=1"), "/ui/flags/a?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/ui//evil.example",
            "/api/v1/flags",
            "/ui\\x",
        ] {
            assert_eq!(safe_next(bad), "/ui/", "{bad}");
        }
    }
}
