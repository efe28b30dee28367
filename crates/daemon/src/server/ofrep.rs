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

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::audience::Audience;
use super::auth::Identity;
use super::error::{ApiError, OfrepError};
use super::evaluate::evaluate;
use super::request::{Limits, context_from_body};
use super::{AppState, json_ok};
use crate::live::Served;
use crate::telemetry::evaluation::{self, Scope};
use hotswap_flags_core::eval::{Context, Evaluation};
use hotswap_flags_core::ruleset::FlagId;

/// A successful OFREP evaluation. A flag serving `$codeDefault` answers
/// without `variant` and `value`: the caller uses its code default (OFREP's
/// ADR 0006, docs/flagd.md).
#[derive(Serialize)]
struct Success<'a> {
    key: &'a str,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a Value>,
    metadata: Map<String, Value>,
}

impl<'a> Success<'a> {
    fn new(ev: &Evaluation<'a>, version: &str) -> Self {
        let mut metadata = Map::new();
        for (k, v) in &ev.flag.metadata {
            metadata.insert(k.to_string(), v.clone());
        }
        metadata.insert("version".into(), Value::String(version.to_owned()));
        if let Some(rule) = ev.rule_name() {
            metadata.insert("rule".into(), Value::String(rule.to_owned()));
        }
        Success {
            key: &ev.flag.key,
            reason: ev.reason.as_str(),
            variant: ev.served_variant(),
            value: ev.served_value(),
            metadata,
        }
    }
}

/// The context of a request body, read straight from its bytes.
fn parse_request(body: &[u8], limits: &Limits) -> Result<Context, ApiError> {
    context_from_body(body, limits, &[]).map(|(ctx, _)| ctx)
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
        let ev = evaluate(&served, &key, &ctx, audience, Scope::One)?;
        let version = served.version_for(audience == Audience::Client);
        Ok(json_ok(&Success::new(&ev, version)))
    });
    result.unwrap_or_else(|e| OfrepError::from_api(Some(&key), e).into_response())
}

/// `POST /ofrep/v1/evaluate/flags`
pub async fn bulk(
    State(state): State<Arc<AppState>>,
    audience: Audience,
    caller: Option<Extension<Identity>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const PREFIX: &[u8] = b"{\"flags\":";
    let result = parse_request(&body, &state.limits).and_then(|ctx| {
        let served = state.served()?;
        let mut out = Vec::with_capacity(PREFIX.len() + 256 + 160 * served.ruleset.flags().len());
        out.extend_from_slice(PREFIX);
        write_flags(&mut out, &served, &ctx, audience);
        Ok(out)
    });
    let mut body = match result {
        Ok(b) => b,
        Err(e) => return OfrepError::from_api(None, e).into_response(),
    };
    // The tag covers the flags only: where to listen for changes is not
    // a change of what is served.
    let etag = format!(
        "\"{:016x}\"",
        xxhash_rust::xxh3::xxh3_64(&body[PREFIX.len()..])
    );
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
    let caller = caller.as_ref().map(|Extension(id)| id);
    state
        .events
        .write_advertised(&stream_query(&state, caller), &mut body);
    body.push(b'}');
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(ETAG, etag_value);
    response
}

/// The query of the event stream's URL: a ticket for the caller who
/// identified themselves (an `EventSource` cannot send headers).
fn stream_query(state: &AppState, caller: Option<&Identity>) -> String {
    let Some(caller) = caller else {
        return String::new();
    };
    state
        .security
        .auth
        .as_ref()
        .and_then(|auth| auth.stream_ticket(caller, jiff::Timestamp::now().as_second()))
        .map(|ticket| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("ticket", &ticket)
                .finish()
        })
        .unwrap_or_default()
}

