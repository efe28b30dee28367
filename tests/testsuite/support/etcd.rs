//! A real etcd for the cluster tests (Debian's `etcd-server` package): one
//! member on ephemeral ports with a temp data dir, killed on drop; it can
//! be stopped and started again on the same data and ports (an outage).
//! [`Etcd::start_secured`] starts one that takes only TLS clients with a
//! certificate of the test's CA.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::flagd::client;
use super::pki::Pki;
use super::{eventually, free_port, require};

/// One etcd member.
pub struct Etcd {
    binary: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    /// The test's own client when etcd takes TLS only.
    tls: Option<reqwest::blocking::Client>,
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
            tls: None,
        };
        etcd.resume();
        Some(etcd)
    }

    /// Starts etcd serving TLS with `pki`'s server certificate, taking
    /// only clients with a certificate `pki`'s CA signed (etcd's
    /// `--client-cert-auth`); its files are `ca.pem`, `server.pem` and
    /// `server.key` in [`Etcd::dir`].
    pub fn start_secured(pki: &Pki) -> Option<Etcd> {
        let binary = require("etcd")?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
        std::fs::write(dir.path().join("server.pem"), &pki.cert_pem).unwrap();
        std::fs::write(dir.path().join("server.key"), &pki.key_pem).unwrap();
        let (cert, key) = pki.client(None);
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap()])
            .identity(reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).unwrap())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut etcd = Etcd {
            binary,
            child: None,
            dir,
            client_port: free_port(),
            peer_port: free_port(),
            tls: Some(http),
        };
        etcd.resume();
        Some(etcd)
    }

    /// Where [`Etcd::start_secured`] keeps its certificate files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Turns authentication on, with a `root` user and `user` (password
    /// `password`) holding the root role.
    pub fn enable_auth(&self, user: &str, password: &str) {
        self.call("/v3/auth/role/add", json!({ "name": "root" }));
        for (name, pass) in [("root", "root-password"), (user, password)] {
            self.call(
                "/v3/auth/user/add",
                json!({ "name": name, "password": pass }),
            );
            self.call(
                "/v3/auth/user/grant",
                json!({ "user": name, "role": "root" }),
            );
        }
        self.call("/v3/auth/enable", json!({}));
    }

    /// A call to etcd's v3 JSON gateway that must succeed.
    fn call(&self, path: &str, body: Value) -> Value {
        let plain;
        let http = match &self.tls {
            Some(http) => http,
            None => {
                plain = client();
                &plain
            }
        };
        let response = http
            .post(format!("{}{path}", self.client_url()))
            .json(&body)
            .send()
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().unwrap();
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    /// What flagd's `--cluster` takes.
    pub fn url(&self) -> String {
        format!("etcd://127.0.0.1:{}", self.client_port)
    }

    fn client_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
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
        let mut command = Command::new(&self.binary);
        if self.tls.is_some() {
            let file = |name: &str| self.dir.path().join(name);
            command
                .arg("--cert-file")
                .arg(file("server.pem"))
                .arg("--key-file")
                .arg(file("server.key"))
                .arg("--trusted-ca-file")
                .arg(file("ca.pem"))
                .arg("--client-cert-auth");
        }
        let child = command
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
        let plain = client();
        let http = self.tls.as_ref().unwrap_or(&plain);
        let health = format!("{}/health", self.client_url());
        eventually(Duration::from_secs(30), "etcd to be healthy", || {
            let body: Value = http.get(&health).send().ok()?.json().ok()?;
            (body["health"] == "true").then_some(())
        });
    }

    /// Writes `value` at `key` with no lease, as `etcdctl put` does (a
    /// hand edit).
    pub fn put(&self, key: &str, value: &str) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        self.call(
            "/v3/kv/put",
            json!({ "key": b64.encode(key), "value": b64.encode(value) }),
        );
    }

    /// Writes `count` keys `PREFIX<n>` with `value` each, 100 to a
    /// transaction (etcd's default limit is 128 operations).
    pub fn put_many(&self, prefix: &str, count: usize, value: &dyn Fn(usize) -> String) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        for start in (0..count).step_by(100) {
            let ops: Vec<Value> = (start..(start + 100).min(count))
                .map(|n| {
                    json!({ "request_put": {
                        "key": b64.encode(format!("{prefix}{n:020}")),
                        "value": b64.encode(value(n)),
                    }})
                })
                .collect();
            self.call("/v3/kv/txn", json!({ "success": ops }));
        }
    }

    /// The store's revision: one more for every write (keepalives and
    /// reads do not count).
    pub fn revision(&self) -> i64 {
        let body = self.call("/v3/kv/range", json!({ "key": "AA==", "count_only": true }));
        body["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    /// The size of etcd's database file in bytes.
    pub fn db_size(&self) -> u64 {
        let body = self.call("/v3/maintenance/status", json!({}));
        body["dbSize"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    /// Stops etcd, keeps a copy of its data directory and starts it again:
    /// a snapshot for [`Etcd::restore`].
    pub fn snapshot(&mut self) -> tempfile::TempDir {
        self.stop();
        let copy = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(self.dir.path().join("data"))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
        self.resume();
        copy
    }

    /// Stops etcd and starts it again on `snapshot`'s data (from
    /// [`Etcd::snapshot`]), or on none: etcd restored from an old backup,
    /// or restored empty.
    pub fn restore(&mut self, snapshot: Option<&tempfile::TempDir>) {
        self.stop();
        let data = self.dir.path().join("data");
        std::fs::remove_dir_all(&data).unwrap();
        if let Some(snapshot) = snapshot {
            let status = Command::new("cp")
                .arg("-a")
                .arg(snapshot.path().join("data"))
                .arg(self.dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        self.resume();
    }

    /// `key` as etcd's gateway answers it (`lease`, revisions; the value
    /// base64), if it exists.
    pub fn kv(&self, key: &str) -> Option<Value> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = self.call("/v3/kv/range", json!({ "key": b64.encode(key) }));
        body["kvs"].get(0).cloned()
    }

    /// The value of `key`, read with etcd's own HTTP gateway (v3 JSON).
    pub fn get(&self, key: &str) -> Option<String> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = self.call("/v3/kv/range", json!({ "key": b64.encode(key) }));
        let value = body["kvs"][0]["value"].as_str()?;
        String::from_utf8(b64.decode(value).ok()?).ok()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}
