//! What the options mean: each one checked and given its default, into
//! the [`Settings`] flagd starts with (or `--check-config` prints).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hotswap_flags_core::model::DurationSpec;
use hotswap_flags_daemon::feed::FeedSpec;
use hotswap_flags_daemon::server::request::Limits;
use hotswap_flags_daemon::telemetry::TraceConfig;

use super::args::{Args, LogFormat, UiMode};
use super::cluster::{ClusterSettings, cluster_settings};
use super::security::{AuthSettings, auth_settings, check_origins};
use super::telemetry::trace_config;

/// Resolved settings: what flagd starts with.
#[derive(Debug)]
pub struct Settings {
    pub env: String,
    pub source: FeedSpec,
    pub poll: Duration,
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    pub metrics_url: Option<String>,
    pub log_format: LogFormat,
    pub workers: usize,
    pub auth: Option<AuthSettings>,
    pub auth_eval: bool,
    pub metrics_auth: bool,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub rate_limit: Option<(NonZeroU32, NonZeroU32)>,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: Option<usize>,
    pub max_event_streams: usize,
    pub limits: Limits,
    pub bundle_public_keys: Vec<PathBuf>,
    pub webhook_secret_file: Option<PathBuf>,
    pub allowed_origins: Vec<String>,
    pub cors_origins: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub ui: UiMode,
    pub cluster: Option<ClusterSettings>,
    /// OTLP trace export; `None`: off.
    pub tracing: Option<TraceConfig>,
}

impl Settings {
    /// The settings `args` (the config file and the command line merged)
    /// resolve to, or the first reason flagd would refuse them.
    pub fn from_args(args: Args) -> anyhow::Result<Settings> {
        let source = source(&args)?;
        check_origins("--allowed-origin", &args.allowed_origin, false)?;
        check_origins("--cors-origin", &args.cors_origin, true)?;
        let cluster = cluster_settings(&args)?;
        let env = args
            .env
            .clone()
            .context("--env is required: which environment to serve")?;
        let tracing = trace_config(&args, &env, |name| std::env::var(name).ok())?;
        Ok(Settings {
            auth: auth_settings(&args)?,
            env,
            source,
            poll: duration(args.poll.clone(), "10s", "--poll")?,
            listen: args
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8013))),
            workers: at_least_one(args.workers, "--workers")?.unwrap_or_else(default_workers),
            tls: together(
                args.tls_cert.clone(),
                args.tls_key.clone(),
                "--tls-cert and --tls-key",
            )?,
            rate_limit: rate_limit(&args)?,
            header_timeout: duration(args.header_timeout.clone(), "10s", "--header-timeout")?,
            idle_timeout: duration(args.idle_timeout.clone(), "10s", "--idle-timeout")?,
            max_connections: at_least_one(args.max_connections, "--max-connections")?,
            max_event_streams: args.max_event_streams.unwrap_or(1000),
            limits: limits(&args)?,
            state_dir: args
                .state_dir
                .unwrap_or_else(|| PathBuf::from(".flagd-state")),
            metrics_url: args.metrics_url,
            log_format: args.log_format.unwrap_or_default(),
            auth_eval: args.auth_eval,
            metrics_auth: args.metrics_auth,
            bundle_public_keys: args.bundle_public_key,
            allowed_origins: args.allowed_origin,
            cors_origins: args.cors_origin,
            allowed_hosts: args.allowed_host,
            ui: args.ui.unwrap_or_default(),
            webhook_secret_file: args.webhook_secret_file,
            cluster,
            tracing,
        })
    }
}

/// The source, with what goes with it.
fn source(args: &Args) -> anyhow::Result<FeedSpec> {
    let source = feed_spec(args)?;
    if !args.bundle_public_key.is_empty() && !matches!(source, FeedSpec::Bundle(_)) {
        bail!("--bundle-public-key goes with --bundle: only bundles carry signatures");
    }
    Ok(source)
}

/// Exactly one source; `--ref` and `--git-path` only with git.
fn feed_spec(args: &Args) -> anyhow::Result<FeedSpec> {
    let source = match (&args.repo, &args.git_url, &args.bundle) {
        (Some(dir), None, None) => FeedSpec::Dir(dir.clone()),
        (None, Some(url), None) => FeedSpec::Git {
            url: url.clone(),
            reference: args.reference.clone(),
            path: tree_path(args.git_path.as_deref().unwrap_or(""))?,
        },
        (None, None, Some(location)) => FeedSpec::Bundle(location.clone()),
        (None, None, None) => {
            bail!("give a source: --repo DIR, --git-url URL or --bundle PATH_OR_URL")
        }
        _ => bail!("give one source only: --repo, --git-url or --bundle"),
    };
    if !matches!(source, FeedSpec::Git { .. }) {
        if args.reference.is_some() {
            bail!("--ref goes with --git-url");
        }
        if args.git_path.is_some() {
            bail!("--git-path goes with --git-url (with --repo, give the directory itself)");
        }
    }
    Ok(source)
}

/// `--git-path` as a tree path: `/`-separated, relative, without `.` or
/// `..` (a tree has no parent to climb to).
fn tree_path(text: &str) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    for part in text.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                bail!("--git-path {text}: `..` leaves the repository; give a path from its root")
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// A positive duration option, or its default.
pub(super) fn duration(
    text: Option<String>,
    default: &str,
    option: &str,
) -> anyhow::Result<Duration> {
    let text = text.unwrap_or_else(|| default.to_owned());
    let d: DurationSpec = text.parse().with_context(|| format!("{option} {text}"))?;
    if d.get().is_zero() {
        bail!("{option} must be longer than 0");
    }
    Ok(d.get())
}

/// A count option that cannot be 0, when given.
fn at_least_one(given: Option<usize>, option: &str) -> anyhow::Result<Option<usize>> {
    if given == Some(0) {
        bail!("{option} must be at least 1");
    }
    Ok(given)
}

/// Threads serving requests by default: the CPUs minus one, at least one.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Two options given together or not at all.
pub(super) fn together<A, B>(
    a: Option<A>,
    b: Option<B>,
    options: &str,
) -> anyhow::Result<Option<(A, B)>> {
    match (a, b) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (None, None) => Ok(None),
        _ => bail!("{options} go together"),
    }
}

/// Requests per second and burst, per client; none without `--rate-limit`.
fn rate_limit(args: &Args) -> anyhow::Result<Option<(NonZeroU32, NonZeroU32)>> {
    let Some(rate) = args.rate_limit.and_then(NonZeroU32::new) else {
        return Ok(None);
    };
    let burst = args.rate_burst.unwrap_or(rate.get().saturating_mul(2));
    let burst = NonZeroU32::new(burst).context("--rate-burst must be at least 1")?;
    Ok(Some((rate, burst)))
}

/// What one request may ask for and take.
fn limits(args: &Args) -> anyhow::Result<Limits> {
    let defaults = Limits::default();
    Ok(Limits {
        max_body_bytes: args.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        request_timeout: duration(args.request_timeout.clone(), "30s", "--request-timeout")?,
        max_context_attributes: args
            .max_context_attributes
            .unwrap_or(defaults.max_context_attributes),
        max_context_depth: args.max_context_depth.unwrap_or(defaults.max_context_depth),
        max_bulk_flags: args.max_bulk_flags.unwrap_or(defaults.max_bulk_flags),
    })
}
