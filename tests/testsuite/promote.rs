//! `flagctl promote` on real git repositories: text-preserving edits, the
//! branch and its single commit, an untouched working tree, refusals, and a
//! push to a bare remote.

use std::path::Path;

use crate::support::files::copy_dir;
use crate::support::gitops::*;

/// Staging runs ahead: a wider `eu` rule, shorter stages, an extra rule.
fn staging() -> String {
    checkout_with(&[
        ("values: [DE, FR]", "values: [DE, FR, NL]"),
        ("duration: 2h }", "duration: 30m }"),
        (
            "      - name: eu\n",
            "      # Beta testers too.\n      - name: beta\n        when: { segment: beta-testers }\n        serve: on\n      - name: eu\n",
        ),
    ]) + "segments:\n  beta-testers:\n    # Everyone who opted in.\n    when: { attr: beta, op: eq, value: true }\n"
}

/// Production: comments, a flag not in staging, and a different layout
/// around `new-checkout-flow` as [`CHECKOUT`] has it.
fn production() -> String {
    let start = CHECKOUT.find("  # The new checkout.").unwrap();
    let end = CHECKOUT.find("\n\n  # A split for everyone.").unwrap();
    let checkout = &CHECKOUT[start..end];
    format!(
        r##"# Production checkout flags: reviewed by the checkout team.
flags:
  # Legacy flag, production only.
  legacy-cart:
    type: boolean
    variants: {{ on: true, off: false }}
    default: on   # keep on until Q3

{checkout}

  # Last one.
  footer:
    type: string
    variants: {{ a: A }}
    default: a
"##
    )
}

fn setup() -> Option<tempfile::TempDir> {
    repo(&[
        ("envs/staging/checkout.yaml", &staging()),
        ("envs/production/checkout.yaml", &production()),
        (
            "envs/production/notes.yaml",
            "# Production notes.\nflags: {}\n",
        ),
    ])
}

fn show(root: &Path, rev_path: &str) -> String {
    git(root, &["show", rev_path])
}

/// `flagctl promote ARGS… --from staging --to production` in `root`.
fn promote(root: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = flagctl(root);
    cmd.arg("promote")
        .args(args)
        .args(["--from", "staging", "--to", "production"]);
    cmd
}

#[test]
fn promotes_into_a_branch_keeping_comments_and_neighbours() {
    let Some(tmp) = setup() else { return };
    let production = production();
    let root = tmp.path();
    // Uncommitted work in the working tree must survive untouched.
    write(root, "envs/staging/wip.yaml", "flags: {}\n");
    let status_before = git(root, &["status", "--porcelain"]);
    let head_before = git(root, &["rev-parse", "HEAD"]);
    let index_before = std::fs::read(root.join(".git/index")).unwrap();

    let (doc, code) = json(&mut promote(
        root,
        &["new-checkout-flow", "--format", "json"],
    ));
    assert_eq!(code, 0, "{doc}");
    let branch = "promote/production/new-checkout-flow";
    assert_eq!(doc["branch"], branch);
    assert_eq!(doc["segments"], serde_json::json!(["beta-testers"]));

    // Working tree, index and HEAD exactly as they were.
    assert_eq!(git(root, &["status", "--porcelain"]), status_before);
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        std::fs::read(root.join(".git/index")).unwrap(),
        index_before
    );
    assert_eq!(read(root, "envs/production/checkout.yaml"), production);
    assert_eq!(
        git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );

    // One commit on top of HEAD, by the configured author, changing one file.
    let commit = doc["commit"].as_str().unwrap();
    assert_eq!(git(root, &["rev-parse", branch]).trim(), commit);
    assert_eq!(
        git(root, &["rev-parse", &format!("{branch}^")]),
        head_before
    );
    assert_eq!(
        git(root, &["rev-list", "--count", &format!("main..{branch}")]).trim(),
        "1"
    );
    assert_eq!(
        git(root, &["log", "-1", "--format=%an <%ae>", branch]).trim(),
        "Promoter <promoter@example.com>"
    );
    assert_eq!(
        git(root, &["diff", "--name-status", "main", branch]),
        "M\tenvs/production/checkout.yaml\n"
    );
    assert_eq!(
        git(root, &["log", "-1", "--format=%s", branch]).trim(),
        "Promote new-checkout-flow to production"
    );

    // The target file: the flag's lines replaced by staging's, the needed
    // segment added, every other byte as it was.
    let promoted = show(root, &format!("{branch}:envs/production/checkout.yaml"));
    let staging_def = {
        let s = staging();
        let start = s.find("  new-checkout-flow:").unwrap();
        let end = s.find("\n\n  # A split for everyone.").unwrap();
        s[start..end].to_owned()
    };
    let old_start = production.find("  new-checkout-flow:").unwrap();
    let old_end = production.find("\n\n  # Last one.").unwrap();
    let expected = format!(
        "{}{}{}\nsegments:\n  beta-testers:\n    # Everyone who opted in.\n    when: {{ attr: beta, op: eq, value: true }}\n",
        &production[..old_start],
        staging_def,
        &production[old_end..]
    );
    assert_eq!(promoted, expected);
    assert!(promoted.contains("default: on   # keep on until Q3"));
    assert!(promoted.contains("  # The new checkout.\n  new-checkout-flow:"));
    assert!(promoted.contains("      # Beta testers too.\n"));

    // The branch validates, and the body carries the markdown diff.
    // A worktree of its own beside nothing else: a fixed `../check` was
    // shared by every run on the machine.
    let elsewhere = tempfile::tempdir().unwrap();
    let check = elsewhere.path().join("check");
    git(
        root,
        &["worktree", "add", "-q", check.to_str().unwrap(), branch],
    );
    flagctl(&check).args(["validate"]).assert().success();
    let body = doc["body"].as_str().unwrap();
    assert!(body.contains("### Flag changes: `HEAD ("), "{body}");
    assert!(body.contains("rule `beta` added at position 2"), "{body}");
    assert!(
        body.contains("rule `eu` when `country in` + `NL`"),
        "{body}"
    );
    assert_eq!(doc["title"], "Promote new-checkout-flow to production");
}

