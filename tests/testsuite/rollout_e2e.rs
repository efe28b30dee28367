//! Rollouts end to end with a real Prometheus (Debian's `prometheus`
//! package): it scrapes a tiny target this test runs, whose error counter the
//! test controls, every second; flagd queries it and drives a canary with
//! 3-second stages. Healthy, the canary goes 10 → 30 → 50 → 100; made
//! unhealthy mid-stage, it rolls back and evaluations stop serving the
//! rollout variant. Guarded by a comparison with the baseline variant, it
//! rides out an incident both variants share and rolls back when the
//! variant alone gets worse.

use std::time::{Duration, Instant};

use crate::support::flagd::*;
use crate::support::prometheus::{
    CONFIG_WITH_METRICS, PER_TICK, Prometheus, Traffic, error_rate, traffic_in_prometheus,
};
use jiff::Timestamp;
use serde_json::Value;

/// `checkout` in stages of `stage`, checked every second.
fn flags(failure_limit: u32, stage: &str) -> String {
    checkout_canary(&format!(
        r#"      stages:
        - {{ percentage: 10, duration: {stage} }}
        - {{ percentage: 30, duration: {stage} }}
        - {{ percentage: 50, duration: {stage} }}
        - {{ percentage: 100 }}
      health:
        interval: 1s
        failureLimit: {failure_limit}
        noData: ignore
        checks:
          - {{ name: errors, query: error_rate, max: 0.05 }}
"#
    ))
}

/// flagd on a repository holding `checkout` (the file of the flag being
/// rolled out) and `config` as its flags.toml when given, checking the
/// rollout against `prom`.
fn start_flagd(prom: &Prometheus, checkout: &str, config: Option<&str>) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", checkout)]);
    if let Some(config) = config {
        write(repo.path(), "flags.toml", config);
    }
    // Start once Prometheus has the series, so the first stage's checks have
    // data (without it, `noData: ignore` rightly holds the stage).
    eventually(
        Duration::from_secs(30),
        "the target's series in Prometheus",
        || error_rate(prom).map(|_| ()),
    );
    let d = Daemon::on_repo(&repo, &["--metrics-url", &prom.url]);
    d.wait_ready();
    (repo, d)
}

fn rollout(d: &Daemon) -> Value {
    d.get("/api/v1/rollouts/checkout").1
}

/// The share of 500 users served the rollout variant. One client for all
/// of them: a connection per request would make the sample take seconds,
/// long enough for a stage to end in the middle of it.
fn rollout_share(d: &Daemon) -> f64 {
    let http = client();
    let inside = (0..500)
        .filter(|i| {
            let url = d.url(&format!("/api/v1/flags/checkout/evaluate?userId=user-{i}"));
            let body: Value = http.get(url).send().unwrap().json().unwrap();
            body["value"] == Value::Bool(true)
        })
        .count();
    inside as f64 / 500.0
}

