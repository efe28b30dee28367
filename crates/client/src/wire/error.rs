//! The body of every error answer of flagd's own API.

use serde::{Deserialize, Serialize};

/// The body of every error answer of flagd's own API, `{"error": {code,
/// message}}`; flagd's client reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// The body for `code` and `message`.
    pub fn new(code: Option<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

/// What [`ErrorBody`] holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable (`FLAG_NOT_FOUND`, `CONFLICT`, …); `None` only for
    /// an answer that did not come from flagd's API (a proxy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For people.
    pub message: String,
}
