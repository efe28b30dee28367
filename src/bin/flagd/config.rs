//! flagd's options: command line first, then `--config flagd.toml`, then
//! defaults. The config file uses the long option names as keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use hotswap_flags::daemon::feed::FeedSpec;
use hotswap_flags::daemon::server::request::Limits;
use hotswap_flags::model::DurationSpec;
use serde::Deserialize;
use std::num::NonZeroU32;

/// Serve one environment of a flags repository over HTTP, hot-swapping it on
/// every change.
#[derive(Debug, Default, Parser, Deserialize)]
#[command(name = "flagd", version, about, long_about = None)]
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

    /// Read options from a TOML file (keys are the long option names).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

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
    pub limits: Limits,
    pub bundle_public_keys: Vec<PathBuf>,
    pub webhook_secret_file: Option<PathBuf>,
}

/// Token verification settings.
#[derive(Debug)]
pub struct AuthSettings {
    pub keys: KeyFile,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub role_claim: String,
    pub api_keys_file: Option<PathBuf>,
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
        let auth = auth_settings(&self, &file)?;
        let env = self
            .env
            .or(file.env)
            .context("--env is required: which environment to serve")?;
        let (repo, git_url, bundle) =
            if self.repo.is_some() || self.git_url.is_some() || self.bundle.is_some() {
                (self.repo, self.git_url, self.bundle)
            } else {
                (file.repo, file.git_url, file.bundle)
            };
        let reference = self.reference.or(file.reference);
        let git_path = self.git_path.or(file.git_path);
        let source = match (repo, git_url, bundle) {
            (Some(dir), None, None) => FeedSpec::Dir(dir),
            (None, Some(url), None) => FeedSpec::Git {
                url,
                reference: reference.clone(),
                path: tree_path(git_path.as_deref().unwrap_or(""))?,
            },
            (None, None, Some(location)) => FeedSpec::Bundle(location),
            (None, None, None) => {
                bail!("give a source: --repo DIR, --git-url URL or --bundle PATH_OR_URL")
            }
            _ => bail!("give one source only: --repo, --git-url or --bundle"),
        };
        if !matches!(source, FeedSpec::Git { .. }) {
            if reference.is_some() {
                bail!("--ref goes with --git-url");
            }
            if git_path.is_some() {
                bail!("--git-path goes with --git-url (with --repo, give the directory itself)");
            }
        }
        let poll_text = self.poll.or(file.poll).unwrap_or_else(|| "10s".to_owned());
        let poll: DurationSpec = poll_text
            .parse()
            .with_context(|| format!("--poll {poll_text}"))?;
        if poll.get().is_zero() {
            bail!("--poll must be longer than 0");
        }
        let bundle_public_keys = if self.bundle_public_key.is_empty() {
            file.bundle_public_key
        } else {
            self.bundle_public_key
        };
        if !bundle_public_keys.is_empty() && !matches!(source, FeedSpec::Bundle(_)) {
            bail!("--bundle-public-key goes with --bundle: only bundles carry signatures");
        }
        Ok(Settings {
            bundle_public_keys,
            webhook_secret_file: self.webhook_secret_file.or(file.webhook_secret_file),
            env,
            source,
            poll: poll.get(),
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8013))),
            state_dir: self
                .state_dir
                .or(file.state_dir)
                .unwrap_or_else(|| PathBuf::from(".flagd-state")),
            metrics_url: self.metrics_url.or(file.metrics_url),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            workers: match self.workers.or(file.workers) {
                Some(0) => bail!("--workers must be at least 1"),
                Some(n) => n,
                None => std::thread::available_parallelism()
                    .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            },
            auth,
            auth_eval: self.auth_eval || file.auth_eval,
            metrics_auth: self.metrics_auth || file.metrics_auth,
            tls: match (
                self.tls_cert.or(file.tls_cert),
                self.tls_key.or(file.tls_key),
            ) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => bail!("--tls-cert and --tls-key go together"),
            },
            rate_limit: match self
                .rate_limit
                .or(file.rate_limit)
                .and_then(NonZeroU32::new)
            {
                None => None,
                Some(rate) => {
                    let burst = self
                        .rate_burst
                        .or(file.rate_burst)
                        .unwrap_or(rate.get().saturating_mul(2));
                    Some((
                        rate,
                        NonZeroU32::new(burst).context("--rate-burst must be at least 1")?,
                    ))
                }
            },
            header_timeout: duration(
                self.header_timeout.or(file.header_timeout),
                "10s",
                "--header-timeout",
            )?,
            limits: {
                let defaults = Limits::default();
                Limits {
                    max_body_bytes: self
                        .max_body_bytes
                        .or(file.max_body_bytes)
                        .unwrap_or(defaults.max_body_bytes),
                    request_timeout: duration(
                        self.request_timeout.or(file.request_timeout),
                        "30s",
                        "--request-timeout",
                    )?,
                    max_context_attributes: self
                        .max_context_attributes
                        .or(file.max_context_attributes)
                        .unwrap_or(defaults.max_context_attributes),
                    max_context_depth: self
                        .max_context_depth
                        .or(file.max_context_depth)
                        .unwrap_or(defaults.max_context_depth),
                    max_bulk_flags: self
                        .max_bulk_flags
                        .or(file.max_bulk_flags)
                        .unwrap_or(defaults.max_bulk_flags),
                }
            },
        })
    }
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

fn auth_settings(cli: &Args, file: &Args) -> anyhow::Result<Option<AuthSettings>> {
    let pick = |a: &Option<PathBuf>, b: &Option<PathBuf>| a.clone().or_else(|| b.clone());
    let keys: Vec<KeyFile> = [
        pick(&cli.auth_jwt_secret_file, &file.auth_jwt_secret_file).map(KeyFile::Secret),
        pick(&cli.auth_jwt_public_key, &file.auth_jwt_public_key).map(KeyFile::PublicKey),
        pick(&cli.auth_jwks_file, &file.auth_jwks_file).map(KeyFile::Jwks),
    ]
    .into_iter()
    .flatten()
    .collect();
    let api_keys_file = pick(&cli.api_keys_file, &file.api_keys_file);
    let keys = match keys.as_slice() {
        [] if cli.auth_eval
            || file.auth_eval
            || api_keys_file.is_some()
            || cli.metrics_auth
            || file.metrics_auth =>
        {
            bail!(
                "--auth-eval, --metrics-auth and --api-keys-file need a token key: --auth-jwt-secret-file, --auth-jwt-public-key or --auth-jwks-file"
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
        issuer: cli.auth_issuer.clone().or_else(|| file.auth_issuer.clone()),
        audience: cli
            .auth_audience
            .clone()
            .or_else(|| file.auth_audience.clone()),
        role_claim: cli
            .auth_role_claim
            .clone()
            .or_else(|| file.auth_role_claim.clone())
            .unwrap_or_else(|| "role".to_owned()),
        api_keys_file,
    }))
}

/// A config-file value that is one path or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
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
}
