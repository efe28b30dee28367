//! `flagctl init`: a new flags repository that validates as created, with
//! the review workflow wired in (CI runs `validate` and posts the diff on
//! pull requests; CODEOWNERS makes production changes need an owner).

use std::path::{Path, PathBuf};

/// Why a scaffold could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// Files that already exist (nothing was written).
    #[error("refusing to overwrite existing files: {}", .0.join(", "))]
    Exists(Vec<String>),
    /// Writing failed.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why the file could not be written.
        error: std::io::Error,
    },
    /// The files were written, but no git repository could be created.
    #[error("cannot create a git repository: {0}")]
    Git(String),
}

const FLAGS_TOML: &str = r#"# HotSwap Flags repository. Every *.yaml, *.yml, *.json and *.toml file
# below an environment's path is a flag file; they all merge.
# Check everything with `flagctl validate`; move a flag on with
# `flagctl promote FLAG --from staging --to production`.
version = 1

# Promotion order is the order written.
[[environments]]
name = "staging"
path = "envs/staging"

[[environments]]
name = "production"
path = "envs/production"
protected = true          # changes reach production through review (promote → PR)

# Where flagd reads numbers for rollout health checks (uncomment and adapt).
# [metrics]
# prometheus = "http://127.0.0.1:9090"
#
# [metrics.queries]
# error_rate = 'sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}"}[1m]))'
"#;

const STAGING: &str = r#"# Flags of the staging environment.
flags:
  example-banner:
    description: An example flag; replace it with your own
    type: boolean
    # Whose it is, and what it is for: a release flag is expected to be
    # gone within 40 days (`flagctl stale` lists flags overdue).
    owner: "@your-team"
    kind: release
    # expires: 2030-12-31
    variants: { on: true, off: false }
    default: off
    rules:
      # Our own staff see it first.
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
    # Everyone else: 10 % for an hour, then half, then everyone.
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 10, duration: 1h }
        - { percentage: 50, duration: 1h }
        - { percentage: 100 }
"#;

const PRODUCTION: &str = r#"# Flags of the production environment. Changes arrive through
# `flagctl promote example-banner --from staging --to production`, which
# opens a branch for review.
flags:
  example-banner:
    description: An example flag; replace it with your own
    type: boolean
    # Whose it is, and what it is for: a release flag is expected to be
    # gone within 40 days (`flagctl stale` lists flags overdue).
    owner: "@your-team"
    kind: release
    # expires: 2030-12-31
    variants: { on: true, off: false }
    default: off
    rules:
      # Our own staff see it first.
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
"#;

const WORKFLOW: &str = r#"# Validates the flags on every push and pull request, and comments the
# semantic diff (with the share of users each change moves) on pull requests.
name: flags

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read
  pull-requests: write

jobs:
  flags:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0            # the diff reads the base branch's commit

      - uses: dtolnay/rust-toolchain@stable

      # The flagctl that ran `flagctl init` (docs/gitops.md, "Installing
      # flagctl"): a newer one could read these files differently than the
      # one you tested with. Built from the project's git tag v{version}, as
      # the crate is not on crates.io yet; the first build takes minutes.
      # Alternatives: `cargo install hotswap-flags --version ={version}
      # --locked --bin flagctl` once it is published, or download a prebuilt
      # binary you publish.
      - name: Install flagctl {version}
        run: cargo install --git {repository} --tag v{version} --locked hotswap-flags --bin flagctl

      - name: Validate
        run: flagctl validate

      - name: Diff against the base branch
        if: github.event_name == 'pull_request'
        run: |
          flagctl diff "origin/${{ github.base_ref }}" HEAD --format markdown \
            --fail-on removed-flag,unguarded-exposure > flag-diff.md

      - name: Comment the diff
        if: always() && github.event_name == 'pull_request' && hashFiles('flag-diff.md') != ''
        env:
          GH_TOKEN: ${{ github.token }}
        run: |
          gh pr comment "${{ github.event.pull_request.number }}" --body-file flag-diff.md --edit-last \
            || gh pr comment "${{ github.event.pull_request.number }}" --body-file flag-diff.md
"#;

const CODEOWNERS: &str = r#"# Changes to protected environments need a review by their owners.
# Replace the team with yours (GitHub: Settings → Branches → require review
# from Code Owners).
/envs/production/ @your-org/flag-owners
/flags.toml       @your-org/flag-owners
"#;

/// flagd's state directory (its `--state-dir` default, docs/flagd.md): a
/// flagd run in the new repository must not leave it to be committed.
const GITIGNORE: &str =
    "# flagd's state (rollout positions, audit log, last good ruleset)\n.flagd-state/\n";

/// The version pinned in the scaffolded workflow: the flagctl that wrote it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the scaffolded workflow builds flagctl from: Cargo.toml's
/// `repository`, whose tags `vX.Y.Z` are the releases.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The files of a new repository: (path, contents).
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("flags.toml", FLAGS_TOML.to_owned()),
        ("envs/staging/example.yaml", STAGING.to_owned()),
        ("envs/production/example.yaml", PRODUCTION.to_owned()),
        (
            ".github/workflows/flags.yml",
            WORKFLOW
                .replace("{version}", VERSION)
                .replace("{repository}", REPOSITORY),
        ),
        (".github/CODEOWNERS", CODEOWNERS.to_owned()),
        (".gitignore", GITIGNORE.to_owned()),
    ]
}

/// What [`write()`] did, for `flagctl init` to report.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scaffolded {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// A git repository was created at the directory: it was inside none,
    /// and the next steps (commit, `diff`, `promote`) need one.
    pub git_initialized: bool,
}

/// Writes the scaffold into `dir` (created if missing), and creates a git
/// repository there unless `dir` is already inside one. Refuses, writing
/// nothing, when any of the files exists.
pub fn write(dir: &Path) -> Result<Scaffolded, ScaffoldError> {
    let files = write_files(dir)?;
    let git_initialized = match git2::Repository::discover(dir) {
        Ok(_) => false,
        Err(_) => {
            git2::Repository::init(dir).map_err(|e| ScaffoldError::Git(e.message().to_owned()))?;
            true
        }
    };
    Ok(Scaffolded {
        files,
        git_initialized,
    })
}

fn write_files(dir: &Path) -> Result<Vec<PathBuf>, ScaffoldError> {
    let existing: Vec<String> = files()
        .iter()
        .map(|(p, _)| dir.join(p))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(ScaffoldError::Exists(existing));
    }
    let mut written = Vec::new();
    for (path, text) in files() {
        let full = dir.join(path);
        let io = |error| ScaffoldError::Io {
            path: full.display().to_string(),
            error,
        };
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&full, &text).map_err(io)?;
        written.push(full);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_core::Repository;

    #[test]
    fn scaffold_validates_and_is_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(write(tmp.path()).unwrap().git_initialized);
        let repo = Repository::open(tmp.path()).unwrap();
        for env in ["staging", "production"] {
            let checked = repo.check_env(env).unwrap();
            assert!(
                checked.diagnostics.is_empty(),
                "{env}: {:?}",
                checked.diagnostics
            );
        }
        assert!(repo.environment("production").unwrap().protected);
        assert!(matches!(write(tmp.path()), Err(ScaffoldError::Exists(f)) if f.len() == 6));
    }
}
