//! `flagctl validate` and `flagctl eval` driven as a user would: the real
//! binary, real files, both output formats, exit codes.

use std::path::Path;

use crate::support::gitops::{CHECKOUT, flagctl, json, repo_without_git, write};
use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;
use serde_json::Value;

/// A time-targeted flag beside the shared `CHECKOUT` file.
const BANNER: &str = r#"flags:
  banner:
    type: string
    variants: { plain: "Welcome", festive: "Happy holidays" }
    default: plain
    rules:
      - name: holidays
        when: { time: { after: "2025-12-01T00:00:00", before: "2026-01-01T00:00:00", timezone: America/New_York } }
        serve: festive
"#;

/// `flagctl validate ARGS…` in `dir`.
fn validate(dir: &Path, args: &[&str]) -> Assert {
    flagctl(dir).arg("validate").args(args).assert()
}

/// [`validate`] exiting 1 with `finding` among what it prints.
fn finds(dir: &Path, args: &[&str], finding: &str) -> Assert {
    validate(dir, args)
        .code(1)
        .stdout(predicate::str::contains(finding))
}

/// `flagctl validate --format json` in `dir`: the parsed report.
fn validate_report(dir: &Path) -> Value {
    json(flagctl(dir).args(["validate", "--format", "json"])).0
}

/// `flagctl eval FLAG --env staging ARGS…` in `dir`.
fn eval(dir: &Path, flag: &str, args: &[&str]) -> Command {
    let mut cmd = flagctl(dir);
    cmd.args(["eval", flag, "--env", "staging"]).args(args);
    cmd
}

/// [`eval`] with `--format json`: the parsed result, whatever the exit code.
fn eval_json(dir: &Path, flag: &str, args: &[&str]) -> Value {
    json(eval(dir, flag, args).args(["--format", "json"])).0
}

fn valid_repo() -> tempfile::TempDir {
    repo_without_git(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        ("envs/staging/banner.yaml", BANNER),
        ("envs/production/checkout.yaml", CHECKOUT),
        ("envs/production/banner.yaml", BANNER),
    ])
}

#[test]
fn validate_clean_repo_exits_0() {
    let tmp = valid_repo();
    validate(tmp.path(), &[])
        .code(0)
        .stdout(predicate::str::contains("✓ 0 errors, 0 warnings"))
        .stdout(predicate::str::contains("staging"));
    let v = validate_report(tmp.path());
    assert_eq!(v["ok"], true);
    assert_eq!(v["environments"][0]["env"], "staging");
    assert_eq!(v["environments"][0]["flags"], 3);
    assert_eq!(v["environments"][1]["env"], "production");
}

#[test]
fn validate_reports_every_error_with_position_and_exits_1() {
    let tmp = repo_without_git(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        (
            "envs/production/bad.yaml",
            "flags:\n  a:\n    type: boolean\n    variants: {on: true, off: false}\n    default: of\n  b:\n    type: integer\n    variants: {one: 1.5}\n    default: one\n",
        ),
    ]);
    finds(tmp.path(), &[], "envs/production/bad.yaml:5:14: error: unknown variant `of` (at flags.a.default)\n    hint: did you mean `off`?")
        .stdout(predicate::str::contains(
            "envs/production/bad.yaml:8:21: error: variant `one` is the number 1.5, but the flag's type is `integer` (at flags.b.variants.one)",
        ))
        .stdout(predicate::str::contains("✗ 2 errors"));
    let v = validate_report(tmp.path());
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
    let tmp = repo_without_git(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        (
            "envs/production/bad.yaml",
            "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
        ),
    ]);
    validate(tmp.path(), &["--env", "staging"]).code(0);
    validate(tmp.path(), &["--env", "production"]).code(1);
    validate(tmp.path(), &["envs/staging/checkout.yaml"]).code(0);
    finds(
        tmp.path(),
        &["envs/production/bad.yaml"],
        "bad.yaml:2:53: error: unknown variant `nope`",
    );
    // A file outside every environment is checked on its own.
    write(
        tmp.path(),
        "loose/x.json",
        r#"{"flags": {"x": {"type": "string", "variants": {"a": 1}, "default": "a"}}}"#,
    );
    finds(
        tmp.path(),
        &["loose/x.json"],
        "loose/x.json:1:54: error: variant `a` is the integer 1, but the flag's type is `string`",
    );
}

