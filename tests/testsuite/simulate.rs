//! `flagctl simulate`: rows per rollout stage, switchers, chi-square, the
//! JSON contract, contexts files; counts checked against plain evaluation.

use std::path::Path;

use crate::support::gitops::*;
use hotswap_flags_core::eval::FixedRollouts;
use hotswap_flags_core::eval::bucket::{murmur3, threshold};
use hotswap_flags_core::{Context, EvalEnv, Repository};
use serde_json::Value;

const AT: &str = "2026-03-01T12:00:00Z";

const LINEAR: &str = r#"flags:
  search-v2:
    type: string
    variants: { old: a, new: b }
    default: old
    rollout:
      strategy: linear
      serve: new
      from: 10
      to: 50
      over: 4h
      step: 20
"#;

/// `flagctl simulate FLAG --env staging ARGS…` in `dir`.
fn simulate(dir: &Path, flag: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = flagctl(dir);
    cmd.args(["simulate", flag, "--env", "staging"]).args(args);
    cmd
}

/// [`simulate`] with `--format json`: the parsed report and the exit code.
fn simulate_json(dir: &Path, flag: &str, args: &[&str]) -> (Value, i32) {
    json(simulate(dir, flag, args).args(["--format", "json"]))
}

fn repo_dir() -> Option<tempfile::TempDir> {
    repo(&[
        ("envs/staging/checkout.yaml", CHECKOUT),
        ("envs/staging/search.yaml", LINEAR),
    ])
}

#[test]
fn json_contract_and_stages() {
    let Some(tmp) = repo_dir() else { return };
    let (doc, code) = simulate_json(
        tmp.path(),
        "new-checkout-flow",
        &["--users", "5000", "--at", AT],
    );
    assert_eq!(code, 0, "{doc}");
    for key in ["flag", "env", "users", "rows", "switchers", "chiSquare"] {
        assert!(doc.get(key).is_some(), "missing {key}: {doc}");
    }
    assert_eq!(doc["flag"], "new-checkout-flow");
    assert_eq!(doc["env"], "staging");
    assert_eq!(doc["users"], 5000);
    let rows = doc["rows"].as_array().unwrap();
    let pcts: Vec<f64> = rows
        .iter()
        .map(|r| r["percentage"].as_f64().unwrap())
        .collect();
    assert_eq!(pcts, [10.0, 30.0, 100.0]);
    assert_eq!(doc["switchers"], 0);

    // Each row agrees with evaluating the same users one by one.
    let ruleset = Repository::open(tmp.path())
        .unwrap()
        .ruleset("staging")
        .unwrap();
    for row in rows {
        let p = row["percentage"].as_f64().unwrap();
        let state = FixedRollouts(threshold(p));
        let env = EvalEnv {
            now: AT.parse().unwrap(),
            rollouts: &state,
        };
        let on = (0..5000)
            .filter(|i| {
                let ctx = Context::new().with_key(format!("user-{i}"));
                ruleset
                    .evaluate("new-checkout-flow", &ctx, &env)
                    .unwrap()
                    .variant_name()
                    == "on"
            })
            .count();
        assert_eq!(row["variants"]["on"], on, "at {p} %");
        assert_eq!(row["variants"]["off"], 5000 - on);
    }
    assert_eq!(rows[2]["variants"]["on"], 5000);
    // No split reached by these users: the rollout membership is tested.
    let chi = &doc["chiSquare"];
    assert!(chi["statistic"].as_f64().unwrap() >= 0.0);
    assert!(chi["pValue"].as_f64().unwrap() > 0.001, "{chi}");
    assert_eq!(chi["tested"], "rollout at 10%");
}

/// `simulate` buckets as the flag's `bucketing` says (docs/flag-format.md
/// §6, Bucketing modes): under `unleash`, user-i is inside the rollout at
/// p % exactly when `murmur3("new-checkout-flow:user-i") mod 100 + 1 ≤ p`.
#[test]
fn rollout_rows_follow_the_bucketing_mode() {
    let Some(tmp) = repo_dir() else { return };
    let unleash = checkout_with(&[(
        "    default: off\n    rules:",
        "    default: off\n    bucketing: unleash\n    rules:",
    )]);
    write(tmp.path(), "envs/staging/checkout.yaml", &unleash);
    let (doc, code) = simulate_json(
        tmp.path(),
        "new-checkout-flow",
        &["--users", "5000", "--at", AT],
    );
    assert_eq!(code, 0, "{doc}");
    for row in doc["rows"].as_array().unwrap() {
        let p = row["percentage"].as_f64().unwrap();
        let inside = (0..5000)
            .filter(|i| {
                let key = format!("user-{i}");
                let h = murmur3(b"new-checkout-flow:", key.as_bytes(), 0);
                f64::from(h % 100 + 1) <= p
            })
            .count();
        assert_eq!(row["variants"]["on"], inside, "at {p} %");
    }
}

