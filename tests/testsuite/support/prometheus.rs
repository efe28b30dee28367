//! A real Prometheus for end-to-end tests (Debian's `prometheus` package),
//! scraping a tiny target whose exposition text the test sets.

use std::path::Path;
use std::process::{Child, Command, Stdio};
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
