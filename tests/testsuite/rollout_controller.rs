//! The rollout state machine through the controller, with an injected clock
//! and a scripted metrics source: every transition, every `noData` policy,
//! failureLimit counting, spec changes, rollback stickiness, linear steps,
//! scheduled windows across a DST change, steering, durable state and the
//! audit log. (The real Prometheus is exercised in rollout_e2e.rs.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotswap_flags_client::prometheus::{MetricsSource, QueryValue};
use hotswap_flags_client::wire::{Phase, Steer};
use hotswap_flags_core::eval::bucket::percentage;
use hotswap_flags_core::model::MetricsConfig;
use hotswap_flags_core::ruleset::{Ruleset, RulesetMeta};
use hotswap_flags_core::{Context, Reason};
use hotswap_flags_daemon::live::Live;
use hotswap_flags_daemon::rollout::clock::ManualClock;
use hotswap_flags_daemon::rollout::{Controller, RolloutApi};
use hotswap_flags_gitops::repo::load::load_files;
use jiff::Timestamp;
use serde_json::Value;

/// Answers queries by the whole query if scripted so, else by metric name
/// (the text before `{`).
#[derive(Debug, Default, Clone)]
struct Scripted(Arc<Mutex<HashMap<String, QueryValue>>>);

impl Scripted {
    fn set(&self, metric: &str, value: QueryValue) {
        self.0.lock().unwrap().insert(metric.to_owned(), value);
    }
    fn healthy(&self) {
        self.set("errors", QueryValue::Value(0.01));
    }
    fn failing(&self) {
        self.set("errors", QueryValue::Value(0.5));
    }
    fn silent(&self) {
        self.set("errors", QueryValue::NoData("no series".into()));
    }
}

impl MetricsSource for Scripted {
    async fn query(&self, _endpoint: Option<&str>, promql: &str) -> QueryValue {
        let name = promql.split('{').next().unwrap_or(promql);
        let scripted = self.0.lock().unwrap();
        scripted
            .get(promql)
            .or_else(|| scripted.get(name))
            .cloned()
            .unwrap_or_else(|| QueryValue::NoData(format!("nothing scripted for {name}")))
    }
}

const T0: &str = "2026-03-01T12:00:00Z";

fn canary(health: &str) -> String {
    format!(
        "flags:\n  f:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout:\n      strategy: canary\n      serve: on\n      stages:\n        - {{ percentage: 10, duration: 10m }}\n        - {{ percentage: 50, duration: 10m }}\n        - {{ percentage: 100 }}\n{health}"
    )
}

const CHECKS: &str = "      health:\n        interval: 1m\n        failureLimit: 2\n        checks:\n          - { name: errors, query: 'errors{flag=\"{{flag}}\",variant=\"{{variant}}\"}', max: 0.05 }\n";

fn compile(yaml: &str) -> Ruleset {
    let meta = RulesetMeta {
        env: "prod".into(),
        version: "v".into(),
        source: "test".into(),
    };
    let checked = load_files([("f.yaml".to_owned(), yaml.as_bytes().to_vec())])
        .check(&MetricsConfig::default(), meta);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.ruleset.unwrap()
}

struct Rig {
    _dir: tempfile::TempDir,
    state: std::path::PathBuf,
    live: Arc<Live>,
    clock: Arc<ManualClock>,
    metrics: Scripted,
    controller: Arc<Controller<Scripted>>,
}

impl Rig {
    fn new(yaml: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_path_buf();
        let clock = Arc::new(ManualClock::new(T0.parse().unwrap()));
        let metrics = Scripted::default();
        let (live, controller) = Rig::boot(&state, &clock, &metrics);
        live.install(compile(yaml), None);
        Rig {
            _dir: dir,
            state,
            live,
            clock,
            metrics,
            controller,
        }
    }

    fn boot(
        state: &std::path::Path,
        clock: &Arc<ManualClock>,
        metrics: &Scripted,
    ) -> (Arc<Live>, Arc<Controller<Scripted>>) {
        let live = Arc::new(Live::new("prod"));
        let controller = Controller::new(
            "prod",
            live.clone(),
            state,
            clock.clone(),
            metrics.clone(),
            None,
        );
        (live, controller)
    }

