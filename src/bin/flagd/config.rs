//! flagd's options: command line first, then `--config flagd.toml`, then
//! defaults. The config file uses the long option names as keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use hotswap_flags_core::model::DurationSpec;
use hotswap_flags_daemon::cluster::{self, ClusterConfig};
use hotswap_flags_daemon::feed::FeedSpec;
use hotswap_flags_daemon::server::request::Limits;
use serde::Deserialize;
use std::num::NonZeroU32;

/// Serve one environment of a flags repository over HTTP, hot-swapping it on
/// every change.
#[derive(Debug, Default, Parser, Deserialize)]
#[command(name = "flagd", version, long_about = None)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Args {
    /// The environment to serve.
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,

    /// Serve a flags repository directory, watched for changes.
    #[arg(long, value_name = "DIR", group = "source")]
    pub repo: Option<PathBuf>,

    /// Serve a git repository (URL or local path), fetched every poll.
    #[arg(long, value_name = "URL", group = "source")]
    pub git_url: Option<String>,

    /// With --git-url: the branch, tag or commit to follow (default: the
    /// remote's HEAD).
    #[arg(long = "ref", value_name = "REF")]
    #[serde(rename = "ref")]
    pub reference: Option<String>,

    /// With --git-url: the directory holding flags.toml inside the git
    /// repository (default: its root), for flags kept in a monorepo.
    #[arg(long, value_name = "DIR")]
    pub git_path: Option<String>,

    /// Serve a bundle from a file (watched) or an http(s) URL (polled).
    #[arg(long, value_name = "PATH_OR_URL", group = "source")]
    pub bundle: Option<String>,

    /// How often to poll the source (default 10s; git and bundle URLs are
    /// polled, directories and files are also watched).
    #[arg(long, value_name = "DURATION")]
    pub poll: Option<String>,

    /// Address to listen on (default 127.0.0.1:8013; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory for state: git clone, last good ruleset, rollout state and
    /// audit log (default .flagd-state).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Prometheus HTTP API for rollout health checks (default: flags.toml's
    /// [metrics] prometheus).
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,

    /// Threads serving requests (default: the CPUs minus one, at least one —
    /// flagd runs next to the applications it serves and leaves them a core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Log format on stderr.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Verify bearer tokens with this HS256 secret (at least 32 bytes).
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub auth_jwt_secret_file: Option<PathBuf>,

    /// Verify bearer tokens with this RSA (RS256) or P-256 (ES256) public key, PEM.
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub auth_jwt_public_key: Option<PathBuf>,

    /// A web page origin (`https://ops.example.com`) allowed to call the
    /// steering and refresh endpoints; repeat for several. Requests from
    /// any other page are refused (default: none).
    #[arg(long, value_name = "ORIGIN", help_heading = "Security")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub allowed_origin: Vec<String>,

    /// A web page origin (`https://shop.example.com`, or `*` for any) whose
    /// scripts may evaluate flags (CORS on the evaluation and OFREP
    /// endpoints); repeat for several (default: none).
    #[arg(long, value_name = "ORIGIN", help_heading = "Security")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub cors_origin: Vec<String>,

    /// Answer only requests naming this host (`flags.internal`, or with a
    /// port); repeat for several. Against DNS rebinding (default: any).
    #[arg(long, value_name = "HOST", help_heading = "Security")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub allowed_host: Vec<String>,

    /// Verify bearer tokens with the keys of this JWKS document (by `kid`).
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub auth_jwks_file: Option<PathBuf>,

    /// Require this `iss` in tokens.
    #[arg(long, value_name = "ISSUER", help_heading = "Security")]
    pub auth_issuer: Option<String>,

    /// Require this `aud` in tokens.
    #[arg(long, value_name = "AUDIENCE", help_heading = "Security")]
    pub auth_audience: Option<String>,

    /// The claim holding the role: viewer, developer or admin (default `role`).
    #[arg(long, value_name = "CLAIM", help_heading = "Security")]
    pub auth_role_claim: Option<String>,

    /// Evaluation needs a valid token or API key too (default: open).
    #[arg(long, help_heading = "Security")]
    #[serde(default)]
    pub auth_eval: bool,

    /// API keys accepted for evaluation (`X-API-Key`): one `name = key` a line.
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub api_keys_file: Option<PathBuf>,

    /// Client keys for browsers and mobile apps (`X-API-Key`): one
    /// `name = key` a line; they evaluate `clientSide` flags only.
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub client_api_keys_file: Option<PathBuf>,

    /// `/metrics` needs a viewer token (default: open).
    #[arg(long, help_heading = "Security")]
    #[serde(default)]
    pub metrics_auth: bool,

    /// Serve HTTPS with this certificate chain (PEM); reloaded when it changes.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        help_heading = "Security"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM); reloaded when it changes.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        help_heading = "Security"
    )]
    pub tls_key: Option<PathBuf>,

    /// With --bundle: accept only bundles signed by this Ed25519 public key
    /// (PEM, as `flagctl keygen` writes to FILE.pub). Repeat to trust
    /// several keys while rotating; a list in the config file.
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    #[serde(default, deserialize_with = "one_or_many")]
    pub bundle_public_key: Vec<PathBuf>,

    /// Verify push webhooks on POST /api/v1/ruleset/refresh with the
    /// HMAC-SHA256 secret in this file (GitHub's X-Hub-Signature-256,
    /// Gitea's X-Gitea-Signature).
    #[arg(long, value_name = "FILE", help_heading = "Security")]
    pub webhook_secret_file: Option<PathBuf>,

    /// Requests a second per client (token subject, API key or IP; default 0: off).
    #[arg(long, value_name = "RPS", help_heading = "Limits")]
    pub rate_limit: Option<u32>,

    /// Requests a client may burst above --rate-limit (default: twice the rate).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub rate_burst: Option<u32>,

    /// Largest request body in bytes (default 262144).
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_body_bytes: Option<usize>,

    /// Time a client has to send its request headers (default 10s).
    #[arg(long, value_name = "DURATION", help_heading = "Limits")]
    pub header_timeout: Option<String>,

    /// Time a connection may stay silent before its first request and
    /// between keep-alive requests (default 10s).
    #[arg(long, value_name = "DURATION", help_heading = "Limits")]
    pub idle_timeout: Option<String>,

    /// Open connections at most; more are answered 503 and closed
    /// (default 10000, fewer under a lower open-file limit).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_connections: Option<usize>,

    /// OFREP change-event streams (browsers, mobile apps) open at most;
    /// more are answered 503. 0 turns streams off (default 1000).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_event_streams: Option<usize>,

    /// Time to answer one request, body upload included (default 30s).
    #[arg(long, value_name = "DURATION", help_heading = "Limits")]
    pub request_timeout: Option<String>,

    /// Flags one bulk request may name (default 1000).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_bulk_flags: Option<usize>,

    /// Attributes one context may have (default 256).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_context_attributes: Option<usize>,

    /// Nesting depth of attribute values (default 8).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_context_depth: Option<usize>,

    /// Run as one replica of a cluster sharing rollout state in etcd: one
    /// leader decides, every replica serves the same positions
    /// (etcd://HOST:PORT[,HOST:PORT…]; docs/cluster.md).
    #[arg(long, value_name = "URL", help_heading = "Cluster")]
    pub cluster: Option<String>,

    /// The etcd key prefix of this environment's state (default
    /// /hotswap-flags/ENV/).
    #[arg(long, value_name = "PREFIX", help_heading = "Cluster")]
    pub cluster_prefix: Option<String>,

    /// This replica's name in the API and the audit trail (default:
    /// HOSTNAME:PORT).
    #[arg(long, value_name = "NAME", help_heading = "Cluster")]
    pub cluster_replica: Option<String>,

    /// How long the leader's etcd lease lasts without renewal: the longest
    /// a dead leader holds the rollouts (default 10s).
    #[arg(long, value_name = "DURATION", help_heading = "Cluster")]
    pub cluster_lease_ttl: Option<String>,

    /// The CA certificate (PEM) that signed etcd's, for TLS to etcd.
    #[arg(long, value_name = "FILE", help_heading = "Cluster")]
    pub cluster_ca: Option<PathBuf>,

    /// This client's certificate (PEM), for etcd's client certificate auth.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cluster_key",
        help_heading = "Cluster"
    )]
    pub cluster_cert: Option<PathBuf>,

    /// The private key (PEM) of --cluster-cert.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cluster_cert",
        help_heading = "Cluster"
    )]
    pub cluster_key: Option<PathBuf>,

    /// The etcd user, with --cluster-password-file.
    #[arg(
        long,
        value_name = "USER",
        requires = "cluster_password_file",
        help_heading = "Cluster"
    )]
    pub cluster_user: Option<String>,

    /// A file holding the etcd user's password.
    #[arg(
        long,
        value_name = "FILE",
        requires = "cluster_user",
        help_heading = "Cluster"
    )]
    pub cluster_password_file: Option<PathBuf>,

    /// Read options from a TOML file (keys are the long option names).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Check the options (the command line and the --config file) as a
    /// start would, print what they resolve to, and exit: 0 when flagd
    /// would start with them, 2 otherwise. Reads no other file, binds and
    /// contacts nothing, so options can be checked away from where they
    /// run (a Kubernetes manifest's, for one).
    #[arg(long)]
    #[serde(skip)]
    pub check_config: bool,

    /// Print shell completions and exit.
    #[arg(long, value_name = "SHELL", hide = true)]
    #[serde(skip)]
    pub completions: Option<clap_complete::Shell>,

    /// Print the man page and exit.
    #[arg(long, hide = true)]
    #[serde(skip)]
    pub man: bool,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// Resolved settings.
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
    pub cluster: Option<ClusterSettings>,
}

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

