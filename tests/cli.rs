//! `flagctl validate` and `flagctl eval` driven as a user would: the real
//! binary, real files, both output formats, exit codes.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const CONFIG: &str = r#"version = 1
[[environments]]
name = "staging"
path = "envs/staging"
[[environments]]
name = "production"
path = "envs/production"
protected = true
"#;

const CHECKOUT: &str = r#"flags:
  new-checkout-flow:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
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
        - { percentage: 10, duration: PT1H }
        - { percentage: 100 }
  banner:
    type: string
    variants: { plain: "Welcome", festive: "Happy holidays" }
    default: plain
    rules:
      - name: holidays
        when: { time: { after: "2025-12-01T00:00:00", before: "2026-01-01T00:00:00", timezone: America/New_York } }
        serve: festive
"#;

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "flags.toml", CONFIG);
    for (path, text) in files {
        write(tmp.path(), path, text);
    }
    tmp
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn flagctl(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("flagctl").unwrap();
    cmd.current_dir(dir);
    cmd
}

fn json_out(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn valid_repo() -> tempfile::TempDir {
    repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        ("envs/production/checkout.yaml", CHECKOUT),
    ])
}

#[test]
fn validate_clean_repo_exits_0() {
    let tmp = valid_repo();
    flagctl(tmp.path())
        .arg("validate")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("✓ 0 errors, 0 warnings"))
        .stdout(predicate::str::contains("staging"));
    let v = json_out(flagctl(tmp.path()).args(["validate", "--format", "json"]));
    assert_eq!(v["ok"], true);
    assert_eq!(v["environments"][0]["env"], "staging");
    assert_eq!(v["environments"][0]["flags"], 2);
    assert_eq!(v["environments"][1]["env"], "production");
}

#[test]
fn validate_reports_every_error_with_position_and_exits_1() {
    let tmp = repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        (
            "envs/production/bad.yaml",
            "flags:\n  a:\n    type: boolean\n    variants: {on: true, off: false}\n    default: of\n  b:\n    type: integer\n    variants: {one: 1.5}\n    default: one\n",
        ),
    ]);
    flagctl(tmp.path())
        .arg("validate")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "envs/production/bad.yaml:5:14: error: unknown variant `of` (at flags.a.default)\n    hint: did you mean `off`?",
        ))
        .stdout(predicate::str::contains(
            "envs/production/bad.yaml:8:21: error: variant `one` is the number 1.5, but the flag's type is `integer` (at flags.b.variants.one)",
        ))
        .stdout(predicate::str::contains("✗ 2 errors"));
    let v = json_out(flagctl(tmp.path()).args(["validate", "--format", "json"]));
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"], 2);
    let d = &v["diagnostics"][0];
    assert_eq!(d["file"], "envs/production/bad.yaml");
    assert_eq!(d["line"], 5);
    assert_eq!(d["column"], 14);
    assert_eq!(d["path"], "flags.a.default");
    assert_eq!(d["hint"], "did you mean `off`?");
}

#[test]
fn validate_one_env_and_given_paths() {
    let tmp = repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        (
            "envs/production/bad.yaml",
            "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
        ),
    ]);
    flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .assert()
        .code(0);
    flagctl(tmp.path())
        .args(["validate", "--env", "production"])
        .assert()
        .code(1);
    flagctl(tmp.path())
        .args(["validate", "envs/staging/checkout.yaml"])
        .assert()
        .code(0);
    flagctl(tmp.path())
        .args(["validate", "envs/production/bad.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "bad.yaml:2:53: error: unknown variant `nope`",
        ));
    // A file outside every environment is checked on its own.
    write(
        tmp.path(),
        "loose/x.json",
        r#"{"flags": {"x": {"type": "string", "variants": {"a": 1}, "default": "a"}}}"#,
    );
    flagctl(tmp.path())
        .args(["validate", "loose/x.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("loose/x.json:1:54: error: variant `a` is the integer 1, but the flag's type is `string`"));
}

#[test]
fn validate_finds_the_repo_from_a_subdirectory_and_prints_openable_paths() {
    let tmp = repo(&[(
        "envs/staging/bad.yaml",
        "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
    )]);
    flagctl(&tmp.path().join("envs/staging"))
        .args(["validate", "--env", "staging"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("../../envs/staging/bad.yaml:2:53"));
    flagctl(Path::new("/"))
        .args(["validate", "--repo"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{}/envs/staging/bad.yaml:2:53",
            tmp.path().display()
        )));
}

#[test]
fn warnings_fail_only_with_strict() {
    let tmp = repo(&[(
        "envs/staging/s.yaml",
        "segments:\n  unused: {keys: [a]}\nflags:\n  a: {type: boolean, variants: {on: true}, default: on}\n",
    )]);
    flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "warning: segment `unused` is not used",
        ));
    flagctl(tmp.path())
        .args(["validate", "--env", "staging", "--strict"])
        .assert()
        .code(1);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let tmp = valid_repo();
    flagctl(tmp.path())
        .args(["validate", "--env", "prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown environment `prod` (did you mean `production`?)",
        ));
    flagctl(tmp.path())
        .args(["validate", "--bogus"])
        .assert()
        .code(2);
    let empty = tempfile::tempdir().unwrap();
    flagctl(empty.path())
        .args(["validate", "--repo", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no flags.toml"));
    flagctl(tmp.path())
        .args(["eval", "nope", "--env", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no flag `nope` in environment `staging`",
        ));
    flagctl(tmp.path())
        .args(["eval", "banner", "--env", "staging", "--ctx", "novalue"])
        .assert()
        .code(2);
    flagctl(tmp.path())
        .args(["eval", "banner", "--env", "staging", "--percentage", "140"])
        .assert()
        .code(2);
}

#[test]
fn invalid_flags_toml_is_a_finding() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "flags.toml",
        "version = 1\n[[environments]]\nname = \"a\"\npath = \"../x\"\n",
    );
    flagctl(tmp.path())
        .arg("validate")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "flags.toml:4:8: error: `../x` must be a relative path",
        ));
}

