//! Every option, declared once: the field is clap's argument (`--state-dir`)
//! and, by the same name, the config file's key (`state-dir = "…"`).
//! Nothing here defaults or checks a value: what the options mean, their
//! defaults included, is `settings`'s, so the file can supply any value
//! the command line leaves out.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde::Deserialize;

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

    /// The dashboard under /ui/ (docs/dashboard.md): `off`; `read`, pages
    /// for the viewer role and up (the default); or `steer`, also steering
    /// controls for the admin role.
    #[arg(long, value_enum, value_name = "MODE", help_heading = "Security")]
    pub ui: Option<UiMode>,

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

    /// Export traces over OTLP/HTTP to this collector: its base URL
    /// (`http://collector:4318`; `/v1/traces` is appended). Default:
    /// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
    /// OTEL_EXPORTER_OTLP_ENDPOINT; neither: tracing is off.
    #[arg(long, value_name = "URL", help_heading = "Tracing")]
    pub otlp_endpoint: Option<String>,

    /// The OTLP encoding: http/protobuf or http/json (default:
    /// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL,
    /// else http/protobuf).
    #[arg(long, value_name = "PROTOCOL", help_heading = "Tracing")]
    pub otlp_protocol: Option<String>,

    /// The traces' service.name (default: OTEL_SERVICE_NAME, else flagd).
    #[arg(long, value_name = "NAME", help_heading = "Tracing")]
    pub otel_service_name: Option<String>,

    /// Which requests are traced: always_on, always_off, traceidratio or
    /// parentbased_* of those (default: OTEL_TRACES_SAMPLER, else
    /// parentbased_always_on). Rollout spans are always kept.
    #[arg(long, value_name = "SAMPLER", help_heading = "Tracing")]
    pub otel_sampler: Option<String>,

    /// The sampler's ratio, 0 to 1 (default: OTEL_TRACES_SAMPLER_ARG, else 1).
    #[arg(long, value_name = "RATIO", help_heading = "Tracing")]
    pub otel_sampler_arg: Option<String>,

    /// Record each evaluation's targeting key as feature_flag.context.id
    /// (default: not recorded, as it can be personal data).
    #[arg(long, help_heading = "Tracing")]
    #[serde(default)]
    pub otel_context_id: bool,

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

/// What the dashboard offers (`--ui`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiMode {
    /// Not served.
    Off,
    /// Pages for the read role.
    #[default]
    Read,
    /// Also steering controls, for the admin role.
    Steer,
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