    /// A new process on the same state directory (a restart).
    fn restart(&mut self, yaml: &str) {
        let (live, controller) = Rig::boot(&self.state, &self.clock, &self.metrics);
        live.install(compile(yaml), None);
        self.live = live;
        self.controller = controller;
    }

    async fn tick(&self) {
        self.controller.tick().await;
    }

    async fn after(&self, d: Duration) {
        self.clock.advance(d);
        self.tick().await;
    }

    fn status(&self) -> Value {
        self.controller.status("f").expect("a rollout")
    }

    fn phase(&self) -> String {
        self.status()["phase"].as_str().unwrap().to_owned()
    }

    fn at(&self) -> (String, u64, f64) {
        let s = self.status();
        (
            s["phase"].as_str().unwrap().to_owned(),
            s["stage"].as_u64().unwrap(),
            s["percentage"].as_f64().unwrap(),
        )
    }

    /// The share of 2000 users the evaluator puts inside the rollout.
    fn served_share(&self) -> f64 {
        let served = self.live.current().unwrap();
        let env = served.eval_env();
        let inside = (0..2000)
            .filter(|i| {
                let ctx = Context::new().with_key(format!("user-{i}"));
                served.ruleset.evaluate("f", &ctx, &env).unwrap().reason == Reason::Rollout
            })
            .count();
        inside as f64 / 2000.0
    }

    async fn audit_events(&self) -> Vec<String> {
        self.controller
            .audit(Some("f".to_owned()), 1000)
            .await
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect()
    }
}

const MIN: Duration = Duration::from_secs(60);

#[tokio::test]
async fn canary_advances_only_on_time_and_a_passing_check() {
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.healthy();
    rig.tick().await;
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    assert!((rig.served_share() - 0.10).abs() < 0.03);

    // Checks pass, but the stage's 10 minutes have not passed.
    rig.after(5 * MIN).await;
    assert_eq!(rig.at().1, 0);
    // Time has passed, and the latest check passed: advance.
    rig.after(5 * MIN).await;
    assert_eq!(rig.at(), ("progressing".into(), 1, 50.0));
    assert!((rig.served_share() - 0.50).abs() < 0.04);

    // Time passes but the latest check fails: no advance.
    rig.metrics.failing();
    rig.after(10 * MIN).await;
    assert_eq!(rig.at().1, 1);
    assert_eq!(rig.status()["checksFailed"], 1);
    // Healthy again: the next passing check advances to the last stage, which completes.
    rig.metrics.healthy();
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("completed".into(), 2, 100.0));
    assert_eq!(rig.served_share(), 1.0);
    assert_eq!(
        rig.audit_events().await,
        ["started", "advanced", "check_failed", "completed"]
    );
}

#[tokio::test]
async fn failure_limit_rolls_back_and_the_rollback_sticks() {
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.failing();
    rig.tick().await;
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    assert_eq!(rig.status()["checksFailed"], 1);
    assert_eq!(rig.status()["checks"][0]["value"], 0.5);
    assert_eq!(rig.status()["checks"][0]["outcome"], "fail");
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("rolled_back".into(), 0, 0.0));
    assert_eq!(rig.served_share(), 0.0);
    let entries = rig
        .controller
        .audit(Some("f".to_owned()), 10)
        .await
        .unwrap();
    let rollback = entries.last().unwrap();
    assert_eq!(rollback["event"], "rolled_back");
    assert_eq!(rollback["actor"], "controller");
    assert_eq!(rollback["values"]["errors"], 0.5);
    assert!(
        rollback["reason"]
            .as_str()
            .unwrap()
            .contains("above max 0.05"),
        "{rollback}"
    );

    // Healthy again and much later: still rolled back, and resume is refused.
    rig.metrics.healthy();
    rig.after(60 * MIN).await;
    assert_eq!(rig.phase(), "rolled_back");
    assert!(
        rig.controller
            .steer("f", Steer::Resume, "ops")
            .await
            .is_err()
    );

    // A changed spec starts a new rollout at stage 0.
    rig.live.install(
        compile(&canary(CHECKS).replace("percentage: 10,", "percentage: 5,")),
        None,
    );
    rig.tick().await;
    assert_eq!(rig.at(), ("progressing".into(), 0, 5.0));
}