#[test]
fn identical_flags_need_no_commit() {
    let Some(tmp) = repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        (
            "envs/production/other.yaml",
            &CHECKOUT.replace("# Checkout flags.", "# Same flags, other comments."),
        ),
    ]) else {
        return;
    };
    let root = tmp.path();
    let out = promote(root, &["banner-color", "new-checkout-flow"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "banner-color, new-checkout-flow already identical in production: nothing to commit"
        ),
        "{text}"
    );
    assert_eq!(git(root, &["branch", "--list"]).trim(), "* main");
}

#[test]
fn new_flags_go_to_a_mirrored_file_and_segments_follow() {
    let Some(tmp) = repo(&[
        (
            "envs/staging/team/search.yaml",
            "# yaml-language-server: $schema=../../../schemas/flagfile.schema.json\n# Search flags.\nflags:\n  # Fuzzy search.\n  fuzzy:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n      - name: vip\n        when: { segment: vip }\n        serve: on\n",
        ),
        (
            "envs/staging/segments.json",
            "{\n  \"segments\": {\n    \"vip\": { \"keys\": [\"a\", \"b\"] },\n    \"other\": { \"keys\": [\"c\"] }\n  }\n}\n",
        ),
        (
            "envs/production/segments.json",
            "{\n  \"segments\": {\n    \"staff\": {\n      \"keys\": [\"s\"]\n    }\n  }\n}\n",
        ),
        (
            "envs/production/uses.yaml",
            "flags:\n  s:\n    type: boolean\n    variants: { on: true }\n    default: on\n    rules:\n      - { name: s, when: { segment: staff }, serve: on }\n",
        ),
    ]) else {
        return;
    };
    let root = tmp.path();
    let (doc, code) = json(&mut promote(
        root,
        &["fuzzy", "--branch", "my/branch", "--format", "json"],
    ));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["branch"], "my/branch");
    let created = show(root, "my/branch:envs/production/team/search.yaml");
    assert_eq!(
        created,
        "# yaml-language-server: $schema=../../../schemas/flagfile.schema.json\nflags:\n  # Fuzzy search.\n  fuzzy:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n      - name: vip\n        when: { segment: vip }\n        serve: on\n"
    );
    let segments = show(root, "my/branch:envs/production/segments.json");
    assert_eq!(
        segments,
        "{\n  \"segments\": {\n    \"staff\": {\n      \"keys\": [\"s\"]\n    },\n    \"vip\": { \"keys\": [\"a\", \"b\"] }\n  }\n}\n"
    );
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "envs/production/team/search.yaml" && f["created"] == true)
    );
    // The same branch twice is refused, the reason said once.
    let out = promote(root, &["fuzzy", "--branch", "my/branch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: git: branch `my/branch` already exists; delete it or pass --branch\n"
    );
}

