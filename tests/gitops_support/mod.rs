//! Shared by the gitops tests (simulate, diff, promote, init): flags
//! repositories in temporary git repositories, driven through the real
//! `git` CLI and the real `flagctl` binary.
#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

pub const CONFIG: &str = r#"version = 1
[[environments]]
name = "staging"
path = "envs/staging"
[[environments]]
name = "production"
path = "envs/production"
protected = true
"#;

/// A production file with comments and flags around the one tests promote.
pub const CHECKOUT: &str = r##"# Checkout flags.
flags:
  # The new checkout.
  new-checkout-flow:
    description: New checkout
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      # Staff first.
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
      - name: eu
        when: { attr: country, op: in, values: [DE, FR] }
        serve: { split: { on: 50, off: 50 } }
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 10, duration: 1h }   # first stage
        - { percentage: 30, duration: 2h }
        - { percentage: 100 }

  # A split for everyone.
  banner-color:
    type: string
    variants: { blue: "#00f", green: "#0f0" }
    default: { split: { blue: 50, green: 50 } }
    offVariant: blue
"##;

pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

pub fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).unwrap()
}

/// Runs git with a fixed identity and dates, so commit ids are stable.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A git repository holding `files` (plus flags.toml) in one commit on `main`.
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q"]);
    git(root, &["config", "user.name", "Promoter"]);
    git(root, &["config", "user.email", "promoter@example.com"]);
    write(root, "flags.toml", CONFIG);
    for (path, text) in files {
        write(root, path, text);
    }
    commit_all(root, "initial");
    tmp
}

pub fn commit_all(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", message]);
}

pub fn flagctl(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("flagctl").unwrap();
    cmd.current_dir(dir);
    cmd
}

/// Runs and parses stdout as JSON, with the exit code.
pub fn json(cmd: &mut Command) -> (Value, i32) {
    let out = cmd.output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}
