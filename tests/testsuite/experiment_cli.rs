//! `flagctl experiment analyze` driven as a user would: the real binary,
//! data files, a flags repository, both output formats, exit codes
//! (0 analysed, 1 bad data, 2 usage or I/O).

use std::fs;
use std::path::Path;

use crate::support::gitops::flagctl;
use predicates::prelude::*;
use serde_json::Value;

const CONFIG: &str = r#"version = 1
[[environments]]
name = "production"
path = "envs/production"
"#;

/// A flag whose experiment differs from every default: control not first,
/// 80/20 weights, α 0.1, MDE 20 %.
const FLAGS: &str = r#"flags:
  checkout-button:
    type: string
    variants: { blue: "rgb(0,0,255)", green: "rgb(0,255,0)" }
    offVariant: blue
    default:
      split: { green: 20, blue: 80 }
      salt: checkout-button-2026
      experiment:
        hypothesis: A green button converts better
        control: blue
        minimumDetectableEffect: 0.2
        alpha: 0.1
  plain:
    type: boolean
    variants: { on: true, off: false }
    default: off
  layout:
    type: string
    variants: { a: A, b: B }
    offVariant: a
    default:
      split: { a: 50, b: 50 }
      experiment:
        conversions: 'sum(increase(orders_total{flag="{{flag}}",variant="{{variant}}"}[{{window}}]))'
"#;

const EXAMPLE: &str = r#"{"control": "control", "variants": {
  "control": {"exposures": 10000, "conversions": 1200},
  "green": {"exposures": 9950, "conversions": 1302}}}"#;

fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "flags.toml", CONFIG);
    write(tmp.path(), "envs/production/flags.yaml", FLAGS);
    tmp
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// `flagctl experiment analyze FLAG --data DIR/data.json ARGS…` in `dir`.
fn analyze(dir: &Path, flag: &str, data: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    write(dir, "data.json", data);
    flagctl(dir)
        .args(["experiment", "analyze", flag, "--data", "data.json"])
        .args(args)
        .assert()
}

fn json_of(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).unwrap()
}

fn reference_case(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stats/reference.json");
    let doc: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no reference case {name}"))
        .clone()
}

fn close(actual: &Value, expected: &Value, what: &str) {
    let (a, e) = (actual.as_f64().unwrap(), expected.as_f64().unwrap());
    assert!(
        (a - e).abs() <= 1e-12 || (a - e).abs() <= 1e-6 * e.abs(),
        "{what}: {a} vs {e}"
    );
}

#[test]
fn table_output_reads_like_a_report() {
    let dir = tempfile::tempdir().unwrap();
    analyze(dir.path(), "checkout-green", EXAMPLE, &[])
        .success()
        .stdout(predicate::str::contains(
            "checkout-green · conversion metric · control control",
        ))
        .stdout(predicate::str::contains("rate (95 % CI)"))
        .stdout(predicate::str::contains("12.00 % [11.38, 12.65]"))
        .stdout(predicate::str::contains("+1.09 pp [+0.17, +2.00]"))
        .stdout(predicate::str::contains("+9.0 %"))
        .stdout(predicate::str::contains("0.0206"))
        .stdout(predicate::str::contains(
            "exposures fit the configured split (50/50 %)",
        ))
        .stdout(predicate::str::contains("47036 per variant"))
        .stdout(predicate::str::contains("NOT TRUSTWORTHY").not());
}

#[test]
fn json_output_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), "checkout-green", EXAMPLE, &["--format", "json"]).success();
    let v = json_of(&out);
    for key in [
        "flag", "metric", "control", "variants", "overall", "srm", "power",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["flag"], "checkout-green");
    assert_eq!(v["metric"], "conversion");
    assert_eq!(v["control"], "control");
    for variant in v["variants"].as_array().unwrap() {
        for key in [
            "name",
            "exposures",
            "rate",
            "ci",
            "diff",
            "diffCi",
            "lift",
            "pValue",
            "adjustedPValue",
            "sequentialPValue",
            "significant",
        ] {
            assert!(
                variant.get(key).is_some(),
                "variant {} lacks {key}",
                variant["name"]
            );
        }
    }
    for key in ["statistic", "pValue"] {
        assert!(v["overall"][key].is_number(), "overall.{key}");
    }
    for key in ["statistic", "pValue", "mismatch"] {
        assert!(!v["srm"][key].is_null(), "srm.{key}");
    }
    assert_eq!(v["power"]["requiredPerVariant"], 47036);
    let control = &v["variants"][0];
    assert_eq!(control["exposures"], 10000);
    assert!(control["pValue"].is_null() && control["diff"].is_null());
    let green = &v["variants"][1];
    assert_eq!(green["significant"], true);
    assert_eq!(green["sequentialSignificant"], false);
}

