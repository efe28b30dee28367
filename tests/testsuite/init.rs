//! `flagctl init`: a repository that validates as created, with the review
//! workflow, and never overwrites.

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
    assert!(workflow.contains("--format markdown"), "{workflow}");
    assert!(workflow.contains("pull_request"), "{workflow}");
    hotswap_flags::parse::parse_document(&workflow, hotswap_flags::parse::Format::Yaml).unwrap();
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