#[test]
fn chi_square_of_a_split_and_given_percentages() {
    let Some(tmp) = repo_dir() else { return };
    let (doc, _) = simulate_json(
        tmp.path(),
        "banner-color",
        &["--percentage", "50", "--percentage", "0"],
    );
    let rows = doc["rows"].as_array().unwrap();
    // Sorted, and a flag without rollout serves the same at any percentage.
    assert_eq!(rows[0]["percentage"], 0.0);
    assert_eq!(rows[0]["variants"], rows[1]["variants"]);
    let blue = rows[0]["variants"]["blue"].as_f64().unwrap();
    let green = rows[0]["variants"]["green"].as_f64().unwrap();
    assert_eq!(blue + green, 10_000.0);
    let expected = 5000.0;
    let statistic = ((blue - expected).powi(2) + (green - expected).powi(2)) / expected;
    let chi = &doc["chiSquare"];
    assert!(
        (chi["statistic"].as_f64().unwrap() - statistic).abs() < 1e-9,
        "{chi}"
    );
    assert_eq!(chi["tested"], "default split");
    assert!(chi["pValue"].as_f64().unwrap() > 0.001);
}

#[test]
fn linear_ramps_use_their_step_points() {
    let Some(tmp) = repo_dir() else { return };
    let (doc, _) = simulate_json(tmp.path(), "search-v2", &[]);
    let pcts: Vec<Value> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["percentage"].clone())
        .collect();
    assert_eq!(pcts, [10.0, 30.0, 50.0]);
    assert_eq!(doc["switchers"], 0);
    let joined: u64 = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["joined"].as_u64().unwrap())
        .sum();
    let last_new = doc["rows"][2]["variants"]["new"].as_u64().unwrap();
    let first_new = doc["rows"][0]["variants"]["new"].as_u64().unwrap();
    assert_eq!(joined, last_new - first_new);
}

#[test]
fn contexts_files_give_attributes() {
    let Some(tmp) = repo_dir() else { return };
    let root = tmp.path();
    let mut lines = String::new();
    for i in 0..400 {
        let country = if i % 4 == 0 { "DE" } else { "US" };
        lines.push_str(&format!(
            "{{\"targetingKey\": \"k{i}\", \"country\": \"{country}\"}}\n"
        ));
    }
    lines.push_str("{\"email\": \"a@example.com\"}\n");
    write(root, "ctx.jsonl", &lines);
    let (doc, code) = simulate_json(
        root,
        "new-checkout-flow",
        &["--contexts", "ctx.jsonl", "--percentage", "0"],
    );
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["users"], 401);
    // At 0 %: staff (1) plus about half of the 100 Germans get `on`.
    let on = doc["rows"][0]["variants"]["on"].as_u64().unwrap();
    assert!((30..=70).contains(&on), "{on}");
    assert_eq!(doc["chiSquare"]["tested"], "split of rule `eu`");
    // --users repeats the file to reach N.
    let (doc, _) = simulate_json(
        root,
        "new-checkout-flow",
        &["--contexts", "ctx.jsonl", "--users", "2005"],
    );
    assert_eq!(doc["users"], 2005);
    write(root, "bad.jsonl", "{}\n[1]\n");
    simulate(root, "new-checkout-flow", &["--contexts", "bad.jsonl"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "bad.jsonl:2: the context must be a JSON object",
        ));
}

#[test]
fn table_output_and_errors() {
    let Some(tmp) = repo_dir() else { return };
    let root = tmp.path();
    let out = simulate(root, "new-checkout-flow", &[]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✓ switchers: 0"), "{text}");
    assert!(text.contains("│ 30 %"), "{text}");
    let out = simulate(root, "new-checkout-flw", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `new-checkout-flow`?"));
    simulate(root, "new-checkout-flow", &["--percentage", "120"])
        .assert()
        .code(2);
    simulate(root, "new-checkout-flow", &["--users", "0"])
        .assert()
        .code(2);
    write(
        root,
        "envs/staging/broken.yaml",
        "flags:\n  x: {type: bool}\n",
    );
    simulate(root, "new-checkout-flow", &[]).assert().code(1);
}

/// `$codeDefault` is counted like a variant of that name: the share of
/// users whose callers use their code default (docs/flag-format.md §5).
#[test]
fn code_defaults_are_counted() {
    let Some(tmp) = repo(&[(
        "envs/staging/flags.yaml",
        "flags:\n  deferred:\n    type: boolean\n    variants: { on: true, off: false }\n    default: $codeDefault\n    offVariant: off\n    rollout:\n      strategy: canary\n      serve: on\n      stages:\n        - { percentage: 10, duration: 1h }\n        - { percentage: 100 }\n",
    )]) else {
        return;
    };
    let (doc, code) = simulate_json(tmp.path(), "deferred", &["--users", "2000", "--at", AT]);
    assert_eq!(code, 0, "{doc}");
    let rows = doc["rows"].as_array().unwrap();
    let deferred = rows[0]["variants"]["$codeDefault"].as_u64().unwrap();
    let on = rows[0]["variants"]["on"].as_u64().unwrap();
    assert_eq!(deferred + on, 2000, "{doc}");
    assert!((100..300).contains(&on), "{doc}");
    assert_eq!(rows[1]["variants"]["on"], 2000, "{doc}");
}
