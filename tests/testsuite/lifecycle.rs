//! Flag lifecycle (docs/lifecycle.md): `owner`, `kind` and `expires` in
//! flag files, through `validate`, `eval` and `diff`.

use crate::support::gitops::{commit_all, flagctl, git, json, repo, repo_without_git, write};

/// A flag file with one flag carrying every lifecycle key.
fn checkout(owner: &str, kind: &str, expires: &str) -> String {
    format!(
        "flags:\n  new-checkout-flow:\n    type: boolean\n    owner: \"{owner}\"\n    kind: {kind}\n    expires: {expires}\n    variants: {{ on: true, off: false }}\n    default: off\n"
    )
}

#[test]
fn validate_warns_on_an_expired_flag_and_fails_with_strict() {
    let expired = checkout("@acme/checkout", "release", "2020-01-31");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &expired)]);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "envs/staging/checkout.yaml:6:14: warning: flag `new-checkout-flow` expired on 2020-01-31"
        ),
        "{text}"
    );
    let (report, code) = json(flagctl(tmp.path()).args([
        "validate", "--env", "staging", "--strict", "--format", "json",
    ]));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["warnings"], 1, "{report:#}");

    // A date still ahead is no finding.
    write(
        tmp.path(),
        "envs/staging/checkout.yaml",
        &checkout("@acme/checkout", "release", "2999-12-31"),
    );
    flagctl(tmp.path())
        .args(["validate", "--env", "staging", "--strict"])
        .assert()
        .success();
}

#[test]
fn bad_metadata_is_located() {
    let bad = checkout("the checkout team", "temporary", "2026-02-30");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &bad)]);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("envs/staging/checkout.yaml:5:11: error: unknown value `temporary`"),
        "{text}"
    );
    // The kind is fixed: the date and the owner are reported next.
    let bad = checkout("the checkout team", "release", "2026-02-30");
    write(tmp.path(), "envs/staging/checkout.yaml", &bad);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("envs/staging/checkout.yaml:6:14: error: invalid date `2026-02-30`"),
        "{text}"
    );
    let bad = checkout("the checkout team", "release", "2026-02-28");
    write(tmp.path(), "envs/staging/checkout.yaml", &bad);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("envs/staging/checkout.yaml:4:12: error: owner `the checkout team` is not a CODEOWNERS handle"),
        "{text}"
    );
}

#[test]
fn eval_shows_the_metadata() {
    let file = checkout("@acme/checkout", "kill-switch", "2999-12-31");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &file)]);
    let (v, code) = json(flagctl(tmp.path()).args([
        "eval",
        "new-checkout-flow",
        "--env",
        "staging",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["owner"], "@acme/checkout");
    assert_eq!(v["kind"], "kill-switch");
    assert_eq!(v["expires"], "2999-12-31");
    let out = flagctl(tmp.path())
        .args(["eval", "new-checkout-flow", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("owner    @acme/checkout"), "{text}");
}

#[test]
fn diff_compares_the_metadata() {
    let before = checkout("@acme/checkout", "release", "2999-12-31");
    let Some(tmp) = repo(&[("envs/staging/checkout.yaml", &before)]) else {
        return;
    };
    git(tmp.path(), &["checkout", "-qb", "change"]);
    let after = checkout("@acme/payments", "release", "2999-06-30");
    write(tmp.path(), "envs/staging/checkout.yaml", &after);
    commit_all(tmp.path(), "hand over");
    let (v, code) = json(flagctl(tmp.path()).args([
        "diff", "main", "change", "--env", "staging", "--format", "json",
    ]));
    assert_eq!(code, 0, "{v:#}");
    let fields = &v["environments"][0]["changes"][0]["fields"];
    let texts: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "owner @acme/checkout → @acme/payments",
            "expires 2999-12-31 → 2999-06-30"
        ]
    );
}