/// Waits until `problem` is visible in Prometheus (`visible` holds), then
/// until flagd rolls the rollout back: when it became visible, and the
/// seconds flagd took from there.
fn rollback_after(d: &Daemon, problem: &str, mut visible: impl FnMut() -> bool) -> (Instant, f64) {
    let seen = eventually(
        Duration::from_secs(30),
        &format!("{problem} to be visible in Prometheus"),
        || visible().then(Instant::now),
    );
    let rolled_back = eventually(Duration::from_secs(30), "the rollback", || {
        (rollout(d)["phase"] == "rolled_back").then(Instant::now)
    });
    (
        seen,
        rolled_back.saturating_duration_since(seen).as_secs_f64(),
    )
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn healthy_canary_goes_10_30_50_100() {
    let Some((target, prom)) = traffic_in_prometheus() else {
        return;
    };
    let (_repo, d) = start_flagd(&prom, &flags(2, "3s"), Some(CONFIG_WITH_METRICS));

    let status = eventually(Duration::from_secs(60), "the canary to complete", || {
        let r = rollout(&d);
        (r["phase"] == "completed").then_some(r)
    });
    assert_eq!(status["percentage"], 100.0);
    assert_eq!(rollout_share(&d), 1.0);
    let (ok, errors) = target.counts("on");
    assert!(ok > 0 && errors == 0, "{ok} ok, {errors} failed");

    // The audit log tells the story, with the measured values.
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    assert_eq!(
        transitions(&audit),
        [
            ("started".to_owned(), 10.0),
            ("advanced".to_owned(), 30.0),
            ("advanced".to_owned(), 50.0),
            ("completed".to_owned(), 100.0)
        ]
    );
    // Each stage lasted at least its 3 s, and moved on within one check
    // interval (1 s) of its end, plus scheduling slack.
    let times: Vec<Timestamp> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| ts(&e["time"]))
        .collect();
    for pair in times.windows(2) {
        let stage = pair[1].duration_since(pair[0]).as_secs_f64();
        eprintln!("stage lasted {stage:.3} s");
        assert!(
            (3.0..=3.0 + 1.0 + 0.5).contains(&stage),
            "stage lasted {stage:.3} s"
        );
    }
    let metrics = d.get_text("/metrics");
    assert_eq!(
        metric(&metrics, "rollout_percentage{flag=\"checkout\"}"),
        Some(100.0),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "rollout_phase{flag=\"checkout\",phase=\"completed\"}"
        ),
        Some(1.0)
    );
    assert!(
        metric(
            &metrics,
            "health_checks_total{flag=\"checkout\",check=\"errors\",result=\"pass\"}"
        )
        .unwrap()
            >= 3.0
    );
    assert_eq!(
        metric(
            &metrics,
            "rollout_transitions_total{flag=\"checkout\",to=\"completed\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn unhealthy_canary_rolls_back_within_one_interval() {
    let Some((target, prom)) = traffic_in_prometheus() else {
        return;
    };
    let (_repo, d) = start_flagd(&prom, &flags(1, "15s"), Some(CONFIG_WITH_METRICS));

    eventually(Duration::from_secs(60), "stage 2 (30 %)", || {
        (rollout(&d)["percentage"] == 30.0).then_some(())
    });
    // (Stages last 15 s here, so the sample below sees one stage.)
    let share = rollout_share(&d);
    assert!((0.25..0.35).contains(&share), "{share}");

    // Break the variant: half its requests fail.
    target.fail("on", PER_TICK / 2);
    let start = Instant::now();
    let (visible, reaction) = rollback_after(&d, "the breach", || {
        error_rate(&prom).is_some_and(|r| r > 0.05)
    });
    eprintln!(
        "breach visible after {:.2} s; rolled back {reaction:.2} s after it was visible",
        visible.duration_since(start).as_secs_f64()
    );
    // Within one check interval (1 s) + 1 s of being visible (the poll above
    // adds a few ms).
    assert!(
        reaction <= 2.0,
        "rollback took {reaction:.2} s after the breach was visible"
    );

    let status = rollout(&d);
    assert_eq!(status["percentage"], 0.0);
    assert_eq!(status["checks"][0]["outcome"], "fail");
    assert!(
        status["checks"][0]["value"].as_f64().unwrap() > 0.05,
        "{status}"
    );
    assert_eq!(
        rollout_share(&d),
        0.0,
        "nobody is served the rollout variant any more"
    );
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    let last = audit["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "rolled_back");
    assert_eq!(last["actor"], "controller");
    assert_eq!(last["from"]["percentage"], 30.0);
    assert_eq!(last["to"]["percentage"], 0.0);
    assert!(last["values"]["errors"].as_f64().unwrap() > 0.05, "{last}");

    // The check history holds every round (about one a second), the
    // passing ones of both stages and the failing one with its value
    // (docs/rollouts.md, Check history).
    let history = d.get_ok("/api/v1/rollouts/checkout/history");
    assert_eq!(history["checks"][0]["name"], "errors");
    assert_eq!(history["checks"][0]["max"], 0.05);
    let rounds = history["rounds"].as_array().unwrap();
    assert!(rounds.len() >= 10, "{history}");
    assert!(
        rounds
            .iter()
            .any(|r| r["percentage"] == 10.0 && r["outcome"] == "pass")
    );
    let failed = rounds.last().unwrap();
    assert_eq!(failed["event"], "rolled_back", "{history}");
    assert_eq!(failed["percentage"], 30.0);
    assert_eq!(failed["checks"][0]["value"], last["values"]["errors"]);
    // The dashboard's page draws them: the failing value against its
    // threshold on the chart, the rollback in the timeline
    // (docs/dashboard.md, Flag page).
    let html = d.get_text("/ui/flags/checkout");
    let value = failed["checks"][0]["value"].as_f64().unwrap();
    assert!(
        html.contains(&format!("class=\"fail\" data-value=\"{value}\"")),
        "{html}"
    );
    assert!(html.contains("data-threshold=\"0.05\"") && html.contains(">max 0.05</text>"));
    assert!(html.contains("<li class=\"event rolled_back\">"), "{html}");
    // Behind them, Prometheus' own series of the check's query, for context.
    assert!(html.contains("<polyline class=\"context\""), "{html}");

    // Healthy again: it stays rolled back until the spec changes.
    target.fail("on", 0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rollout(&d)["phase"], "rolled_back");
}

/// `checkout` guarded by a comparison with its `off` variant; the third
/// stage is long, so the test can break the variant while it runs.
fn guarded_flags() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 3s }
        - { percentage: 30, duration: 3s }
        - { percentage: 50, duration: 60s }
        - { percentage: 100 }
      health:
        interval: 1s
        failureLimit: 1
        noData: ignore
        checks:
          - name: errors-vs-off
            compare: baseline
            failures: 'sum(increase(http_requests_total{flag="{{flag}}",variant="{{variant}}",code="500"}[10s]))'
            total: 'sum(increase(http_requests_total{flag="{{flag}}",variant="{{variant}}"}[10s]))'
            tolerance: 0.01
            minSamples: 300
"#,
    )
}

