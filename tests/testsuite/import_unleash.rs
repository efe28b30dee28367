//! `flagctl import unleash` against Unleash's own client specification
//! (npm `@unleash/client-specification` 6.1.0, installed in
//! `tests/unleash/` by scripts/test.sh): each spec's `state` imported by
//! the binary, each test and variant test evaluated by `flagctl eval`. The
//! cases that cannot pass are the list in docs/migrating.md, exactly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::support::gitops::flagctl;
use crate::support::require_that;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn spec_dir() -> PathBuf {
    root().join("tests/unleash/node_modules/@unleash/client-specification/specifications")
}

/// A repository with one environment, `t`.
fn repo(dir: &Path) {
    std::fs::create_dir_all(dir.join("envs/t")).unwrap();
    std::fs::write(
        dir.join("flags.toml"),
        "version = 1\n[[environments]]\nname = \"t\"\npath = \"envs/t\"\n",
    )
    .unwrap();
}

/// An Unleash context as ours: `properties` flattened, a top-level field
/// winning over a property of the same name (`context[f] ?? properties[f]`).
fn context(unleash: &Value) -> Value {
    let mut out = Map::new();
    if let Some(props) = unleash.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            out.insert(k.clone(), v.clone());
        }
    }
    if let Some(top) = unleash.as_object() {
        for (k, v) in top {
            if k != "properties" && !v.is_null() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// `getVariant`'s answer: the flag's value; `None` when evaluation failed.
fn evaluate(dir: &Path, flag: &str, ctx: &Value) -> Option<Value> {
    let out = flagctl(dir)
        .args(["eval", "--env", "t", flag, "--format", "json", "--context"])
        .arg(ctx.to_string())
        .output()
        .unwrap();
    if !out.status.success() {
        // An unknown flag is the caller's default, as an SDK answers it
        // over OFREP and as Unleash's `getVariant` does.
        let unknown = String::from_utf8_lossy(&out.stderr).contains("no flag");
        return unknown
            .then(|| json!({ "name": "disabled", "enabled": false, "feature_enabled": false }));
    }
    let doc: Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(doc["value"].clone())
}

/// The documented exceptions: `- `file`: description` lines between the
/// markers in docs/migrating.md.
fn documented_exceptions() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/migrating.md")).unwrap();
    let start = text
        .find("<!-- unleash-spec-exceptions -->")
        .expect("docs/migrating.md lists the specification's exceptions");
    let end = text[start..]
        .find("<!-- /unleash-spec-exceptions -->")
        .unwrap()
        + start;
    text[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| l.replace('`', ""))
        .collect()
}

#[test]
fn the_unleash_client_specification_passes_but_for_the_documented_exceptions() {
    let installed = spec_dir().join("index.json").is_file();
    let Some(()) = require_that(
        installed,
        "tests/unleash has no node_modules (run `npm ci` there; scripts/test.sh does)",
    ) else {
        return;
    };
    let index: Vec<String> =
        serde_json::from_slice(&std::fs::read(spec_dir().join("index.json")).unwrap()).unwrap();
    assert_eq!(index.len(), 22, "the specification has 22 files");
    let (mut tests, mut variant_tests, mut failures) = (0, 0, BTreeSet::new());
    for file in &index {
        let spec: Value =
            serde_json::from_slice(&std::fs::read(spec_dir().join(file)).unwrap()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        repo(tmp.path());
        let stem = file.trim_end_matches(".json");
        let input = tmp.path().join(format!("{stem}.json"));
        std::fs::write(&input, spec["state"].to_string()).unwrap();
        let import = flagctl(tmp.path())
            .args(["import", "unleash", "--env", "t"])
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            matches!(import.status.code(), Some(0 | 1)),
            "{file}: import failed: {}",
            String::from_utf8_lossy(&import.stderr)
        );
        for case in spec["tests"].as_array().into_iter().flatten() {
            tests += 1;
            let flag = case["toggleName"].as_str().unwrap();
            let got = evaluate(tmp.path(), flag, &context(&case["context"]))
                .map(|v| v["feature_enabled"].clone());
            if got.as_ref() != Some(&case["expectedResult"]) {
                failures.insert(format!("{stem}: {}", case["description"].as_str().unwrap()));
            }
        }
        for case in spec["variantTests"].as_array().into_iter().flatten() {
            variant_tests += 1;
            let flag = case["toggleName"].as_str().unwrap();
            let mut want = case["expectedResult"].clone();
            if let Some(w) = want.as_object_mut() {
                // The camel-case alias some SDKs add is the same answer.
                w.remove("featureEnabled");
            }
            let got = evaluate(tmp.path(), flag, &context(&case["context"]));
            if got.as_ref() != Some(&want) {
                failures.insert(format!("{stem}: {}", case["description"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(
        (tests, variant_tests),
        (227, 52),
        "the specification's size"
    );
    let expected = documented_exceptions();
    let unexpected: Vec<_> = failures.difference(&expected).collect();
    let fixed: Vec<_> = expected.difference(&failures).collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "failing but not documented: {unexpected:#?}\ndocumented but passing: {fixed:#?}"
    );
    eprintln!(
        "unleash client specification: {} of {} cases pass, {} documented exceptions",
        tests + variant_tests - failures.len(),
        tests + variant_tests,
        failures.len()
    );
}

/// Features using every translatable construct, as the client API serves them.
fn differential_state() -> Value {
    let c = |field: &str, op: &str, values: Value| json!({ "contextName": field, "operator": op, "values": values });
    let one = |field: &str, op: &str, value: &str| json!({ "contextName": field, "operator": op, "value": value });
    let variants = |stickiness: &str| {
        json!([
            { "name": "red", "weight": 334, "stickiness": stickiness, "payload": { "type": "string", "value": "r" } },
            { "name": "green", "weight": 333, "stickiness": stickiness, "payload": { "type": "json", "value": "{\"g\":1}" },
              "overrides": [{ "contextName": "country", "values": ["NO"] }] },
            { "name": "blue", "weight": 333, "stickiness": stickiness },
        ])
    };
    let flex = |rollout: &str, stickiness: &str, group: &str| json!({ "name": "flexibleRollout", "parameters": { "rollout": rollout, "stickiness": stickiness, "groupId": group } });
    json!({
        "version": 2,
        "segments": [
            { "id": 1, "name": "nordics", "constraints": [c("country", "IN", json!(["NO", "SE", "DK"]))] },
            { "id": 2, "name": "adults", "constraints": [one("age", "NUM_GTE", "18")] },
        ],
        "features": [
            { "name": "rollout-default", "enabled": true, "strategies": [flex("35", "default", "g1")] },
            { "name": "rollout-user", "enabled": true, "strategies": [flex("60", "userId", "g2")] },
            { "name": "rollout-custom", "enabled": true, "strategies": [flex("45", "tenant", "tenants")] },
            { "name": "rollout-full", "enabled": true, "strategies": [flex("100", "default", "all")] },
            { "name": "gradual", "enabled": true, "strategies": [
                { "name": "gradualRolloutUserId", "parameters": { "percentage": "25", "groupId": "gu" } },
                { "name": "gradualRolloutSessionId", "parameters": { "percentage": "40", "groupId": "gs" } },
            ] },
            { "name": "targeted", "enabled": true, "strategies": [
                { "name": "userWithId", "parameters": { "userIds": "u-1, u-2,u-3" } },
                { "name": "remoteAddress", "parameters": { "IPs": "10.0.0.0/8, 192.168.1.7" } },
            ] },
            { "name": "constrained", "enabled": true, "strategies": [{ "name": "default", "constraints": [
                c("country", "NOT_IN", json!(["US"])),
                c("email", "STR_ENDS_WITH", json!(["@EXAMPLE.com"])).as_object().cloned().map(|mut o| { o.insert("caseInsensitive".into(), json!(true)); Value::Object(o) }).unwrap(),
            ] }] },
            { "name": "strings", "enabled": true, "strategies": [
                { "name": "default", "constraints": [c("email", "STR_STARTS_WITH", json!(["a", "b"]))] },
                { "name": "default", "constraints": [c("email", "STR_CONTAINS", json!(["7"])).as_object().cloned().map(|mut o| { o.insert("inverted".into(), json!(true)); Value::Object(o) }).unwrap()] },
            ] },
            { "name": "numbers", "enabled": true, "strategies": [
                { "name": "default", "constraints": [one("age", "NUM_GT", "30"), one("age", "NUM_LTE", "60")] },
                { "name": "default", "constraints": [one("age", "NUM_EQ", "7")] },
            ] },
            { "name": "versions", "enabled": true, "strategies": [
                { "name": "default", "constraints": [one("version", "SEMVER_GTE", "2.0.0"), one("version", "SEMVER_LT", "3.1.0-beta.2")] },
                { "name": "default", "constraints": [one("version", "SEMVER_EQ", "1.0.0")] },
            ] },
            { "name": "dates", "enabled": true, "strategies": [
                { "name": "default", "constraints": [one("currentTime", "DATE_AFTER", "2025-01-01T00:00:00.000Z"), one("currentTime", "DATE_BEFORE", "2025-07-01T00:00:00.000Z")] },
            ] },
            { "name": "patterns", "enabled": true, "strategies": [
                { "name": "default", "constraints": [one("email", "REGEX", "^[ab][0-9]+@")] },
                { "name": "default", "constraints": [c("remoteAddress", "IN_CIDR", json!(["172.16.0.0/12", "::1"]))] },
            ] },
            { "name": "segmented", "enabled": true, "strategies": [
                { "name": "flexibleRollout", "parameters": { "rollout": "70", "stickiness": "default", "groupId": "seg" }, "segments": [1, 2] },
            ] },
            { "name": "colors", "enabled": true, "strategies": [flex("80", "default", "colors")], "variants": variants("default") },
            { "name": "colors-by-tenant", "enabled": true, "strategies": [], "variants": variants("tenant") },
            { "name": "strategy-variants", "enabled": true, "strategies": [
                { "name": "flexibleRollout", "parameters": { "rollout": "50", "stickiness": "default", "groupId": "sv" }, "constraints": [c("country", "IN", json!(["NO", "SE"]))],
                  "variants": [
                    { "name": "north", "weight": 1, "stickiness": "default", "payload": { "type": "string", "value": "n" } },
                    { "name": "polar", "weight": 3, "stickiness": "default" },
                  ] },
                flex("100", "default", "sv2"),
            ], "variants": variants("default") },
            { "name": "child", "enabled": true, "strategies": [flex("50", "default", "child")],
              "dependencies": [{ "feature": "colors", "variants": ["red", "green"] }] },
            { "name": "child-of-off", "enabled": true, "strategies": [],
              "dependencies": [{ "feature": "rollout-default", "enabled": false }] },
            { "name": "switched-off", "enabled": false, "strategies": [] },
        ]
    })
}

/// A random Unleash context: always a `userId` or a `sessionId` (or
/// both), so that no rollout or split falls back to a random number; the
/// custom stickiness field always there.
fn random_context(rng: &mut rand::rngs::StdRng) -> Value {
    use rand::RngExt;
    let mut ctx = Map::new();
    let pick = rng.random_range(0..3);
    if pick != 1 {
        ctx.insert(
            "userId".into(),
            json!(format!("u-{}", rng.random_range(0..3000))),
        );
    }
    if pick != 0 {
        ctx.insert(
            "sessionId".into(),
            json!(format!("s-{}", rng.random_range(0..100_000))),
        );
    }
    if rng.random_bool(0.7) {
        let ip = match rng.random_range(0..4) {
            0 => format!(
                "10.{}.{}.{}",
                rng.random_range(0..256),
                rng.random_range(0..256),
                rng.random_range(0..256)
            ),
            1 => format!(
                "172.{}.0.{}",
                rng.random_range(10..40),
                rng.random_range(0..256)
            ),
            2 => "192.168.1.7".to_owned(),
            _ => ["::1", "2001:db8::1", "8.8.8.8"][rng.random_range(0..3)].to_owned(),
        };
        ctx.insert("remoteAddress".into(), json!(ip));
    }
    let mut props = Map::new();
    props.insert(
        "tenant".into(),
        json!(format!("t-{}", rng.random_range(0..500))),
    );
    let countries = ["NO", "SE", "DK", "US", "DE", "no"];
    if rng.random_bool(0.9) {
        props.insert(
            "country".into(),
            json!(countries[rng.random_range(0..countries.len())]),
        );
    }
    let names = ["a12", "b7", "carol", "A3", "bob77"];
    let domains = ["@example.com", "@EXAMPLE.COM", "@example.org"];
    if rng.random_bool(0.9) {
        props.insert(
            "email".into(),
            json!(format!(
                "{}{}",
                names[rng.random_range(0..names.len())],
                domains[rng.random_range(0..domains.len())]
            )),
        );
    }
    if rng.random_bool(0.9) {
        props.insert("age".into(), json!(rng.random_range(0..90).to_string()));
    }
    let versions = [
        "1.0.0",
        "2.0.0",
        "2.5.1",
        "3.1.0-beta.1",
        "3.1.0-beta.2",
        "3.1.0",
        "v2.1.0",
        "junk",
    ];
    if rng.random_bool(0.9) {
        props.insert(
            "version".into(),
            json!(versions[rng.random_range(0..versions.len())]),
        );
    }
    ctx.insert("properties".into(), Value::Object(props));
    let times = [
        "2024-12-31T23:59:59.999Z",
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T00:00:00.001Z",
        "2025-03-01T12:00:00.000Z",
        "2025-07-01T00:00:00.000Z",
    ];
    ctx.insert(
        "currentTime".into(),
        json!(times[rng.random_range(0..times.len())]),
    );
    Value::Object(ctx)
}

#[test]
fn unleash_client_and_the_import_agree_on_random_contexts() {
    use hotswap_flags_core::eval::{Context, EvalEnv};
    use rand::SeedableRng;

    let Some(node) = crate::support::require("node") else {
        return;
    };
    let dir = root().join("tests/unleash");
    let Some(()) = require_that(
        dir.join("node_modules/unleash-client").is_dir(),
        "tests/unleash has no node_modules (run `npm ci` there; scripts/test.sh does)",
    ) else {
        return;
    };
    let state = differential_state();
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path());
    let input = tmp.path().join("unleash.json");
    std::fs::write(&input, state.to_string()).unwrap();
    let import = flagctl(tmp.path())
        .args(["import", "unleash", "--env", "t"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "everything translates: {}{}",
        String::from_utf8_lossy(&import.stdout),
        String::from_utf8_lossy(&import.stderr)
    );
    let ruleset = hotswap_flags_core::Repository::open(tmp.path())
        .unwrap()
        .ruleset("t")
        .unwrap();
    let flags: Vec<String> = state["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0011_EA5E);
    let contexts: Vec<Value> = (0..10_000).map(|_| random_context(&mut rng)).collect();
    let body = json!({ "state": state, "flags": flags, "contexts": contexts });
    let stdout = crate::support::node::answer(&node, &dir, "oracle.mjs", &body);
    let answers: Vec<(bool, Value)> = serde_json::from_slice(&stdout).unwrap();
    let env = EvalEnv::now();
    let (mut compared, mut mismatches) = (0, Vec::new());
    for (i, unleash_ctx) in contexts.iter().enumerate() {
        let ctx = Context::from_json(context(unleash_ctx)).unwrap();
        for (j, flag) in flags.iter().enumerate() {
            let (enabled, variant) = &answers[i * flags.len() + j];
            let ours = ruleset
                .evaluate(flag, &ctx, &env)
                .map(|ev| ev.value().clone())
                .unwrap_or(Value::Null);
            compared += 1;
            if ours["feature_enabled"] != json!(enabled) || ours != *variant {
                mismatches.push(format!(
                    "{flag} {unleash_ctx}: unleash {enabled} {variant}, ours {ours}"
                ));
            }
        }
    }
    // Not a vacuous agreement: both answers on and off, and every variant.
    let on = answers.iter().filter(|(e, _)| *e).count();
    let names: BTreeSet<&str> = answers
        .iter()
        .filter_map(|(_, v)| v["name"].as_str())
        .collect();
    assert!(
        on > answers.len() / 10 && on < answers.len() * 9 / 10,
        "{on} of {} on",
        answers.len()
    );
    assert_eq!(names.len(), 6, "{names:?}");
    eprintln!(
        "unleash differential: {} contexts × {} features, {} answers compared, {} mismatches",
        contexts.len(),
        flags.len(),
        compared,
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}

fn import(dir: &Path, input: &Path, json_report: bool) -> std::process::Output {
    let mut cmd = flagctl(dir);
    cmd.args(["import", "unleash", "--env", "t"]).arg(input);
    if json_report {
        cmd.args(["--format", "json"]);
    }
    cmd.output().unwrap()
}

/// An export (`features-batch/export`): strategies, environment and
/// dependencies in lists of their own, segments with their constraints.
const EXPORT: &str = r#"{
  "features": [
    { "name": "checkout", "type": "release", "description": "New checkout", "project": "default" },
    { "name": "banner", "type": "experiment", "project": "default" },
    { "name": "lottery", "type": "release", "project": "default" }
  ],
  "featureStrategies": [
    { "name": "flexibleRollout", "featureName": "checkout", "sortOrder": 1, "title": "Half",
      "parameters": { "rollout": "50", "stickiness": "default", "groupId": "checkout" },
      "constraints": [], "segments": [3] },
    { "name": "userWithId", "featureName": "checkout", "sortOrder": 0, "parameters": { "userIds": "ana,bo" }, "constraints": [] },
    { "name": "default", "featureName": "checkout", "sortOrder": 2, "disabled": true, "parameters": {} },
    { "name": "default", "featureName": "banner", "parameters": {}, "constraints": [] },
    { "name": "gradualRolloutRandom", "featureName": "lottery", "parameters": { "percentage": "30" }, "constraints": [] }
  ],
  "featureEnvironments": [
    { "name": "checkout", "featureName": "checkout", "environment": "production", "enabled": true, "variants": [] },
    { "name": "banner", "featureName": "banner", "environment": "production", "enabled": true,
      "variants": [ { "name": "wide", "weight": 500, "stickiness": "default", "weightType": "variable", "overrides": [] },
                    { "name": "narrow", "weight": 500, "stickiness": "default", "weightType": "variable", "overrides": [] } ] },
    { "name": "lottery", "featureName": "lottery", "environment": "production", "enabled": true, "variants": [] }
  ],
  "segments": [ { "id": 3, "name": "beta", "constraints": [ { "contextName": "plan", "operator": "IN", "values": ["beta"] } ] } ],
  "dependencies": [ { "feature": "banner", "dependencies": [ { "feature": "checkout" } ] } ],
  "tagTypes": []
}"#;

#[test]
fn an_export_is_imported_and_the_untranslatable_reported() {
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path());
    let input = tmp.path().join("export.json");
    std::fs::write(&input, EXPORT).unwrap();
    let out = import(tmp.path(), &input, true);
    // `lottery` draws random numbers: left out, so the exit code is 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["complete"], json!(false));
    let flags: Vec<&str> = report["translated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["flag"].as_str().unwrap())
        .collect();
    assert_eq!(flags, ["checkout", "banner"]);
    let left = &report["untranslatable"][0];
    assert_eq!(left["flag"], json!("lottery"));
    assert_eq!(left["pointer"], json!("/featureStrategies/4/parameters"));
    assert!(
        left["reason"].as_str().unwrap().contains("random"),
        "{left}"
    );
    let written = std::fs::read_to_string(tmp.path().join("envs/t/export.yaml")).unwrap();
    assert!(
        written.starts_with("# Imported by `flagctl import unleash` from"),
        "{written}"
    );

    // The answers: userWithId first (sortOrder 0), the 50 % of the beta
    // segment next; the disabled strategy is not evaluated.
    let ask = |flag: &str, ctx: Value| evaluate(tmp.path(), flag, &ctx).unwrap();
    assert_eq!(
        ask("checkout", json!({"userId": "ana"}))["feature_enabled"],
        json!(true)
    );
    assert_eq!(
        ask("checkout", json!({"userId": "zed"}))["feature_enabled"],
        json!(false)
    );
    let inside = (0..200)
        .filter(|i| {
            ask(
                "checkout",
                json!({"userId": format!("u{i}"), "plan": "beta"}),
            )["feature_enabled"]
                == json!(true)
        })
        .count();
    assert!(
        (60..140).contains(&inside),
        "{inside} of 200 inside a 50 % rollout"
    );
    // `banner` depends on `checkout`.
    assert_eq!(
        ask("banner", json!({"userId": "zed"}))["name"],
        json!("disabled")
    );
    let variant = ask("banner", json!({"userId": "ana"}));
    assert!(
        ["wide", "narrow"].contains(&variant["name"].as_str().unwrap()),
        "{variant}"
    );

    // Re-running writes the same bytes.
    let again = import(tmp.path(), &input, false);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stdout).contains("unchanged envs/t/export.yaml"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("envs/t/export.yaml")).unwrap(),
        written
    );
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("#/featureStrategies/4/parameters")
            && text.contains("flag `lottery` left out"),
        "{text}"
    );
}

#[test]
fn bad_input_is_an_error_located_in_the_file_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    repo(tmp.path());
    for (name, text, says) in [
        ("syntax.json", "{\n  \"features\": [,]\n}", "syntax.json:2:"),
        (
            "array.json",
            "[1, 2]",
            "an Unleash document is a JSON object",
        ),
        ("unknown.json", "{\"flags\": {}}", "not an Unleash document"),
        (
            "shape.json",
            "{\n  \"features\": [\n    {\"name\": 7}\n  ]\n}",
            "shape.json:3:",
        ),
        (
            "strategies.json",
            "{\"features\": [{\"name\": \"a\", \"strategies\": {}}]}",
            "`strategies` must be a list",
        ),
    ] {
        let input = tmp.path().join(name);
        std::fs::write(&input, text).unwrap();
        let out = import(tmp.path(), &input, false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    assert_eq!(
        std::fs::read_dir(tmp.path().join("envs/t"))
            .unwrap()
            .count(),
        0
    );
}
