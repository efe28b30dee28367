//! Experiment exposures:
//!
//! - `GET /api/v1/experiments`: every experiment of the served ruleset
//! - `GET /api/v1/experiments/{flag}`: one, 404 `NO_EXPERIMENT` for a flag
//!   without one
//!
//! Each answer is an [`ExposureReport`](crate::exposure::ExposureReport):
//! the counts since the experiment's spec last changed, with the weights
//! and settings they belong to. Both read the counters of the one ruleset
//! in service, so the counts and the spec always match. In a cluster they
//! add the counts the other replicas published for the same spec
//! (docs/cluster.md, Experiments across replicas).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::json;

use super::error::ApiError;
use super::{AppState, json_ok};
use hotswap_flags_client::wire::ExposureReport;

/// `GET /api/v1/experiments`
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let served = state.served()?;
    let version = served.ruleset.version();
    let now = Timestamp::now();
    let mut experiments = Vec::new();
    for set in served.experiments().iter() {
        experiments.push(shared(&state, set.report(version, now)).await?);
    }
    Ok(json_ok(&json!({
        "version": version,
        "experiments": experiments,
    })))
}

/// `GET /api/v1/experiments/{flag}`
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (served, id) = state.served_flag(&key)?;
    let set = served.experiments().get(id).ok_or_else(|| {
        ApiError::not_found(
            "NO_EXPERIMENT",
            format!("flag `{key}` runs no experiment (no split has an `experiment` block)"),
        )
    })?;
    let report = set.report(served.ruleset.version(), Timestamp::now());
    Ok(json_ok(&shared(&state, report).await?))
}

/// `report` with the other replicas' counts, in a cluster; 503 when etcd
/// cannot be read (one replica's counts would pass for everyone's).
async fn shared(state: &AppState, report: ExposureReport) -> Result<ExposureReport, ApiError> {
    match &state.shared_exposures {
        None => Ok(report),
        Some(shared) => shared.merge(report).await.map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "STORE_UNAVAILABLE",
                format!("cannot read the other replicas' exposure counts: {e}"),
            )
        }),
    }
}
