//! The dashboard in headless Chromium (docs/dashboard.md), through
//! `tests/browser/dashboard.mjs`: the overview lists flags-example's flags
//! and reads at 1280×800 and 390×844, keyboard first; a canary moving
//! through second-long stages shows each stage on the open page within a
//! second, and a breach its rollback with the failing value and threshold
//! on the chart and in the timeline (a real Prometheus, as in
//! rollout_e2e.rs); a viewer sees no steering controls and is refused, an
//! admin's confirmed pause shows its actor in the audit trail; on a
//! three-replica cluster, a follower's page shows the leader's decisions
//! (a real etcd, as in cluster.rs). No page
//! may break its Content-Security-Policy. Screenshots go to
//! `target/tmp/dashboard-screenshots/`. Skipped loudly without node,
//! Chromium or tests/browser's packages (failed under `CI`), like
//! browser.rs.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::dashboard::{secured, token};
use crate::support::browser::{Browser, Driver};
use crate::support::flagd::*;
use crate::support::prometheus::{
    CONFIG_WITH_METRICS, PER_TICK, error_rate, traffic_in_prometheus,
};

/// Where the screenshots go: `target/tmp/dashboard-screenshots/`.
fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shot(b: &mut Driver, name: &str) {
    let path = shots().join(name);
    b.run(json!({"op": "screenshot", "path": path}));
    eprintln!("screenshot: {}", path.display());
}

/// The page broke no rule of its policy, and every control is labelled.
fn assert_clean(b: &mut Driver) {
    assert_eq!(b.run(json!({"op": "cspViolations"})), 0, "{}", b.log());
    assert_eq!(b.run(json!({"op": "unlabelled"})), json!([]));
}

#[test]
fn the_overview_lists_flags_example_and_reads_on_a_laptop_and_a_phone() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/flags-example");
    let d = Daemon::for_env("production", &["--repo", repo]);
    d.wait_ready();
    let keys: Vec<String> = d.get_ok("/api/v1/flags")["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_owned())
        .collect();
    let mut b = browser.driver();
    b.run(json!({"op": "viewport", "width": 1280, "height": 800}));
    assert_eq!(b.run(json!({"op": "goto", "url": d.url("/ui/")})), 200);
    let shown = b.run(json!({"op": "texts", "selector": "tr[data-flag] th a"}));
    let mut shown: Vec<String> = serde_json::from_value(shown).unwrap();
    let mut expected = keys.clone();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected);
    assert_clean(&mut b);
    // The keyboard's first stop is the skip link, then the dashboard's
    // own navigation.
    b.run(json!({"op": "press", "key": "Tab"}));
    assert_eq!(b.run(json!({"op": "focused"}))["label"], "Skip to content");
    b.run(json!({"op": "press", "key": "Tab"}));
    assert_eq!(b.run(json!({"op": "focused"}))["label"], "flagd dashboard");
    shot(&mut b, "overview-1280x800.png");
    // The width of a page never grows past a phone's: tables scroll in
    // their own box.
    b.run(json!({"op": "viewport", "width": 390, "height": 844}));
    b.run(json!({"op": "goto", "url": d.url("/ui/")}));
    let width = b.run(json!({"op": "width"})).as_u64().unwrap();
    assert!(
        width <= 390,
        "the overview is {width} px wide on a 390 px screen"
    );
    shot(&mut b, "overview-390x844.png");
    b.run(json!({"op": "goto", "url": d.url("/ui/flags/new-checkout-flow")}));
    let width = b.run(json!({"op": "width"})).as_u64().unwrap();
    assert!(
        width <= 390,
        "the flag page is {width} px wide on a 390 px screen"
    );
    assert_clean(&mut b);
    shot(&mut b, "flag-390x844.png");
}

/// `checkout` in two 2-second stages, then a long one, checked every
/// second against the error rate.
fn canary() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 2s }
        - { percentage: 30, duration: 2s }
        - { percentage: 50, duration: 1h }
        - { percentage: 100 }
      health:
        interval: 1s
        failureLimit: 1
        noData: ignore
        checks:
          - { name: errors, query: error_rate, max: 0.05 }
"#,
    )
}

