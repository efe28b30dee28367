//! `flagctl diff` on real git repositories: across commits, branches and the
//! working tree; renames; invalid sides; `--fail-on`; the share of users
//! affected checked against a direct computation; the markdown snapshot.

use crate::support::gitops::*;
use hotswap_flags_core::eval::InitialRollouts;
use hotswap_flags_core::{Context, EvalEnv, Repository};
use hotswap_flags_gitops::repo::snapshot::GitSnapshot;
use jiff::Timestamp;
use serde_json::Value;

const AT: &str = "2026-03-01T12:00:00Z";

fn changes<'a>(doc: &'a Value, env: &str) -> &'a Vec<Value> {
    doc["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["env"] == env)
        .unwrap_or_else(|| panic!("no env {env} in {doc}"))["changes"]
        .as_array()
        .unwrap()
}

fn field_texts(change: &Value) -> Vec<String> {
    change["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap().to_owned())
        .collect()
}

fn two_envs() -> Option<tempfile::TempDir> {
    repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        ("envs/production/checkout.yaml", CHECKOUT),
    ])
}

#[test]
fn working_tree_against_head_field_by_field() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    let edited = checkout_with(&[
        (
            "serve: { split: { on: 50, off: 50 } }",
            "serve: { split: { on: 70, off: 30 } }",
        ),
        ("default: off", "default: on"),
        ("duration: 2h", "duration: 30m"),
    ]);
    write(root, "envs/production/checkout.yaml", &edited);
    let (doc, code) = json(flagctl(root).args(["diff", "--format", "json", "--at", AT]));
    assert_eq!(code, 0, "{doc}");
    assert!(doc["base"].as_str().unwrap().starts_with("HEAD ("), "{doc}");
    assert_eq!(doc["head"], "working tree");
    assert!(changes(&doc, "staging").is_empty());
    let prod = changes(&doc, "production");
    assert_eq!(prod.len(), 1, "{prod:?}");
    assert_eq!(prod[0]["kind"], "flag");
    assert_eq!(prod[0]["key"], "new-checkout-flow");
    assert_eq!(prod[0]["change"], "modified");
    assert_eq!(
        field_texts(&prod[0]),
        [
            "default off → on",
            "rule `eu` split on 50 → 70 %, off 50 → 30 %",
            "rollout stage 2 duration 2h → 30m",
        ]
    );
    // Outside the 10 % first stage, everyone moved from off to on.
    let share = prod[0]["affectedShare"].as_f64().unwrap();
    assert!((0.85..0.95).contains(&share), "{share}");
}

/// Evaluates both sides for `user-0 … user-{n-1}` the plain way and counts
/// users whose variant or value differs.
fn direct_count(base: &Repository, head: &Repository, env: &str, flag: &str, n: usize) -> u64 {
    let (b, h) = (base.ruleset(env).unwrap(), head.ruleset(env).unwrap());
    let at: Timestamp = AT.parse().unwrap();
    let e = EvalEnv {
        now: at,
        rollouts: &InitialRollouts,
    };
    (0..n)
        .filter(|i| {
            let ctx = Context::new().with_key(format!("user-{i}"));
            let x = b.evaluate(flag, &ctx, &e).unwrap();
            let y = h.evaluate(flag, &ctx, &e).unwrap();
            (x.variant_name(), x.value()) != (y.variant_name(), y.value())
        })
        .count() as u64
}

#[test]
fn affected_share_matches_a_direct_computation() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    let edited = checkout_with(&[
        (
            "default: { split: { blue: 50, green: 50 } }",
            "default: { split: { blue: 30, green: 70 } }",
        ),
        (
            "{ percentage: 10, duration: 1h }",
            "{ percentage: 25, duration: 1h }",
        ),
    ]);
    write(root, "envs/production/checkout.yaml", &edited);
    let n = 20_000;
    let (doc, code) = json(flagctl(root).args([
        "diff",
        "--format",
        "json",
        "--env",
        "production",
        "--users",
        "20000",
        "--at",
        AT,
    ]));
    assert_eq!(code, 0);
    let base =
        Repository::from_snapshot(Box::new(GitSnapshot::open(root, "HEAD").unwrap())).unwrap();
    let head = Repository::open(root).unwrap();
    let prod = changes(&doc, "production");
    let mut union = 0;
    for (flag, low, high) in [
        ("new-checkout-flow", 0.14, 0.16),
        ("banner-color", 0.18, 0.22),
    ] {
        let c = prod.iter().find(|c| c["key"] == flag).unwrap();
        let expected = direct_count(&base, &head, "production", flag, n);
        assert_eq!(c["affectedUsers"], expected, "{flag}");
        let share = c["affectedShare"].as_f64().unwrap();
        assert!((share - expected as f64 / n as f64).abs() < 1e-12);
        assert!((low..high).contains(&share), "{flag}: {share}");
        union += expected;
    }
    // The environment total counts a user once, whatever number of flags moved them.
    let total = doc["environments"][0]["affectedUsers"].as_u64().unwrap();
    assert!(total <= union && total > union / 2, "{total} vs {union}");
}