#[test]
fn eval_explains_rules_and_buckets() {
    let tmp = valid_repo();
    flagctl(tmp.path())
        .args([
            "eval",
            "new-checkout-flow",
            "--env",
            "staging",
            "--ctx",
            "email=ana@example.com",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("reason   TARGETING_MATCH"))
        .stdout(predicate::str::contains("1. staff"))
        .stdout(predicate::str::contains("✓ matched"))
        .stdout(predicate::str::contains("· not reached"));
    let v = json_out(flagctl(tmp.path()).args([
        "eval",
        "new-checkout-flow",
        "--env",
        "staging",
        "--ctx",
        "targetingKey=user-1",
        "--ctx",
        "country=DE",
        "--format",
        "json",
    ]));
    assert_eq!(v["key"], "new-checkout-flow");
    assert_eq!(v["reason"], "SPLIT");
    assert_eq!(v["rule"], "eu");
    let split = v["bucket"]["split"].as_u64().unwrap();
    assert_eq!(
        split,
        u64::from(hotswap_flags::eval::bucket::bucket_for(
            "new-checkout-flow",
            "user-1"
        ))
    );
    let expected = if split < 50_000 { "on" } else { "off" };
    assert_eq!(v["variant"], expected);
    assert_eq!(v["value"], expected == "on");
    assert!(v["version"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn eval_percentage_moves_users_into_the_rollout() {
    let tmp = valid_repo();
    let run = |pct: &str| {
        json_out(flagctl(tmp.path()).args([
            "eval",
            "new-checkout-flow",
            "--env",
            "staging",
            "--context",
            r#"{"userId": "user-7"}"#,
            "--percentage",
            pct,
            "--format",
            "json",
        ]))
    };
    let bucket = u64::from(hotswap_flags::eval::bucket::bucket_for(
        "new-checkout-flow:rollout",
        "user-7",
    ));
    let at_zero = run("0");
    assert_eq!(at_zero["reason"], "DEFAULT");
    assert_eq!(at_zero["bucket"], Value::Null);
    let full = run("100");
    assert_eq!(full["reason"], "ROLLOUT");
    assert_eq!(full["bucket"]["rollout"], bucket);
    assert_eq!(full["rollout"]["inside"], true);
    // Default position is the first stage (10 %).
    let first = json_out(flagctl(tmp.path()).args([
        "eval",
        "new-checkout-flow",
        "--env",
        "staging",
        "--ctx",
        "targetingKey=user-7",
        "--format",
        "json",
    ]));
    assert_eq!(first["rollout"]["percentage"], 10.0);
    assert_eq!(
        first["reason"],
        if bucket < 10_000 {
            "ROLLOUT"
        } else {
            "DEFAULT"
        }
    );
}

#[test]
fn eval_at_a_time_in_a_zone() {
    let tmp = valid_repo();
    let at = |t: &str| {
        json_out(flagctl(tmp.path()).args([
            "eval", "banner", "--env", "staging", "--at", t, "--format", "json",
        ]))
    };
    assert_eq!(at("2025-12-24T18:00:00Z")["variant"], "festive");
    // Midnight of Dec 1 in New York is 05:00 UTC: just before it, still plain.
    assert_eq!(at("2025-12-01T04:59:59Z")["variant"], "plain");
    assert_eq!(
        at("2025-12-01T00:00[America/New_York]")["variant"],
        "festive"
    );
    flagctl(tmp.path())
        .args(["eval", "banner", "--env", "staging", "--at", "soon"])
        .assert()
        .code(2);
}

#[test]
fn eval_error_results_exit_1_with_code() {
    let tmp = valid_repo();
    flagctl(tmp.path())
        .args([
            "eval",
            "new-checkout-flow",
            "--env",
            "staging",
            "--ctx",
            "country=FR",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("TARGETING_KEY_MISSING"));
    let v = json_out(flagctl(tmp.path()).args([
        "eval",
        "new-checkout-flow",
        "--env",
        "staging",
        "--ctx",
        "country=FR",
        "--format",
        "json",
    ]));
    assert_eq!(v["error"]["code"], "TARGETING_KEY_MISSING");
}

#[test]
fn eval_refuses_an_invalid_environment() {
    let tmp = repo(&[(
        "envs/staging/bad.yaml",
        "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
    )]);
    flagctl(tmp.path())
        .args(["eval", "a", "--env", "staging"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown variant `nope`"));
}