#[test]
fn json_numbers_are_the_reference_numbers() {
    for name in [
        "issue-example",
        "many-variants",
        "continuous-small",
        "history-fading",
    ] {
        let case = reference_case(name);
        let dir = tempfile::tempdir().unwrap();
        let out = analyze(
            dir.path(),
            "f",
            &case["data"].to_string(),
            &["--format", "json"],
        )
        .success();
        let v = json_of(&out);
        let e = &case["expected"];
        let estimate = if e["metric"] == "continuous" {
            "mean"
        } else {
            "rate"
        };
        assert_eq!(v["metric"], e["metric"]);
        for (a, x) in v["variants"]
            .as_array()
            .unwrap()
            .iter()
            .zip(e["variants"].as_array().unwrap())
        {
            let what = format!("{name}/{}", x["name"]);
            assert_eq!(a["name"], x["name"]);
            close(&a[estimate], &x["estimate"], &what);
            close(&a["ci"][0], &x["ci"][0], &what);
            close(&a["ci"][1], &x["ci"][1], &what);
            if x.get("pValue").is_some() {
                for key in ["diff", "pValue", "adjustedPValue", "sequentialPValue"] {
                    close(&a[key], &x[key], &format!("{what}.{key}"));
                }
                close(&a["diffCi"][1], &x["diffCi"][1], &what);
                assert_eq!(a["significant"], x["significant"], "{what}");
            }
        }
        close(&v["overall"]["pValue"], &e["overall"]["pValue"], name);
        close(&v["srm"]["pValue"], &e["srm"]["pValue"], name);
        assert_eq!(
            v["power"]["requiredPerVariant"].as_f64(),
            e["power"]["requiredPerVariant"].as_f64(),
            "{name}"
        );
    }
}

#[test]
fn a_continuous_metric_reports_means() {
    let dir = tempfile::tempdir().unwrap();
    let data = r#"{"variants": {
      "control": {"exposures": 1000, "sum": 45210.5, "sumSquares": 2400000},
      "bigger": {"exposures": 1010, "sum": 47000.25, "sumSquares": 2600000}}}"#;
    let out = analyze(dir.path(), "revenue", data, &["--format", "json"]).success();
    let v = json_of(&out);
    assert_eq!(v["metric"], "continuous");
    assert_eq!(v["overall"]["test"], "anova");
    let bigger = &v["variants"][1];
    assert!(bigger.get("rate").is_none());
    assert!((bigger["mean"].as_f64().unwrap() - 47000.25 / 1010.0).abs() < 1e-12);
    // Wide enough for the table's labels on one line (README, "Output").
    write(dir.path(), "data.json", data);
    flagctl(dir.path())
        .args(["experiment", "analyze", "revenue", "--data", "data.json"])
        .env("COLUMNS", "160")
        .assert()
        .success()
        .stdout(predicate::str::contains("mean (95 % CI)"))
        .stdout(predicate::str::contains("one-way ANOVA"));
}

#[test]
fn env_supplies_control_weights_alpha_and_mde() {
    let repo = repo();
    let data = r#"{"variants": {"green": {"exposures": 2000, "conversions": 260},
                                "blue": {"exposures": 8000, "conversions": 880}}}"#;
    let out = analyze(
        repo.path(),
        "checkout-button",
        data,
        &["--env", "production", "--format", "json"],
    )
    .success();
    let v = json_of(&out);
    assert_eq!(v["env"], "production");
    assert_eq!(v["control"], "blue");
    assert_eq!(v["alpha"], 0.1);
    assert_eq!(v["confidenceLevel"], 0.9);
    assert_eq!(v["minimumDetectableEffect"], 0.2);
    assert_eq!(v["srm"]["expectedShares"]["green"], 0.2);
    assert_eq!(v["srm"]["mismatch"], false);
    // Without --env the same 20/80 data is a glaring mismatch with 50/50.
    let out = analyze(repo.path(), "checkout-button", data, &["--format", "json"]).success();
    let v = json_of(&out);
    assert_eq!(v["control"], "green");
    assert_eq!(v["srm"]["mismatch"], true);
    assert_eq!(v["alpha"], 0.05);
    // Options win over the flag's settings.
    let out = analyze(
        repo.path(),
        "checkout-button",
        data,
        &[
            "--env",
            "production",
            "--alpha",
            "0.01",
            "--mde",
            "0.1",
            "--format",
            "json",
        ],
    )
    .success();
    let v = json_of(&out);
    assert_eq!(v["alpha"], 0.01);
    assert_eq!(v["minimumDetectableEffect"], 0.1);
}