#[test]
fn commits_and_branches() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    git(root, &["checkout", "-qb", "feature"]);
    let edited = CHECKOUT.replace("default: off", "default: on");
    write(root, "envs/staging/checkout.yaml", &edited);
    commit_all(root, "staging default on");
    // A later, uncommitted change is not part of `main feature`.
    write(
        root,
        "envs/staging/checkout.yaml",
        &edited.replace("[DE, FR]", "[DE]"),
    );

    let (doc, code) =
        json(flagctl(root).args(["diff", "main", "feature", "--format", "json", "--at", AT]));
    assert_eq!(code, 0);
    assert!(doc["base"].as_str().unwrap().starts_with("main ("));
    assert!(doc["head"].as_str().unwrap().starts_with("feature ("));
    assert_eq!(
        field_texts(&changes(&doc, "staging")[0]),
        ["default off → on"]
    );
    assert!(changes(&doc, "production").is_empty());

    // BASE only: against the working tree.
    let (doc, _) = json(flagctl(root).args(["diff", "main", "--format", "json", "--at", AT]));
    assert_eq!(
        field_texts(&changes(&doc, "staging")[0]),
        ["default off → on", "rule `eu` when `country in` − FR"]
    );
    // Revisions by id, with --env.
    let id = git(root, &["rev-parse", "main"]);
    let (doc, _) = json(flagctl(root).args([
        "diff",
        id.trim(),
        "HEAD",
        "--env",
        "staging",
        "--format",
        "json",
    ]));
    assert_eq!(doc["environments"].as_array().unwrap().len(), 1);
    assert_eq!(changes(&doc, "staging").len(), 1);
    // An unknown revision is a usage error.
    flagctl(root).args(["diff", "nope"]).assert().code(2);
}

#[test]
fn renamed_files_are_not_remove_plus_add() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    git(
        root,
        &[
            "mv",
            "envs/production/checkout.yaml",
            "envs/production/shop.yaml",
        ],
    );
    commit_all(root, "rename");
    let (doc, code) = json(flagctl(root).args(["diff", "HEAD~1", "HEAD", "--format", "json"]));
    assert_eq!(code, 0);
    assert!(changes(&doc, "production").is_empty(), "{doc}");
    let moved = doc["environments"][1]["moved"].as_array().unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!(moved[0]["key"], "new-checkout-flow");
    assert_eq!(moved[0]["from"], "envs/production/checkout.yaml");
    assert_eq!(moved[0]["to"], "envs/production/shop.yaml");
    // Split across two files in another format: still no change.
    let (a, b) = CHECKOUT.split_at(checkout_flow_only().len());
    write(root, "envs/production/shop.yaml", a);
    let banner = hotswap_flags_core::parse::parse_document(
        &format!("flags:\n{b}"),
        hotswap_flags_core::parse::Format::Yaml,
    )
    .unwrap()
    .to_json();
    write(
        root,
        "envs/production/banner.json",
        &serde_json::to_string_pretty(&banner).unwrap(),
    );
    let (doc, code) = json(flagctl(root).args(["diff", "--format", "json"]));
    assert_eq!(code, 0);
    assert!(changes(&doc, "production").is_empty(), "{doc}");
    assert_eq!(
        doc["environments"][1]["moved"][0]["to"],
        "envs/production/banner.json"
    );
}

#[test]
fn an_invalid_side_is_reported_with_exit_1() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    write(
        root,
        "envs/production/checkout.yaml",
        &CHECKOUT.replace("default: off", "default: of"),
    );
    let (doc, code) = json(flagctl(root).args(["diff", "--format", "json"]));
    assert_eq!(code, 1);
    let prod = &doc["environments"][1];
    assert_eq!(prod["invalid"][0]["side"], "head");
    let err = prod["invalid"][0]["errors"][0].as_str().unwrap();
    assert!(
        err.starts_with("envs/production/checkout.yaml:8:14: error: unknown variant `of`"),
        "{err}"
    );
    let out = flagctl(root).args(["diff"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("production (protected): the head side (working tree) does not validate"),
        "{text}"
    );
    // Broken syntax, too, is a finding and not a crash.
    write(root, "envs/staging/checkout.yaml", "flags: [\n");
    flagctl(root)
        .args(["diff", "--format", "markdown"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "**`staging`** does not validate on the head side",
        ));
}