/// When the audit trail says `checkout` entered `stage`, in ms since the
/// epoch.
fn entered(d: &Daemon, stage: u64) -> Option<i64> {
    let audit = d.get_ok("/api/v1/rollouts/checkout/audit");
    audit["entries"].as_array()?.iter().find_map(|e| {
        (e["to"]["stage"] == stage && e["event"] == "advanced")
            .then(|| e["time"].as_str()?.parse::<jiff::Timestamp>().ok())
            .flatten()
            .map(|t| t.as_millisecond())
    })
}

#[test]
fn a_canary_moves_on_the_open_page_and_its_rollback_shows_the_breach() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let Some((traffic, prom)) = traffic_in_prometheus() else {
        return;
    };
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &canary())]);
    write(repo.path(), "flags.toml", CONFIG_WITH_METRICS);
    eventually(Duration::from_secs(30), "the series in Prometheus", || {
        error_rate(&prom).map(|_| ())
    });
    let d = Daemon::on_repo(&repo, &["--metrics-url", &prom.url]);
    d.wait_ready();
    let mut b = browser.driver();
    b.run(json!({"op": "viewport", "width": 1280, "height": 800}));
    b.run(json!({"op": "goto", "url": d.url("/ui/flags/checkout")}));
    b.run(json!({"op": "waitFor", "selector": "body[data-live=\"open\"]"}));

    // Each stage shows on the open page within a second of the decision.
    for stage in [1, 2] {
        let seen = b
            .try_run(json!({
                "op": "waitFor",
                "selector": format!("#rollout[data-stage=\"{stage}\"]"),
                "timeout": 30_000,
            }))
            .unwrap_or_else(|e| {
                // Tell a stuck rollout from a page that missed an event.
                panic!(
                    "the page never showed stage {}: {e}\nrollout: {}\naudit: {}\nbrowser log:\n{}",
                    stage + 1,
                    d.get("/api/v1/rollouts/checkout").1,
                    d.get("/api/v1/rollouts/checkout/audit").1,
                    b.log()
                )
            });
        let seen = seen.as_i64().unwrap();
        let decided = eventually(DEADLINE, "the advance in the audit trail", || {
            entered(&d, stage)
        });
        let lag = seen - decided;
        eprintln!(
            "stage {} on the page {lag} ms after the decision",
            stage + 1
        );
        assert!(
            lag < 1000,
            "stage {} showed {lag} ms after it was decided",
            stage + 1
        );
    }
    // The timeline marks the current stage.
    b.run(json!({"op": "waitFor", "selector": "tr.current[data-stage-row=\"2\"]"}));

    // A breach: half the rolled-out variant's requests fail.
    traffic.fail("on", PER_TICK / 2);
    b.run(json!({
        "op": "waitFor",
        "selector": "#rollout[data-phase=\"rolled_back\"]",
        "timeout": 30_000,
    }));
    b.run(json!({"op": "waitFor", "selector": "li.event.rolled_back"}));
    // On the chart: the failing value, above its threshold line.
    let failing: f64 = b
        .run(json!({"op": "attr", "selector": "figure.chart circle.fail", "name": "data-value"}))
        .as_str()
        .expect("a failed round on the chart")
        .parse()
        .unwrap();
    assert!(failing > 0.05, "{failing}");
    let threshold =
        b.run(json!({"op": "attr", "selector": "line.threshold", "name": "data-threshold"}));
    assert_eq!(threshold, "0.05");
    assert_eq!(
        b.run(json!({"op": "text", "selector": ".threshold-label"})),
        "max 0.05"
    );
    // In the timeline: the rollback, by the controller, with the value.
    let rollback = b.run(json!({"op": "text", "selector": "li.event.rolled_back"}));
    let rollback = rollback.as_str().unwrap();
    assert!(rollback.contains("by controller"), "{rollback}");
    assert!(rollback.contains("above max 0.05"), "{rollback}");
    assert!(rollback.contains("errors = "), "{rollback}");
    assert_clean(&mut b);
    shot(&mut b, "flag-rolled-back-1280x800.png");
}

