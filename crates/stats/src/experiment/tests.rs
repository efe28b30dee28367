use super::*;

fn data(json: &str) -> ExperimentData {
    ExperimentData::from_json(json).unwrap()
}

const EXAMPLE: &str = r#"{"control": "control", "variants": {
    "control": {"exposures": 10000, "conversions": 1200},
    "green": {"exposures": 9950, "conversions": 1302}}}"#;

fn err(json: &str) -> String {
    match ExperimentData::from_json(json).and_then(|d| analyze(&d, &AnalysisConfig::default())) {
        Ok(_) => panic!("expected an error for {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_example_file() {
    let a = analyze(&data(EXAMPLE), &AnalysisConfig::default()).unwrap();
    assert_eq!(a.metric, Metric::Conversion);
    assert_eq!(a.control, "control");
    assert_eq!(a.variants.len(), 2);
    assert!(a.variants[0].comparison.is_none());
    let green = a.variants[1].comparison.as_ref().unwrap();
    assert!((a.variants[1].estimate - 1302.0 / 9950.0).abs() < 1e-15);
    assert!(green.diff > 0.0 && green.lift.unwrap() > 0.08);
    assert!(green.significant, "{green:?}");
    // One look: the sequential p-value is above the fixed one.
    assert!(green.sequential_p_value >= green.p_value);
    assert!(!a.srm.mismatch);
    assert_eq!(a.looks, 1);
}

#[test]
fn shape_errors_name_the_variant_and_field() {
    assert!(
        err(r#"{"variants": {"a": {"conversions": 1}, "b": {"exposures": 2, "conversions": 1}}}"#)
            .contains("variant `a` has no `exposures`")
    );
    assert!(err(r#"{"variants": {"a": {"exposures": 2, "sum": 1}, "b": {"exposures": 2, "sum": 1, "sumSquares": 1}}}"#)
        .contains("`sumSquares`"));
    assert!(
        err(r#"{"variants": {"a": {"exposures": 2}, "b": {"exposures": 2, "conversions": 1}}}"#)
            .contains("needs `conversions`")
    );
    assert!(
        err(r#"{"variants": {"a": {"exposures": 2, "conversions": 1, "sum": 3}}}"#)
            .contains("both")
    );
    assert_eq!(
        err(r#"{"variants": {}, "extra": 1}"#),
        "1:18: unknown key `extra` (at extra); expected one of `control`, `variants`, `history`"
    );
    assert_eq!(
        err(r#"{"variants": {"a": {"exposures": "10", "conversions": 1}}}"#),
        "1:34: expected a number, found the string \"10\" (at variants.a.exposures); write the number without quotes: 10"
    );
}

#[test]
fn shape_errors_are_located_and_name_the_variant() {
    // A misspelt key inside variant `b`: line, column, the path through
    // the variant, and the key it should be.
    let e = ExperimentData::from_json(
        "{\"variants\": {\n  \"a\": {\"exposures\": 10, \"conversions\": 1},\n  \"b\": {\"exposures\": 10, \"conversion\": 1}\n}}",
    )
    .unwrap_err();
    let StatsError::File(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.pos, Some(hotswap_flags_core::diagnostic::Pos::new(3, 26)));
    assert_eq!(d.path.to_string(), "variants.b.conversion");
    assert_eq!(d.message, "unknown key `conversion`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `conversions`?"));
    // A missing field: at the variant, in the history too.
    assert_eq!(
        err(
            r#"{"history": [{"variants": {"a": {"exposures": 5}}}], "variants": {"a": {"exposures": 5, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}}}"#
        ),
        "1:28: variant `a` needs `conversions` (a conversion metric) or `sum` and `sumSquares` (a continuous metric) (at history[0].variants.a)"
    );
    // Syntax errors and duplicate keys are located too.
    assert!(err(r#"{"variants": {"a": {"exposures": 5"#).starts_with("1:"));
    assert!(
        err(r#"{"variants": {"a": {"exposures": 5, "exposures": 6, "conversions": 1}}}"#)
            .contains("duplicate key `exposures`")
    );
}

#[test]
fn value_errors_are_clear() {
    let e = err(
        r#"{"variants": {"a": {"exposures": 10, "conversions": 11}, "b": {"exposures": 10, "conversions": 1}}}"#,
    );
    assert_eq!(e, "variant `a`: conversions (11) exceed exposures (10)");
    let e = err(
        r#"{"variants": {"a": {"exposures": -10, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
    );
    assert!(
        e.contains("exposures of variant `a` must not be negative"),
        "{e}"
    );
    let e = err(
        r#"{"variants": {"a": {"exposures": 0, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
    );
    assert!(e.contains("variant `a` has 0 exposures"), "{e}");
    let e = err(
        r#"{"control": "x", "variants": {"a": {"exposures": 10, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
    );
    assert!(e.contains("control `x` is not a variant"), "{e}");
    let e = err(r#"{"variants": {"a": {"exposures": 10, "conversions": 0}}}"#);
    assert!(e.contains("at least two variants"), "{e}");
    let e = err(
        r#"{"variants": {"a": {"exposures": 10, "conversions": 0}, "b": {"exposures": 10, "sum": 1, "sumSquares": 1}}}"#,
    );
    assert!(e.contains("variant `b` has a continuous metric"), "{e}");
    let e = err(
        r#"{"variants": {"a": {"exposures": 1, "sum": 1, "sumSquares": 1}, "b": {"exposures": 10, "sum": 1, "sumSquares": 1}}}"#,
    );
    assert!(e.contains("variant `a` has 1 exposures"), "{e}");
}

#[test]
fn history_must_be_cumulative_and_alike() {
    let e = err(
        r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}},
        "history": [{"at": "day 1", "variants": {"a": {"exposures": 20, "conversions": 1}, "b": {"exposures": 5, "conversions": 1}}}]}"#,
    );
    assert!(
        e.contains("history[0]: variant `a` has more exposures"),
        "{e}"
    );
    let e = err(
        r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}},
        "history": [{"at": "day 1", "variants": {"a": {"exposures": 5, "conversions": 1}}}]}"#,
    );
    assert!(
        e.contains("history[0] (day 1): variant `b` is missing"),
        "{e}"
    );
}

#[test]
fn weights_must_match_the_data() {
    let d = data(EXAMPLE);
    let cfg = |w: &[(&str, f64)]| AnalysisConfig {
        weights: Some(w.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect()),
        ..AnalysisConfig::default()
    };
    let e = analyze(
        &d,
        &cfg(&[("control", 50.0), ("green", 25.0), ("blue", 25.0)]),
    );
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("split has variant `blue`")
    );
    let e = analyze(&d, &cfg(&[("control", 50.0)]));
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("`green` of the data is not in the split")
    );
    // A zero-weight variant that got traffic is a certain mismatch.
    let a = analyze(&d, &cfg(&[("control", 1.0), ("green", 0.0)])).unwrap();
    assert!(a.srm.mismatch);
    // Unequal weights fitting the data: no mismatch.
    let skewed = data(
        r#"{"variants": {"a": {"exposures": 9000, "conversions": 9}, "b": {"exposures": 1000, "conversions": 1}}}"#,
    );
    let a = analyze(&skewed, &cfg(&[("a", 90.0), ("b", 10.0)])).unwrap();
    assert!(!a.srm.mismatch && a.srm.p_value > 0.99);
    let a = analyze(&skewed, &AnalysisConfig::default()).unwrap();
    assert!(a.srm.mismatch);
}

#[test]
fn control_precedence() {
    let d = data(
        r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 2}}}"#,
    );
    assert_eq!(
        analyze(&d, &AnalysisConfig::default()).unwrap().control,
        "a"
    );
    let cfg = AnalysisConfig {
        control: Some("b".into()),
        ..AnalysisConfig::default()
    };
    assert_eq!(analyze(&d, &cfg).unwrap().control, "b");
    let mut named = d.clone();
    named.control = Some("a".into());
    assert_eq!(analyze(&named, &cfg).unwrap().control, "a");
}