#[test]
fn an_invalid_result_is_refused() {
    let Some(tmp) = setup() else { return };
    let root = tmp.path();
    let out = promote(root, &["new-checkout-flw"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `new-checkout-flow`?"));
    flagctl(root)
        .args(["promote", "footer", "--from", "staging", "--to", "staging"])
        .assert()
        .code(2);
    // Production already refers to a segment it does not define: the
    // result would not validate, so nothing is written.
    write(
        root,
        "envs/production/broken.yaml",
        "flags:\n  x:\n    type: boolean\n    variants: { on: true }\n    default: on\n    rules:\n      - { name: r, when: { segment: nowhere }, serve: on }\n",
    );
    commit_all(root, "broken production");
    let out = promote(root, &["new-checkout-flow"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("promoting would leave `production` invalid; nothing was written"),
        "{err}"
    );
    assert!(
        err.contains("envs/production/broken.yaml:7:37: error: unknown segment `nowhere`"),
        "{err}"
    );
    assert_eq!(git(root, &["branch", "--list"]).trim(), "* main");

    // An invalid source is refused too.
    write(
        root,
        "envs/staging/checkout.yaml",
        &staging().replace("default: off", "default: nope"),
    );
    commit_all(root, "broken staging");
    let out = promote(root, &["new-checkout-flow"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("environment `staging` does not validate at HEAD")
    );
}

/// A bare repository added to `root` as remote `origin`.
fn bare_origin(root: &std::path::Path) -> tempfile::TempDir {
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    git(
        root,
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );
    remote
}

#[test]
fn pushes_to_a_bare_remote() {
    let Some(tmp) = setup() else { return };
    let root = tmp.path();
    let remote = bare_origin(root);
    let (doc, code) = json(&mut promote(
        root,
        &["new-checkout-flow", "--push", "origin", "--format", "json"],
    ));
    assert_eq!(code, 0, "{doc}");
    let pushed = git(
        remote.path(),
        &[
            "rev-parse",
            "refs/heads/promote/production/new-checkout-flow",
        ],
    );
    assert_eq!(pushed.trim(), doc["commit"].as_str().unwrap());
}

#[test]
fn push_to_a_remote_that_does_not_exist_creates_nothing() {
    let Some(tmp) = setup() else { return };
    let root = tmp.path();
    let _remote = bare_origin(root);
    for (name, said) in [
        ("nosuchremote", "(remotes: `origin`)"),
        ("orign", "(did you mean `origin`?)"),
    ] {
        let out = promote(root, &["new-checkout-flow", "--push", name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("error: --push {name}: no remote named `{name}` {said}; nothing was created\n")
        );
        assert_eq!(git(root, &["branch", "--list"]).trim(), "* main");
    }
}

#[test]
fn a_failed_push_says_the_branch_exists_locally() {
    let Some(tmp) = setup() else { return };
    let root = tmp.path();
    // A remote whose repository is gone: the push fails after the commit.
    let gone = root.join("gone.git");
    git(root, &["remote", "add", "origin", gone.to_str().unwrap()]);
    let out = promote(root, &["new-checkout-flow", "--push", "origin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let branch = "promote/production/new-checkout-flow";
    assert!(
        err.starts_with(&format!(
            "error: branch {branch} was created locally (commit "
        )),
        "{err}"
    );
    assert!(err.contains("but not pushed to origin: "), "{err}");
    assert!(
        err.contains(&format!("Push it with `git push origin {branch}`")),
        "{err}"
    );
    assert!(git(root, &["branch", "--list"]).contains(branch));
}

#[test]
fn toml_and_json_targets_change_only_what_differs() {
    let Some(_) = require("git") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example"),
        root,
    );
    let toml = read(root, "envs/staging/shipping.toml").replace("reduced = 29.0", "reduced = 19.0");
    write(root, "envs/staging/shipping.toml", &toml);
    init_repo(root);
    commit_all(root, "example");
    let (doc, code) = json(&mut promote(
        root,
        &[
            "free-shipping-threshold",
            "bulk-order-form",
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 0, "{doc}");
    let branch = doc["branch"].as_str().unwrap();
    let diff = git(root, &["diff", "-U0", "main", branch]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed.len(), 6, "{diff}");
    assert!(
        changed.contains(&"-reduced = 29.0") && changed.contains(&"+reduced = 19.0"),
        "{diff}"
    );
    assert!(
        changed.contains(&"+      \"default\": { \"split\": { \"on\": 50, \"off\": 50 } }"),
        "{diff}"
    );
    assert!(
        show(root, &format!("{branch}:envs/production/shipping.toml"))
            .contains("# Loyal customers always ship for free.")
    );
}