#[test]
fn a_viewer_cannot_steer_and_an_admins_pause_shows_its_actor() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let (_repo, d, _origin, _state) = secured("steer");
    let mut b = browser.driver();
    let sign_in = |b: &mut Driver, token: &str| {
        b.run(json!({"op": "goto", "url": d.url("/ui/login?next=/ui/flags/checkout")}));
        b.run(json!({"op": "type", "selector": "#token", "text": token}));
        let status = b.run(json!({"op": "submit", "selector": "form.login button[type=submit]"}));
        assert_eq!(status, 200, "{}", b.log());
    };

    // A viewer: the page, no controls, and the API refuses the page's call.
    sign_in(&mut b, &token("ana@example.com", "viewer"));
    assert_eq!(
        b.run(json!({"op": "count", "selector": "button[data-steer]"})),
        0
    );
    let answer = b.run(json!({
        "op": "fetch",
        "url": "/api/v1/rollouts/checkout/pause",
        "method": "POST",
        "body": "{}",
    }));
    assert_eq!(answer["status"], 403, "{answer}");
    assert_eq!(
        d.get_ok_as("/api/v1/rollouts/checkout", &token("t", "viewer"))["phase"],
        "progressing"
    );
    assert_clean(&mut b);

    // An admin: the controls; a dismissed confirmation does nothing, a
    // confirmed pause pauses, and the audit trail names the admin.
    sign_in(&mut b, &token("ops@example.com", "admin"));
    b.run(
        json!({"op": "click", "selector": "button[data-steer$=\"/pause\"]", "dialog": "dismiss"}),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        d.get_ok_as("/api/v1/rollouts/checkout", &token("t", "viewer"))["phase"],
        "progressing"
    );
    b.run(json!({"op": "click", "selector": "button[data-steer$=\"/pause\"]", "dialog": "accept"}));
    b.run(json!({"op": "waitFor", "selector": "#rollout[data-phase=\"paused\"]"}));
    b.run(json!({"op": "waitFor", "selector": "td.actor", "text": "ops@example.com"}));
    b.run(json!({"op": "waitFor", "selector": "li.event.paused", "text": "ops@example.com (steering)"}));
    assert_eq!(
        d.get_ok_as("/api/v1/rollouts/checkout", &token("t", "viewer"))["phase"],
        "paused"
    );
    // Paused: resume is offered now.
    b.run(json!({"op": "waitFor", "selector": "button[data-steer$=\"/resume\"]"}));
    assert_clean(&mut b);
    shot(&mut b, "flag-paused-by-admin-1280x800.png");
}

#[test]
fn a_followers_page_shows_the_leaders_decisions() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let Some(cluster) = crate::cluster::Cluster::start(3) else {
        return;
    };
    let (leader, index) = cluster.leader();
    let follower = &cluster.replicas[(index + 1) % 3];
    let mut b = browser.driver();
    b.run(json!({"op": "viewport", "width": 1280, "height": 800}));
    b.run(json!({"op": "goto", "url": follower.url("/ui/flags/checkout")}));
    b.run(json!({"op": "waitFor", "selector": "body[data-live=\"open\"]"}));
    b.run(json!({"op": "waitFor", "selector": "#rollout", "text": leader.as_str()}));

    // The leader advances the canary: the follower's open page shows it.
    cluster.gate.release(1);
    b.run(json!({"op": "waitFor", "selector": "#rollout[data-stage=\"1\"]", "timeout": 20_000}));
    // The leader rolls it back: the follower's page shows the failing
    // rounds the leader recorded in etcd, and the rollback.
    cluster.gate.fail(true);
    b.run(json!({
        "op": "waitFor",
        "selector": "#rollout[data-phase=\"rolled_back\"]",
        "timeout": 20_000,
    }));
    b.run(json!({"op": "waitFor", "selector": "li.event.rolled_back", "text": "by controller"}));
    let failing =
        b.run(json!({"op": "attr", "selector": "figure.chart circle.fail", "name": "data-value"}));
    assert_eq!(failing, "1", "{}", b.log());
    let leaders = cluster.replicas[index].get_ok("/api/v1/rollouts/checkout/history");
    assert_eq!(
        follower.get_ok("/api/v1/rollouts/checkout/history"),
        leaders
    );
    let audit = follower.get_ok("/api/v1/rollouts/checkout/audit");
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["replica"] == leader.as_str()),
        "{audit}"
    );
    assert_clean(&mut b);
    shot(&mut b, "follower-rolled-back-1280x800.png");
}
