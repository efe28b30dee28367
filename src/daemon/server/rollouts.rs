//! Rollout status, steering and the audit log:
//!
//! - `GET /api/v1/rollouts`, `GET /api/v1/rollouts/{key}`
//! - `POST /api/v1/rollouts/{key}/{pause|resume|promote|abort}` (`promote?full=true`)
//! - `GET /api/v1/audit?flag=…&limit=…`

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::{AppState, json_ok};
use crate::daemon::rollout::{RolloutApi, RolloutList, Steer, SteerFailure};

/// Who is calling, as the audit log records it. Set by the auth guard when
/// there is one; `anonymous` otherwise.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

fn controller(state: &AppState) -> Result<&Arc<dyn RolloutApi>, ApiError> {
    state.rollouts.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NO_CONTROLLER",
            "rollouts are not driven by this process",
        )
    })
}

/// `GET /api/v1/rollouts`
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    Ok(json_ok(&RolloutList {
        rollouts: controller(&state)?.list(),
    }))
}

/// `GET /api/v1/rollouts/{key}`
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    controller(&state)?
        .status(&key)
        .map(|s| json_ok(&s))
        .ok_or_else(|| no_rollout(&state, &key))
}

/// 404 for a flag without a rollout: `FLAG_NOT_FOUND` when the served
/// ruleset has no such flag at all (a typo), else `NO_ROLLOUT`.
fn no_rollout(state: &AppState, key: &str) -> ApiError {
    match state.served_flag(key) {
        Ok(_) => ApiError::not_found("NO_ROLLOUT", format!("flag `{key}` has no rollout")),
        Err(e) => e,
    }
}

/// Query of `promote`.
#[derive(Debug, Default, Deserialize)]
pub struct PromoteQuery {
    #[serde(default)]
    full: bool,
}

/// `POST /api/v1/rollouts/{key}/{action}`
pub async fn steer(
    State(state): State<Arc<AppState>>,
    Path((key, action)): Path<(String, String)>,
    Query(query): Query<PromoteQuery>,
    actor: Option<Extension<Actor>>,
) -> Result<Response, ApiError> {
    let action = Steer::from_action(&action, query.full).ok_or_else(|| {
        ApiError::not_found(
            "NOT_FOUND",
            format!("unknown action `{action}`: use pause, resume, promote or abort"),
        )
    })?;
    let actor = actor.map_or_else(|| "anonymous".to_owned(), |Extension(Actor(a))| a);
    let controller = controller(&state)?.clone();
    // Steering writes state and audit durably (fsync): off the async threads.
    let result = tokio::task::spawn_blocking(move || controller.steer(&key, action, &actor))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "GENERAL", e.to_string()))?;
    match result {
        Ok(status) => Ok(json_ok(&status)),
        Err(SteerFailure::NoRollout(key)) => Err(no_rollout(&state, &key)),
        Err(e @ SteerFailure::Conflict(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            e.to_string(),
        )),
    }
}

/// Query of the audit log.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    flag: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/audit?flag=…&limit=…` (newest last, default 100 entries).
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let controller = controller(&state)?.clone();
    let limit = q.limit.unwrap_or(100).min(10_000);
    let entries = tokio::task::spawn_blocking(move || controller.audit(q.flag.as_deref(), limit))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "GENERAL", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "GENERAL",
                format!("cannot read the audit log: {e}"),
            )
        })?;
    Ok(json_ok(&json!({"entries": entries})))
}
