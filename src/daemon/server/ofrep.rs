//! OpenFeature Remote Evaluation Protocol (open-feature/protocol,
//! `service/openapi.yaml`):
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}`: 200, 400 (`PARSE_ERROR`,
//!   `INVALID_CONTEXT`, `TARGETING_KEY_MISSING`), 404 (`FLAG_NOT_FOUND`)
//! - `POST /ofrep/v1/evaluate/flags`: bulk, with an `ETag` derived from the
//!   answer itself, so it changes exactly when the ruleset, a rollout or the
//!   context changes what is served; `If-None-Match` → 304
//! - `GET /ofrep/v1/configuration`: capabilities
//! - the bulk answer names the change-event stream (`eventStreams`,
//!   ADR-0008; see [`super::events`])

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::audience::Audience;
use super::error::{ApiError, OfrepError};
use super::evaluate::evaluate;
use super::request::{Limits, body_object, context_of};
use super::{AppState, json_ok};
use crate::daemon::live::Served;
use crate::eval::{Context, Evaluation};

/// A successful OFREP evaluation.
#[derive(Serialize)]
struct Success<'a> {
    key: &'a str,
    reason: &'static str,
    variant: &'a str,
    value: &'a Value,
    metadata: Map<String, Value>,
}

impl<'a> Success<'a> {
    fn new(ev: &Evaluation<'a>, version: &str) -> Self {
        let mut metadata = Map::new();
        metadata.insert("version".into(), Value::String(version.to_owned()));
        if let Some(rule) = ev.rule_name() {
            metadata.insert("rule".into(), Value::String(rule.to_owned()));
        }
        Success {
            key: &ev.flag.key,
            reason: ev.reason.as_str(),
            variant: ev.variant_name(),
            value: ev.value(),
            metadata,
        }
    }
}

fn parse_request(body: &[u8], limits: &Limits) -> Result<Context, ApiError> {
    let mut body = body_object(body)?;
    context_of(&mut body, limits, &[])
}

/// `POST /ofrep/v1/evaluate/flags/{key}`
pub async fn single(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    audience: Audience,
    body: Bytes,
) -> Response {
    let result = parse_request(&body, &state.limits).and_then(|ctx| {
        let served = state.served()?;
        let ev = evaluate(&served, &key, &ctx, audience)?;
        Ok(json_ok(&Success::new(&ev, served.ruleset.version())))
    });
    result.unwrap_or_else(|e| OfrepError::from_api(Some(&key), e).into_response())
}

#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Ok(Success<'a>),
    Err(OfrepError),
}

/// `POST /ofrep/v1/evaluate/flags`
pub async fn bulk(
    State(state): State<Arc<AppState>>,
    audience: Audience,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = parse_request(&body, &state.limits).and_then(|ctx| {
        let served = state.served()?;
        Ok(bulk_flags(&served, &ctx, audience))
    });
    let flags = match result {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(None, e).into_response(),
    };
    // The tag covers the flags only: where to listen for changes is not
    // a change of what is served.
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&flags));
    let etag_value =
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    if headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| etag_matches(v, &etag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(ETAG, etag_value);
        return response;
    }
    let mut body = Vec::with_capacity(flags.len() + 160);
    body.extend_from_slice(b"{\"flags\":");
    body.extend_from_slice(&flags);
    if let Some(streams) = state.events.advertised(&stream_query(&state, &headers)) {
        body.extend_from_slice(b",\"eventStreams\":");
        body.extend_from_slice(streams.to_string().as_bytes());
    }
    body.push(b'}');
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(ETAG, etag_value);
    response
}

/// The query of the event stream's URL: a ticket for the caller when
/// flagd checks credentials (an `EventSource` cannot send headers).
fn stream_query(state: &AppState, headers: &HeaderMap) -> String {
    let now = jiff::Timestamp::now().as_second();
    state
        .security
        .auth
        .as_ref()
        .and_then(|auth| auth.stream_ticket(headers, now))
        .map(|ticket| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("ticket", &ticket)
                .finish()
        })
        .unwrap_or_default()
}

/// The bulk answer's `flags` array: those `audience` may see.
fn bulk_flags(served: &Served, ctx: &Context, audience: Audience) -> Vec<u8> {
    let version = served.ruleset.version();
    let flags: Vec<Item<'_>> = served
        .ruleset
        .flags()
        .iter()
        .filter(|flag| audience.may_see(flag))
        .map(|flag| match evaluate(served, &flag.key, ctx, audience) {
            Ok(ev) => Item::Ok(Success::new(&ev, version)),
            Err(e) => Item::Err(OfrepError::from_api(Some(&flag.key), e)),
        })
        .collect();
    serde_json::to_vec(&flags).unwrap_or_default()
}

/// `If-None-Match` holds a list of entity tags (weak or strong) or `*`.
fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// `GET /ofrep/v1/configuration`
pub async fn configuration(State(state): State<Arc<AppState>>) -> Response {
    json_ok(&json!({
        "name": "hotswap-flags",
        "capabilities": {
            "cacheInvalidation": {
                "polling": {
                    "enabled": true,
                    "minPollingIntervalMs": state.min_polling_interval_ms,
                }
            },
            "flagEvaluation": {
                "supportedTypes": ["boolean", "string", "int", "float", "object"],
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
