//! Exposure counting in the real flagd: `GET /api/v1/experiments[/{flag}]`,
//! `flagd_experiment_exposures_total` in `/metrics`, counts kept across hot
//! swaps and unrelated edits, reset by a changed experiment spec.

use crate::support::flagd::*;
use serde_json::{Value, json};

/// A flag with an experiment on the rule `eu` (after a staff override) and
/// a plain flag; `weights` is the experiment's split, `description` an
/// unrelated field to edit.
fn flags(weights: &str, description: &str) -> String {
    format!(
        r#"flags:
  layout:
    description: {description}
    type: string
    variants: {{ control: c, gallery: g, video: v }}
    default: control
    rules:
      - name: staff
        when: {{ attr: email, op: ends_with, value: "@example.com" }}
        serve: video
      - name: eu
        when: {{ attr: country, op: eq, value: DE }}
        serve:
          split: {{ {weights} }}
          salt: layout-2026
          experiment: {{ control: control, minimumDetectableEffect: 0.05, conversions: 'sum(orders_total{{flag="{{{{flag}}}}",variant="{{{{variant}}}}"}})' }}
  plain:
    type: boolean
    variants: {{ on: true, off: false }}
    default: off
"#
    )
}

fn evaluate(d: &Daemon, users: std::ops::Range<usize>, country: &str) {
    let http = client();
    for i in users {
        let url = d.url(&format!(
            "/api/v1/flags/layout/evaluate?userId=user-{i}&country={country}"
        ));
        assert_eq!(http.get(url).send().unwrap().status(), 200);
    }
}

fn total(report: &Value) -> u64 {
    report["exposures"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[test]
fn exposures_are_counted_served_and_reset_only_by_a_changed_spec() {
    let repo = TempRepo::new(&[(
        "envs/prod/flags.yaml",
        &flags("control: 50, gallery: 50", "v1"),
    )]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();

    // Nothing yet; the weights and settings are there.
    let (status, report) = d.get("/api/v1/experiments/layout");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["flag"], "layout");
    assert_eq!(report["control"], "control");
    assert_eq!(report["rule"], "eu");
    assert_eq!(report["salt"], "layout-2026");
    assert_eq!(report["weights"], json!({"control": 50.0, "gallery": 50.0}));
    assert_eq!(report["exposures"], json!({"control": 0, "gallery": 0}));
    assert_eq!(report["experiment"]["minimumDetectableEffect"], 0.05);
    let spec_hash = report["specHash"].as_str().unwrap().to_owned();
    let since = report["since"].as_str().unwrap().to_owned();

    // Only evaluations the split decided count: not the staff rule, not
    // contexts outside the rule, not the OFREP call of the plain flag.
    evaluate(&d, 0..200, "DE");
    evaluate(&d, 0..50, "US");
    let (status, _) = d.get("/api/v1/flags/layout/evaluate?userId=s&email=ana@example.com");
    assert_eq!(status, 200);
    d.post(
        "/ofrep/v1/evaluate/flags",
        r#"{"context": {"targetingKey": "user-1", "country": "DE"}}"#,
    );
    let (_, report) = d.get("/api/v1/experiments/layout");
    assert_eq!(total(&report), 201, "{report}");
    assert_eq!(report["total"], 201);
    let control = report["exposures"]["control"].as_u64().unwrap();
    assert!((70..130).contains(&control), "{report}");

    // Every user's variant is the one the split gave them: exposures per
    // variant equal the evaluations per variant with reason SPLIT.
    let metrics = d.get_text("/metrics");
    for variant in ["control", "gallery"] {
        let exposures = metric(
            &metrics,
            &format!("flagd_experiment_exposures_total{{flag=\"layout\",variant=\"{variant}\"}}"),
        );
        let split = metric(
            &metrics,
            &format!(
                "flagd_evaluations_total{{flag=\"layout\",variant=\"{variant}\",reason=\"SPLIT\"}}"
            ),
        );
        assert_eq!(
            exposures,
            Some(report["exposures"][variant].as_f64().unwrap())
        );
        assert_eq!(exposures, split, "{variant}");
    }

    // The list, and the errors.
    let (status, list) = d.get("/api/v1/experiments");
    assert_eq!(status, 200);
    let experiments = list["experiments"].as_array().unwrap();
    assert_eq!(experiments.len(), 1);
    assert_eq!(experiments[0]["flag"], "layout");
    assert_eq!(list["version"], experiments[0]["version"]);
    let (status, body) = d.get("/api/v1/experiments/plain");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NO_EXPERIMENT"))
    );
    let (status, body) = d.get("/api/v1/experiments/nope");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("FLAG_NOT_FOUND"))
    );

    // An unrelated edit is hot-swapped in; the counts and `since` stay.
    repo.save(
        "envs/prod/flags.yaml",
        &flags("control: 50, gallery: 50", "v2"),
    );
    eventually(DEADLINE, "the edit to be served", || {
        let (_, flag) = d.get("/api/v1/flags/layout");
        (flag["description"] == "v2").then_some(())
    });
    evaluate(&d, 200..210, "DE");
    let (_, report) = d.get("/api/v1/experiments/layout");
    assert_eq!(total(&report), 211, "{report}");
    assert_eq!(report["specHash"], spec_hash.as_str());
    assert_eq!(report["since"], since.as_str());

    // New weights: a new experiment, counted from zero, since later.
    repo.save(
        "envs/prod/flags.yaml",
        &flags("control: 20, gallery: 80", "v2"),
    );
    let report = eventually(DEADLINE, "the new weights to be served", || {
        let (_, report) = d.get("/api/v1/experiments/layout");
        (report["specHash"] != spec_hash.as_str()).then_some(report)
    });
    assert_eq!(report["weights"], json!({"control": 20.0, "gallery": 80.0}));
    assert_eq!(total(&report), 0, "{report}");
    let instant = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(instant(&report["since"]) > instant(&json!(since)));
    assert!(instant(&report["at"]) >= instant(&report["since"]));
    evaluate(&d, 0..10, "DE");
    let (_, report) = d.get("/api/v1/experiments/layout");
    assert_eq!(total(&report), 10);
}
