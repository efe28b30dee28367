//! Cluster mode (`flagd --cluster etcd://…`): many replicas, one rollout
//! leader, shared state in etcd (docs/cluster.md).
//!
//! The controller stays as it is; what changes is its store
//! ([`crate::rollout::store::StateStore`]): [`etcd::EtcdStore`]
//! elects one leader with a lease, fences every write of the controller on
//! the leadership key, and feeds every replica the records it watches, so
//! all serve the same positions. Another backend (a Kubernetes Lease) would
//! implement the same trait.

pub mod etcd;
mod gateway;

use crate::rollout::store::{BoxFuture, StoreError};
use hotswap_flags_client::wire::ExposureReport;

/// Experiments across replicas: every replica publishes its exposure
/// counts, and a report answered by one replica sums those of all
/// (docs/cluster.md, Experiments across replicas).
pub trait SharedExposures: Send + Sync + std::fmt::Debug {
    /// `report` (this replica's counts) plus the counts the other replicas
    /// published for the same experiment spec.
    fn merge(&self, report: ExposureReport) -> BoxFuture<'_, Result<ExposureReport, StoreError>>;
}

use std::path::PathBuf;
use std::time::Duration;

/// How to reach the cluster's etcd and what this replica is called.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `host:port` of each etcd endpoint.
    pub endpoints: Vec<String>,
    /// The key prefix of this environment's state (ends with `/`).
    pub prefix: String,
    /// TLS: the CA that signed etcd's certificate.
    pub ca: Option<PathBuf>,
    /// TLS: this client's certificate and key (PEM), for etcd's
    /// `--client-cert-auth`.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// etcd authentication: user and password.
    pub user: Option<(String, String)>,
    /// The leadership lease's time to live.
    pub lease_ttl: Duration,
    /// This replica's name, as the API and the audit trail show it.
    pub replica: String,
}

/// Why cluster options are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Not an `etcd://HOST:PORT[,HOST:PORT…]` URL.
    #[error("--cluster {0}: expected etcd://HOST:PORT[,HOST:PORT…]")]
    Url(String),
    /// A TLS file could not be read.
    #[error("{}: {error}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The etcd client refused the options.
    #[error("etcd client: {0}")]
    Client(String),
}

/// The endpoints of `etcd://HOST:PORT[,HOST:PORT…]`.
pub fn parse_url(url: &str) -> Result<Vec<String>, ClusterError> {
    let bad = || ClusterError::Url(url.to_owned());
    let rest = url.strip_prefix("etcd://").ok_or_else(bad)?;
    let endpoints: Vec<String> = rest
        .split(',')
        .map(|e| e.trim().trim_end_matches('/').to_owned())
        .collect();
    let valid = |e: &String| {
        e.rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
    };
    if endpoints.is_empty() || !endpoints.iter().all(valid) {
        return Err(bad());
    }
    Ok(endpoints)
}

/// The default key prefix of environment `env`.
pub fn default_prefix(env: &str) -> String {
    format!("/hotswap-flags/{env}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_endpoints() {
        assert_eq!(
            parse_url("etcd://10.0.0.1:2379,etcd-1.internal:2379").unwrap(),
            ["10.0.0.1:2379", "etcd-1.internal:2379"]
        );
        assert_eq!(parse_url("etcd://[::1]:2379/").unwrap(), ["[::1]:2379"]);
        for bad in [
            "http://a:1",
            "etcd://",
            "etcd://a",
            "etcd://a:x",
            "etcd://:1",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert_eq!(default_prefix("prod"), "/hotswap-flags/prod/");
    }
}