#[tokio::test]
async fn rollback_on_error_false_pauses() {
    let rig = Rig::new(&canary(&format!("{CHECKS}      rollbackOnError: false\n")));
    rig.metrics.failing();
    rig.tick().await;
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("paused".into(), 0, 10.0));
    assert!(
        (rig.served_share() - 0.10).abs() < 0.03,
        "a pause holds the percentage"
    );
}

#[tokio::test]
async fn no_data_policies() {
    // fail: missing data counts as a failed check.
    let rig = Rig::new(&canary(
        &CHECKS.replace("failureLimit: 2", "failureLimit: 1\n        noData: fail"),
    ));
    rig.metrics.silent();
    rig.tick().await;
    assert_eq!(rig.phase(), "rolled_back");

    // pause (the default): the rollout pauses until someone resumes it.
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.silent();
    rig.tick().await;
    assert_eq!(rig.phase(), "paused");
    assert!(
        rig.status()["reason"]
            .as_str()
            .unwrap()
            .contains("missing data")
    );
    rig.metrics.healthy();
    rig.controller
        .steer("f", Steer::Resume, "ops")
        .await
        .unwrap();
    rig.after(10 * MIN).await;
    assert_eq!(rig.at().1, 1, "resumed and advanced");

    // ignore: never fails, never advances on no data.
    let rig = Rig::new(&canary(
        &CHECKS.replace("failureLimit: 2", "failureLimit: 2\n        noData: ignore"),
    ));
    rig.metrics.silent();
    for _ in 0..30 {
        rig.after(MIN).await;
    }
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    assert_eq!(rig.status()["checksFailed"], 0);
    rig.metrics.healthy();
    rig.after(MIN).await;
    assert_eq!(rig.at().1, 1);
}

#[tokio::test]
async fn checks_judge_only_their_own_stage() {
    // Failures are counted per stage: one failure in stage 0 and one in
    // stage 1 do not add up to the limit of 2.
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.failing();
    rig.tick().await;
    rig.metrics.healthy();
    rig.after(10 * MIN).await;
    assert_eq!(rig.at().1, 1);
    rig.metrics.failing();
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("progressing".into(), 1, 50.0));
}

#[tokio::test]
async fn without_checks_time_alone_advances() {
    let rig = Rig::new(&canary(""));
    rig.tick().await;
    rig.after(10 * MIN).await;
    assert_eq!(rig.at().1, 1);
    rig.after(10 * MIN).await;
    assert_eq!(rig.at(), ("completed".into(), 2, 100.0));
}

