//! `flagctl import flagd` (docs/migrating.md, "From flagd"): the report,
//! exit codes, idempotence and bad input; flagd's own test-bed files
//! (`tests/data/flagd-testbed/`); and the differential against flagd's
//! reference evaluator, `@openfeature/flagd-core` (tests/bucketing, Node),
//! which must give every one of 10,000 random contexts the same variant
//! (and reason) as our flagd serving the imported copy over OFREP.

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Value, json};

use crate::support::flagd::{Daemon, TempRepo};
use crate::support::gitops::{flagctl, json, read};
use crate::support::{require, require_that};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> String {
    root()
        .join("tests/data")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// `flagctl import flagd FILES --env prod [extra]` in `repo`, as JSON.
fn import(repo: &TempRepo, files: &[&str], extra: &[&str]) -> (Value, i32) {
    let mut cmd = flagctl(repo.path());
    cmd.args(["import", "flagd"])
        .args(files)
        .args(["--env", "prod", "--format", "json"]);
    cmd.args(extra);
    json(&mut cmd)
}

const SMALL: &str = r#"{
  "flags": {
    "welcome": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
      "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]}},
    "killed": {"state": "DISABLED", "variants": {"on": true}, "defaultVariant": "on"},
    "deferred": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": null,
      "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", null]}},
    "computed": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": "a",
      "targeting": {"if": [true, {"var": "plan"}]}}
  }
}"#;