#[test]
fn sample_ratio_mismatch_is_loud_but_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let data = r#"{"variants": {"control": {"exposures": 10000, "conversions": 1000},
                                "treatment": {"exposures": 10600, "conversions": 1100}}}"#;
    analyze(dir.path(), "f", data, &[])
        .success()
        .stdout(predicate::str::contains("SAMPLE-RATIO MISMATCH"))
        .stdout(predicate::str::contains("NOT TRUSTWORTHY"));
    let v = json_of(&analyze(dir.path(), "f", data, &["--format", "json"]).success());
    assert_eq!(v["srm"]["mismatch"], true);
    assert!(v["srm"]["pValue"].as_f64().unwrap() < 0.001);
}

#[test]
fn history_adds_looks() {
    let dir = tempfile::tempdir().unwrap();
    let case = reference_case("history-rising");
    let v = json_of(
        &analyze(
            dir.path(),
            "f",
            &case["data"].to_string(),
            &["--format", "json"],
        )
        .success(),
    );
    assert_eq!(v["looks"], 4);
    analyze(dir.path(), "f", &case["data"].to_string(), &[])
        .success()
        .stdout(predicate::str::contains("4 looks"));
}

#[test]
fn data_on_standard_input() {
    flagctl(Path::new("."))
        .args([
            "experiment",
            "analyze",
            "f",
            "--data",
            "-",
            "--format",
            "json",
        ])
        .write_stdin(EXAMPLE)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"requiredPerVariant\": 47036"));
}

/// Bad data: a clear message naming the problem on stderr, nothing on
/// stdout, exit 1. `message` is the end of the line after `data.json`: a
/// shape error is located (`:1:34: error: … (at variants.a.exposures)`),
/// a problem with the numbers is not (`: variant `a`: …`).
fn bad_data(data: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json"] {
        let located = message.starts_with(':') && !message.starts_with(": ");
        let expected = if located {
            format!("data.json{message}")
        } else {
            format!("error: data.json{message}")
        };
        analyze(dir.path(), "f", data, &["--format", format])
            .code(1)
            .stdout("")
            .stderr(predicate::str::starts_with(expected))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn bad_data_is_a_clear_error_with_exit_1() {
    bad_data(
        r#"{"variants": {"a": {"exposures": -5, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ": the exposures of variant `a` must not be negative, got -5",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 10, "conversions": -1}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ": the conversions of variant `a` must not be negative",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5, "conversions": 6}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ": variant `a`: conversions (6) exceed exposures (5)",
    );
    bad_data(
        r#"{"control": "zzz", "variants": {"a": {"exposures": 5, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ": the control `zzz` is not a variant of the data (variants: a, b)",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5, "conversions": 1}}}"#,
        ": an experiment needs at least two variants",
    );
    bad_data(
        r#"{"variants": {"a": {"conversions": 1}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ":1:15: error: variant `a` has no `exposures` (at variants.a)",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ":1:15: error: variant `a` needs `conversions`",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5, "sum": 3}, "b": {"exposures": 10, "sum": 3, "sumSquares": 9}}}"#,
        ":1:15: error: variant `a` has no `sumSquares` (at variants.a)",
    );
    bad_data(
        r#"{"control": "a"}"#,
        ":1:1: error: missing required key `variants`",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 0, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ": variant `a` has 0 exposures",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 10, "sum": 10, "sumSquares": 1}, "b": {"exposures": 10, "sum": 3, "sumSquares": 9}}}"#,
        ": variant `a`: sumSquares (1) is less than sum²/exposures (10)",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": "many", "conversions": 1}}}"#,
        ":1:34: error: expected a number, found the string \"many\" (at variants.a.exposures)",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5, "conversions": 1"#,
        ":1:",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 1e999, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}}}"#,
        ":1:34: error: inf is not a usable number: numbers must be finite (at variants.a.exposures)",
    );
    bad_data(
        r#"{"variants": {"a": {"exposures": 5, "exposures": 6, "conversions": 1}}}"#,
        ":1:37: error: duplicate key `exposures`",
    );
}

/// A misspelt key inside a variant: the message says where (line, column)
/// and which variant, and what was meant.
#[test]
fn a_misspelt_key_names_its_variant() {
    let data = "{\"variants\": {\n  \"a\": {\"exposures\": 10, \"conversions\": 1},\n  \"b\": {\"exposures\": 10, \"conversion\": 1}\n}}\n";
    let dir = tempfile::tempdir().unwrap();
    analyze(dir.path(), "f", data, &[]).code(1).stdout("").stderr(
        "data.json:3:26: error: unknown key `conversion` (at variants.b.conversion)\n    hint: did you mean `conversions`?\n",
    );
}