#[tokio::test]
async fn steering() {
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.healthy();
    rig.tick().await;
    // Pause: the stage clock stops.
    rig.after(4 * MIN).await;
    rig.controller
        .steer("f", Steer::Pause, "ana")
        .await
        .unwrap();
    assert!(
        rig.controller
            .steer("f", Steer::Pause, "ana")
            .await
            .is_err(),
        "already paused"
    );
    rig.after(30 * MIN).await;
    assert_eq!(rig.at(), ("paused".into(), 0, 10.0));
    rig.controller
        .steer("f", Steer::Resume, "ana")
        .await
        .unwrap();
    rig.after(5 * MIN).await;
    assert_eq!(rig.at().1, 0, "6 of 10 minutes remained after the pause");
    rig.after(MIN).await;
    assert_eq!(rig.at().1, 1);
    // Promote: next stage now; full: to the end.
    rig.controller
        .steer("f", Steer::Promote { full: false }, "ana")
        .await
        .unwrap();
    assert_eq!(rig.at(), ("completed".into(), 2, 100.0));
    assert!(
        rig.controller
            .steer("f", Steer::Promote { full: true }, "ana")
            .await
            .is_err()
    );
    // Abort from completed: back to 0 %.
    let status = rig
        .controller
        .steer("f", Steer::Abort, "ana")
        .await
        .unwrap();
    assert_eq!(status["phase"], "rolled_back");
    assert_eq!(rig.served_share(), 0.0);
    let entries = rig
        .controller
        .audit(Some("f".to_owned()), 100)
        .await
        .unwrap();
    let actors: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actors,
        [
            ("started", "controller"),
            ("paused", "ana"),
            ("resumed", "ana"),
            ("advanced", "controller"),
            ("promoted", "ana"),
            ("aborted", "ana"),
        ]
    );
    let promote_full = Rig::new(&canary(CHECKS));
    promote_full.tick().await;
    promote_full
        .controller
        .steer("f", Steer::Promote { full: true }, "ops")
        .await
        .unwrap();
    assert_eq!(promote_full.at(), ("completed".into(), 2, 100.0));
    assert!(
        rig.controller
            .steer("nope", Steer::Pause, "ops")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn restart_resumes_the_stage_and_needs_a_fresh_pass() {
    let yaml = canary(CHECKS);
    let mut rig = Rig::new(&yaml);
    rig.metrics.healthy();
    rig.tick().await;
    rig.after(10 * MIN).await;
    assert_eq!(rig.at().1, 1);
    let stage_started = rig.status()["stageStartedAt"].clone();
    rig.after(4 * MIN).await;

    // A new process on the same state: the first ruleset it installs already
    // has the stored position (nobody is served the first stage again).
    rig.restart(&yaml);
    assert!((rig.served_share() - 0.50).abs() < 0.04);
    assert_eq!(
        rig.status()["stageStartedAt"],
        stage_started,
        "same stage, same start"
    );
    // Prometheus is down after the restart: noData (pause) holds the stage.
    rig.metrics.silent();
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("paused".into(), 1, 50.0));
    rig.controller
        .steer("f", Steer::Resume, "ops")
        .await
        .unwrap();
    rig.metrics.healthy();
    rig.after(MIN).await;
    assert_eq!(rig.at().1, 1, "the remaining time is honoured");
    rig.after(10 * MIN).await;
    assert_eq!(rig.at(), ("completed".into(), 2, 100.0));
}

#[tokio::test]
async fn restart_never_advances_on_a_pass_seen_before_it() {
    let yaml =
        canary(&CHECKS.replace("failureLimit: 2", "failureLimit: 2\n        noData: ignore"));
    let mut rig = Rig::new(&yaml);
    rig.metrics.healthy();
    rig.tick().await;
    rig.after(9 * MIN).await; // stage 0 passed its checks, 1 minute left
    rig.restart(&yaml);
    rig.metrics.silent();
    rig.after(5 * MIN).await; // time is up, but no check has passed since the restart
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    rig.metrics.healthy();
    rig.after(MIN).await;
    assert_eq!(rig.at().1, 1);
}

fn linear(health: &str) -> String {
    format!(
        "flags:\n  f:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout:\n      strategy: linear\n      serve: on\n      from: 10\n      to: 50\n      over: 40m\n      step: 10\n{health}"
    )
}

#[tokio::test]
async fn linear_ramps_in_steps_and_holds_while_unhealthy() {
    let rig = Rig::new(&linear(CHECKS));
    rig.metrics.healthy();
    rig.tick().await;
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    rig.after(9 * MIN).await;
    assert_eq!(
        rig.at().2,
        10.0,
        "9 of 40 minutes: still below the first 10-point step"
    );
    rig.after(MIN).await;
    assert_eq!(rig.at().2, 20.0);
    // One failed round (limit 2): the minute after it is not ramp time.
    rig.metrics.failing();
    rig.after(MIN).await; // minute 11
    assert_eq!(rig.at().2, 20.0);
    rig.metrics.healthy();
    rig.after(MIN).await; // minute 12: the unhealthy minute gained nothing
    rig.after(8 * MIN).await; // minute 20, but only 19 healthy minutes
    assert_eq!(rig.at().2, 20.0, "held for the unhealthy minute");
    rig.after(MIN).await;
    assert_eq!(rig.at().2, 30.0);
    rig.after(20 * MIN).await;
    assert_eq!(rig.at(), ("completed".into(), 0, 50.0));
    assert!((rig.served_share() - 0.50).abs() < 0.04);
}

