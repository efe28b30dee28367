//! Rollouts end to end with a real Prometheus (Debian's `prometheus`
//! package): it scrapes a tiny target this test runs, whose error counter the
//! test controls, every second; flagd queries it and drives a canary with
//! 3-second stages. Healthy, the canary goes 10 → 30 → 50 → 100; made
//! unhealthy mid-stage, it rolls back and evaluations stop serving the
//! rollout variant.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;
use support::*;

const CONFIG_WITH_METRICS: &str = r#"version = 1
[[environments]]
name = "prod"
path = "envs/prod"
[metrics.queries]
error_rate = 'sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}",code=~"5.."}[5s])) / sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}"}[5s]))'
"#;

fn flags(failure_limit: u32, stage: &str) -> String {
    format!(
        r#"flags:
  checkout:
    type: boolean
    variants: {{ on: true, off: false }}
    default: off
    rollout:
      strategy: canary
      serve: on
      stages:
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
    )
}

/// Returns the prometheus binary, or None when the test must be skipped.
fn prometheus_binary() -> Option<&'static str> {
    let found = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("prometheus");
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the rollout end-to-end test needs Debian's `prometheus` package (apt-get install prometheus)"
        );
    }
    eprintln!(
        "\n*** SKIPPED the rollout end-to-end test: `prometheus` is not installed (apt-get install prometheus) ***\n"
    );
    None
}

/// The scrape target: request counters by status code for flag `checkout`,
/// variant `on`. Traffic flows all the time; `failing` adds 5xx.
struct Target {
    port: u16,
    ok: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    failing: Arc<AtomicBool>,
}

impl Target {
    fn start() -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ok = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let (o, e, f) = (ok.clone(), errors.clone(), failing.clone());
        std::thread::spawn(move || {
            loop {
                o.fetch_add(10, Ordering::Relaxed);
                if f.load(Ordering::Relaxed) {
                    e.fetch_add(10, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let (o, e) = (ok.clone(), errors.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let body = format!(
                    "# TYPE http_requests_total counter\n\
                     http_requests_total{{flag=\"checkout\",variant=\"on\",code=\"200\"}} {}\n\
                     http_requests_total{{flag=\"checkout\",variant=\"on\",code=\"500\"}} {}\n",
                    o.load(Ordering::Relaxed),
                    e.load(Ordering::Relaxed)
                );
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Target {
            port,
            ok,
            errors,
            failing,
        }
    }
}

/// A Prometheus scraping the target every second, killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prometheus(binary: &str, target: &Target) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: target\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            target.port
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let url = format!("http://127.0.0.1:{port}");
    let prom = Prometheus {
        child,
        url,
        _dir: dir,
    };
    let http = client();
    eventually(Duration::from_secs(30), "Prometheus to be ready", || {
        http.get(format!("{}/-/ready", prom.url))
            .send()
            .ok()
            .filter(|r| r.status() == 200)
            .map(|_| ())
    });
    prom
}

/// The error rate as Prometheus sees it now, if it has one.
fn error_rate(prom: &Prometheus) -> Option<f64> {
    let query = r#"sum(rate(http_requests_total{flag="checkout",variant="on",code=~"5.."}[5s])) / sum(rate(http_requests_total{flag="checkout",variant="on"}[5s]))"#;
    let body: Value = client()
        .get(format!("{}/api/v1/query", prom.url))
        .query(&[("query", query)])
        .send()
        .ok()?
        .json()
        .ok()?;
    body["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
        .filter(|v: &f64| !v.is_nan())
}

fn start_flagd(repo: &Path, state: &Path, prom: &Prometheus) -> Daemon {
    // Start once Prometheus has the series, so the first stage's checks have
    // data (without it, `noData: ignore` rightly holds the stage).
    eventually(
        Duration::from_secs(30),
        "the target's series in Prometheus",
        || error_rate(prom).map(|_| ()),
    );
    let d = Daemon::start(&[
        "--env",
        "prod",
        "--repo",
        repo.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--metrics-url",
        &prom.url,
    ]);
    eventually(DEADLINE, "first load", || {
        (d.get("/readyz").0 == 200).then_some(())
    });
    d
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

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn healthy_canary_goes_10_30_50_100() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let target = Target::start();
    let prom = start_prometheus(binary, &target);
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags(2, "3s"))]);
    write(repo.path(), "flags.toml", CONFIG_WITH_METRICS);
    let (_state, state) = state_dir();
    let d = start_flagd(repo.path(), &state, &prom);

    let status = eventually(Duration::from_secs(60), "the canary to complete", || {
        let r = rollout(&d);
        (r["phase"] == "completed").then_some(r)
    });
    assert_eq!(status["percentage"], 100.0);
    assert_eq!(rollout_share(&d), 1.0);
    assert!(target.ok.load(Ordering::Relaxed) > 0 && target.errors.load(Ordering::Relaxed) == 0);

    // The audit log tells the story, with the measured values.
    let (_, audit) = d.get("/api/v1/audit?flag=checkout");
    let entries = audit["entries"].as_array().unwrap();
    let steps: Vec<(String, f64)> = entries
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["to"]["percentage"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("started".to_owned(), 10.0),
            ("advanced".to_owned(), 30.0),
            ("advanced".to_owned(), 50.0),
            ("completed".to_owned(), 100.0)
        ]
    );
    // Each stage lasted at least its 3 s, and moved on within one check
    // interval (1 s) of its end, plus scheduling slack.
    let times: Vec<Timestamp> = entries.iter().map(|e| ts(&e["time"])).collect();
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
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let target = Target::start();
    let prom = start_prometheus(binary, &target);
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags(1, "15s"))]);
    write(repo.path(), "flags.toml", CONFIG_WITH_METRICS);
    let (_state, state) = state_dir();
    let d = start_flagd(repo.path(), &state, &prom);

    eventually(Duration::from_secs(60), "stage 2 (30 %)", || {
        (rollout(&d)["percentage"] == 30.0).then_some(())
    });
    // (Stages last 15 s here, so the sample below sees one stage.)
    let share = rollout_share(&d);
    assert!((0.25..0.35).contains(&share), "{share}");

    // Break the variant: half its requests fail.
    target.failing.store(true, Ordering::Relaxed);
    let start = Instant::now();
    let visible = eventually(
        Duration::from_secs(30),
        "the breach to be visible in Prometheus",
        || {
            error_rate(&prom)
                .filter(|r| *r > 0.05)
                .map(|_| Instant::now())
        },
    );
    let rolled_back = eventually(Duration::from_secs(30), "the rollback", || {
        (rollout(&d)["phase"] == "rolled_back").then(Instant::now)
    });
    let reaction = rolled_back.saturating_duration_since(visible).as_secs_f64();
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

    // Healthy again: it stays rolled back until the spec changes.
    target.failing.store(false, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rollout(&d)["phase"], "rolled_back");
}
