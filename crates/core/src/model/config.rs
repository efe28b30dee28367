//! `flags.toml`: the repository's environments and metrics settings.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The repository configuration file, `flags.toml` at the repository root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepoConfig {
    /// Format version of this file; only `1` exists.
    pub version: u32,
    /// Environments in promotion order.
    #[serde(default)]
    pub environments: Vec<EnvironmentConfig>,
    /// Where rollout health checks get their numbers.
    #[serde(default, skip_serializing_if = "MetricsConfig::is_empty")]
    pub metrics: MetricsConfig,
}

impl RepoConfig {
    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.iter().find(|e| e.name == name)
    }
}

/// One environment: a name and the directory holding its flag files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentConfig {
    /// The environment's name, as given to `--env`.
    pub name: String,
    /// Directory of its flag files, relative to the repository root.
    pub path: String,
    /// Changes reach a protected environment through review only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected: bool,
}

/// The metrics endpoint and named query templates for health checks.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsConfig {
    /// Base URL of a Prometheus-compatible HTTP API.
    pub prometheus: Option<String>,
    /// PromQL templates by name; `{{flag}}`, `{{variant}}`, `{{stage}}` and
    /// `{{percentage}}` are filled in when a check runs.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub queries: IndexMap<String, String>,
}

impl MetricsConfig {
    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.prometheus.is_none() && self.queries.is_empty()
    }
}