#[tokio::test]
async fn linear_promote_moves_one_step() {
    let rig = Rig::new(&linear(""));
    rig.tick().await;
    rig.controller
        .steer("f", Steer::Promote { full: false }, "ops")
        .await
        .unwrap();
    assert_eq!(rig.at().2, 20.0);
    rig.controller
        .steer("f", Steer::Promote { full: true }, "ops")
        .await
        .unwrap();
    assert_eq!(rig.at(), ("completed".into(), 0, 50.0));
}

#[tokio::test]
async fn scheduled_window_across_a_dst_change() {
    // New York springs forward on 2026-03-08 (02:00–03:00 local does not
    // exist). The window 01:00–04:00 local is 01:00 EST = 06:00Z to
    // 04:00 EDT = 08:00Z: two real hours, not three.
    let yaml = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout:\n      strategy: scheduled\n      serve: on\n      start: \"2026-03-08T01:00:00\"\n      end: \"2026-03-08T04:00:00\"\n      timezone: America/New_York\n";
    let rig = Rig::new(yaml);
    let served = |at: &str| {
        let s = rig.live.current().unwrap();
        let env = hotswap_flags_core::EvalEnv {
            now: at.parse().unwrap(),
            rollouts: &hotswap_flags_core::eval::InitialRollouts,
        };
        s.ruleset
            .evaluate("f", &Context::new(), &env)
            .unwrap()
            .reason
    };
    assert_eq!(
        served("2026-03-08T05:59:59Z"),
        Reason::Default,
        "00:59:59 EST"
    );
    assert_eq!(served("2026-03-08T06:00:00Z"), Reason::Rollout, "01:00 EST");
    assert_eq!(
        served("2026-03-08T07:30:00Z"),
        Reason::Rollout,
        "03:30 EDT (02:30 never happened)"
    );
    assert_eq!(
        served("2026-03-08T07:59:59Z"),
        Reason::Rollout,
        "03:59:59 EDT"
    );
    assert_eq!(
        served("2026-03-08T08:00:00Z"),
        Reason::Default,
        "04:00 EDT: two real hours after the start"
    );

    // The status says what users get: nobody before or after the window.
    let window = |rig: &Rig| {
        let s = rig.status();
        (
            s["window"].as_str().unwrap().to_owned(),
            s["percentage"].as_f64().unwrap(),
            s["stageEndsAt"].as_str().map(str::to_owned),
        )
    };
    rig.clock
        .set("2026-03-08T05:00:00Z".parse::<Timestamp>().unwrap());
    rig.tick().await;
    assert_eq!(rig.phase(), "progressing");
    assert_eq!(
        window(&rig),
        ("pending".into(), 0.0, Some("2026-03-08T06:00:00Z".into()))
    );
    rig.clock
        .set("2026-03-08T07:00:00Z".parse::<Timestamp>().unwrap());
    rig.tick().await;
    assert_eq!(rig.phase(), "progressing");
    assert_eq!(
        window(&rig),
        ("open".into(), 100.0, Some("2026-03-08T08:00:00Z".into()))
    );
    rig.clock
        .set("2026-03-08T08:00:00Z".parse::<Timestamp>().unwrap());
    rig.tick().await;
    assert_eq!(rig.phase(), "completed");
    assert_eq!(window(&rig), ("closed".into(), 0.0, None));
}

#[tokio::test]
async fn direct_and_segment_are_on_at_once() {
    let yaml = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: direct, serve: on }\n";
    let rig = Rig::new(yaml);
    rig.tick().await;
    assert_eq!(rig.at(), ("completed".into(), 0, 100.0));
    assert_eq!(rig.served_share(), 1.0);
    rig.controller
        .steer("f", Steer::Abort, "ops")
        .await
        .unwrap();
    assert_eq!(rig.served_share(), 0.0);
}