#[test]
fn writes_yaml_that_validates_and_reports_what_is_left_out() {
    let repo = TempRepo::new(&[("in/small.json", SMALL)]);
    let src = repo.path().join("in/small.json");
    let (report, code) = import(&repo, &[src.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["complete"], false);
    assert_eq!(report["files"][0]["path"], "envs/prod/small.yaml");
    assert_eq!(report["translated"].as_array().unwrap().len(), 3);
    let left: Vec<(&str, &str)> = report["untranslatable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["pointer"].as_str().unwrap(),
                u["leftOut"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(left, [("/flags/computed/targeting/if/1/var", "flag")]);
    let text = read(repo.path(), "envs/prod/small.yaml");
    assert!(
        text.starts_with("# Imported by `flagctl import flagd` from small.json."),
        "{text}"
    );
    assert!(
        text.contains("when: { attr: email, op: ends_with, value: \"@example.com\" }"),
        "{text}"
    );
    // DISABLED is our kill switch deferring to the code default, the
    // default kept; no `defaultVariant` is a `$codeDefault` default.
    let killed = text.split("  killed:\n").nth(1).unwrap_or_default();
    assert!(
        killed.contains("enabled: false\n    offVariant: \"$codeDefault\"\n"),
        "{text}"
    );
    assert!(killed.contains("default: on\n"), "{text}");
    let deferred = text.split("  deferred:\n").nth(1).unwrap_or_default();
    assert!(deferred.contains("default: \"$codeDefault\"\n"), "{text}");
    let (v, code) = json(flagctl(repo.path()).args(["validate", "--format", "json"]));
    assert_eq!((code, &v["errors"]), (0, &json!(0)), "{v}");
    // The report for people names the pointer and the reason.
    let out = flagctl(repo.path())
        .args(["import", "flagd", src.to_str().unwrap(), "--env", "prod"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("unchanged envs/prod/small.yaml (3 flags)"),
        "{text}"
    );
    assert!(
        text.contains("small.json#/flags/computed/targeting/if/1/var:"),
        "{text}"
    );
    assert!(
        text.contains("✗ 3 flags imported from flagd into `prod`, 1 left out"),
        "{text}"
    );
}

/// flagd merges the flag set's metadata into each flag's; we pass it
/// through to OFREP's `metadata`, beside our own `version`.
#[test]
fn metadata_reaches_ofrep_answers() {
    let repo = TempRepo::new(&[]);
    let (report, code) = import(
        &repo,
        &[&data("flagd-testbed/selector-flag-combined-metadata.json")],
        &[],
    );
    assert_eq!(code, 0, "{report}");
    let text = read(
        repo.path(),
        "envs/prod/selector-flag-combined-metadata.yaml",
    );
    assert!(text.contains("metadata:"), "{text}");
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    let (status, body) = d.post(
        "/ofrep/v1/evaluate/flags/combined-metadata-flag",
        r#"{"context": {}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let m = &body["metadata"];
    assert_eq!(
        (
            &m["string"],
            &m["integer"],
            &m["float"],
            &m["boolean"],
            &m["flag-set-string"],
            &m["flag-set-integer"]
        ),
        (
            &json!("a"),
            &json!(1),
            &json!(1.2),
            &json!(true),
            &json!("c"),
            &json!(3)
        ),
        "{body}"
    );
    assert!(m["version"].is_string(), "{body}");
    // The bulk answer, written by hand, carries the same.
    let (status, body) = d.post("/ofrep/v1/evaluate/flags", r#"{"context": {}}"#);
    assert_eq!(status, 200);
    assert_eq!(
        body["flags"][0]["metadata"]["flag-set-boolean"], false,
        "{body}"
    );
}

#[test]
fn exit_zero_when_everything_translates_and_reruns_write_identical_bytes() {
    let repo = TempRepo::new(&[]);
    let file = data("flagd-testbed/evaluator-refs.json");
    let (report, code) = import(&repo, &[&file], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["complete"], true);
    assert_eq!(report["files"][0]["changed"], true);
    let first = std::fs::read(repo.path().join("envs/prod/evaluator-refs.yaml")).unwrap();
    let (report, code) = import(&repo, &[&file], &[]);
    assert_eq!((code, &report["files"][0]["changed"]), (0, &json!(false)));
    let again = std::fs::read(repo.path().join("envs/prod/evaluator-refs.yaml")).unwrap();
    assert_eq!(first, again);
}

#[test]
fn bad_input_is_an_error_at_its_position_and_writes_nothing() {
    let cases = [
        (
            "not-json.json",
            "{\"flags\": {",
            "not-json.json:1:11: invalid JSON",
        ),
        (
            "shape.json",
            "{\"flags\": {\"f\": {\"state\": \"ON\", \"variants\": {\"a\": 1}}}}",
            "`state` is \"ENABLED\" or \"DISABLED\"",
        ),
        ("unknown-key.json", "{\"flagz\": {}}", "unknown key `flagz`"),
        (
            "operator.json",
            "{\"flags\": {\"f\": {\"state\": \"ENABLED\", \"variants\": {\"a\": 1}, \"defaultVariant\": \"a\",\n  \"targeting\": {\"if\": [{\"regex\": [1]}, \"a\"]}}}}",
            "operator.json:2:25: unknown operator `regex`",
        ),
        (
            "ref.json",
            "{\"flags\": {\"f\": {\"state\": \"ENABLED\", \"variants\": {\"a\": 1}, \"defaultVariant\": \"a\", \"targeting\": {\"$ref\": \"nope\"}}}}",
            "`$ref` to `nope`, which `$evaluators` does not define",
        ),
    ];
    for (name, text, expected) in cases {
        let repo = TempRepo::new(&[(name, text)]);
        let out = flagctl(repo.path())
            .args(["import", "flagd", name, "--env", "prod"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
        assert!(
            !repo.path().join("envs").exists(),
            "{name}: something was written"
        );
    }
}

#[test]
fn refuses_to_replace_a_file_not_written_by_an_import_or_to_clash() {
    let repo = TempRepo::new(&[
        ("envs/prod/testing-flags.yaml", "flags: {}\n"),
        (
            "envs/prod/mine.yaml",
            "flags:\n  boolean-flag: { type: boolean, variants: { on: true }, default: on }\n",
        ),
    ]);
    let file = data("flagd-testbed/testing-flags.json");
    let out = flagctl(repo.path())
        .args(["import", "flagd", &file, "--env", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not written by `flagctl import`"));
    std::fs::remove_file(repo.path().join("envs/prod/testing-flags.yaml")).unwrap();
    let out = flagctl(repo.path())
        .args(["import", "flagd", &file, "--env", "prod"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("would not validate") && err.contains("boolean-flag"),
        "{err}"
    );
    assert!(!repo.path().join("envs/prod/testing-flags.yaml").exists());
}

/// flagd's test-bed flag files: what imports, and what is reported.
#[test]
fn flagd_testbed_files_import() {
    let expect: &[(&str, i32, usize, &[&str])] = &[
        ("testing-flags.json", 0, 7, &[]),
        ("zero-flags.json", 0, 4, &[]),
        ("precision-flags.json", 0, 3, &[]),
        ("evaluator-refs.json", 0, 3, &[]),
        ("metadata-flags.json", 0, 1, &[]),
        // Every flag DISABLED: each is imported as our kill switch
        // deferring to the caller's code default.
        ("disabled-flags.json", 0, 6, &[]),
        ("selector-flag-combined-metadata.json", 0, 1, &[]),
        (
            "custom-ops.json",
            1,
            13,
            &[
                "/flags/fractional-nested-if-flag/targeting/fractional/1/0",
                "/flags/fractional-nested-var-flag/targeting/fractional/1/0",
                "/flags/fractional-nested-weight-flag/targeting/fractional/1/1",
                "/flags/fractional-as-condition-flag/targeting/if/0/fractional",
                "/flags/fractional-as-condition-false-flag/targeting/if/0/fractional",
            ],
        ),
    ];
    for (file, code, flags, pointers) in expect {
        let repo = TempRepo::new(&[]);
        let (report, got) = import(&repo, &[&data(&format!("flagd-testbed/{file}"))], &[]);
        assert_eq!(got, *code, "{file}: {report}");
        assert_eq!(
            report["translated"].as_array().unwrap().len(),
            *flags,
            "{file}: {report}"
        );
        let left: Vec<&str> = report["untranslatable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(left, *pointers, "{file}");
        let (v, code) = json(flagctl(repo.path()).args(["validate", "--format", "json"]));
        assert_eq!(code, 0, "{file}: {v}");
    }
}

/// Random contexts: every attribute the differential's flags read, each
/// missing, null or of the type its flag compares it with (strings,
/// numbers or numeric strings, booleans, versions valid and not, lists,
/// nested objects), keys ASCII (docs/migrating.md says why).
fn contexts(n: usize) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(0xF1A6_D1FF);
    let pick =
        |rng: &mut StdRng, items: &[&str]| items[rng.random_range(0..items.len())].to_owned();
    (0..n)
        .map(|i| {
            let mut ctx = Map::new();
            let mut put = |rng: &mut StdRng, key: &str, value: Value| match rng.random_range(0..20)
            {
                0 => {}
                1 => {
                    ctx.insert(key.into(), Value::Null);
                }
                _ => {
                    ctx.insert(key.into(), value);
                }
            };
            let key = match rng.random_range(0..30) {
                0 => Value::String(String::new()),
                _ => json!(format!("user-{}", rng.random_range(0..1_000_000))),
            };
            put(&mut rng, "targetingKey", key);
            let local = pick(&mut rng, &["admin", "vip", "bob", "alice", "x"]);
            let domain = pick(
                &mut rng,
                &["example.com", "example.org", "test.org", "corp.io"],
            );
            let email = format!("{local}{}@{domain}", rng.random_range(0..100));
            put(&mut rng, "email", json!(email));
            let country = pick(&mut rng, &["DE", "FR", "IT", "ES", "US", "GB", "de", ""]);
            put(&mut rng, "country", json!(country));
            let plan = pick(&mut rng, &["free", "trial", "pro", "enterprise"]);
            put(&mut rng, "plan", json!(plan));
            let age = match rng.random_range(0..4) {
                0 => json!(rng.random_range(0..100)),
                1 => json!(f64::from(rng.random_range(0..200)) / 2.0),
                2 => json!(rng.random_range(0..100).to_string()),
                _ => json!(rng.random_range(10..25)),
            };
            put(&mut rng, "age", age);
            let count = json!(rng.random_range(0..3));
            put(&mut rng, "count", count);
            let beta = json!(rng.random_bool(0.5));
            put(&mut rng, "beta", beta);
            let roles: Vec<String> = ["admin", "dev", "ops"]
                .iter()
                .filter(|_| rng.random_bool(0.4))
                .map(|r| (*r).to_owned())
                .collect();
            let roles = if rng.random_bool(0.2) {
                json!("admin-team")
            } else {
                json!(roles)
            };
            put(&mut rng, "roles", roles);
            let role = json!(pick(&mut rng, &["admin", "user"]));
            put(&mut rng, "role", role);
            let version = match rng.random_range(0..8) {
                0 => pick(&mut rng, &["banana", "1.2.3.4", "", "2.0", "v"]),
                _ => {
                    let mut v = format!(
                        "{}{}.{}.{}",
                        pick(&mut rng, &["", "", "v", "V"]),
                        rng.random_range(0..6),
                        rng.random_range(0..4),
                        rng.random_range(0..3)
                    );
                    if rng.random_bool(0.2) {
                        v.push_str(&pick(&mut rng, &["-rc.1", "-alpha", "-0", "-beta.2"]));
                    }
                    if rng.random_bool(0.1) {
                        v.push_str("+b5");
                    }
                    v
                }
            };
            // "2.0" is a version for flagd, not for us: keep it out.
            let version = if version == "2.0" {
                "2.0.0".to_owned()
            } else {
                version
            };
            put(&mut rng, "version", json!(version));
            let mut user = Map::new();
            if rng.random_bool(0.8) {
                user.insert(
                    "name".into(),
                    json!(format!("name-{}", rng.random_range(0..10_000))),
                );
            }
            if rng.random_bool(0.6) {
                user.insert("tier".into(), json!(pick(&mut rng, &["gold", "silver"])));
            }
            if rng.random_bool(0.5) {
                user.insert(
                    "address".into(),
                    json!({"country": pick(&mut rng, &["DE", "FR", "US"])}),
                );
            }
            put(&mut rng, "user", Value::Object(user));
            let _ = i;
            Value::Object(ctx)
        })
        .collect()
}

/// flagd-core's answers: per context, flag → (variant, reason, error, value).
fn reference(
    node: &Path,
    docs: &[(String, bool)],
    contexts: &[Value],
) -> Vec<BTreeMap<String, (Value, String, Value, Value)>> {
    let input = json!({
        "documents": docs.iter().map(|(text, v1)| json!({"text": text, "v1": v1})).collect::<Vec<_>>(),
        "contexts": contexts,
    });
    let stdout = crate::support::node::answer(
        node,
        &root().join("tests/bucketing"),
        "flagd_diff.mjs",
        &input,
    );
    String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: BTreeMap<String, (Value, String, Value, Value)> =
                serde_json::from_str(line).unwrap();
            v
        })
        .collect()
}

/// Our flagd's OFREP bulk answer for each context, asked from four
/// threads over kept-alive connections.
fn ours(d: &Daemon, contexts: &[Value]) -> Vec<Value> {
    let url = d.url("/ofrep/v1/evaluate/flags");
    let chunk = contexts.len().div_ceil(4);
    std::thread::scope(|scope| {
        let workers: Vec<_> = contexts
            .chunks(chunk)
            .map(|part| {
                let url = url.clone();
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    part.iter()
                        .map(|ctx| {
                            let resp = client
                                .post(&url)
                                .header("content-type", "application/json")
                                .body(json!({"context": ctx}).to_string())
                                .send()
                                .expect("POST");
                            assert_eq!(resp.status().as_u16(), 200, "{ctx}");
                            resp.json::<Value>().unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

#[test]
fn differential_against_flagd_core_over_ofrep() {
    let Some(node) = require("node") else {
        return;
    };
    let installed = root()
        .join("tests/bucketing/node_modules/@openfeature/flagd-core")
        .is_dir();
    let Some(()) = require_that(
        installed,
        "tests/bucketing has no node_modules (run `npm ci` there; scripts/test.sh does)",
    ) else {
        return;
    };
    let repo = TempRepo::new(&[]);
    let v2 = data("flagd-differential.json");
    let v1 = data("flagd-differential-v1.json");
    assert_eq!(import(&repo, &[&v2], &[]).1, 0);
    assert_eq!(import(&repo, &[&v1], &["--fractional", "v1"]).1, 0);
    let docs = [
        (std::fs::read_to_string(&v2).unwrap(), false),
        (std::fs::read_to_string(&v1).unwrap(), true),
    ];
    let contexts = contexts(10_000);
    let expected = reference(&node, &docs, &contexts);
    assert_eq!(expected.len(), contexts.len());
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    let answers = ours(&d, &contexts);
    let mut mismatches = Vec::new();
    let mut compared = 0usize;
    let mut variants: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for ((ctx, theirs), body) in contexts.iter().zip(&expected).zip(&answers) {
        let ours: BTreeMap<&str, &Value> = body["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["key"].as_str().unwrap(), f))
            .collect();
        for (flag, (variant, reason, error, value)) in theirs {
            compared += 1;
            let Some(our) = ours.get(flag.as_str()) else {
                mismatches.push(format!("{flag} missing from our answer for {ctx}"));
                continue;
            };
            let our_reason = our["reason"].as_str().unwrap_or("ERROR");
            // flagd-core calls a `fractional`'s choice TARGETING_MATCH; we
            // say SPLIT. A flag without targeting and without
            // `defaultVariant` answers DEFAULT there, STATIC here, as every
            // flag of ours without rules (docs/migrating.md).
            let same_reason = our_reason == reason
                || (reason == "TARGETING_MATCH" && our_reason == "SPLIT")
                || (reason == "DEFAULT" && our_reason == "STATIC" && value.is_null());
            // No value on either side is the caller's code default:
            // neither `value` nor `variant` in our answer.
            let our_value = our.get("value").unwrap_or(&Value::Null);
            let our_variant = our.get("variant").unwrap_or(&Value::Null);
            if !error.is_null()
                || our_variant != variant
                || !same_value(our_value, value)
                || !same_reason
            {
                mismatches.push(format!(
                    "{flag} for {ctx}: flagd-core {variant} {value} {reason} {error}, ours {our_variant} {our_value} {our_reason}",
                ));
            }
            *variants
                .entry(flag.clone())
                .or_default()
                .entry(format!("{} {reason}", variant.as_str().unwrap_or("null")))
                .or_default() += 1;
        }
    }
    eprintln!(
        "{compared} answers compared over {} contexts",
        contexts.len()
    );
    for (flag, counts) in &variants {
        eprintln!("  {flag}: {counts:?}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, e.g.:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every flag sees more than one answer: the contexts exercise them.
    for (flag, counts) in &variants {
        assert!(
            counts.len() > 1
                || flag.contains("static")
                || flag.starts_with("disabled")
                || flag == "timestamp",
            "{flag}: {counts:?}"
        );
    }
    // The code default is exercised: by the kill switch, by a default, by
    // a rule's null.
    for (flag, answer) in [
        ("disabled", "null DISABLED"),
        ("disabled-code-default", "null DISABLED"),
        ("code-default", "null DEFAULT"),
        ("code-default", "on TARGETING_MATCH"),
        ("empty-default", "null DEFAULT"),
        ("static-code-default", "null DEFAULT"),
    ] {
        assert!(
            variants[flag].get(answer).is_some_and(|n| *n > 0),
            "{flag}: {:?}",
            variants[flag]
        );
    }
}

/// The same JSON value; numbers compared as numbers (`1` and `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