/// Appends the bulk answer's `flags` array (the flags `audience` may see)
/// to `out` as bytes: each variant's value is copied as the JSON text the
/// ruleset keeps (`Variant::value_json`), so a flag costs its evaluation
/// and a few short string writes, with one clock read per request.
fn write_flags(out: &mut Vec<u8>, served: &Served, ctx: &Context, audience: Audience) {
    let ruleset = &served.ruleset;
    let env = served.eval_env();
    let version = served.version_for(audience == Audience::Client);
    out.push(b'[');
    let mut first = true;
    for (i, flag) in ruleset.flags().iter().enumerate() {
        if !audience.may_see(flag) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        let id = i as FlagId;
        match ruleset.evaluate_id(id, ctx, &env) {
            Ok(ev) => {
                served.count(&ev);
                evaluation::record(&ev, ctx, version, Scope::Many);
                write_success(out, &ev, version);
            }
            Err(e) => {
                evaluation::record_error(&flag.key, e.code());
                let item = OfrepError::from_api(Some(&flag.key), ApiError::eval(&flag.key, e));
                // Serializing a struct of strings into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, &item);
            }
        }
    }
    out.push(b']');
}

/// One [`Success`], written by hand with the value's text copied.
fn write_success(out: &mut Vec<u8>, ev: &Evaluation<'_>, version: &str) {
    out.extend_from_slice(b"{\"key\":");
    write_str(out, &ev.flag.key);
    out.extend_from_slice(b",\"reason\":\"");
    out.extend_from_slice(ev.reason.as_str().as_bytes());
    out.push(b'"');
    // `$codeDefault`: neither, as in a single answer.
    if !ev.is_code_default() {
        out.extend_from_slice(b",\"variant\":");
        let variant = ev.flag.variant(ev.variant);
        write_str(out, &variant.name);
        out.extend_from_slice(b",\"value\":");
        out.extend_from_slice(variant.value_json.as_bytes());
    }
    out.extend_from_slice(b",\"metadata\":{");
    for (k, v) in &ev.flag.metadata {
        write_str(out, k);
        out.push(b':');
        // Writing a number, string or boolean into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, v);
        out.push(b',');
    }
    out.extend_from_slice(b"\"version\":");
    write_str(out, version);
    if let Some(rule) = ev.rule_name() {
        out.extend_from_slice(b",\"rule\":");
        write_str(out, rule);
    }
    out.extend_from_slice(b"}}");
}

/// A JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
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
    use super::*;

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    /// The hand-written bulk item is what serde writes for [`Success`].
    #[test]
    fn bulk_items_match_serde() {
        let ruleset = hotswap_flags_core::Repository::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../flags-example"
        ))
        .unwrap()
        .ruleset("production")
        .unwrap();
        let ctx = Context::new()
            .with_key("user-\"42\"")
            .with_str("country", "DE")
            .with_str("email", "ana@example.com");
        let env = hotswap_flags_core::eval::EvalEnv::now();
        let mut written = 0;
        for flag in ruleset.flags() {
            let Ok(ev) = ruleset.evaluate(&flag.key, &ctx, &env) else {
                continue;
            };
            let mut out = Vec::new();
            write_success(&mut out, &ev, "v\u{e9}\"1");
            let expected = serde_json::to_vec(&Success::new(&ev, "v\u{e9}\"1")).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
            written += 1;
        }
        assert!(written > 10, "{written} flags evaluated");
    }

    /// `$codeDefault`: no `variant` and no `value`, by hand as by serde.
    #[test]
    fn code_default_items_carry_no_value() {
        let ruleset = hotswap_flags_core::testing::compile_yaml(
            "
flags:
  d:
    type: boolean
    variants: { on: true }
    default: $codeDefault
    metadata: { team: x }
    rules: [{ name: r, when: { attr: a, op: exists }, serve: on }]
",
        );
        let env = hotswap_flags_core::eval::EvalEnv::now();
        for (ctx, want) in [
            (
                Context::new(),
                r#"{"key":"d","reason":"DEFAULT","metadata":{"team":"x","version":"v"}}"#,
            ),
            (
                Context::new().with_str("a", "1"),
                r#"{"key":"d","reason":"TARGETING_MATCH","variant":"on","value":true,"metadata":{"team":"x","version":"v","rule":"r"}}"#,
            ),
        ] {
            let ev = ruleset.evaluate("d", &ctx, &env).unwrap();
            let mut out = Vec::new();
            write_success(&mut out, &ev, "v");
            let expected = serde_json::to_vec(&Success::new(&ev, "v")).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
            assert_eq!(String::from_utf8(expected).unwrap(), want);
        }
    }
}
