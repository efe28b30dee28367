//! flagd's own evaluation API:
//!
//! - `GET  /api/v1/flags/{key}/evaluate?userId=…&attr=…`
//! - `POST /api/v1/flags/{key}/evaluate` with `{"context": {…}}`
//! - `POST /api/v1/evaluate` with `{"context": {…}, "flags": [keys]?}` (bulk)
//!
//! Each answer is `{flag, enabled, value, variant, reason, detail, rule, version}`;
//! for a flag serving `$codeDefault`, `codeDefault: true` stands instead of
//! `value` and `variant` (docs/flagd.md).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::audience::Audience;
use super::error::ApiError;
use super::request::{context_from_body, context_from_query};
use super::{AppState, json_ok};
use crate::live::Served;
use crate::telemetry::evaluation::{self, Scope};
use hotswap_flags_core::eval::{Context, Detail, Evaluation, Reason};
use hotswap_flags_core::model::FlagType;

/// One evaluation in the shape of flagd's own API (docs/flagd.md).
#[derive(Serialize)]
pub struct EvaluationBody<'a> {
    flag: &'a str,
    enabled: bool,
    /// Neither `value` nor `variant` where the flag serves `$codeDefault`,
    /// which says `codeDefault: true` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<&'a str>,
    #[serde(rename = "codeDefault", skip_serializing_if = "std::ops::Not::not")]
    code_default: bool,
    reason: &'static str,
    /// Written into the answer as it is serialized (no `String` per
    /// request).
    #[serde(serialize_with = "serde_display")]
    detail: Detail<'a>,
    rule: Option<&'a str>,
    version: &'a str,
}

impl<'a> EvaluationBody<'a> {
    fn new(ev: &Evaluation<'a>, version: &'a str) -> Self {
        // `enabled` is the value for boolean flags (false for a code
        // default, which has none); otherwise false only when the kill
        // switch served offVariant.
        let enabled = match ev.flag.kind {
            FlagType::Boolean => ev.served_value().and_then(Value::as_bool) == Some(true),
            _ => ev.reason != Reason::Disabled,
        };
        EvaluationBody {
            flag: &ev.flag.key,
            enabled,
            value: ev.served_value(),
            variant: ev.served_variant(),
            code_default: ev.is_code_default(),
            reason: ev.reason.as_str(),
            detail: ev.detail(),
            rule: ev.rule_name(),
            version,
        }
    }
}

fn serde_display<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Evaluates one flag against the served ruleset, counting it and
/// recording it on the request's span (`scope`: whether it is the
/// request's only flag). A flag `audience` may not see answers exactly as
/// a flag that does not exist.
pub(super) fn evaluate<'s>(
    served: &'s Served,
    key: &str,
    ctx: &Context,
    audience: Audience,
    scope: Scope,
) -> Result<Evaluation<'s>, ApiError> {
    let result = evaluate_visible(served, key, ctx, audience);
    match &result {
        Ok(ev) => {
            served.count(ev);
            let version = served.version_for(audience == Audience::Client);
            evaluation::record(ev, ctx, version, scope);
        }
        Err(e) => evaluation::record_error(key, e.code),
    }
    result
}

fn evaluate_visible<'s>(
    served: &'s Served,
    key: &str,
    ctx: &Context,
    audience: Audience,
) -> Result<Evaluation<'s>, ApiError> {
    if audience != Audience::Server {
        let visible = served
            .ruleset
            .flag_id(key)
            .is_some_and(|id| audience.may_see(served.ruleset.flag(id)));
        if !visible {
            return Err(ApiError::eval(
                key,
                hotswap_flags_core::eval::EvalError::FlagNotFound,
            ));
        }
    }
    served
        .ruleset
        .evaluate(key, ctx, &served.eval_env())
        .map_err(|e| ApiError::eval(key, e))
}

fn respond(
    state: &AppState,
    key: &str,
    ctx: &Context,
    audience: Audience,
) -> Result<Response, ApiError> {
    let served = state.served()?;
    let ev = evaluate(&served, key, ctx, audience, Scope::One)?;
    let version = served.version_for(audience == Audience::Client);
    Ok(json_ok(&EvaluationBody::new(&ev, version)))
}

/// `GET /api/v1/flags/{key}/evaluate`
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    audience: Audience,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let ctx = context_from_query(query.as_deref(), &state.limits)?;
    respond(&state, &key, &ctx, audience)
}

/// `POST /api/v1/flags/{key}/evaluate`
pub async fn post(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    audience: Audience,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (ctx, _) = context_from_body(&body, &state.limits, &[])?;
    respond(&state, &key, &ctx, audience)
}

#[derive(Serialize)]
#[serde(untagged)]
enum BulkItem<'a> {
    Ok(EvaluationBody<'a>),
    Err { flag: &'a str, error: BulkError },
}

#[derive(Serialize)]
struct BulkError {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct BulkResponse<'a> {
    version: &'a str,
    flags: Vec<BulkItem<'a>>,
}

/// `POST /api/v1/evaluate`: several flags (default: all) for one context.
pub async fn bulk(
    State(state): State<Arc<AppState>>,
    audience: Audience,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (ctx, mut body) = context_from_body(&body, &state.limits, &["flags"])?;
    let wanted: Option<Vec<String>> = match body.remove("flags") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v)
                .map_err(|_| ApiError::parse("`flags` must be a list of flag keys"))?,
        ),
    };
    if let Some(keys) = &wanted
        && keys.len() > state.limits.max_bulk_flags
    {
        return Err(ApiError::parse(format!(
            "{} flags requested; at most {} per request",
            keys.len(),
            state.limits.max_bulk_flags
        )));
    }
    let served = state.served()?;
    let version = served.version_for(audience == Audience::Client);
    let keys: Vec<&str> = match &wanted {
        Some(keys) => keys.iter().map(String::as_str).collect(),
        None => served
            .ruleset
            .flags()
            .iter()
            .filter(|f| audience.may_see(f))
            .map(|f| &*f.key)
            .collect(),
    };
    let flags = keys
        .into_iter()
        .map(
            |key| match evaluate(&served, key, &ctx, audience, Scope::Many) {
                Ok(ev) => BulkItem::Ok(EvaluationBody::new(&ev, version)),
                Err(e) => BulkItem::Err {
                    flag: key,
                    error: BulkError {
                        code: e.code,
                        message: e.message,
                    },
                },
            },
        )
        .collect();
    Ok(json_ok(&BulkResponse { version, flags }))
}
