//! Experiment exposures:
//!
//! - `GET /api/v1/experiments`: every experiment of the served ruleset
//! - `GET /api/v1/experiments/{flag}`: one, 404 `NO_EXPERIMENT` for a flag
//!   without one
//!
//! Each answer is an [`ExposureReport`](crate::daemon::exposure::ExposureReport):
//! the counts since the experiment's spec last changed, with the weights
//! and settings they belong to. Both read the counters of the one ruleset
//! in service, so the counts and the spec always match.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::json;

use super::error::ApiError;
use super::{AppState, json_ok};

/// `GET /api/v1/experiments`
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let served = state.served()?;
    let version = served.ruleset.version();
    let now = Timestamp::now();
    let experiments: Vec<_> = served
        .experiments()
        .iter()
        .map(|set| set.report(version, now))
        .collect();
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
    Ok(json_ok(
        &set.report(served.ruleset.version(), Timestamp::now()),
    ))
}
