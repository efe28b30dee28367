//! The harness for tests in a real browser: the page of `tests/browser`
//! (the OpenFeature web SDK with the OFREP web provider, bundled by esbuild)
//! served from an origin of its own, and headless Chromium driven by
//! `tests/browser/drive.mjs` (puppeteer-core), which reports what the page
//! shows each time it changes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{require, require_that};

/// What a browser test needs beyond cargo: node, Chromium and the packages
/// `npm ci` installs in `tests/browser` (scripts/test.sh runs it).
pub struct Browser {
    node: PathBuf,
    chromium: PathBuf,
}

impl Browser {
    /// `None` (skipped loudly, or failed under `CI`) when node, Chromium or
    /// the page's packages are missing; see [`require`].
    pub fn require() -> Option<Browser> {
        let node = require("node")?;
        let chromium = require("chromium")?;
        require_that(
            dir().join("node_modules/puppeteer-core").is_dir(),
            "tests/browser has no node_modules (run `npm ci` there; scripts/test.sh does)",
        )?;
        Some(Browser { node, chromium })
    }

    /// Bundles the page and serves it on an ephemeral port of 127.0.0.1: an
    /// origin other than flagd's.
    pub fn site(&self) -> Site {
        let bundle = tempfile::tempdir().unwrap();
        // esbuild's own binary, or the node script standing for it when
        // npm ran no install script: either runs as a program.
        let out = Command::new(dir().join("node_modules/.bin/esbuild"))
            .args(["page.js", "--bundle", "--format=esm", "--target=es2022"])
            .arg(format!(
                "--outfile={}",
                bundle.path().join("page.js").display()
            ))
            .current_dir(dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "esbuild failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Site::serve(bundle)
    }

    /// Opens `url` in headless Chromium.
    pub fn open(&self, url: &str) -> Page {
        Page::open(&self.node, &self.chromium, url)
    }

    /// Headless Chromium driven command by command
    /// (`tests/browser/dashboard.mjs`), for flagd's own dashboard.
    pub fn driver(&self) -> Driver {
        Driver::start(&self.node, &self.chromium)
    }
}

/// A script of `tests/browser` under node: its stdout lines, each with
/// when it arrived, on a channel; its stderr (the page's console, errors and
/// failed requests) kept as the log. Closing stdin asks the script to close
/// Chromium and exit; on drop it gets a few seconds, then is killed.
struct NodeScript {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<(Instant, String)>,
    log: Arc<Mutex<Vec<String>>>,
}

impl NodeScript {
    fn start(node: &Path, chromium: &Path, script: &str, args: &[&str]) -> NodeScript {
        let mut child = Command::new(node)
            .arg(script)
            .args(args)
            .env("CHROMIUM", chromium)
            .current_dir(dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send((Instant::now(), line));
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        NodeScript {
            stdin: child.stdin.take(),
            child,
            lines,
            log,
        }
    }

    /// What the script logged so far.
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for NodeScript {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium under `tests/browser/dashboard.mjs`: [`Driver::run`] sends one
/// command and waits for its answer. Closed on drop.
pub struct Driver(NodeScript);

impl Driver {
    fn start(node: &Path, chromium: &Path) -> Driver {
        Driver(NodeScript::start(node, chromium, "dashboard.mjs", &[]))
    }

    /// Runs `command` (`{"op": …}`, see dashboard.mjs); its value, or
    /// `Err` with the driver's message.
    pub fn try_run(&mut self, command: Value) -> Result<Value, String> {
        let stdin = self.0.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
        let (_, line) = self
            .0
            .lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no answer to {command}; browser log:\n{}", self.log()));
        let answer: Value = serde_json::from_str(&line).unwrap();
        if answer["ok"] == true {
            Ok(answer["value"].clone())
        } else {
            Err(answer["error"].as_str().unwrap_or("?").to_owned())
        }
    }

    /// [`Driver::try_run`], failing the test on an error.
    pub fn run(&mut self, command: Value) -> Value {
        match self.try_run(command.clone()) {
            Ok(v) => v,
            Err(e) => panic!("{command} failed: {e}\nbrowser log:\n{}", self.log()),
        }
    }

    /// What the page logged so far.
    pub fn log(&self) -> String {
        self.0.log()
    }
}

/// `tests/browser`.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The page's origin: `index.html` from `tests/browser`, `page.js` from the
/// bundle; anything else is a 404.
pub struct Site {
    /// `http://127.0.0.1:PORT`, what flagd's `--cors-origin` takes.
    pub origin: String,
    _bundle: Arc<tempfile::TempDir>,
}

impl Site {
    fn serve(bundle: tempfile::TempDir) -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let bundle = Arc::new(bundle);
        let files = Arc::clone(&bundle);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let files = Arc::clone(&files);
                // A connection of its own each: Chromium opens sockets
                // ahead of need, and one idle socket must not hold up the
                // page.
                std::thread::spawn(move || answer(stream, files.path()));
            }
        });
        Site {
            origin,
            _bundle: bundle,
        }
    }

    /// The page's address with `query` (see tests/browser/page.js).
    pub fn page(&self, query: &str) -> String {
        format!("{}/index.html?{query}", self.origin)
    }
}

/// Answers one request on `stream` with a file, and closes it.
fn answer(mut stream: TcpStream, bundle: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).unwrap_or(0) == 0 {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).unwrap_or(0) > 2 {
        header.clear();
    }
    let path = request.split(' ').nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let file = match path {
        "/" | "/index.html" => Some((dir().join("index.html"), "text/html")),
        "/page.js" => Some((bundle.join("page.js"), "text/javascript")),
        _ => None,
    };
    let (status, content_type, body) =
        match file.and_then(|(p, t)| Some((std::fs::read(p).ok()?, t))) {
            Some((body, content_type)) => ("200 OK", content_type, body),
            None => ("404 Not Found", "text/plain", b"not found".to_vec()),
        };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

/// A page open in headless Chromium, closed on drop.
pub struct Page {
    /// `tests/browser/drive.mjs`, reporting each text the page shows.
    driver: NodeScript,
    /// The latest of them, as JSON (a string when it is not JSON), and when.
    shown: Value,
    shown_at: Instant,
}

impl Page {
    fn open(node: &Path, chromium: &Path, url: &str) -> Page {
        Page {
            driver: NodeScript::start(node, chromium, "drive.mjs", &[url]),
            shown: Value::Null,
            shown_at: Instant::now(),
        }
    }

    /// Waits up to `within` for what the page shows to satisfy `ok`; returns
    /// it and when the page showed it.
    pub fn wait_for(
        &mut self,
        within: Duration,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> (Value, Instant) {
        self.wait_until(Instant::now() + within, what, ok)
    }

    /// [`Page::wait_for`] with a deadline: a report that arrived before the
    /// call counts, with its own time.
    pub fn wait_until(
        &mut self,
        deadline: Instant,
        what: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> (Value, Instant) {
        loop {
            if ok(&self.shown) {
                return (self.shown.clone(), self.shown_at);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.driver.lines.recv_timeout(left) {
                Ok((when, text)) => {
                    self.shown = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    self.shown_at = when;
                }
                Err(_) => panic!(
                    "the page did not show {what} in time; it shows {}\nbrowser log:\n{}",
                    self.shown,
                    self.driver.log()
                ),
            }
        }
    }
}
