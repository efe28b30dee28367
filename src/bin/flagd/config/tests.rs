//! The options end to end: command line and config file in, settings out.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory as _};
use hotswap_flags_daemon::feed::FeedSpec;

use super::*;

fn parse(args: &[&str]) -> anyhow::Result<Settings> {
    CommandLine::try_parse_from(args)?.resolve()
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

/// A flag or list the command line leaves off keeps the file's value; one
/// it gives wins (a list replaces the file's rather than adding to it).
#[test]
fn flags_and_lists_left_off_keep_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("flagd.toml");
    std::fs::write(
        &file,
        "env = \"e\"\nrepo = \"r\"\nauth-jwt-secret-file = \"s\"\nmetrics-auth = true\nallowed-host = [\"a\", \"b\"]\ncors-origin = \"*\"\n",
    )
    .unwrap();
    let config = ["--config", file.to_str().unwrap()];
    let s = parse(&config).unwrap();
    assert!(s.metrics_auth && !s.auth_eval);
    assert_eq!(s.allowed_hosts, ["a", "b"]);
    let s = parse(&[&config[..], &["--auth-eval", "--allowed-host", "c"]].concat()).unwrap();
    assert!(s.metrics_auth && s.auth_eval);
    assert_eq!(s.allowed_hosts, ["c"]);
    assert_eq!(s.cors_origins, ["*"]);
}

/// A source on the command line replaces the file's, which would otherwise
/// make two; the file's `ref` still applies to a command-line `--git-url`.
#[test]
fn a_source_on_the_command_line_replaces_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("flagd.toml");
    std::fs::write(&file, "env = \"e\"\ngit-url = \"u\"\nref = \"main\"\n").unwrap();
    let config = ["--config", file.to_str().unwrap()];
    let s = parse(&[&config[..], &["--git-url", "v"]].concat()).unwrap();
    assert_eq!(
        s.source,
        FeedSpec::Git {
            url: "v".into(),
            reference: Some("main".into()),
            path: String::new(),
        }
    );
    let e = parse(&[&config[..], &["--bundle", "b.json"]].concat()).unwrap_err();
    assert_eq!(e.to_string(), "--ref goes with --git-url");
    std::fs::write(&file, "env = \"e\"\nrepo = \"r\"\n").unwrap();
    let s = parse(&[&config[..], &["--bundle", "b.json"]].concat()).unwrap();
    assert_eq!(s.source, FeedSpec::Bundle("b.json".into()));
}

/// Defaults belong to `settings`: one clap filled in would hide the file's
/// value. Flags are the exception, their `false` taken out before the merge.
#[test]
fn clap_defaults_no_option_but_flags() {
    let mut command = Args::command();
    command.build();
    for arg in command.get_arguments() {
        assert!(
            arg.get_default_values().is_empty() || matches!(arg.get_action(), ArgAction::SetTrue),
            "{}: give its default in settings.rs, not to clap",
            arg.get_id()
        );
    }
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
    let s =
        config("env = \"e\"\nbundle = \"b.json\"\nbundle-public-key = [\"a.pub\", \"b.pub\"]\n")
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