#[test]
fn bad_parameters() {
    let d = data(EXAMPLE);
    for cfg in [
        AnalysisConfig {
            alpha: 0.0,
            ..AnalysisConfig::default()
        },
        AnalysisConfig {
            alpha: f64::NAN,
            ..AnalysisConfig::default()
        },
        AnalysisConfig {
            minimum_detectable_effect: -0.1,
            ..AnalysisConfig::default()
        },
    ] {
        assert!(analyze(&d, &cfg).is_err());
    }
}

#[test]
fn every_variant_has_the_same_keys_in_json() {
    let a = analyze(&data(EXAMPLE), &AnalysisConfig::default()).unwrap();
    let v = serde_json::to_value(&a).unwrap();
    let keys = |i: usize| -> Vec<String> {
        v["variants"][i]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(0), keys(1));
    assert_eq!(v["variants"][0]["isControl"], true);
    assert!(v["variants"][0]["tau"].is_null());
    assert_eq!(v["variants"][1]["exposures"], 9950);
    assert_eq!(v["variants"][1]["ci"].as_array().unwrap().len(), 2);
    assert_eq!(v["metric"], "conversion");
    assert_eq!(v["srm"]["expectedShares"]["green"], 0.5);
    assert_eq!(v["srm"]["df"], 1);
    assert_eq!(v["power"]["requiredPerVariant"], 47036);
}