#[test]
fn data_that_does_not_match_the_split_is_exit_1() {
    let repo = repo();
    for (data, message) in [
        (
            r#"{"variants": {"blue": {"exposures": 10, "conversions": 1}, "green": {"exposures": 10, "conversions": 1},
                            "red": {"exposures": 10, "conversions": 1}}}"#,
            "variant `red` of the data is not in the split (variants: `green`, `blue`)",
        ),
        (
            r#"{"variants": {"blue": {"exposures": 10, "conversions": 1}, "red": {"exposures": 10, "conversions": 1}}}"#,
            "the split has variant `green` (weight 20) but the data does not",
        ),
        (
            r#"{"variants": {"blue": {"exposures": 10, "conversions": 1}}}"#,
            "at least two variants",
        ),
    ] {
        analyze(
            repo.path(),
            "checkout-button",
            data,
            &["--env", "production"],
        )
        .code(1)
        .stderr(predicate::str::contains(message));
    }
}

#[test]
fn usage_and_io_errors_are_exit_2() {
    let repo = repo();
    let dir = repo.path();
    let in_repo = || {
        let mut c = flagctl(dir);
        c.args(["experiment", "analyze"]);
        c
    };
    in_repo()
        .args(["f", "--data", "missing.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read the data file missing.json",
        ));
    // --daemon: the flag's experiment settings come from --env.
    in_repo()
        .args(["f", "--daemon", "http://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--env <ENV>"));
    in_repo()
        .args(["checkout-button", "--env", "production"])
        .args(["--daemon", "http://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no `experiment.conversions` query",
        ));
    in_repo()
        .args(["layout", "--env", "production"])
        .args(["--daemon", "http://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Prometheus to ask"));
    in_repo()
        .args([
            "layout",
            "--env",
            "production",
            "--daemon",
            "http://127.0.0.1:1",
        ])
        .args(["--metrics-url", "http://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot reach flagd at http://127.0.0.1:1/api/v1/experiments/layout",
        ));
    in_repo().arg("f").assert().code(2);
    write(dir, "data.json", EXAMPLE);
    in_repo()
        .args(["f", "--data", "data.json", "--daemon", "http://x"])
        .assert()
        .code(2);
    in_repo()
        .args(["f", "--data", "data.json", "--metrics-url", "http://x"])
        .assert()
        .code(2);
    for alpha in ["0", "1", "-0.1", "nan"] {
        in_repo()
            .args(["f", "--data", "data.json", &format!("--alpha={alpha}")])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--alpha"));
    }
    in_repo()
        .args(["f", "--data", "data.json", "--mde", "0"])
        .assert()
        .code(2);
    in_repo()
        .args([
            "checkout-buton",
            "--data",
            "data.json",
            "--env",
            "production",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `checkout-button`"));
    // Without an experiment block: with --data, --env can be left out;
    // with --daemon it cannot (it is required), so that is not the advice.
    in_repo()
        .args(["plain", "--data", "data.json", "--env", "production"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no experiment"))
        .stderr(predicate::str::contains("or leave out --env"));
    in_repo()
        .args(["plain", "--env", "production", "--daemon", "http://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "flag `plain` in environment `production` has no experiment: add an `experiment:` block",
        ))
        .stderr(predicate::str::contains(
            "flagd counts exposures only for a split with an experiment",
        ))
        .stderr(predicate::str::contains("leave out --env").not());
    in_repo()
        .args(["checkout-button", "--data", "data.json", "--env", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown environment `staging`"));
}

#[test]
fn the_example_repository_analyses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example");
    let dir = tempfile::tempdir().unwrap();
    let data = r#"{"variants": {"control": {"exposures": 3400, "conversions": 340},
      "gallery": {"exposures": 3300, "conversions": 361}, "video": {"exposures": 3300, "conversions": 350}}}"#;
    let out = analyze(
        dir.path(),
        "product-page-layout",
        data,
        &[
            "--env",
            "production",
            "--repo",
            root.to_str().unwrap(),
            "--format",
            "json",
        ],
    )
    .success();
    let v = json_of(&out);
    assert_eq!(v["control"], "control");
    assert_eq!(v["minimumDetectableEffect"], 0.03);
    assert_eq!(v["srm"]["expectedShares"]["control"], 0.34);
    assert_eq!(v["srm"]["mismatch"], false);
    assert_eq!(v["variants"].as_array().unwrap().len(), 3);
}