#[tokio::test]
async fn state_files_are_durable_json() {
    let rig = Rig::new(&canary(CHECKS));
    rig.metrics.healthy();
    rig.tick().await;
    let text = std::fs::read_to_string(rig.state.join("rollouts/f.json")).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["phase"], "progressing");
    assert_eq!(record["threshold"], 10_000);
    assert!(
        record.get("freshPass").is_none(),
        "a pass is never persisted"
    );
    let names: Vec<_> = std::fs::read_dir(rig.state.join("rollouts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
    assert_eq!(percentage(10_000), 10.0);
    let m = rig.controller.metrics();
    assert_eq!(m.rollouts, [("f".to_owned(), 10.0, Phase::Progressing)]);
    assert_eq!(
        m.checks.get(&("f".to_owned(), "errors".to_owned(), "pass")),
        Some(&1)
    );
}

// ------------------------------------------------- guardrail (compare: baseline)

/// A comparison of `on` (rolled out) with `off` (the offVariant, the
/// default baseline): failures and totals by variant.
const GUARDRAIL: &str = "      health:\n        interval: 1m\n        failureLimit: 2\n        checks:\n          - { name: guard, compare: baseline, failures: 'fails{v=\"{{variant}}\"}', total: 'reqs{v=\"{{variant}}\"}', tolerance: 0.001, alpha: 0.05, minSamples: 500 }\n";

impl Scripted {
    /// Failures and totals of the rollout variant `on` and the baseline `off`.
    fn traffic(&self, on: (f64, f64), off: (f64, f64)) {
        for (variant, (fails, reqs)) in [("on", on), ("off", off)] {
            self.set(
                &format!("fails{{v=\"{variant}\"}}"),
                QueryValue::Value(fails),
            );
            self.set(&format!("reqs{{v=\"{variant}\"}}"), QueryValue::Value(reqs));
        }
    }
}

#[tokio::test]
async fn the_guardrail_rolls_back_a_variant_worse_than_its_baseline() {
    let rig = Rig::new(&canary(GUARDRAIL));
    // 0.5 % against 0.44 %: within the tolerance.
    rig.metrics.traffic((5.0, 1000.0), (40.0, 9000.0));
    rig.tick().await;
    let check = &rig.status()["checks"][0];
    assert_eq!(check["outcome"], "pass", "{check}");
    assert_eq!(check["comparison"]["rolloutRate"], 0.005);
    assert_eq!(check["comparison"]["baselineVariant"], "off");
    assert_eq!(check["comparison"]["baseline"]["total"], 9000.0);
    assert_eq!(check["query"].as_str().unwrap().lines().count(), 4);

    // A traffic-wide incident hits both variants alike: a fixed threshold
    // would roll back, the comparison does not.
    rig.metrics.traffic((50.0, 1000.0), (450.0, 9000.0));
    rig.after(10 * MIN).await;
    assert_eq!(rig.at(), ("progressing".into(), 1, 50.0), "advanced");

    // `on` fails 6 % against 0.5 %: a failed round, then the rollback.
    rig.metrics.traffic((300.0, 5000.0), (25.0, 5000.0));
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("progressing".into(), 1, 50.0));
    assert_eq!(rig.status()["checksFailed"], 1);
    rig.after(MIN).await;
    assert_eq!(rig.at(), ("rolled_back".into(), 1, 0.0));
    assert_eq!(rig.served_share(), 0.0);

    let entries = rig
        .controller
        .audit(Some("f".to_owned()), 10)
        .await
        .unwrap();
    let rollback = entries.last().unwrap();
    assert_eq!(rollback["event"], "rolled_back");
    assert_eq!(rollback["values"]["guard.rolloutRate"], 0.06);
    assert_eq!(rollback["values"]["guard.baselineRate"], 0.005);
    assert!((rollback["values"]["guard"].as_f64().unwrap() - 0.055).abs() < 1e-12);
    assert!(rollback["values"]["guard.pValue"].as_f64().unwrap() < 1e-6);
    let reason = rollback["reason"].as_str().unwrap();
    assert!(
        reason.contains("worse than the baseline by more than 0.1 pp"),
        "{reason}"
    );
    assert_eq!(
        rig.audit_events().await,
        ["started", "advanced", "check_failed", "rolled_back"]
    );
    let m = rig.controller.metrics();
    assert_eq!(
        m.checks.get(&("f".to_owned(), "guard".to_owned(), "fail")),
        Some(&2)
    );
}