/// Token verification settings.
#[derive(Debug)]
pub struct AuthSettings {
    pub keys: KeyFile,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub role_claim: String,
    pub api_keys_file: Option<PathBuf>,
    pub client_api_keys_file: Option<PathBuf>,
}

/// Which kind of key file verifies tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFile {
    Secret(PathBuf),
    PublicKey(PathBuf),
    Jwks(PathBuf),
}

impl Args {
    /// Merges the config file (if any) under the command line and applies defaults.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
        let args = self.over(file);
        let source = feed_spec(&args)?;
        if !args.bundle_public_key.is_empty() && !matches!(source, FeedSpec::Bundle(_)) {
            bail!("--bundle-public-key goes with --bundle: only bundles carry signatures");
        }
        check_origins("--allowed-origin", &args.allowed_origin, false)?;
        check_origins("--cors-origin", &args.cors_origin, true)?;
        let cluster = cluster_settings(&args)?;
        Ok(Settings {
            auth: auth_settings(&args)?,
            env: args
                .env
                .clone()
                .context("--env is required: which environment to serve")?,
            source,
            poll: duration(args.poll.clone(), "10s", "--poll")?,
            listen: args
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8013))),
            workers: match args.workers {
                Some(0) => bail!("--workers must be at least 1"),
                Some(n) => n,
                None => std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            },
            tls: match (args.tls_cert.clone(), args.tls_key.clone()) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => bail!("--tls-cert and --tls-key go together"),
            },
            rate_limit: rate_limit(&args)?,
            header_timeout: duration(args.header_timeout.clone(), "10s", "--header-timeout")?,
            idle_timeout: duration(args.idle_timeout.clone(), "10s", "--idle-timeout")?,
            max_connections: match args.max_connections {
                Some(0) => bail!("--max-connections must be at least 1"),
                n => n,
            },
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
            webhook_secret_file: args.webhook_secret_file,
            cluster,
        })
    }

    /// The command line over the config file, option by option. Sources are
    /// the exception: one given on the command line replaces the file's
    /// source as a whole (with its `ref` and `git-path`), so the two never
    /// combine into something neither says.
    fn over(self, file: Args) -> Args {
        let cli_source = self.repo.is_some() || self.git_url.is_some() || self.bundle.is_some();
        let source = if cli_source { &self } else { &file };
        let (repo, git_url, bundle) = (
            source.repo.clone(),
            source.git_url.clone(),
            source.bundle.clone(),
        );
        Args {
            repo,
            git_url,
            bundle,
            reference: self.reference.or(file.reference),
            git_path: self.git_path.or(file.git_path),
            env: self.env.or(file.env),
            poll: self.poll.or(file.poll),
            listen: self.listen.or(file.listen),
            state_dir: self.state_dir.or(file.state_dir),
            metrics_url: self.metrics_url.or(file.metrics_url),
            workers: self.workers.or(file.workers),
            log_format: self.log_format.or(file.log_format),
            auth_jwt_secret_file: self.auth_jwt_secret_file.or(file.auth_jwt_secret_file),
            auth_jwt_public_key: self.auth_jwt_public_key.or(file.auth_jwt_public_key),
            auth_jwks_file: self.auth_jwks_file.or(file.auth_jwks_file),
            auth_issuer: self.auth_issuer.or(file.auth_issuer),
            auth_audience: self.auth_audience.or(file.auth_audience),
            auth_role_claim: self.auth_role_claim.or(file.auth_role_claim),
            auth_eval: self.auth_eval || file.auth_eval,
            api_keys_file: self.api_keys_file.or(file.api_keys_file),
            client_api_keys_file: self.client_api_keys_file.or(file.client_api_keys_file),
            metrics_auth: self.metrics_auth || file.metrics_auth,
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            bundle_public_key: or_file(self.bundle_public_key, file.bundle_public_key),
            allowed_origin: or_file(self.allowed_origin, file.allowed_origin),
            cors_origin: or_file(self.cors_origin, file.cors_origin),
            allowed_host: or_file(self.allowed_host, file.allowed_host),
            webhook_secret_file: self.webhook_secret_file.or(file.webhook_secret_file),
            rate_limit: self.rate_limit.or(file.rate_limit),
            rate_burst: self.rate_burst.or(file.rate_burst),
            max_body_bytes: self.max_body_bytes.or(file.max_body_bytes),
            header_timeout: self.header_timeout.or(file.header_timeout),
            idle_timeout: self.idle_timeout.or(file.idle_timeout),
            max_connections: self.max_connections.or(file.max_connections),
            max_event_streams: self.max_event_streams.or(file.max_event_streams),
            request_timeout: self.request_timeout.or(file.request_timeout),
            max_bulk_flags: self.max_bulk_flags.or(file.max_bulk_flags),
            max_context_attributes: self.max_context_attributes.or(file.max_context_attributes),
            max_context_depth: self.max_context_depth.or(file.max_context_depth),
            cluster: self.cluster.or(file.cluster),
            cluster_prefix: self.cluster_prefix.or(file.cluster_prefix),
            cluster_replica: self.cluster_replica.or(file.cluster_replica),
            cluster_lease_ttl: self.cluster_lease_ttl.or(file.cluster_lease_ttl),
            cluster_ca: self.cluster_ca.or(file.cluster_ca),
            cluster_cert: self.cluster_cert.or(file.cluster_cert),
            cluster_key: self.cluster_key.or(file.cluster_key),
            cluster_user: self.cluster_user.or(file.cluster_user),
            cluster_password_file: self.cluster_password_file.or(file.cluster_password_file),
            config: self.config,
            check_config: self.check_config,
            completions: self.completions,
            man: self.man,
        }
    }
}

