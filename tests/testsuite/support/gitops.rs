//! For the `flagctl` tests (cli, simulate, diff, promote, init): flags
//! repositories in temporary directories, most under git, driven through
//! the real `git` CLI and the real `flagctl` binary.

use std::path::Path;

pub use super::files::{git, write};
pub use super::require;
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

/// [`CHECKOUT`] up to `banner-color`: its comment and `new-checkout-flow`.
pub fn checkout_flow_only() -> &'static str {
    &CHECKOUT[..CHECKOUT.find("  # A split for everyone.").unwrap()]
}

/// [`CHECKOUT`] with each `(from, to)` replaced (every occurrence); fails
/// when `from` is not there, so that an edit cannot silently change
/// nothing and leave a test comparing a file with itself.
pub fn checkout_with(edits: &[(&str, &str)]) -> String {
    edits.iter().fold(CHECKOUT.to_owned(), |text, (from, to)| {
        assert!(text.contains(from), "CHECKOUT has no {from:?}");
        text.replace(from, to)
    })
}

pub fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// A directory holding `files` plus flags.toml, not under git: for the
/// commands that read the working tree only.
pub fn repo_without_git(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "flags.toml", CONFIG);
    for (path, text) in files {
        write(tmp.path(), path, text);
    }
    tmp
}

/// A git repository holding `files` (plus flags.toml) in one commit on
/// `main`; `None` when the test is skipped for want of git (see
/// [`require`]).
pub fn repo(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    require("git")?;
    let tmp = repo_without_git(files);
    init_repo(tmp.path());
    commit_all(tmp.path(), "initial");
    Some(tmp)
}

/// `git init` with the identity flagctl commits as (`Promoter`).
pub fn init_repo(root: &Path) {
    git(root, &["init", "-q"]);
    git(root, &["config", "user.name", "Promoter"]);
    git(root, &["config", "user.email", "promoter@example.com"]);
}

pub fn commit_all(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", message]);
}

/// flagctl run in `dir` (`Path::new(".")`: where the tests run), the one
/// way the tests start it.
pub fn flagctl(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("flagctl").unwrap();
    // Tables fit 100 columns when the terminal's width is unknown (README,
    // "Output"), whatever terminal runs the tests.
    cmd.current_dir(dir).env_remove("COLUMNS");
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
