//! A real etcd for the cluster tests (Debian's `etcd-server` package): one
//! member on ephemeral ports with a temp data dir, killed on drop; it can
//! be stopped and started again on the same data and ports (an outage).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::flagd::client;
use super::{eventually, require};

/// One etcd member.
pub struct Etcd {
    binary: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
}

/// A port nobody listens on now (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Etcd {
    /// Starts etcd and waits until it is healthy; `None` when the test is
    /// skipped for want of it (see [`require`]).
    pub fn start() -> Option<Etcd> {
        let binary = require("etcd")?;
        let mut etcd = Etcd {
            binary,
            child: None,
            dir: tempfile::tempdir().unwrap(),
            client_port: free_port(),
            peer_port: free_port(),
        };
        etcd.resume();
        Some(etcd)
    }

    /// What flagd's `--cluster` takes.
    pub fn url(&self) -> String {
        format!("etcd://127.0.0.1:{}", self.client_port)
    }

    fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd (its data stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same data and ports, and waits until it is
    /// healthy.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "etcd is running");
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new(&self.binary)
            .args(["--name", "test"])
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &self.client_url()])
            .args(["--advertise-client-urls", &self.client_url()])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("test={peer}")])
            // A one-member cluster elects itself at once with these.
            .args(["--heartbeat-interval", "10", "--election-timeout", "100"])
            .args(["--logger", "zap", "--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd starts");
        self.child = Some(child);
        let http = client();
        let health = format!("{}/health", self.client_url());
        eventually(Duration::from_secs(30), "etcd to be healthy", || {
            let body: serde_json::Value = http.get(&health).send().ok()?.json().ok()?;
            (body["health"] == "true").then_some(())
        });
    }

    /// The value of `key`, read with etcd's own HTTP gateway (v3 JSON).
    pub fn get(&self, key: &str) -> Option<String> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let body: serde_json::Value = client()
            .post(format!("{}/v3/kv/range", self.client_url()))
            .json(&serde_json::json!({ "key": b64.encode(key) }))
            .send()
            .ok()?
            .json()
            .ok()?;
        let value = body["kvs"][0]["value"].as_str()?;
        String::from_utf8(b64.decode(value).ok()?).ok()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}