/// How much more often `on` fails than `off`, as Prometheus sees it now.
fn failure_rate_gap(prom: &Prometheus) -> Option<f64> {
    let rate = |variant: &str| {
        format!(
            r#"sum(increase(http_requests_total{{flag="checkout",variant="{variant}",code="500"}}[10s])) / sum(increase(http_requests_total{{flag="checkout",variant="{variant}"}}[10s]))"#
        )
    };
    prom.value(&format!("({}) - ({})", rate("on"), rate("off")))
}

#[test]
fn the_guardrail_passes_a_shared_incident_and_rolls_back_a_worse_variant() {
    let Some(binary) = require("prometheus") else {
        return;
    };
    let target = Traffic::start();
    // An incident both variants share: a fifth of all requests fail, far
    // above any fixed threshold a team would set.
    target.fail("on", PER_TICK / 5);
    target.fail("off", PER_TICK / 5);
    let prom = Prometheus::start(&binary, &target.target);
    let (_repo, d) = start_flagd(&prom, &guarded_flags(), None);

    // The variant is no worse than the baseline, so the canary moves on.
    let status = eventually(Duration::from_secs(60), "stage 3 (50 %)", || {
        let r = rollout(&d);
        (r["percentage"] == 50.0).then_some(r)
    });
    let check = &status["checks"][0];
    assert_eq!(check["outcome"], "pass", "{status}");
    for side in ["rolloutRate", "baselineRate"] {
        let rate = check["comparison"][side].as_f64().unwrap();
        assert!((0.15..0.25).contains(&rate), "{side} {rate}: {status}");
    }

    // Now the variant itself breaks: 60 % of its requests fail, 20 % of the
    // baseline's.
    target.fail("on", PER_TICK * 3 / 5);
    let (_, reaction) = rollback_after(&d, "the gap", || {
        failure_rate_gap(&prom).is_some_and(|gap| gap > 0.1)
    });
    eprintln!("guardrail rolled back {reaction:.2} s after the gap was visible");
    assert!(reaction <= 2.0, "rollback took {reaction:.2} s");

    let status = rollout(&d);
    let check = &status["checks"][0];
    assert_eq!(check["outcome"], "fail", "{status}");
    assert_eq!(check["comparison"]["verdict"], "fail", "{status}");
    assert!(check["comparison"]["pValue"].as_f64().unwrap() <= 0.05);
    assert_eq!(rollout_share(&d), 0.0, "nobody is served `on` any more");
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    let last = audit["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "rolled_back");
    assert_eq!(last["from"]["percentage"], 50.0);
    assert!(
        last["values"]["errors-vs-off.pValue"].as_f64().unwrap() <= 0.05,
        "{last}"
    );
    assert!(
        last["values"]["errors-vs-off"].as_f64().unwrap() > 0.01,
        "{last}"
    );
}
