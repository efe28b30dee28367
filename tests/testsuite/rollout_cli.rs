//! Steering a running flagd: the HTTP API and `flagctl rollout` on top of it.

use std::path::Path;

use crate::support::flagd::*;
use crate::support::gitops::flagctl;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

/// `checkout` in three hour-long stages, and `plain` without a rollout.
fn flags() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 1h }
        - { percentage: 30, duration: 1h }
        - { percentage: 100 }
  plain:
    type: boolean
    variants: { on: true }
    default: on
"#,
    )
}

/// `flagctl rollout ARGS… --daemon D`.
fn rollout(d: &Daemon, args: &[&str]) -> Command {
    let mut cmd = flagctl(Path::new("."));
    cmd.arg("rollout").args(args).args(["--daemon", &d.base]);
    cmd
}

fn json(cmd: &mut Command) -> Value {
    let out = cmd.arg("--format").arg("json").output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn steering_over_http_and_flagctl() {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &flags())]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(DEADLINE, "the rollout", || {
        (d.get("/api/v1/rollouts/checkout").0 == 200).then_some(())
    });

    rollout(&d, &["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("checkout"))
        .stdout(predicate::str::contains("progressing"))
        .stdout(predicate::str::contains("1/3"));
    let one = json(&mut rollout(&d, &["status", "checkout"]));
    assert_eq!(
        (
            one["phase"].as_str(),
            one["percentage"].as_f64(),
            one["stages"].as_u64()
        ),
        (Some("progressing"), Some(10.0), Some(3))
    );
    assert!(one["stageEndsAt"].is_string());

    rollout(&d, &["pause", "checkout"])
        .assert()
        .success()
        .stdout(predicate::str::contains("paused"));
    // Pausing twice is a conflict: exit 1 with the reason.
    rollout(&d, &["pause", "checkout"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "only a progressing rollout can be paused",
        ));
    let (status, body) = d.post("/api/v1/rollouts/checkout/pause", "");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("CONFLICT"))
    );
    rollout(&d, &["resume", "checkout"]).assert().success();
    let promoted = json(&mut rollout(&d, &["promote", "checkout"]));
    assert_eq!(promoted["percentage"], 30.0);
    // Steering takes effect for the next evaluation.
    let inside = (0..200)
        .filter(|i| {
            d.get(&format!("/api/v1/flags/checkout/evaluate?userId=u{i}"))
                .1["reason"]
                == "ROLLOUT"
        })
        .count();
    assert!(
        (40..=80).contains(&inside),
        "{inside} of 200 inside at 30 %"
    );
    let full = json(&mut rollout(&d, &["promote", "checkout", "--full"]));
    assert_eq!(
        (full["phase"].as_str(), full["percentage"].as_f64()),
        (Some("completed"), Some(100.0))
    );
    let aborted = json(&mut rollout(&d, &["abort", "checkout"]));
    assert_eq!(aborted["phase"], "rolled_back");
    assert_eq!(
        d.get("/api/v1/flags/checkout/evaluate?userId=u1").1["reason"],
        "DEFAULT"
    );

    // Unknown flags and actions.
    assert_eq!(
        d.post("/api/v1/rollouts/plain/pause", "").1["error"]["code"],
        "NO_ROLLOUT"
    );
    assert_eq!(d.post("/api/v1/rollouts/checkout/explode", "").0, 404);
    // A flag that does not exist at all is named as such.
    let (status, body) = d.get("/api/v1/rollouts/nope");
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("FLAG_NOT_FOUND"))
    );
    assert_eq!(
        d.post("/api/v1/rollouts/nope/pause", "").1["error"]["code"],
        "FLAG_NOT_FOUND"
    );
    assert_eq!(
        d.get("/api/v1/rollouts/plain").1["error"]["code"],
        "NO_ROLLOUT"
    );
    rollout(&d, &["status", "plain"]).assert().code(1);

    // Every steering call is in the audit log with its actor.
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    let events: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        [
            ("started", "controller"),
            ("paused", "anonymous"),
            ("resumed", "anonymous"),
            ("promoted", "anonymous"),
            ("promoted", "anonymous"),
            ("aborted", "anonymous"),
        ]
    );
    let (_, limited) = d.get("/api/v1/audit?flag=checkout&limit=2");
    assert_eq!(limited["entries"].as_array().unwrap().len(), 2);
    let lines = std::fs::read_to_string(d.state_path().join("audit.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 6);
}

#[test]
fn an_unreachable_daemon_is_an_io_error() {
    flagctl(Path::new("."))
        .args(["rollout", "status", "--daemon", "http://127.0.0.1:9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot reach flagd"));
}

/// With Prometheus unreachable, flagd says so once per rollout and change —
/// host, reason and what it does — never with the request URL, however many
/// rounds run; `rollout status` fits a 100-column terminal, and the full
/// query stays in `--format json`.
#[test]
fn an_unreachable_prometheus_is_one_short_line_and_tables_fit() {
    let flags = checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 1h }
        - { percentage: 100 }
      health:
        interval: 200ms
        noData: ignore
        checks:
          - { name: errors, query: 'sum(rate(http_requests_total{flag="{{flag}}",code=~"5.."}[1m]))', max: 1 }
"#,
    );
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &flags)]);
    // A port just released: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prometheus = format!("http://127.0.0.1:{port}");
    let d = Daemon::on_repo(&repo, &["--metrics-url", &prometheus]);
    let mut logs = String::new();
    // Several rounds: the first check's answer, then three more.
    let rounds = |d: &Daemon| {
        let text = d.get_text("/metrics");
        text.lines()
            .filter(|l| l.starts_with("health_checks") && l.contains("no_data"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    eventually(DEADLINE, "four check rounds", || {
        logs.push_str(&d.logs());
        logs.push('\n');
        (rounds(&d) >= 4.0).then_some(())
    });
    logs.push_str(&d.logs());
    let said: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("cannot reach Prometheus"))
        .collect();
    assert_eq!(said.len(), 1, "{logs}");
    let line = said[0];
    assert!(line.contains(&format!("at 127.0.0.1:{port}: ")), "{line}");
    assert!(
        line.contains("the stage advances only after a passing round"),
        "{line}"
    );
    assert!(
        !line.contains("query=") && !line.contains("http://"),
        "{line}"
    );

    for args in [&["status"][..], &["status", "checkout"]] {
        let out = rollout(&d, args).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("no_data"), "{text}");
        assert!(!text.contains("query="), "{text}");
        // Every line: the tables, and the reason `status FLAG` gives (128
        // columns once), wrapped under its first line.
        for l in text.lines() {
            assert!(l.chars().count() <= 100, "wider than 100 columns:\n{text}");
        }
    }
    let one = json(&mut rollout(&d, &["status", "checkout"]));
    assert_eq!(
        one["checks"][0]["query"],
        r#"sum(rate(http_requests_total{flag="checkout",code=~"5.."}[1m]))"#
    );
}
