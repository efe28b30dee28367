//! The one place access is decided: authentication per endpoint group, then
//! per-client rate limiting. And a last layer that turns every error the
//! framework produces on its own (405, 408, 413, rejected paths) into the
//! same JSON error body the handlers use.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN, RETRY_AFTER, TRANSFER_ENCODING,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::audience::Audience;
use super::auth::{AuthError, Authenticator, Identity, Role};
use super::error::ApiError;
use super::rollouts::Actor;

/// Access settings of the HTTP API.
#[derive(Debug, Default)]
pub struct Security {
    /// Token and API-key verification; `None`: everything is open.
    pub auth: Option<Authenticator>,
    /// Evaluation needs a valid token or API key too.
    pub auth_eval: bool,
    /// `/metrics` needs a viewer token.
    pub metrics_auth: bool,
    /// Per-client request rate limit.
    pub rate_limit: Option<Arc<ClientRateLimit>>,
    /// Browser origins (`https://ops.example.com`) whose pages may call
    /// the state-changing endpoints; any other `Origin` is refused there.
    pub allowed_origins: Vec<String>,
    /// Browser origins (or `*`) whose pages may evaluate flags: CORS on
    /// the evaluation and OFREP endpoints.
    pub cors_origins: Vec<String>,
    /// `Host` names (with or without port) flagd answers to; empty: any.
    /// Against DNS rebinding, where a page's own name resolves to flagd.
    pub allowed_hosts: Vec<String>,
}

impl Security {
    /// What this configuration leaves open that its operator may not
    /// expect, one sentence each: logged as warnings at start.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(auth) = &self.auth else {
            return out;
        };
        let client_keys = auth.has_client_keys();
        if !self.metrics_auth && (self.auth_eval || client_keys) {
            out.push(format!(
                "/metrics is open to anyone who can reach flagd while {}: it names every flag and variant and counts their evaluations (flagd_evaluations_total), server-only flags included; add --metrics-auth",
                if self.auth_eval {
                    "evaluation needs credentials"
                } else {
                    "client keys are configured"
                }
            ));
        }
        if client_keys && !self.auth_eval {
            out.push(
                "client keys are configured without --auth-eval: a caller without credentials evaluates every flag, server-only ones included, so keeping browsers to clientSide flags protects nothing; add --auth-eval".to_owned(),
            );
        }
        out
    }
}

/// What an endpoint group lets callers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Evaluate flags.
    Evaluate,
    /// Read definitions, status, rollouts, audit, experiments.
    Read,
    /// Trigger a refresh of the source.
    Refresh,
    /// Steer rollouts.
    Steer,
    /// Scrape `/metrics`.
    Metrics,
}

impl Access {
    fn needs(self) -> Option<Role> {
        match self {
            Access::Evaluate => None,
            Access::Read | Access::Metrics => Some(Role::Viewer),
            Access::Refresh => Some(Role::Developer),
            Access::Steer => Some(Role::Admin),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Access::Evaluate => "evaluate flags",
            Access::Read => "read this",
            Access::Refresh => "refresh the ruleset",
            Access::Steer => "steer rollouts",
            Access::Metrics => "read metrics",
        }
    }
}

/// Why a request was turned away at the door.
enum Denied {
    /// No or bad credentials: 401.
    Unauthorized(AuthError),
    /// A role too low: 403.
    Forbidden(String),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Unauthorized(e) => {
                let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", e.to_string())
                    .into_response();
                r.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"flagd\""),
                );
                r
            }
            Denied::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message).into_response()
            }
        }
    }
}