#[tokio::test]
async fn the_guardrail_never_passes_on_too_few_requests() {
    // noData: ignore — too few requests neither fail nor advance the stage.
    let rig = Rig::new(&canary(
        &GUARDRAIL.replace("failureLimit: 2", "failureLimit: 2\n        noData: ignore"),
    ));
    // 40 % errors, but only 50 requests: no verdict either way.
    rig.metrics.traffic((20.0, 50.0), (10.0, 9000.0));
    rig.tick().await;
    for _ in 0..15 {
        rig.after(MIN).await;
    }
    assert_eq!(rig.at(), ("progressing".into(), 0, 10.0));
    assert_eq!(rig.status()["checksFailed"], 0);
    let check = &rig.status()["checks"][0];
    assert_eq!(check["outcome"], "no_data");
    assert_eq!(check["comparison"]["rolloutRate"], 0.4, "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("minSamples = 500"),
        "{check}"
    );

    // Enough requests, healthy: the stage advances.
    rig.metrics.traffic((2.0, 800.0), (10.0, 9000.0));
    rig.after(MIN).await;
    assert_eq!(rig.at().1, 1);

    // No error series at all (a healthy service) is zero failures, but a
    // missing total is no data, never a pass.
    for variant in ["on", "off"] {
        rig.metrics
            .set(&format!("fails{{v=\"{variant}\"}}"), QueryValue::Empty);
    }
    rig.after(MIN).await;
    let check = &rig.status()["checks"][0];
    assert_eq!(check["outcome"], "pass", "{check}");
    assert_eq!(check["comparison"]["rollout"]["failures"], 0.0);
    assert_eq!(check["value"], 0.0);
    rig.metrics.set("reqs{v=\"off\"}", QueryValue::Empty);
    rig.after(MIN).await;
    let check = &rig.status()["checks"][0];
    assert_eq!(check["outcome"], "no_data");
    assert_eq!(
        check["message"],
        "total of `off`: the query returned no series"
    );
}

/// Every check round is recorded in the store with what it measured,
/// passing rounds too (which the record itself stores only once a
/// minute), survives a restart, and a new spec starts a new history
/// (docs/rollouts.md, Check history).
#[tokio::test]
async fn every_check_round_is_recorded_in_the_history() {
    let mut rig = Rig::new(&canary(CHECKS));
    rig.metrics.healthy();
    rig.tick().await;
    // Ticks every 30 s; rounds every minute.
    for _ in 0..4 {
        rig.after(MIN / 2).await;
    }
    rig.metrics.failing();
    rig.after(MIN).await;
    rig.after(MIN).await;
    assert_eq!(rig.phase(), "rolled_back");
    let h = rig.controller.history("f").await.unwrap().unwrap();
    assert_eq!(h.flag, "f");
    assert_eq!(h.checks.len(), 1);
    assert_eq!(h.checks[0].name, "errors");
    assert_eq!(h.checks[0].max, Some(0.05));
    let values: Vec<_> = h.rounds.iter().map(|r| r.checks[0].value).collect();
    let events: Vec<_> = h.rounds.iter().map(|r| r.event.as_deref()).collect();
    // Rounds every minute: at 0, 1, 2 (healthy), 3, 4 (failing).
    assert_eq!(
        values,
        [Some(0.01), Some(0.01), Some(0.01), Some(0.5), Some(0.5)]
    );
    assert_eq!(
        events,
        [None, None, None, Some("check_failed"), Some("rolled_back")]
    );
    assert!(
        h.rounds
            .iter()
            .all(|r| r.stage == 0 && r.percentage == 10.0)
    );
    assert_eq!(h.rounds[4].outcome.as_str(), "fail");

    // Kept across a restart.
    rig.restart(&canary(CHECKS));
    let again = rig.controller.history("f").await.unwrap().unwrap();
    assert_eq!(again.rounds, h.rounds);

    // A new spec: a new rollout, a new history.
    let changed = canary(CHECKS).replace("percentage: 10,", "percentage: 5,");
    rig.live.install(compile(&changed), None);
    rig.metrics.healthy();
    rig.tick().await;
    let fresh = rig.controller.history("f").await.unwrap().unwrap();
    assert_ne!(fresh.spec_hash, h.spec_hash);
    assert_eq!(fresh.rounds.len(), 1);
    assert_eq!(fresh.rounds[0].percentage, 5.0);
}