#[test]
fn fail_on_policies() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    write(root, "envs/staging/checkout.yaml", checkout_flow_only());
    flagctl(root).args(["diff"]).assert().code(0);
    let (doc, code) = json(flagctl(root).args([
        "diff",
        "--format",
        "json",
        "--fail-on",
        "removed-flag,type-change",
    ]));
    assert_eq!(code, 1);
    assert_eq!(doc["policies"]["hits"][0]["policy"], "removed-flag");
    assert_eq!(doc["policies"]["hits"][0]["key"], "banner-color");
    git(root, &["checkout", "-q", "--", "."]);

    // The same exposure change: a finding in protected production only.
    let on = CHECKOUT.replace("default: off", "default: on");
    write(root, "envs/staging/checkout.yaml", &on);
    flagctl(root)
        .args(["diff", "--fail-on", "unguarded-exposure"])
        .assert()
        .code(0);
    write(root, "envs/production/checkout.yaml", &on);
    let out = flagctl(root)
        .args(["diff", "--fail-on", "unguarded-exposure"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✗ policy unguarded-exposure (production): flag `new-checkout-flow` newly serves `on` to"), "{text}");

    // Exposure through a rollout is guarded; a kill switch serves offVariant.
    let guarded = checkout_with(&[
        (
            "{ percentage: 10, duration: 1h }",
            "{ percentage: 20, duration: 1h }",
        ),
        (
            "    offVariant: blue\n",
            "    offVariant: blue\n    enabled: false\n",
        ),
    ]);
    write(root, "envs/production/checkout.yaml", &guarded);
    write(root, "envs/staging/checkout.yaml", CHECKOUT);
    let (doc, code) = json(flagctl(root).args([
        "diff",
        "--format",
        "json",
        "--fail-on",
        "unguarded-exposure,reshuffle",
    ]));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(changes(&doc, "production").len(), 2);

    let salted = CHECKOUT.replace(
        "{ blue: 50, green: 50 } }",
        "{ blue: 50, green: 50 }, salt: s2 }",
    );
    write(root, "envs/production/checkout.yaml", &salted);
    let (doc, code) =
        json(flagctl(root).args(["diff", "--format", "json", "--fail-on", "reshuffle"]));
    assert_eq!(code, 1);
    assert_eq!(
        doc["policies"]["hits"][0]["message"],
        "flag `banner-color`: default split salt (default) → `s2` (users reshuffled)"
    );
    flagctl(root)
        .args(["diff", "--fail-on", "nonsense"])
        .assert()
        .code(2);
}

/// Another bucketing mode (docs/flag-format.md §6, Bucketing modes) is a
/// reshuffle: listed as one, counted user by user with the head's mode,
/// and a hit of `--fail-on reshuffle`. Writing out the default is no change.
#[test]
fn a_bucketing_change_reshuffles_users() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    let with = |mode: &str| {
        checkout_with(&[(
            "    default: { split: { blue: 50, green: 50 } }\n",
            &format!(
                "    default: {{ split: {{ blue: 50, green: 50 }} }}\n    bucketing: {mode}\n"
            ),
        )])
    };
    write(root, "envs/production/checkout.yaml", &with("xxh3"));
    let (doc, code) =
        json(flagctl(root).args(["diff", "--format", "json", "--fail-on", "reshuffle"]));
    assert_eq!(code, 0, "{doc}");
    assert!(changes(&doc, "production").is_empty(), "{doc}");

    write(root, "envs/production/checkout.yaml", &with("unleash"));
    let (doc, code) = json(flagctl(root).args([
        "diff",
        "--format",
        "json",
        "--env",
        "production",
        "--users",
        "4000",
        "--at",
        AT,
        "--fail-on",
        "reshuffle",
    ]));
    assert_eq!(code, 1, "{doc}");
    let prod = changes(&doc, "production");
    assert_eq!(prod.len(), 1, "{prod:?}");
    assert_eq!(
        field_texts(&prod[0]),
        ["bucketing xxh3 → unleash (users reshuffled)"]
    );
    assert_eq!(prod[0]["fields"][0]["after"], "unleash");
    assert_eq!(
        doc["policies"]["hits"][0]["message"],
        "flag `banner-color`: bucketing xxh3 → unleash (users reshuffled)"
    );
    let base =
        Repository::from_snapshot(Box::new(GitSnapshot::open(root, "HEAD").unwrap())).unwrap();
    let head = Repository::open(root).unwrap();
    let expected = direct_count(&base, &head, "production", "banner-color", 4000);
    assert_eq!(prod[0]["affectedUsers"], expected);
    // Two independent 50/50 splits: about half the users change colour.
    assert!((1700..2300).contains(&expected), "{expected}");
}

