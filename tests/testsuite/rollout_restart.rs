//! kill -9 mid-stage and start again: flagd resumes the same stage with the
//! same start (the remaining time honoured), serves the same percentage from
//! its first request, and does not advance without a check that passes
//! after the restart.
//!
//! The metrics endpoint here is a stand-in answering the Prometheus query
//! API with a value the test sets: what is under test is flagd's restart;
//! the real Prometheus is exercised in rollout_e2e.rs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::flagd::*;
use serde_json::Value;

/// `checkout` in stages of seconds, checked every 300 ms.
fn flags() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 3s }
        - { percentage: 50, duration: 5s }
        - { percentage: 100 }
      health:
        interval: 300ms
        noData: ignore
        checks:
          - { name: errors, query: 'errors{flag="{{flag}}"}', max: 0.05 }
"#,
    )
}

/// The Prometheus query API's answer with one series of `value`, or with
/// no series for None.
fn query_answer(value: Option<f64>) -> String {
    let result = match value {
        Some(v) => format!(r#"[{{"metric": {{}}, "value": [1, "{v}"]}}]"#),
        None => "[]".to_owned(),
    };
    format!(r#"{{"status": "success", "data": {{"resultType": "vector", "result": {result}}}}}"#)
}

fn share(d: &Daemon) -> f64 {
    let inside = (0..300)
        .filter(|i| {
            let (_, b) = d.get(&format!("/api/v1/flags/checkout/evaluate?userId=user-{i}"));
            b["reason"] == "ROLLOUT"
        })
        .count();
    inside as f64 / 300.0
}

#[test]
fn sigkill_mid_stage_resumes_where_it_was() {
    // Every query, whatever it asks, gets `answer`.
    let answer = Arc::new(Mutex::new(query_answer(Some(0.0))));
    let metrics = format!("http://{}", serve("application/json", answer.clone()));
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
    let (_state, state) = state_dir();
    let args = [
        "--env",
        "prod",
        "--repo",
        repo.path_str(),
        "--state-dir",
        state.to_str().unwrap(),
        "--metrics-url",
        &metrics,
    ];
    let d = Daemon::start(&args);
    let before: Value = eventually(DEADLINE, "stage 2 (50 %)", || {
        let (_, r) = d.get("/api/v1/rollouts/checkout");
        (r["stage"] == 1).then_some(r)
    });

    // kill -9, and no metrics after the restart.
    drop(d);
    *answer.lock().unwrap() = query_answer(None);
    let d = Daemon::start(&args);
    d.wait_ready();
    let after = d.get("/api/v1/rollouts/checkout").1;
    assert_eq!(after["stage"], 1, "{after}");
    assert_eq!(after["percentage"], 50.0);
    assert_eq!(
        after["stageStartedAt"], before["stageStartedAt"],
        "the stage keeps its start"
    );
    assert_eq!(after["stageEndsAt"], before["stageEndsAt"]);
    let s = share(&d);
    assert!(
        (0.40..0.60).contains(&s),
        "served at {s}, not the stored 50 %"
    );

    // Past the stage's end without a passing check since the restart: held.
    let ends: jiff::Timestamp = before["stageEndsAt"].as_str().unwrap().parse().unwrap();
    let wait = ends
        .duration_since(jiff::Timestamp::now())
        .as_secs_f64()
        .max(0.0)
        + 1.0;
    std::thread::sleep(Duration::from_secs_f64(wait));
    let held = d.get("/api/v1/rollouts/checkout").1;
    assert_eq!(
        held["stage"], 1,
        "advanced without a fresh passing check: {held}"
    );
    assert_eq!(held["phase"], "progressing");

    // Data again: the next passing check completes the rollout.
    *answer.lock().unwrap() = query_answer(Some(0.01));
    let done = eventually(DEADLINE, "completion", || {
        let (_, r) = d.get("/api/v1/rollouts/checkout");
        (r["phase"] == "completed").then_some(r)
    });
    assert_eq!(done["percentage"], 100.0);
    // No stage was skipped or repeated: the audit log has each once.
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    assert_eq!(
        transitions(&audit),
        [
            ("started".to_owned(), 10.0),
            ("advanced".to_owned(), 50.0),
            ("completed".to_owned(), 100.0)
        ]
    );
}
