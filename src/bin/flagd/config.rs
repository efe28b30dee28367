//! flagd's options: command line first, then `--config flagd.toml`, then
//! defaults. The config file uses the long option names as keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use hotswap_flags::feed::SourceSpec;
use hotswap_flags::model::DurationSpec;
use serde::Deserialize;

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

    /// Log format on stderr.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

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
    pub source: SourceSpec,
    pub poll: Duration,
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    pub metrics_url: Option<String>,
    pub log_format: LogFormat,
}

impl Args {
    /// Merges the config file (if any) under the command line and applies defaults.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
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
        let source = match (repo, git_url, bundle) {
            (Some(dir), None, None) => SourceSpec::Dir(dir),
            (None, Some(url), None) => SourceSpec::Git {
                url,
                reference: reference.clone(),
            },
            (None, None, Some(location)) => SourceSpec::Bundle(location),
            (None, None, None) => {
                bail!("give a source: --repo DIR, --git-url URL or --bundle PATH_OR_URL")
            }
            _ => bail!("give one source only: --repo, --git-url or --bundle"),
        };
        if reference.is_some() && !matches!(source, SourceSpec::Git { .. }) {
            bail!("--ref goes with --git-url");
        }
        let poll_text = self.poll.or(file.poll).unwrap_or_else(|| "10s".to_owned());
        let poll: DurationSpec = poll_text
            .parse()
            .with_context(|| format!("--poll {poll_text}"))?;
        if poll.get().is_zero() {
            bail!("--poll must be longer than 0");
        }
        Ok(Settings {
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
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<Args> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))
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
        assert_eq!(s.source, SourceSpec::Dir("flags".into()));
        assert_eq!(s.poll, Duration::from_secs(2));
        assert_eq!(s.listen.port(), 9100);
        assert_eq!(s.state_dir, PathBuf::from(".flagd-state"));
        std::fs::write(&file, "env = \"staging\"\nrepos = \"flags\"\n").unwrap();
        assert!(parse(&["--config", file.to_str().unwrap()]).is_err());
    }

    #[test]
    fn sources_are_exclusive_and_required() {
        assert!(parse(&["--env", "a"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--bundle", "y"]).is_err());
        assert!(parse(&["--env", "a", "--repo", "x", "--ref", "main"]).is_err());
        let s = parse(&["--env", "a", "--git-url", "file:///x", "--ref", "main"]).unwrap();
        assert_eq!(
            s.source,
            SourceSpec::Git {
                url: "file:///x".into(),
                reference: Some("main".into())
            }
        );
        assert!(parse(&["--env", "a", "--repo", "x", "--poll", "soon"]).is_err());
    }
}
