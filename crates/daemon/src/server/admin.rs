//! Definitions, load status, health, readiness and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::{AppState, json_ok};
use crate::live::{Live, Served};
use hotswap_flags_core::eval::bucket::percentage;
use hotswap_flags_core::ruleset::FlagId;

/// Evaluations since flagd started, by flag then variant (every reason
/// summed): what `flagctl stale --daemon` weighs (docs/lifecycle.md).
fn evaluations_by_flag(live: &Live) -> HashMap<String, Map<String, Value>> {
    let mut out: HashMap<String, Map<String, Value>> = HashMap::new();
    for (flag, variant, by_reason) in live.evaluation_counts() {
        let n: u64 = by_reason.iter().sum();
        out.entry(flag).or_default().insert(variant, json!(n));
    }
    out
}

/// A flag's definition as written, with its key, live rollout state and
/// evaluation counts.
fn flag_json(
    served: &Served,
    id: FlagId,
    evaluations: &HashMap<String, Map<String, Value>>,
) -> Value {
    let flag = served.ruleset.flag(id);
    let mut out = Map::new();
    out.insert("key".into(), Value::String(flag.key.to_string()));
    if let Ok(Value::Object(fields)) = serde_json::from_str(&flag.definition) {
        out.extend(fields);
    }
    if let Some(state) = served.rollout_state(id) {
        out.insert("rolloutState".into(), state);
    }
    let counted = evaluations.get(&*flag.key).cloned().unwrap_or_default();
    out.insert("evaluations".into(), Value::Object(counted));
    Value::Object(out)
}

impl Served {
    /// The live state of a flag's rollout, as shown with its definition.
    pub fn rollout_state(&self, id: FlagId) -> Option<Value> {
        let flag = self.ruleset.flag(id);
        let rollout = flag.rollout.as_ref()?;
        let env = self.eval_env();
        let position =
            hotswap_flags_core::eval::RolloutState::position(env.rollouts, id, flag, rollout);
        Some(json!({
            "strategy": rollout.strategy.as_str(),
            "percentage": percentage(position.threshold),
            "stage": position.stage,
        }))
    }
}

/// `GET /api/v1/flags`
pub async fn flags(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let served = state.served()?;
    let evaluations = evaluations_by_flag(&state.live);
    let flags: Vec<Value> = (0..served.ruleset.flags().len())
        .map(|i| flag_json(&served, i as FlagId, &evaluations))
        .collect();
    Ok(json_ok(&json!({
        "env": served.ruleset.meta().env,
        "version": served.ruleset.version(),
        "flags": flags,
    })))
}

/// `GET /api/v1/flags/{key}`
pub async fn flag(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (served, id) = state.served_flag(&key)?;
    Ok(json_ok(&flag_json(
        &served,
        id,
        &evaluations_by_flag(&state.live),
    )))
}

/// `GET /api/v1/ruleset`: version, source, loaded at, last error.
pub async fn ruleset(State(state): State<Arc<AppState>>) -> Response {
    let status = state.live.status();
    let mut body = serde_json::to_value(&status).unwrap_or_else(|_| json!({}));
    if let (Some(served), Some(obj)) = (state.live.current(), body.as_object_mut()) {
        obj.insert("flags".into(), json!(served.ruleset.flags().len()));
        obj.insert("segments".into(), json!(served.ruleset.segments().len()));
    }
    json_ok(&body)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    json_ok(&json!({"status": "ok"}))
}

/// `GET /readyz`: 200 once a ruleset is in service, 503 before. In a
/// cluster, also 503 until the replica has read the cluster's rollout
/// state once; afterwards an unreachable store is reported
/// (`clusterStore`) but keeps the replica ready, since it serves the last
/// positions it knew (docs/cluster.md, When etcd is unreachable).
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let cluster = state.rollouts.as_ref().and_then(|r| r.cluster());
    if let Some(c) = cluster.as_ref().filter(|c| !c.synced) {
        let body = json!({
            "status": "not ready",
            "reason": "has not read the cluster's rollout state yet (etcd unreachable?)",
            "cluster": c,
        });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    match state.live.current() {
        Some(served) => {
            let mut body = json!({"status": "ready", "version": served.ruleset.version()});
            if let Some(c) = cluster {
                body["clusterStore"] = json!(if c.store_reachable {
                    "reachable"
                } else {
                    "unreachable"
                });
                body["cluster"] = json!(c);
            }
            json_ok(&body)
        }
        None => {
            let status = state.live.status();
            let body = json!({
                "status": "not ready",
                "lastError": status.last_error,
            });
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.encode(),
    )
        .into_response()
}
