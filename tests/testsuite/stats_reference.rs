//! The statistics library against an independent implementation: every
//! case of `tests/data/stats/reference.json`, written by `reference.py` with
//! scipy and statsmodels (from raw observations for continuous metrics),
//! must match to 1e-6 relative.

use std::path::Path;

use hotswap_flags_stats::experiment::{Analysis, AnalysisConfig, ExperimentData, VariantResult};
use hotswap_flags_stats::guardrail::{self, Failures, GuardrailConfig};
use hotswap_flags_stats::{Interval, analyze};
use serde_json::Value;

const REL: f64 = 1e-6;
/// Values on the data's scale (rates, means, differences, bounds) may also
/// differ by this much in absolute terms: a Wilson bound at 0 conversions is
/// 0 here and `±1e-18` of rounding in statsmodels.
const ABS: f64 = 1e-12;

fn reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stats/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Relative agreement (p-values and statistics, which may be 1e-178).
fn rel(case: &str, what: &str, actual: f64, expected: &Value) {
    let e = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{case}: {what}: expected {expected}"));
    let ok = actual == e || (actual - e).abs() <= REL * e.abs().max(actual.abs());
    assert!(ok, "{case}: {what}: {actual:e} vs reference {e:e}");
}

/// Relative agreement, or absolute within ABS (data-scale values).
fn scaled(case: &str, what: &str, actual: f64, expected: &Value) {
    let e = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{case}: {what}: expected {expected}"));
    let ok = (actual - e).abs() <= ABS || (actual - e).abs() <= REL * e.abs().max(actual.abs());
    assert!(ok, "{case}: {what}: {actual:e} vs reference {e:e}");
}

fn interval(case: &str, what: &str, actual: Interval, expected: &Value) {
    scaled(case, &format!("{what}[0]"), actual.lower, &expected[0]);
    scaled(case, &format!("{what}[1]"), actual.upper, &expected[1]);
}

fn config(case: &Value) -> AnalysisConfig {
    let c = &case["config"];
    AnalysisConfig {
        alpha: c["alpha"].as_f64().unwrap(),
        minimum_detectable_effect: c["minimumDetectableEffect"].as_f64().unwrap(),
        weights: c["weights"].as_array().map(|ws| {
            ws.iter()
                .map(|w| (w[0].as_str().unwrap().to_owned(), w[1].as_f64().unwrap()))
                .collect()
        }),
        ..AnalysisConfig::default()
    }
}

fn check_variant(case: &str, v: &VariantResult, e: &Value) {
    let name = format!("{case}/{}", v.name);
    assert_eq!(v.name, e["name"].as_str().unwrap(), "{case}: variant order");
    assert_eq!(v.exposures, e["exposures"].as_f64().unwrap(), "{name}");
    scaled(&name, "estimate", v.estimate, &e["estimate"]);
    interval(&name, "ci", v.ci, &e["ci"]);
    match (&v.comparison, e.get("pValue")) {
        (None, None) => {}
        (Some(c), Some(_)) => {
            scaled(&name, "diff", c.diff, &e["diff"]);
            interval(&name, "diffCi", c.diff_ci, &e["diffCi"]);
            match (c.lift, e["lift"].as_f64()) {
                (Some(l), Some(_)) => scaled(&name, "lift", l, &e["lift"]),
                (None, None) => {}
                (a, b) => panic!("{name}: lift {a:?} vs reference {b:?}"),
            }
            rel(&name, "statistic", c.statistic, &e["statistic"]);
            rel(&name, "pValue", c.p_value, &e["pValue"]);
            rel(
                &name,
                "adjustedPValue",
                c.adjusted_p_value,
                &e["adjustedPValue"],
            );
            rel(
                &name,
                "sequentialPValue",
                c.sequential_p_value,
                &e["sequentialPValue"],
            );
            rel(
                &name,
                "adjustedSequentialPValue",
                c.adjusted_sequential_p_value,
                &e["adjustedSequentialPValue"],
            );
            assert_eq!(
                c.significant,
                e["significant"].as_bool().unwrap(),
                "{name}: significant"
            );
        }
        (a, b) => panic!("{name}: comparison {a:?} vs reference {b:?}"),
    }
}