/// `--cluster` and its companions; the other `--cluster-*` options need it.
fn cluster_settings(args: &Args) -> anyhow::Result<Option<ClusterSettings>> {
    let Some(url) = &args.cluster else {
        let companion = args.cluster_prefix.is_some()
            || args.cluster_replica.is_some()
            || args.cluster_lease_ttl.is_some()
            || args.cluster_ca.is_some()
            || args.cluster_cert.is_some()
            || args.cluster_user.is_some();
        if companion {
            bail!("the --cluster-* options go with --cluster etcd://HOST:PORT");
        }
        return Ok(None);
    };
    let endpoints = cluster::parse_url(url)?;
    let env = args.env.as_deref().unwrap_or_default();
    let prefix = match &args.cluster_prefix {
        Some(p) if !p.starts_with('/') => bail!("--cluster-prefix {p}: must start with /"),
        Some(p) if p.ends_with('/') => p.clone(),
        Some(p) => format!("{p}/"),
        None => cluster::default_prefix(env),
    };
    let lease_ttl = duration(args.cluster_lease_ttl.clone(), "10s", "--cluster-lease-ttl")?;
    if lease_ttl < Duration::from_secs(1) {
        bail!("--cluster-lease-ttl must be at least 1s (etcd counts leases in seconds)");
    }
    let user = match (&args.cluster_user, &args.cluster_password_file) {
        (Some(user), Some(file)) => Some((user.clone(), file.clone())),
        (None, None) => None,
        _ => bail!("--cluster-user and --cluster-password-file go together"),
    };
    Ok(Some(ClusterSettings {
        config: ClusterConfig {
            endpoints,
            prefix,
            ca: args.cluster_ca.clone(),
            identity: match (args.cluster_cert.clone(), args.cluster_key.clone()) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => bail!("--cluster-cert and --cluster-key go together"),
            },
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

/// A positive duration option, or its default.
fn duration(text: Option<String>, default: &str, option: &str) -> anyhow::Result<Duration> {
    let text = text.unwrap_or_else(|| default.to_owned());
    let d: DurationSpec = text.parse().with_context(|| format!("{option} {text}"))?;
    if d.get().is_zero() {
        bail!("{option} must be longer than 0");
    }
    Ok(d.get())
}

/// A repeatable option: given on the command line, it replaces the file's
/// list rather than adding to it.
fn or_file<T>(cli: Vec<T>, file: Vec<T>) -> Vec<T> {
    if cli.is_empty() { file } else { cli }
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

/// Requests per second and burst, per client; none without `--rate-limit`.
fn rate_limit(args: &Args) -> anyhow::Result<Option<(NonZeroU32, NonZeroU32)>> {
    let Some(rate) = args.rate_limit.and_then(NonZeroU32::new) else {
        return Ok(None);
    };
    let burst = args.rate_burst.unwrap_or(rate.get().saturating_mul(2));
    let burst = NonZeroU32::new(burst).context("--rate-burst must be at least 1")?;
    Ok(Some((rate, burst)))
}

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

fn auth_settings(args: &Args) -> anyhow::Result<Option<AuthSettings>> {
    let keys: Vec<KeyFile> = [
        args.auth_jwt_secret_file.clone().map(KeyFile::Secret),
        args.auth_jwt_public_key.clone().map(KeyFile::PublicKey),
        args.auth_jwks_file.clone().map(KeyFile::Jwks),
    ]
    .into_iter()
    .flatten()
    .collect();
    let keys = match keys.as_slice() {
        [] if args.auth_eval
            || args.api_keys_file.is_some()
            || args.client_api_keys_file.is_some()
            || args.metrics_auth =>
        {
            bail!(
                "--auth-eval, --metrics-auth, --api-keys-file and --client-api-keys-file need a token key: --auth-jwt-secret-file, --auth-jwt-public-key or --auth-jwks-file"
            )
        }
        [] => return Ok(None),
        [one] => one.clone(),
        _ => {
            bail!("give one of --auth-jwt-secret-file, --auth-jwt-public-key and --auth-jwks-file")
        }
    };
    Ok(Some(AuthSettings {
        keys,
        issuer: args.auth_issuer.clone(),
        audience: args.auth_audience.clone(),
        role_claim: args
            .auth_role_claim
            .clone()
            .unwrap_or_else(|| "role".to_owned()),
        api_keys_file: args.api_keys_file.clone(),
        client_api_keys_file: args.client_api_keys_file.clone(),
    }))
}

/// Browsers send `Origin` as `scheme://host[:port]`; anything else (a
/// trailing slash, a path) would never match, so it is refused with the fix.
fn check_origins(option: &str, origins: &[String], wildcard: bool) -> anyhow::Result<()> {
    for origin in origins {
        if wildcard && origin == "*" {
            continue;
        }
        let Ok(url) = reqwest::Url::parse(origin) else {
            bail!(
                "{option} {origin}: not an origin; write it as a browser sends it, e.g. https://app.example.com"
            );
        };
        if !matches!(url.scheme(), "http" | "https") {
            bail!("{option} {origin}: a web origin starts with http:// or https://");
        }
        let canonical = url.origin().ascii_serialization();
        if canonical != *origin {
            bail!("{option} {origin}: not an origin; write it as a browser sends it: {canonical}");
        }
    }
    Ok(())
}

/// A config-file value that is one path or a list of them.
fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
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

fn read_file(path: &Path) -> anyhow::Result<Args> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // `file:line:col: message`, like every other file error of ours.
        let at = e.span().map_or(0, |span| span.start);
        let before = text.get(..at).unwrap_or(&text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Settings> {
        Args::try_parse_from(std::iter::once("flagd").chain(args.iter().copied()))?.resolve()
    }

    #[test]
    fn command_line_over_file_over_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("flagd.toml");
        std::fs::write(
            &file,
            "env = \"staging\"\nrepo = \"flags\"\npoll = \"2s\"\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        let s = parse(&[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:9100",
        ])
        .unwrap();
        assert_eq!(s.env, "staging");
        assert_eq!(s.source, FeedSpec::Dir("flags".into()));
        assert_eq!(s.poll, Duration::from_secs(2));
        assert_eq!(s.listen.port(), 9100);
        assert_eq!(s.state_dir, PathBuf::from(".flagd-state"));
        std::fs::write(&file, "env = \"staging\"\nrepos = \"flags\"\n").unwrap();
        let e = parse(&["--config", file.to_str().unwrap()]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}:2:1: unknown field `repos`", file.display())),
            "{e}"
        );
    }

    #[test]
    fn sources_are_exclusive_and_required() {
        assert!(parse(&["--env", "a"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--bundle", "y"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--ref", "main"]).is_err());
        let s = parse(&["--env", "a", "--git-url", "file:///x", "--ref", "main"]).unwrap();
        assert_eq!(
            s.source,
            FeedSpec::Git {
                url: "file:///x".into(),
                reference: Some("main".into()),
                path: String::new(),
            }
        );
        let s = parse(&[
            "--env",
            "a",
            "--git-url",
            "u",
            "--git-path",
            "/ops/./flags/",
        ])
        .unwrap();
        assert!(matches!(s.source, FeedSpec::Git { path, .. } if path == "ops/flags"));
        assert!(parse(&["--env", "a", "--git-url", "u", "--git-path", "../x"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--git-path", "flags"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--poll", "soon"]).is_err());
    }

    #[test]
    fn bundle_keys_and_webhook_secret() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("flagd.toml");
        let config = |text: &str| {
            std::fs::write(&file, text).unwrap();
            parse(&["--config", file.to_str().unwrap()])
        };
        let s = config(
            "env = \"e\"\nbundle = \"b.json\"\nbundle-public-key = \"k.pub\"\nwebhook-secret-file = \"s\"\n",
        )
        .unwrap();
        assert_eq!(s.bundle_public_keys, [PathBuf::from("k.pub")]);
        assert_eq!(s.webhook_secret_file, Some(PathBuf::from("s")));
        let s = config(
            "env = \"e\"\nbundle = \"b.json\"\nbundle-public-key = [\"a.pub\", \"b.pub\"]\n",
        )
        .unwrap();
        assert_eq!(s.bundle_public_keys.len(), 2);
        // The command line replaces the file's list rather than adding to it.
        let s = parse(&[
            "--config",
            file.to_str().unwrap(),
            "--bundle-public-key",
            "c.pub",
        ])
        .unwrap();
        assert_eq!(s.bundle_public_keys, [PathBuf::from("c.pub")]);
        let e = parse(&["--env", "e", "--repo", "r", "--bundle-public-key", "k.pub"]).unwrap_err();
        assert!(e.to_string().contains("goes with --bundle"), "{e}");
    }

    #[test]
    fn cluster_options() {
        let base = ["--env", "prod", "--repo", "r"];
        let with = |extra: &[&str]| parse(&[&base[..], extra].concat());
        assert!(with(&[]).unwrap().cluster.is_none(), "off by default");

        let s = with(&["--cluster", "etcd://a:2379,b:2379"]).unwrap();
        let c = s.cluster.unwrap();
        assert_eq!(c.config.endpoints, ["a:2379", "b:2379"]);
        assert_eq!(c.config.prefix, "/hotswap-flags/prod/");
        assert_eq!(c.config.lease_ttl, Duration::from_secs(10));
        assert!(c.replica.is_none() && c.user.is_none() && c.config.ca.is_none());

        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "s3cret\n").unwrap();
        let file = dir.path().join("flagd.toml");
        std::fs::write(
            &file,
            format!(
                "env = \"prod\"\nrepo = \"r\"\ncluster = \"etcd://e:2379\"\ncluster-prefix = \"/flags/prod\"\ncluster-lease-ttl = \"3s\"\ncluster-user = \"flagd\"\ncluster-password-file = {:?}\n",
                password.to_str().unwrap()
            ),
        )
        .unwrap();
        let c = parse(&[
            "--config",
            file.to_str().unwrap(),
            "--cluster-replica",
            "pod-1",
        ])
        .unwrap()
        .cluster
        .unwrap();
        assert_eq!(c.config.prefix, "/flags/prod/");
        assert_eq!(c.config.lease_ttl, Duration::from_secs(3));
        assert_eq!(
            c.credentials().unwrap(),
            Some(("flagd".into(), "s3cret".into()))
        );
        assert_eq!(c.replica.as_deref(), Some("pod-1"));

        for (args, says) in [
            (&["--cluster-prefix", "/x/"][..], "go with --cluster"),
            (&["--cluster", "http://a:1"], "expected etcd://"),
            (
                &["--cluster", "etcd://a:1", "--cluster-lease-ttl", "500ms"],
                "at least 1s",
            ),
            (
                &["--cluster", "etcd://a:1", "--cluster-prefix", "x"],
                "must start with /",
            ),
        ] {
            let e = with(args).unwrap_err();
            assert!(format!("{e:#}").contains(says), "{args:?}: {e:#}");
        }
    }
}
