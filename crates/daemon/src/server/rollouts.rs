//! Rollout status, steering and the audit log:
//!
//! - `GET /api/v1/rollouts`, `GET /api/v1/rollouts/{key}`
//! - `POST /api/v1/rollouts/{key}/{pause|resume|promote|abort}` (`promote?full=true`)
//! - `GET /api/v1/rollouts/{key}/history` (docs/rollouts.md, Check history)
//! - `GET /api/v1/audit?flag=…&limit=…`

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, json_ok};
use crate::rollout::store::StoreError;
use crate::rollout::{RolloutApi, SteerFailure};
use hotswap_flags_client::wire::{RolloutList, Steer};

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
    let controller = controller(&state)?;
    let cluster = controller.cluster();
    let leader = cluster.as_ref().and_then(|c| c.leader.clone());
    Ok(json_ok(&RolloutList {
        rollouts: controller
            .list()
            .into_iter()
            .map(|s| with_leader(s, leader.as_deref()))
            .collect(),
        cluster,
    }))
}

/// A status naming the cluster's leader, in a cluster.
fn with_leader(mut status: Value, leader: Option<&str>) -> Value {
    if let (Some(leader), Some(map)) = (leader, status.as_object_mut()) {
        map.insert("leader".to_owned(), Value::from(leader));
    }
    status
}

/// The leader as `controller` knows it.
fn leader(controller: &dyn RolloutApi) -> Option<String> {
    controller.cluster().and_then(|c| c.leader)
}

/// `GET /api/v1/rollouts/{key}`
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let controller = controller(&state)?;
    let leader = leader(controller.as_ref());
    controller
        .status(&key)
        .map(|s| json_ok(&with_leader(s, leader.as_deref())))
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

/// `GET /api/v1/rollouts/{key}/history`: every check round of the
/// rollout in service, from the store (docs/rollouts.md, Check history).
pub async fn history(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let controller = controller(&state)?;
    match controller.history(&key).await {
        Ok(Some(h)) => Ok(json_ok(&h)),
        Ok(None) => Err(no_rollout(&state, &key)),
        Err(e) => Err(store_error(e, "cannot read the check history")),
    }
}

/// 503 when the store does not answer, else 500.
fn store_error(e: StoreError, what: &str) -> ApiError {
    match e {
        StoreError::Unreachable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORE_UNAVAILABLE",
            format!("{what}: {e}"),
        ),
        e => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL",
            format!("{what}: {e}"),
        ),
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
    let controller = controller(&state)?;
    let result = controller.steer(&key, action, &actor).await;
    match result {
        Ok(status) => Ok(json_ok(&with_leader(
            status,
            leader(controller.as_ref()).as_deref(),
        ))),
        Err(SteerFailure::NoRollout(key)) => Err(no_rollout(&state, &key)),
        Err(e @ SteerFailure::Conflict(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            e.to_string(),
        )),
        Err(e @ SteerFailure::Store(_)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORE_UNAVAILABLE",
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
    read_audit(&state, q.flag, q.limit).await
}

/// `GET /api/v1/rollouts/{key}/audit?limit=…`: one flag's audit trail
/// (in a cluster, the cluster's, from any replica).
pub async fn flag_audit(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    read_audit(&state, Some(key), q.limit).await
}

async fn read_audit(
    state: &AppState,
    flag: Option<String>,
    limit: Option<usize>,
) -> Result<Response, ApiError> {
    let limit = limit.unwrap_or(100).min(10_000);
    let entries = controller(state)?
        .audit(flag, limit)
        .await
        .map_err(|e| match e {
            StoreError::Unreachable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "STORE_UNAVAILABLE",
                format!("cannot read the audit trail: {e}"),
            ),
            e => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "GENERAL",
                format!("cannot read the audit log: {e}"),
            ),
        })?;
    Ok(json_ok(&json!({"entries": entries})))
}
