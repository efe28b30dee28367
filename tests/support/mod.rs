//! Shared harness for tests that drive the real `flagd` binary over HTTP.
#![allow(dead_code)] // each test file uses a different part of it

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A running flagd, killed on drop.
pub struct Daemon {
    pub child: Child,
    pub base: String,
    pub stderr: mpsc::Receiver<String>,
}

impl Daemon {
    /// Starts flagd with `args` (plus `--listen 127.0.0.1:0`, and `--poll
    /// 200ms` unless `args` set a poll interval) and waits for its
    /// "listening" line.
    pub fn start(args: &[&str]) -> Daemon {
        let poll: &[&str] = if args.contains(&"--poll") {
            &[]
        } else {
            &["--poll", "200ms"]
        };
        let mut child = Command::new(assert_cmd::cargo::cargo_bin!("flagd"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .args(poll)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("flagd starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok() {
                let _ = tx.send(line.trim().to_owned());
            }
            // Keep draining so flagd never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let line = match rx.recv_timeout(DEADLINE) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let logs: Vec<String> = err_rx.try_iter().collect();
                panic!(
                    "flagd did not report its address; stderr:\n{}",
                    logs.join("\n")
                );
            }
        };
        let base = line
            .strip_prefix("flagd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        Daemon {
            child,
            base,
            stderr: err_rx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = client().get(self.url(path)).send().expect("GET");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    pub fn get_text(&self, path: &str) -> String {
        client()
            .get(self.url(path))
            .send()
            .expect("GET")
            .text()
            .unwrap()
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let r = client()
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// The value a flag evaluates to for `userId=u1` (None on error).
    pub fn value(&self, flag: &str) -> Option<Value> {
        let (status, body) = self.get(&format!("/api/v1/flags/{flag}/evaluate?userId=u1"));
        (status == 200).then(|| body["value"].clone())
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "flagd did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything flagd logged so far.
    pub fn logs(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Polls `f` until it returns `Some`, failing after `deadline`.
pub fn eventually<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A flags repository in a temp dir with one environment `prod`.
pub struct TempRepo {
    pub dir: tempfile::TempDir,
}

pub const CONFIG: &str = "version = 1\n[[environments]]\nname = \"prod\"\npath = \"envs/prod\"\n";

impl TempRepo {
    pub fn new(files: &[(&str, &str)]) -> TempRepo {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "flags.toml", CONFIG);
        for (path, text) in files {
            write(dir.path(), path, text);
        }
        TempRepo { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn path_str(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// Replaces a file the way editors do: write a temp file, rename it over.
    pub fn save(&self, path: &str, text: &str) {
        let target = self.dir.path().join(path);
        let tmp = target.with_extension("tmp~");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &target).unwrap();
    }
}

pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A string flag `key` whose default variant serves `value`.
pub fn string_flag(key: &str, value: &str) -> String {
    format!(
        "flags:\n  {key}:\n    type: string\n    variants: {{ current: \"{value}\" }}\n    default: current\n"
    )
}

/// A scratch directory for flagd's state.
pub fn state_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    (dir, path)
}

/// Runs `git` in `dir` with a fixed identity.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of one series in Prometheus text, e.g.
/// `flagd_reloads_total{result="failure"}`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}
