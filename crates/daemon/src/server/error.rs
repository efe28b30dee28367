//! Error responses: always a JSON body and a 4xx/5xx status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use hotswap_flags_client::wire::ErrorBody;

use hotswap_flags_core::eval::EvalError;

/// An error of flagd's own API: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`FLAG_NOT_FOUND`, `PARSE_ERROR`, …).
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with `PARSE_ERROR`: the body is not the JSON we expect.
    pub fn parse(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "PARSE_ERROR", message)
    }

    /// 400 with `INVALID_CONTEXT`.
    pub fn invalid_context(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_CONTEXT", message)
    }

    /// 503 before the first good load.
    pub fn not_ready(reason: Option<&str>) -> Self {
        let message = match reason {
            Some(r) => format!("no ruleset loaded yet: {r}"),
            None => "no ruleset loaded yet".to_owned(),
        };
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "NOT_READY", message)
    }

    /// 404 for an unknown rollout, flag, route.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 404 for flag `key`, in OFREP's terms.
    pub fn flag_not_found(key: &str) -> Self {
        ApiError::not_found(EvalError::FlagNotFound.code(), format!("no flag `{key}`"))
    }

    /// The error of an evaluation of flag `key`.
    pub fn eval(key: &str, e: EvalError) -> Self {
        match e {
            EvalError::FlagNotFound => ApiError::flag_not_found(key),
            EvalError::TargetingKeyMissing => {
                ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(Some(self.code.to_owned()), self.message);
        (self.status, axum::Json(body)).into_response()
    }
}

/// An OFREP error: `{key?, errorCode, errorDetails}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfrepError {
    #[serde(skip)]
    status: StatusCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    error_code: &'static str,
    error_details: String,
}

impl OfrepError {
    /// The OFREP form of an API error, for flag `key` where there is one.
    pub fn from_api(key: Option<&str>, e: ApiError) -> Self {
        // OFREP knows PARSE_ERROR, TARGETING_KEY_MISSING, INVALID_CONTEXT,
        // FLAG_NOT_FOUND and GENERAL; everything else is GENERAL.
        let code = match e.code {
            "PARSE_ERROR" | "TARGETING_KEY_MISSING" | "INVALID_CONTEXT" | "FLAG_NOT_FOUND" => {
                e.code
            }
            _ => "GENERAL",
        };
        OfrepError {
            status: e.status,
            key: key.map(str::to_owned),
            error_code: code,
            error_details: e.message,
        }
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(&self)).into_response()
    }
}