/// Decides whether the request may go on; `Ok(Some(identity))` when the
/// caller identified themselves.
fn authenticate(
    security: &Security,
    access: Access,
    request: &Request,
) -> Result<Option<Identity>, Denied> {
    let Some(auth) = &security.auth else {
        return Ok(None);
    };
    let headers = request.headers();
    let now = jiff::Timestamp::now().as_second();
    let required = match access {
        // Open evaluation still recognises a client credential, so a page
        // holding one sees what it will see once --auth-eval is on.
        Access::Evaluate if !security.auth_eval => {
            let client = auth
                .api_key(headers)
                .ok()
                .flatten()
                .or_else(|| auth.bearer(headers).ok().flatten())
                .or_else(|| stream_ticket(request).and_then(|t| auth.redeem(&t, now).ok()))
                .filter(|id| id.client);
            return Ok(client);
        }
        Access::Metrics if !security.metrics_auth => return Ok(None),
        // A signed webhook call reaches the handler, which verifies the
        // signature itself — or refuses it as INVALID_SIGNATURE when this
        // flagd has no secret to check it with (docs/flagd.md).
        Access::Refresh if super::webhook::is_signed(headers) => {
            return Ok(None);
        }
        other => other.needs(),
    };
    let refuse = |e: AuthError| match e {
        AuthError::NoRole(why) => Denied::Forbidden(format!(
            "{why}; it may not {}: it needs {}",
            access.describe(),
            required.map_or_else(
                || "a role (client, viewer, developer or admin)".to_owned(),
                |r| format!("`{r}`")
            )
        )),
        e => Denied::Unauthorized(e),
    };
    // The dashboard's session cookie stands for a token on the endpoints
    // its pages call: reading and steering (docs/security.md, The
    // dashboard). Steering with it needs the page's Origin, which browsers
    // send with every POST and which `same_site_only` has checked.
    let session = match access {
        Access::Read | Access::Steer => super::ui::session_cookie(headers),
        _ => None,
    };
    let identity = match auth.bearer(headers) {
        Ok(Some(id)) => id,
        Ok(None) if session.is_some() => {
            if access == Access::Steer && !headers.contains_key(ORIGIN) {
                return Err(Denied::Forbidden(
                    "a dashboard session steers only from the dashboard's page (a request with Origin)".to_owned(),
                ));
            }
            auth.redeem_session(session.unwrap_or_default(), now)
                .map_err(refuse)?
        }
        Ok(None) if access == Access::Evaluate => match auth.api_key(headers) {
            Ok(Some(id)) => id,
            Ok(None) => match stream_ticket(request) {
                Some(ticket) => auth.redeem(&ticket, now).map_err(refuse)?,
                None => return Err(Denied::Unauthorized(AuthError::Missing)),
            },
            Err(e) => return Err(refuse(e)),
        },
        Ok(None) => return Err(Denied::Unauthorized(AuthError::Missing)),
        Err(e) => return Err(refuse(e)),
    };
    if let Some(role) = required
        && identity.role.is_none_or(|r| r < role)
    {
        let has = identity
            .role
            .map_or("no role".to_owned(), |r| format!("role `{r}`"));
        return Err(Denied::Forbidden(format!(
            "{has} may not {}: it needs `{role}`",
            access.describe()
        )));
    }
    Ok(Some(identity))
}

/// The `ticket` of an event stream's URL: browsers' `EventSource` cannot
/// send headers, so the bulk answer puts the caller's credential there
/// (see [`Authenticator::stream_ticket`]). Taken on that path only.
fn stream_ticket(request: &Request) -> Option<String> {
    if request.uri().path() != super::events::EVENTS_PATH {
        return None;
    }
    form_urlencoded::parse(request.uri().query()?.as_bytes())
        .find(|(name, _)| name == "ticket")
        .map(|(_, value)| value.into_owned())
}

/// Authenticates for `access`, rate-limits, and records who called in
/// the request's extensions (the actor, a client audience); returns the
/// refusal to answer with, if any. Run by `layers::Guard` on
/// every route of an endpoint group.
pub fn refusal(state: &AppState, access: Access, request: &mut Request) -> Option<Response> {
    let identity = match authenticate(&state.security, access, request) {
        Ok(identity) => identity,
        Err(denied) => return Some(denied.into_response()),
    };
    if let Some(limit) = &state.security.rate_limit {
        let address = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let key = match &identity {
            // A client credential is public, held by every visitor of a
            // page or user of an app: each visitor has a bucket of their
            // own, at the limit a caller has.
            Some(id) if id.client => ClientKey::Visitor(id.subject.clone(), address),
            Some(id) => ClientKey::Subject(id.subject.clone()),
            None => ClientKey::Ip(address),
        };
        if let Err(wait) = limit.check(&key) {
            return Some(too_many(wait));
        }
    }
    if let Some(id) = identity {
        if id.client {
            request.extensions_mut().insert(Audience::Client);
        }
        request
            .extensions_mut()
            .insert(Actor(id.subject.to_string()));
        // For the stream ticket of a bulk answer.
        request.extensions_mut().insert(id);
    }
    None
}

pub(crate) fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        format!("too many requests; retry in {seconds} s"),
    )
    .into_response();
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    r
}

/// Who a rate limit counts for: a token's subject or an API key, else the
/// client's IP address; for a client credential, which every visitor of a
/// page shares, the credential and the visitor's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An anonymous client.
    Ip(IpAddr),
    /// An identified caller.
    Subject(Arc<str>),
    /// One visitor (by address) using a client credential.
    Visitor(Arc<str>, IpAddr),
}

/// A per-client token bucket (governor).
#[derive(Debug)]
pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<ClientKey>,
}