#[test]
fn validate_finds_the_repo_from_a_subdirectory_and_prints_openable_paths() {
    let tmp = repo_without_git(&[(
        "envs/staging/bad.yaml",
        "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
    )]);
    finds(
        &tmp.path().join("envs/staging"),
        &["--env", "staging"],
        "../../envs/staging/bad.yaml:2:53",
    );
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
    let tmp = repo_without_git(&[(
        "envs/staging/s.yaml",
        "segments:\n  unused: {keys: [a]}\nflags:\n  a: {type: boolean, variants: {on: true}, default: on}\n",
    )]);
    validate(tmp.path(), &["--env", "staging"])
        .code(0)
        .stdout(predicate::str::contains(
            "warning: segment `unused` is not used",
        ));
    validate(tmp.path(), &["--env", "staging"])
        .stdout(predicate::str::contains("✓ 0 errors, 1 warning\n"));
    // With --strict the warning is a finding: the summary must not read
    // like success, and JSON's `ok` agrees with the exit code.
    finds(
        tmp.path(),
        &["--env", "staging", "--strict"],
        "✗ 0 errors, 1 warning (--strict: warnings are findings)",
    )
    .stdout(predicate::str::contains("✓").not());
    let (v, code) = json(flagctl(tmp.path()).args([
        "validate", "--env", "staging", "--strict", "--format", "json",
    ]));
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["strict"], true);
    assert_eq!(v["warnings"], 1);
    let (v, code) =
        json(flagctl(tmp.path()).args(["validate", "--env", "staging", "--format", "json"]));
    assert_eq!(
        (code, &v["ok"], &v["strict"]),
        (0, &Value::Bool(true), &Value::Bool(false))
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let tmp = valid_repo();
    validate(tmp.path(), &["--env", "prod"])
        .code(2)
        .stderr(predicate::str::contains(
            "unknown environment `prod` (did you mean `production`?)",
        ));
    validate(tmp.path(), &["--bogus"]).code(2);
    let empty = tempfile::tempdir().unwrap();
    validate(empty.path(), &["--repo", "."]).code(2).stderr(
        "error: no flags.toml in .: is this a flags repository? (`flagctl init` creates one)\n",
    );
    // A directory that is not there is said so, without internal tags.
    let missing = empty.path().join("nonexist");
    flagctl(empty.path())
        .args(["validate", "--repo"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(format!("error: {} does not exist\n", missing.display()));
    write(empty.path(), "file.txt", "x");
    validate(empty.path(), &["--repo", "file.txt"])
        .code(2)
        .stderr("error: file.txt is not a directory\n");
    // An unknown flag is a usage error: the argument names nothing, and
    // nothing is evaluated (exit 1 is for evaluations that end in an error).
    eval(tmp.path(), "nope", &[])
        .assert()
        .code(2)
        .stdout("")
        .stderr("error: no flag `nope` in environment `staging`\n");
    eval(tmp.path(), "new-checkout-flw", &["--format", "json"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "no flag `new-checkout-flw` in environment `staging` (did you mean `new-checkout-flow`?)",
        ));
    eval(tmp.path(), "banner", &["--ctx", "novalue"])
        .assert()
        .code(2);
    eval(tmp.path(), "banner", &["--percentage", "140"])
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
    finds(
        tmp.path(),
        &[],
        "flags.toml:4:8: error: `../x` must be a relative path",
    );
}

#[test]
fn eval_explains_rules_and_buckets() {
    let tmp = valid_repo();
    eval(
        tmp.path(),
        "new-checkout-flow",
        &["--ctx", "email=ana@example.com"],
    )
    .assert()
    .code(0)
    .stdout(predicate::str::contains("reason   TARGETING_MATCH"))
    .stdout(predicate::str::contains("1. staff"))
    .stdout(predicate::str::contains("✓ matched"))
    .stdout(predicate::str::contains("· not reached"));
    let v = eval_json(
        tmp.path(),
        "new-checkout-flow",
        &["--ctx", "targetingKey=user-1", "--ctx", "country=DE"],
    );
    assert_eq!(v["key"], "new-checkout-flow");
    assert_eq!(v["reason"], "SPLIT");
    assert_eq!(v["rule"], "eu");
    let split = v["bucket"]["split"].as_u64().unwrap();
    assert_eq!(
        split,
        u64::from(hotswap_flags_core::eval::bucket::bucket_for(
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
        eval_json(
            tmp.path(),
            "new-checkout-flow",
            &["--context", r#"{"userId": "user-7"}"#, "--percentage", pct],
        )
    };
    let bucket = u64::from(hotswap_flags_core::eval::bucket::bucket_for(
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
    let first = eval_json(
        tmp.path(),
        "new-checkout-flow",
        &["--ctx", "targetingKey=user-7"],
    );
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
    let at = |t: &str| eval_json(tmp.path(), "banner", &["--at", t]);
    assert_eq!(at("2025-12-24T18:00:00Z")["variant"], "festive");
    // Midnight of Dec 1 in New York is 05:00 UTC: just before it, still plain.
    assert_eq!(at("2025-12-01T04:59:59Z")["variant"], "plain");
    assert_eq!(
        at("2025-12-01T00:00[America/New_York]")["variant"],
        "festive"
    );
    eval(tmp.path(), "banner", &["--at", "soon"])
        .assert()
        .code(2);
}

#[test]
fn eval_error_results_exit_1_with_code() {
    let tmp = valid_repo();
    eval(tmp.path(), "new-checkout-flow", &["--ctx", "country=FR"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("TARGETING_KEY_MISSING"));
    let v = eval_json(tmp.path(), "new-checkout-flow", &["--ctx", "country=FR"]);
    assert_eq!(v["error"]["code"], "TARGETING_KEY_MISSING");
}

#[test]
fn eval_refuses_an_invalid_environment() {
    let tmp = repo_without_git(&[(
        "envs/staging/bad.yaml",
        "flags:\n  a: {type: boolean, variants: {on: true}, default: nope}\n",
    )]);
    eval(tmp.path(), "a", &[])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown variant `nope`"));
}

/// An error whose cause is also part of its own message (a signing key that
/// cannot be read) is printed with that cause once.
#[test]
fn errors_say_each_cause_once() {
    let tmp = valid_repo();
    let out = flagctl(tmp.path())
        .args([
            "bundle",
            "--env",
            "staging",
            "-o",
            "b.json",
            "--sign-key",
            "missing.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: cannot read missing.pem: "), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

/// A file that does not parse is counted in the summary, not silently left
/// out of the flag count.
#[test]
fn validate_counts_unreadable_files() {
    let tmp = valid_repo();
    write(
        tmp.path(),
        "envs/staging/broken.yaml",
        "flags:\n  x:\n    type: boolean\n   default: off\n",
    );
    finds(
        tmp.path(),
        &["--env", "staging"],
        "│ 3 + 1 unreadable file │",
    )
    .stdout(predicate::str::contains(
        "broken.yaml:4:4: error: invalid YAML: `default` is indented 3 spaces",
    ));
    let v = validate_report(tmp.path());
    assert_eq!(v["environments"][0]["flags"], 3);
    assert_eq!(v["environments"][0]["unreadableFiles"], 1);
    assert_eq!(v["environments"][1]["unreadableFiles"], 0);
}

/// `$codeDefault` (docs/flag-format.md §5): `flagctl eval` says `code
/// default` and shows no variant; its JSON has `codeDefault: true` and
/// neither `value` nor `variant`.
#[test]
fn eval_shows_a_code_default() {
    let flags = "flags:\n  deferred:\n    type: boolean\n    variants: { on: true, off: false }\n    default: $codeDefault\n    rules:\n      - { name: staff, when: { attr: email, op: ends_with, value: \"@example.com\" }, serve: on }\n";
    let tmp = repo_without_git(&[("envs/staging/flags.yaml", flags)]);
    let out = eval(tmp.path(), "deferred", &["--ctx", "targetingKey=u1"])
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let line = |field: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(field))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("value").ends_with("code default"), "{text}");
    assert!(line("variant").ends_with('–'), "{text}");
    assert!(line("reason").ends_with("DEFAULT"), "{text}");
    let v = eval_json(tmp.path(), "deferred", &["--ctx", "targetingKey=u1"]);
    assert_eq!(v["codeDefault"], true, "{v}");
    assert!(
        v.get("value").is_none() && v.get("variant").is_none(),
        "{v}"
    );
    let v = eval_json(tmp.path(), "deferred", &["--ctx", "email=a@example.com"]);
    assert_eq!(
        (&v["value"], &v["variant"]),
        (&Value::Bool(true), &Value::from("on"))
    );
    assert!(v.get("codeDefault").is_none(), "{v}");
}
