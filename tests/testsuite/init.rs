//! `flagctl init`: a repository that validates as created, with the review
//! workflow, and never overwrites.

use std::path::{Path, PathBuf};

use crate::support::flagd::Daemon;
use crate::support::gitops::*;

#[test]
fn scaffold_validates_and_wires_the_review_workflow() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("flags");
    flagctl(tmp.path())
        .args(["init", "flags"])
        .assert()
        .success();
    let (doc, code) = json(flagctl(&dir).args(["validate", "--format", "json"]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0);
    assert_eq!(doc["environments"].as_array().unwrap().len(), 2);
    let config = read(&dir, "flags.toml");
    assert!(
        config.contains("name = \"production\"\npath = \"envs/production\"\nprotected = true"),
        "{config}"
    );
    let workflow = read(&dir, ".github/workflows/flags.yml");
    assert!(workflow.contains("run: flagctl validate"), "{workflow}");
    // The workflow installs the flagctl that wrote it, from its release tag
    // (the crate is not published yet).
    let pinned = format!(
        "run: cargo install --git {} --tag v{} --locked hotswap-flags --bin flagctl",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(workflow.contains(&pinned), "{workflow}");
    assert!(workflow.contains("--format markdown"), "{workflow}");
    assert!(workflow.contains("pull_request"), "{workflow}");
    hotswap_flags_core::parse::parse_document(&workflow, hotswap_flags_core::parse::Format::Yaml)
        .unwrap();
    let owners = read(&dir, ".github/CODEOWNERS");
    assert!(
        owners.lines().any(|l| l.starts_with("/envs/production/ ")),
        "{owners}"
    );
    // The example flag evaluates and can be simulated.
    flagctl(&dir)
        .args(["simulate", "example-banner", "--env", "staging"])
        .assert()
        .success();
}

#[test]
fn refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "flags.toml", "# mine\n");
    let out = flagctl(tmp.path()).args(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite existing files"));
    assert_eq!(read(tmp.path(), "flags.toml"), "# mine\n");
    assert!(!tmp.path().join("envs").exists());
}

/// Runs `flagctl init flags` in a fresh directory outside git, then the
/// next steps it prints, each as printed: the result is a committed,
/// validated repository whose flagd state stays out of git.
#[test]
fn init_creates_git_and_its_next_steps_work_as_printed() {
    if require("git").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = flagctl(tmp.path())
        .args(["init", "flags"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("created a git repository in flags (it was inside none)"),
        "{text}"
    );
    assert!(tmp.path().join("flags/.git").is_dir());
    let steps: Vec<&str> = text
        .split_once("next steps:\n")
        .unwrap_or_else(|| panic!("{text}"))
        .1
        .lines()
        .map(|l| l.split("  #").next().unwrap().trim())
        .collect();
    assert_eq!(steps[0], "cd flags", "{text}");
    let mut cwd: PathBuf = tmp.path().to_owned();
    let mut daemon = None;
    for step in steps {
        let words: Vec<&str> = step.split_whitespace().collect();
        match words[0] {
            "cd" => cwd = cwd.join(words[1]),
            "flagctl" => {
                flagctl(&cwd).args(&words[1..]).assert().success();
            }
            "$EDITOR" => write(&cwd, words[1], "* @our-team\n"),
            "git" => {
                git_sh(&cwd, step);
            }
            "flagd" => {
                let d = Daemon::start_in(&cwd, &words[1..]);
                d.wait_ready();
                daemon = Some(d);
            }
            other => panic!("unexpected step {other:?} in:\n{text}"),
        }
    }
    let daemon = daemon.expect("a flagd step");
    assert!(
        daemon.get_ok("/api/v1/flags/example-banner/evaluate?userId=u1&email=a@example.com")["value"]
            == true
    );
    assert!(cwd.join(".flagd-state").is_dir());
    // Committed, and flagd's state is ignored rather than untracked.
    assert_eq!(git(&cwd, &["status", "--porcelain"]), "");
    assert!(git(&cwd, &["ls-files"]).contains(".github/workflows/flags.yml"));
}

#[test]
fn init_inside_a_git_repository_creates_none() {
    if require("git").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q"]);
    let out = flagctl(tmp.path())
        .args(["init", "flags"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("git repository"), "{text}");
    assert!(!tmp.path().join("flags/.git").exists());
    assert!(read(&tmp.path().join("flags"), ".gitignore").contains(".flagd-state/"));
}

/// A shell line of git commands, with the fixed identity of
/// [`git`]'s commits.
fn git_sh(dir: &Path, line: &str) {
    let mut sh = std::process::Command::new("sh");
    sh.args(["-c", line])
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let out = sh.output().unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
