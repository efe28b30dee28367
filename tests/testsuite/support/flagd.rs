//! The harness for tests that drive the real `flagd` binary over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub use super::files::{git, replace_file, write};
pub use super::{DEADLINE, assert_says, eventually, require, texts_of};
use serde_json::Value;

/// The `flagd` binary cargo built for the tests.
pub fn flagd_binary() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("flagd"))
}

/// A running flagd, killed on drop.
pub struct Daemon {
    pub child: Child,
    pub base: String,
    pub stderr: mpsc::Receiver<String>,
    /// The state dir [`Daemon::prod`] made (its guard and the path given to
    /// flagd); removed only after flagd is killed.
    state: Option<(tempfile::TempDir, PathBuf)>,
}

impl Daemon {
    /// Starts flagd with `args` (plus `--listen 127.0.0.1:0`, and `--poll
    /// 200ms` unless `args` set a poll interval) and waits for its
    /// "listening" line.
    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_in(Path::new("."), args)
    }

    /// [`Daemon::start`] with `dir` as flagd's working directory, for
    /// commands run as a user would type them (relative `--repo`, the
    /// default `--state-dir`).
    pub fn start_in(dir: &Path, args: &[&str]) -> Daemon {
        let poll: &[&str] = if args.contains(&"--poll") {
            &[]
        } else {
            &["--poll", "200ms"]
        };
        let mut command = Command::new(flagd_binary());
        command
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .args(poll)
            .current_dir(dir);
        Daemon::launch(command)
    }

    /// Starts flagd as `command` says (the binary is [`flagd_binary`], or a
    /// wrapper that runs it, such as `ip netns exec`) and waits for its
    /// "listening" line.
    pub fn launch(mut command: Command) -> Daemon {
        let mut child = command
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
            state: None,
        }
    }

    /// Starts flagd for environment `prod` with `args` (its source and any
    /// options) and a fresh state dir of its own: for the many tests that
    /// neither restart flagd on the same state nor prepare it.
    pub fn prod(args: &[&str]) -> Daemon {
        Daemon::for_env("prod", args)
    }

    /// [`Daemon::prod`] for environment `env`.
    pub fn for_env(env: &str, args: &[&str]) -> Daemon {
        let (guard, state) = state_dir();
        let mut all = vec!["--env", env, "--state-dir", state.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut d = Daemon::start(&all);
        d.state = Some((guard, state));
        d
    }

    /// Starts flagd from a configuration file (`--config`) holding
    /// `settings`, environment `prod` and a fresh state dir: [`Daemon::prod`]
    /// for the settings flagd reads from a file.
    pub fn from_config(settings: &str) -> Daemon {
        let (guard, state) = state_dir();
        let config = guard.path().join("flagd.toml");
        let state_setting = format!("state-dir = {:?}\n", state.to_str().unwrap());
        std::fs::write(
            &config,
            format!("env = \"prod\"\n{state_setting}{settings}"),
        )
        .unwrap();
        let mut d = Daemon::start(&["--config", config.to_str().unwrap()]);
        d.state = Some((guard, state));
        d
    }

    /// [`Daemon::prod`] watching `repo`'s directory, plus `options`.
    pub fn on_repo(repo: &TempRepo, options: &[&str]) -> Daemon {
        let mut args = vec!["--repo", repo.path_str()];
        args.extend_from_slice(options);
        Daemon::prod(&args)
    }

    /// Waits for the first good load: until then `/readyz` answers 503.
    pub fn wait_ready(&self) {
        eventually(DEADLINE, "readiness (the first good load)", || {
            (self.get("/readyz").0 == 200).then_some(())
        });
    }

    /// Waits until `/api/v1/ruleset` reports a failed load, and returns it.
    pub fn failed_load(&self, within: Duration) -> Value {
        eventually(within, "a failed load in /api/v1/ruleset", || {
            let (_, s) = self.get("/api/v1/ruleset");
            s["lastError"].is_object().then_some(s)
        })
    }

    /// The state dir of a daemon started by [`Daemon::prod`].
    pub fn state_path(&self) -> &Path {
        &self.state.as_ref().expect("started by Daemon::prod").1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = client().get(self.url(path)).send().expect("GET");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// The body of a GET that must answer 200.
    pub fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// GET `path` with bearer `token`, which must answer 200 with JSON.
    pub fn get_ok_as(&self, path: &str, token: &str) -> Value {
        let resp = client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .expect("GET");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().unwrap()
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

    /// Waits until `flag` evaluates to `value` for `userId=u1`.
    pub fn await_value(&self, within: Duration, flag: &str, value: Value) {
        eventually(within, &format!("`{flag}` to serve {value}"), || {
            (self.value(flag).as_ref() == Some(&value)).then_some(())
        });
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: signals a child this harness started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM");
        eventually(DEADLINE, "flagd to stop after SIGTERM", || {
            self.child.try_wait().unwrap()
        })
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

/// A stand-in HTTP server on an ephemeral port: every request, whatever its
/// path, gets 200 with `content_type` and what `body` holds at that moment.
pub fn serve(content_type: &'static str, body: Arc<Mutex<String>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let body = body.lock().unwrap().clone();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
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

    /// A repository whose `prod` serves the string flag `banner = value`.
    pub fn with_banner(value: &str) -> TempRepo {
        TempRepo::new(&[(BANNER_FILE, &string_flag("banner", value))])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn path_str(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// Replaces a file the way editors do (see [`replace_file`]).
    pub fn save(&self, path: &str, text: &str) {
        replace_file(&self.dir.path().join(path), text.as_bytes());
    }

    /// Makes `banner` serve `value`, saved as editors save.
    pub fn save_banner(&self, value: &str) {
        self.save(BANNER_FILE, &string_flag("banner", value));
    }
}

/// Where the tests keep the string flag `banner`.
pub const BANNER_FILE: &str = "envs/prod/banner.yaml";

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

/// The value of one series in Prometheus text, e.g.
/// `flagd_reloads_total{result="failure"}`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

/// A bare git repository that flagd follows over `file://`, and a clone to
/// push to it from; `main` holds flags.toml and the string flag `banner`.
pub struct Remote {
    pub dir: tempfile::TempDir,
    pub bare: PathBuf,
    pub work: PathBuf,
    /// Where the flags repository sits in the git repository.
    pub flags_dir: PathBuf,
}

impl Remote {
    /// A remote whose `main` serves `banner = value`; `None` when the test
    /// is skipped for want of git (see [`require`]).
    pub fn new(value: &str) -> Option<Remote> {
        Remote::at("", value)
    }

    /// Like [`Remote::new`], with the flags repository in directory
    /// `prefix` of the git repository (a monorepo).
    pub fn at(prefix: &str, value: &str) -> Option<Remote> {
        require("git")?;
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("flags.git");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare"]);
        git(dir.path(), &["clone", "-q", bare.to_str().unwrap(), "work"]);
        let flags_dir = work.join(prefix);
        write(&flags_dir, "flags.toml", CONFIG);
        let remote = Remote {
            dir,
            bare,
            work,
            flags_dir,
        };
        remote.push(value);
        Some(remote)
    }

    /// What flagd's `--git-url` takes.
    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Commits `banner = value` and pushes it to `main`; returns the commit.
    pub fn push(&self, value: &str) -> String {
        write(&self.flags_dir, BANNER_FILE, &string_flag("banner", value));
        self.commit_and_push(value)
    }

    /// Commits the clone as it is and pushes it to `main`; returns the commit.
    pub fn commit_and_push(&self, message: &str) -> String {
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", message]);
        git(&self.work, &["push", "-q", "origin", "HEAD:main"]);
        git(&self.work, &["rev-parse", "HEAD"]).trim().to_owned()
    }
}

/// The flags file of the rollout tests: the boolean flag `checkout` rolled
/// out to `on` by a canary, whose `stages:` (indented as under `rollout:`)
/// and whatever follows them are `rest`.
pub fn checkout_canary(rest: &str) -> String {
    format!(
        "flags:\n  checkout:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout:\n      strategy: canary\n      serve: on\n{rest}"
    )
}

/// Each audit log entry's event and the percentage it moved the rollout to,
/// oldest first: the story of a rollout, to compare with the expected one.
pub fn transitions(audit: &Value) -> Vec<(String, f64)> {
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["to"]["percentage"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// `flagctl bundle --env prod --repo REPO`, to which the caller adds `-o`.
pub fn bundle_command(repo: &TempRepo) -> assert_cmd::Command {
    let mut cmd = super::gitops::flagctl(Path::new("."));
    cmd.args(["bundle", "--env", "prod", "--repo", repo.path_str()]);
    cmd
}

/// `flagctl bundle` of `repo`'s `prod` environment into `out`, signed with
/// `sign_key` if given: the file a `--bundle` flagd serves.
pub fn bundle(repo: &TempRepo, out: &Path, sign_key: Option<&Path>) {
    let mut cmd = bundle_command(repo);
    cmd.arg("-o").arg(out);
    if let Some(key) = sign_key {
        cmd.arg("--sign-key").arg(key);
    }
    cmd.assert().success();
}

/// Reads `stream` into `received` until `done` holds for all that was
/// received, the peer closes, or `within` passes; whether `done` held. For
/// tests that speak raw HTTP (event streams, hostile clients).
pub fn read_until(
    stream: &mut std::net::TcpStream,
    received: &mut String,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while !done(received) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return done(received),
            Ok(n) => received.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => return done(received),
        }
    }
    true
}
