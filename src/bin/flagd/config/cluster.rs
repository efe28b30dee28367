//! Cluster mode's options (`--cluster` and its companions,
//! docs/cluster.md).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hotswap_flags_daemon::cluster::{self, ClusterConfig};

use super::args::Args;
use super::settings::{duration, together};

/// Cluster mode, before the listening address completes the replica's
/// default name.
#[derive(Debug)]
pub struct ClusterSettings {
    pub config: ClusterConfig,
    /// `--cluster-replica`, when given.
    pub replica: Option<String>,
    /// `--cluster-user` and `--cluster-password-file`, when given.
    pub user: Option<(String, PathBuf)>,
}

impl ClusterSettings {
    /// The etcd user and the password read from its file, for
    /// [`ClusterConfig::user`].
    pub fn credentials(&self) -> anyhow::Result<Option<(String, String)>> {
        let Some((user, file)) = &self.user else {
            return Ok(None);
        };
        let password = std::fs::read_to_string(file)
            .with_context(|| format!("--cluster-password-file {}", file.display()))?;
        Ok(Some((
            user.clone(),
            password.trim_end_matches(['\r', '\n']).to_owned(),
        )))
    }
}

/// `--cluster` and its companions; the other `--cluster-*` options need it.
pub(super) fn cluster_settings(args: &Args) -> anyhow::Result<Option<ClusterSettings>> {
    let Some(url) = &args.cluster else {
        no_companions(args)?;
        return Ok(None);
    };
    let endpoints = cluster::parse_url(url)?;
    let prefix = prefix(args)?;
    let lease_ttl = lease_ttl(args)?;
    let user = together(
        args.cluster_user.clone(),
        args.cluster_password_file.clone(),
        "--cluster-user and --cluster-password-file",
    )?;
    let identity = together(
        args.cluster_cert.clone(),
        args.cluster_key.clone(),
        "--cluster-cert and --cluster-key",
    )?;
    Ok(Some(ClusterSettings {
        config: ClusterConfig {
            endpoints,
            prefix,
            ca: args.cluster_ca.clone(),
            identity,
            // Read at start (`ClusterSettings::credentials`), so that
            // --check-config reads no secret.
            user: None,
            lease_ttl,
            replica: String::new(),
        },
        replica: args.cluster_replica.clone(),
        user,
    }))
}

/// Without `--cluster`, none of the options that configure it.
fn no_companions(args: &Args) -> anyhow::Result<()> {
    let companion = args.cluster_prefix.is_some()
        || args.cluster_replica.is_some()
        || args.cluster_lease_ttl.is_some()
        || args.cluster_ca.is_some()
        || args.cluster_cert.is_some()
        || args.cluster_user.is_some();
    if companion {
        bail!("the --cluster-* options go with --cluster etcd://HOST:PORT");
    }
    Ok(())
}

/// The etcd key prefix, absolute and ending in `/`.
fn prefix(args: &Args) -> anyhow::Result<String> {
    Ok(match &args.cluster_prefix {
        Some(p) if !p.starts_with('/') => bail!("--cluster-prefix {p}: must start with /"),
        Some(p) if p.ends_with('/') => p.clone(),
        Some(p) => format!("{p}/"),
        None => cluster::default_prefix(args.env.as_deref().unwrap_or_default()),
    })
}

/// The leader's lease, in whole seconds as etcd counts them.
fn lease_ttl(args: &Args) -> anyhow::Result<Duration> {
    let lease_ttl = duration(args.cluster_lease_ttl.clone(), "10s", "--cluster-lease-ttl")?;
    if lease_ttl < Duration::from_secs(1) {
        bail!("--cluster-lease-ttl must be at least 1s (etcd counts leases in seconds)");
    }
    Ok(lease_ttl)
}