impl ClientRateLimit {
    /// `per_second` requests a second, bursts up to `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        ClientRateLimit {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    /// `Err(wait)` when `key` must wait before its next request.
    pub fn check(&self, key: &ClientKey) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets clients that are back to a full bucket (call periodically, so
    /// the table does not grow with every address ever seen).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Middleware for the state-changing endpoints (steering, refresh): a web
/// page must not be able to make a visitor's browser steer a rollout. A
/// browser sends `Origin` with every POST, and can send a cross-site POST
/// without asking first only with a form or plain-text body — so a request
/// from an origin not listed is refused, and a body must be JSON (or signed,
/// as webhooks are; a browser cannot sign).
pub async fn same_site_only(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !state.security.allowed_origins.iter().any(|o| o == origin) {
            let message = format!(
                "requests from web pages ({origin}) may not change state; allow the page's origin with --allowed-origin"
            );
            return ApiError::new(StatusCode::FORBIDDEN, "CROSS_ORIGIN", message).into_response();
        }
    }
    let has_body = headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let json = headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let signed = super::webhook::is_signed(headers);
    if has_body && !json && !signed {
        let message = "a body must be JSON (Content-Type: application/json)";
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            message,
        )
        .into_response();
    }
    next.run(request).await
}

/// With `--allowed-host`, the refusal of a request naming another host:
/// a page whose own name was rebound to flagd's address sends its own
/// name.
pub fn unknown_host(security: &Security, request: &Request) -> Option<Response> {
    let allowed = &security.allowed_hosts;
    // Orchestrators probe by the pod's address, which no list names.
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz");
    if allowed.is_empty() || probe {
        return None;
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if host_allowed(allowed, host) {
        return None;
    }
    let message = format!("this flagd does not answer to `{host}` (--allowed-host)");
    Some(ApiError::new(StatusCode::MISDIRECTED_REQUEST, "UNKNOWN_HOST", message).into_response())
}

/// `host` (`name` or `name:port`) is listed as it is, or by its name alone.
fn host_allowed(allowed: &[String], host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        // `[::1]:8013` and `name:8013`, but not a bare IPv6 address.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(name))
}

/// The refusal of a request that declares a body over `limit`, before a
/// byte of it is read. (The body limit alone would first wait for the
/// body — a client declaring 1 GB and sending 2 bytes held the connection
/// until the request timeout.)
pub fn oversized(limit: usize, request: &Request) -> Option<Response> {
    let length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|length| *length > limit as u64)?;
    let message = format!("the body is {length} bytes; the limit is {limit} (--max-body-bytes)");
    let mut response =
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message).into_response();
    // The body stays unread, so the connection cannot carry another request.
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Some(response)
}

/// The refusal of a request whose line and header lines take more than
/// [`super::listen::MAX_HEADER_BYTES`] (431), as hyper refuses larger ones
/// before they reach a handler — so the documented limit is the limit,
/// whatever hyper's buffer happened to take in.
pub fn headers_too_large(request: &Request) -> Option<Response> {
    let limit = super::listen::MAX_HEADER_BYTES;
    // As sent on HTTP/1.1: `METHOD TARGET HTTP/1.1\r\n`, `name: value\r\n`
    // each, and the empty line.
    let line = request.method().as_str().len()
        + request
            .uri()
            .path_and_query()
            .map_or(1, |p| p.as_str().len())
        + 12;
    let size = request.headers().iter().fold(line + 2, |n, (name, value)| {
        n + name.as_str().len() + value.len() + 4
    });
    if size <= limit {
        return None;
    }
    let message =
        format!("the request line and headers take {size} bytes; at most {limit} are accepted");
    let mut response = ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "HEADERS_TOO_LARGE",
        message,
    )
    .into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Some(response)
}

/// Whether `response` is an error produced outside the handlers (405,
/// 408, 413, a rejected path or query), which [`json_error`] gives the
/// JSON error body too. The dashboard's own error pages are HTML, and stay
/// so.
pub fn needs_json_body(response: &Response) -> bool {
    let status = response.status();
    let is_json = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    (status.is_client_error() || status.is_server_error()) && !is_json
}

/// `response` (see [`needs_json_body`]) with the JSON error body, its
/// text as the message.
pub async fn json_error(response: Response) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_owned();
    let code = match status {
        StatusCode::BAD_REQUEST => "BAD_REQUEST",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::REQUEST_TIMEOUT => "REQUEST_TIMEOUT",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
        s if s.is_server_error() => "GENERAL",
        _ => "ERROR",
    };
    let message = if detail.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        detail
    };
    let mut fixed = ApiError::new(status, code, message).into_response();
    for (name, value) in parts
        .headers
        .iter()
        .filter(|(n, _)| *n != CONTENT_TYPE && *n != "content-length")
    {
        fixed.headers_mut().append(name.clone(), value.clone());
    }
    fixed
}