fn check(case: &str, a: &Analysis, e: &Value) {
    assert_eq!(
        a.metric.as_str(),
        e["metric"].as_str().unwrap(),
        "{case}: metric"
    );
    assert_eq!(a.control, e["control"].as_str().unwrap(), "{case}: control");
    let ev = e["variants"].as_array().unwrap();
    assert_eq!(a.variants.len(), ev.len(), "{case}: variant count");
    for (v, ev) in a.variants.iter().zip(ev) {
        check_variant(case, v, ev);
    }
    rel(
        case,
        "overall.statistic",
        a.overall.statistic,
        &e["overall"]["statistic"],
    );
    rel(
        case,
        "overall.pValue",
        a.overall.p_value,
        &e["overall"]["pValue"],
    );
    assert_eq!(
        a.overall.df,
        e["overall"]["df"].as_f64().unwrap(),
        "{case}: overall df"
    );
    rel(
        case,
        "srm.statistic",
        a.srm.statistic,
        &e["srm"]["statistic"],
    );
    rel(case, "srm.pValue", a.srm.p_value, &e["srm"]["pValue"]);
    assert_eq!(
        a.srm.mismatch,
        e["srm"]["mismatch"].as_bool().unwrap(),
        "{case}: srm.mismatch"
    );
    let p = &e["power"];
    assert_eq!(
        a.power.required_per_variant,
        p["requiredPerVariant"].as_f64(),
        "{case}: power.requiredPerVariant"
    );
    match (a.power.progress, p["progress"].as_f64()) {
        (Some(x), Some(_)) => rel(case, "power.progress", x, &p["progress"]),
        (None, None) => {}
        (x, y) => panic!("{case}: progress {x:?} vs reference {y:?}"),
    }
}

#[test]
fn analyses_match_scipy_and_statsmodels() {
    let doc = reference();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "the issue asks for at least 20 cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = ExperimentData::from_json(&case["data"].to_string())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let analysis = analyze(&data, &config(case)).unwrap_or_else(|e| panic!("{name}: {e}"));
        check(name, &analysis, &case["expected"]);
    }
}

#[test]
fn the_reference_covers_what_the_issue_lists() {
    let doc = reference();
    let cases = doc["cases"].as_array().unwrap();
    let any = |f: &dyn Fn(&Value) -> bool| cases.iter().any(f);
    let variants = |c: &Value| c["data"]["variants"].as_object().unwrap().len();
    let exposures = |c: &Value| {
        c["data"]["variants"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["exposures"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min)
    };
    assert!(any(&|c| exposures(c) < 30.0), "small samples");
    assert!(any(&|c| exposures(c) >= 1e6), "large samples");
    assert!(
        any(&|c| c["data"]["variants"]
            .as_object()
            .unwrap()
            .values()
            .any(|v| v["conversions"] == 0)),
        "zero conversions"
    );
    assert!(any(&|c| variants(c) >= 5), "many variants");
    assert!(
        any(&|c| c["expected"]["srm"]["mismatch"] == true),
        "an SRM case"
    );
    assert!(
        any(&|c| c["expected"]["metric"] == "continuous"),
        "continuous metrics"
    );
    assert!(
        any(&|c| c["data"].get("history").is_some()),
        "sequential looks"
    );
}

#[test]
fn guardrail_matches_statsmodels() {
    let doc = reference();
    for case in doc["guardrail"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let counts = |v: &Value| Failures {
            failures: v["failures"].as_f64().unwrap(),
            total: v["total"].as_f64().unwrap(),
        };
        let config = GuardrailConfig {
            tolerance: case["tolerance"].as_f64().unwrap(),
            alpha: case["alpha"].as_f64().unwrap(),
            min_samples: case["minSamples"].as_f64().unwrap(),
        };
        let r = guardrail::evaluate(counts(&case["rollout"]), counts(&case["baseline"]), &config)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = &case["expected"];
        assert_eq!(r.verdict.as_str(), e["verdict"].as_str().unwrap(), "{name}");
        match (r.statistic, r.p_value) {
            (Some(z), Some(p)) => {
                scaled(name, "statistic", z, &e["statistic"]);
                rel(name, "pValue", p, &e["pValue"]);
            }
            (None, None) => assert!(e["pValue"].is_null(), "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}
