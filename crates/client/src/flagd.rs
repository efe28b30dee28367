//! flagd's admin API, typed: rollout status and steering (`flagctl
//! rollout`) and an experiment's exposures (`flagctl experiment analyze
//! --daemon`). Answers are read into the daemon's own types
//! ([`RolloutStatus`], [`ExposureReport`], [`ErrorBody`]), so the client
//! cannot drift from what the server writes.
//!
//! **Errors** are typed by what the caller should do: flagd [`Unreachable`]
//! or [`Refused`] (with flagd's error code and message), or a success that
//! is not the expected answer ([`BadAnswer`]).
//!
//! [`Unreachable`]: FlagdError::Unreachable
//! [`Refused`]: FlagdError::Refused
//! [`BadAnswer`]: FlagdError::BadAnswer

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::http::{ClientError, chain, client};
use crate::wire::ErrorBody;
use crate::wire::ExposureReport;
use crate::wire::{RolloutList, RolloutStatus, Steer};

/// Why flagd gave no answer of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagdError {
    /// flagd could not be asked: refused, unresolvable, too slow.
    #[error("cannot reach flagd at {url}: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why, with its causes.
        reason: String,
    },
    /// flagd answered with an error status: no such flag or rollout, a
    /// steering call that does not apply now, not ready, not authorized.
    #[error("flagd at {url} answered HTTP {status}: {message}")]
    Refused {
        /// The URL asked.
        url: String,
        /// 404 (no such flag or rollout), 409 (does not apply now), 503
        /// (not ready), 401/403, …
        status: u16,
        /// flagd's error code (`NO_ROLLOUT`, `CONFLICT`, …); `None` when
        /// the answer did not come from flagd's API (a proxy's).
        code: Option<String>,
        /// flagd's message, else the answer's text.
        message: String,
    },
    /// A success status with an answer that does not read as expected.
    #[error("flagd at {url} answered something that is not {expected}: {reason}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What was expected (`an experiment report`).
        expected: &'static str,
        /// What did not fit.
        reason: String,
    },
}

/// What `GET /api/v1/ruleset` says of the flagd itself.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedStatus {
    /// The environment it serves.
    pub env: String,
    /// When it started (absent from flagd versions before it said so).
    #[serde(default)]
    pub started_at: Option<Timestamp>,
}

/// Evaluation counts by flag, then variant.
pub type EvaluationCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// A client of one flagd.
#[derive(Debug, Clone)]
pub struct FlagdClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    timeout: Duration,
}

impl FlagdClient {
    /// A client of the flagd at `base` (`http://127.0.0.1:8013`), sending
    /// `token` as a bearer token when flagd requires one; every call gives
    /// up after `timeout`.
    pub fn new(base: &str, token: Option<&str>, timeout: Duration) -> Result<Self, ClientError> {
        Ok(FlagdClient {
            http: client()?,
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            timeout,
        })
    }

    /// The base URL, as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every rollout of the served ruleset (`GET /api/v1/rollouts`).
    pub async fn rollouts(&self) -> Result<RolloutList, FlagdError> {
        self.call(Method::GET, "/api/v1/rollouts", "a rollout list")
            .await
    }

    /// The environment flagd serves and when it started
    /// (`GET /api/v1/ruleset`).
    pub async fn served(&self) -> Result<ServedStatus, FlagdError> {
        self.call(Method::GET, "/api/v1/ruleset", "a ruleset status")
            .await
    }

    /// Evaluations counted since flagd started, by flag then variant
    /// (`GET /api/v1/flags`); `None` from a flagd that does not count them
    /// there (before it said when it started).
    pub async fn evaluations(&self) -> Result<Option<EvaluationCounts>, FlagdError> {
        #[derive(serde::Deserialize)]
        struct Listing {
            flags: Vec<Listed>,
        }
        #[derive(serde::Deserialize)]
        struct Listed {
            key: String,
            evaluations: Option<BTreeMap<String, u64>>,
        }
        let listing: Listing = self
            .call(Method::GET, "/api/v1/flags", "a flag list")
            .await?;
        Ok(listing
            .flags
            .into_iter()
            .map(|f| f.evaluations.map(|counts| (f.key, counts)))
            .collect())
    }

    /// One flag's rollout (`GET /api/v1/rollouts/{flag}`).
    pub async fn rollout(&self, flag: &str) -> Result<RolloutStatus, FlagdError> {
        let path = format!("/api/v1/rollouts/{flag}");
        self.call(Method::GET, &path, "a rollout status").await
    }

    /// Steers one flag's rollout (`POST /api/v1/rollouts/{flag}/{action}`);
    /// the answer is the rollout after the call.
    pub async fn steer(&self, flag: &str, action: Steer) -> Result<RolloutStatus, FlagdError> {
        let mut path = format!("/api/v1/rollouts/{flag}/{}", action.action());
        if let Steer::Promote { full } = action {
            path.push_str(&format!("?full={full}"));
        }
        self.call(Method::POST, &path, "a rollout status").await
    }

    /// An experiment's exposures since its spec last changed (`GET
    /// /api/v1/experiments/{flag}`).
    pub async fn experiment(&self, flag: &str) -> Result<ExposureReport, FlagdError> {
        let path = format!("/api/v1/experiments/{flag}");
        self.call(Method::GET, &path, "an experiment report").await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        expected: &'static str,
    ) -> Result<T, FlagdError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).timeout(self.timeout);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let unreachable = |reason: String| FlagdError::Unreachable {
            url: url.clone(),
            reason,
        };
        let response = request.send().await.map_err(|e| unreachable(chain(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {}", chain(&e))))?;
        if !status.is_success() {
            let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => (body.error.code, body.error.message),
                Err(_) => (None, text.trim().to_owned()),
            };
            return Err(FlagdError::Refused {
                url,
                status: status.as_u16(),
                code,
                message,
            });
        }
        serde_json::from_str(&text).map_err(|e| FlagdError::BadAnswer {
            url,
            expected,
            reason: e.to_string(),
        })
    }
}
