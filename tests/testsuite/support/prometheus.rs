//! A real Prometheus for end-to-end tests (Debian's `prometheus` package),
//! scraping a tiny target whose exposition text the test sets.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::flagd::{client, serve};
use super::{eventually, free_port};

/// A scrape target serving whatever exposition text the test last set.
pub struct Target {
    pub port: u16,
    body: Arc<Mutex<String>>,
}

impl Target {
    pub fn start(body: &str) -> Target {
        let body = Arc::new(Mutex::new(body.to_owned()));
        let port = serve("text/plain; version=0.0.4", body.clone()).port();
        Target { port, body }
    }

    /// What the next scrape sees.
    pub fn set(&self, body: &str) {
        *self.body.lock().unwrap() = body.to_owned();
    }
}

/// A Prometheus scraping one target every second, killed on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts `binary` (see [`super::require`]) scraping `target` and waits
    /// until it is ready.
    pub fn start(binary: &Path, target: &Target) -> Prometheus {
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
        let prom = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
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

    /// The value of a query returning one series (None for no series, NaN
    /// or an error).
    pub fn value(&self, query: &str) -> Option<f64> {
        let body: Value = client()
            .get(format!("{}/api/v1/query", self.url))
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
}

/// flags.toml with environment `prod` and the `error_rate` query over
/// [`Traffic`]'s counters.
pub const CONFIG_WITH_METRICS: &str = r#"version = 1
[[environments]]
name = "prod"
path = "envs/prod"
[metrics.queries]
error_rate = 'sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}",code=~"5.."}[5s])) / sum(rate(http_requests_total{flag="{{flag}}",variant="{{variant}}"}[5s]))'
"#;

/// Requests each variant serves per tick (100 ms).
pub const PER_TICK: u64 = 20;
/// The variants of `checkout`, in the order of [`Traffic`]'s arrays.
const VARIANTS: [&str; 2] = ["on", "off"];

/// Request counters by status code for flag `checkout`, variants `on` and
/// `off`, served to Prometheus by a [`Target`]: traffic flows all the time,
/// and `failing[v]` of each tick's [`PER_TICK`] requests of variant `v` fail.
pub struct Traffic {
    pub target: Target,
    ok: [AtomicU64; 2],
    errors: [AtomicU64; 2],
    failing: [AtomicU64; 2],
}

impl Traffic {
    pub fn start() -> Arc<Traffic> {
        let traffic = Arc::new(Traffic {
            target: Target::start(""),
            ok: Default::default(),
            errors: Default::default(),
            failing: Default::default(),
        });
        let t = traffic.clone();
        std::thread::spawn(move || {
            loop {
                let mut text = String::from("# TYPE http_requests_total counter\n");
                for (v, variant) in VARIANTS.iter().enumerate() {
                    let failing = t.failing[v].load(Ordering::Relaxed).min(PER_TICK);
                    let ok = t.ok[v].fetch_add(PER_TICK - failing, Ordering::Relaxed) + PER_TICK
                        - failing;
                    let errors = t.errors[v].fetch_add(failing, Ordering::Relaxed) + failing;
                    text += &format!(
                        "http_requests_total{{flag=\"checkout\",variant=\"{variant}\",code=\"200\"}} {ok}\n\
                         http_requests_total{{flag=\"checkout\",variant=\"{variant}\",code=\"500\"}} {errors}\n"
                    );
                }
                t.target.set(&text);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        traffic
    }

    /// The requests of `variant` so far: (succeeded, failed).
    pub fn counts(&self, variant: &str) -> (u64, u64) {
        let v = VARIANTS.iter().position(|n| *n == variant).unwrap();
        (
            self.ok[v].load(Ordering::Relaxed),
            self.errors[v].load(Ordering::Relaxed),
        )
    }

    /// Makes `failing` of each tick's requests of `variant` fail.
    pub fn fail(&self, variant: &str, failing: u64) {
        let v = VARIANTS.iter().position(|n| *n == variant).unwrap();
        self.failing[v].store(failing, Ordering::Relaxed);
    }
}

/// The error rate as Prometheus sees it now, if it has one.
pub fn error_rate(prom: &Prometheus) -> Option<f64> {
    prom.value(r#"sum(rate(http_requests_total{flag="checkout",variant="on",code=~"5.."}[5s])) / sum(rate(http_requests_total{flag="checkout",variant="on"}[5s]))"#)
}

/// Healthy traffic, scraped by a Prometheus of its own; `None` when the
/// test is skipped for want of Prometheus (see [`super::require`]).
pub fn traffic_in_prometheus() -> Option<(Arc<Traffic>, Prometheus)> {
    let binary = super::require("prometheus")?;
    let target = Traffic::start();
    let prom = Prometheus::start(&binary, &target.target);
    Some((target, prom))
}