/// A flag made visible to browsers, or a new one that is, is a change a
/// reviewer must see: listed even for a new flag, and a policy of its own.
#[test]
fn a_flag_becoming_client_visible_hits_client_exposure() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    let visible = CHECKOUT.replacen(
        "  banner-color:\n",
        "  banner-color:\n    clientSide: true\n",
        1,
    );
    assert_ne!(visible, CHECKOUT, "the fixture has banner-color");
    let added = format!(
        "{visible}  promo:\n    type: boolean\n    clientSide: true\n    variants: {{ on: true }}\n    default: on\n"
    );
    write(root, "envs/staging/checkout.yaml", &added);
    flagctl(root).args(["diff"]).assert().code(0);
    let (doc, code) =
        json(flagctl(root).args(["diff", "--format", "json", "--fail-on", "client-exposure"]));
    assert_eq!(code, 1, "{doc}");
    let hits: Vec<&str> = doc["policies"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap())
        .collect();
    assert_eq!(hits, ["banner-color", "promo"], "{doc}");
    let promo = changes(&doc, "staging")
        .iter()
        .find(|c| c["key"] == "promo")
        .unwrap();
    assert_eq!(
        field_texts(promo),
        ["visible to client-side SDKs (clientSide: true)"]
    );
    // Hiding flags again is no exposure.
    git(root, &["commit", "-qam", "visible"]);
    write(root, "envs/staging/checkout.yaml", CHECKOUT);
    flagctl(root)
        .args(["diff", "--fail-on", "client-exposure"])
        .assert()
        .code(0);
}

#[test]
fn a_revision_without_flags_toml_has_everything_added() {
    let Some(_) = require("git") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q"]);
    write(root, "README.md", "hello\n");
    commit_all(root, "readme");
    write(root, "flags.toml", CONFIG);
    write(root, "envs/staging/checkout.yaml", CHECKOUT);
    let (doc, code) = json(flagctl(root).args(["diff", "--format", "json"]));
    assert_eq!(code, 0);
    let staging = changes(&doc, "staging");
    assert_eq!(staging.len(), 2);
    assert!(staging.iter().all(|c| c["change"] == "added"));
    assert_eq!(doc["environments"][0]["presence"], "added");
    let banner = &staging[1]["exposure"];
    let blue = banner[0]["share"].as_f64().unwrap();
    assert!((0.45..0.55).contains(&blue), "{banner}");
}

#[test]
fn markdown_for_a_pull_request() {
    let Some(tmp) = two_envs() else { return };
    let root = tmp.path();
    let mut prod = checkout_with(&[
        ("values: [DE, FR]", "values: [DE, FR, NL]"),
        ("default: off", "default: on"),
        (
            "{ percentage: 30, duration: 2h }",
            "{ percentage: 40, duration: 30m }",
        ),
    ]);
    prod.push_str("\n  checkout-v3:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n      - name: beta\n        when: { segment: beta }\n        serve: on\nsegments:\n  beta:\n    keys: [user-1, user-2, user-3]\n");
    write(root, "envs/production/checkout.yaml", &prod);
    git(root, &["add", "-A"]);
    write(root, "envs/staging/checkout.yaml", checkout_flow_only());
    let out = flagctl(root)
        .args([
            "diff",
            "--format",
            "markdown",
            "--at",
            AT,
            "--fail-on",
            "removed-flag,unguarded-exposure",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let stable = regex::Regex::new(r"\([0-9a-f]{7}\)")
        .unwrap()
        .replace_all(&text, "(<commit>)");
    insta::assert_snapshot!("diff_markdown", stable);

    git(root, &["checkout", "-q", "--", "."]);
    git(root, &["reset", "-q", "--hard"]);
    let out = flagctl(root)
        .args(["diff", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let stable = regex::Regex::new(r"\([0-9a-f]{7}\)")
        .unwrap()
        .replace_all(&text, "(<commit>)");
    insta::assert_snapshot!("diff_markdown_no_changes", stable);
}
