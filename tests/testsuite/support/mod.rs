//! What the integration tests share. One tree for all of them: a helper
//! lives here once, and the compiler's dead-code check covers it, since the
//! whole suite is one crate.

pub mod browser;
pub mod etcd;
pub mod files;
pub mod flagd;
pub mod gitops;
pub mod netns;
pub mod node;
pub mod pki;
pub mod prometheus;
pub mod props;
pub mod rulesets;

use std::cell::Cell;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The container image's name: what the container test builds from the
/// shipped `Containerfile` and what the Kubernetes manifests under
/// `deploy/` run (docs/deploy.md), tagged with the crate's version.
pub const IMAGE: &str = "ghcr.io/hotswap-flags/flagd";

/// A port nobody listens on now on 127.0.0.1 (bound, then released), for
/// a server the test starts and must name before it runs.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How long a condition may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

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

/// Fails unless the text at JSON `pointer` in `doc` contains `needle`; the
/// failure shows the whole document, since the rest of it usually says why.
pub fn assert_says(doc: &serde_json::Value, pointer: &str, needle: &str) {
    let text = doc.pointer(pointer).and_then(serde_json::Value::as_str);
    assert!(
        text.is_some_and(|t| t.contains(needle)),
        "expected {pointer} to contain {needle:?}: {doc}"
    );
}

/// The text at `field` of each element of the JSON array `list`.
pub fn texts_of<'a>(list: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| {
            e[field]
                .as_str()
                .unwrap_or_else(|| panic!("no text {field}: {e}"))
        })
        .collect()
}

/// The one rule for a program a test needs that cargo does not build
/// (`git`, `prometheus`, `node`, `chromium`, `python3`, `openssl`, `etcd`,
/// `podman`, `runc`, `ip`, `iptables`; the README lists them, checked by
/// `readme::the_prerequisites_name_every_program_the_tests_require`): its
/// path when it is on `PATH`. When it is not, the test is skipped — a loud
/// `SKIPPED` line, and `None` for the test to return on — unless `CI` is
/// set: CI installs every one of them, so there a missing program is a
/// failure, never a quiet pass.
///
/// ```ignore
/// let Some(node) = require("node") else { return };
/// ```
pub fn require(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    });
    match found {
        Some(path) => {
            if program == "git" {
                GIT_REQUIRED.set(true);
            }
            Some(path)
        }
        None => {
            unavailable(&format!(
                "`{program}` is not installed ({})",
                install_hint(program)
            ));
            None
        }
    }
}

/// [`require`]'s rule for what a program needs beyond itself (a Python
/// module, the packages `npm ci` installs): `Some(())` when `present`,
/// otherwise skipped, or failed under `CI`, saying `what` is missing.
pub fn require_that(present: bool, what: &str) -> Option<()> {
    if present {
        return Some(());
    }
    unavailable(what);
    None
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// How to get `program` on Debian, as the skip message says it; the
/// README's apt-get line must install these packages (readme.rs).
pub fn install_hint(program: &str) -> &'static str {
    match program {
        "node" | "npm" => "apt-get install nodejs npm",
        "chromium" => "apt-get install chromium",
        "prometheus" => "apt-get install prometheus",
        "python3" => "apt-get install python3",
        "openssl" => "apt-get install openssl",
        "git" => "apt-get install git",
        "etcd" => "apt-get install etcd-server",
        "podman" => "apt-get install podman runc",
        "runc" => "apt-get install runc",
        "ip" => "apt-get install iproute2",
        "iptables" => "apt-get install iptables",
        _ => "install it",
    }
}

/// Fails the test under `CI`; otherwise says loudly that it is skipped:
/// on the real stderr (the harness would swallow `eprintln!` of a passing
/// test) and, when `scripts/test.sh` asks through `TESTS_SKIPPED_FILE`, in
/// a file it prints after the run (nextest shows no output of a passing
/// test).
fn unavailable(why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    if std::env::var_os("CI").is_some() {
        panic!("{test} cannot run: {why} (CI is set, so this is a failure, not a skip)");
    }
    let line = format!("SKIPPED: {test}: {why}");
    let _ = writeln!(std::io::stderr(), "\n*** {line} ***\n");
    if let Some(file) = std::env::var_os("TESTS_SKIPPED_FILE") {
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| writeln!(f, "{line}"));
    }
}

thread_local! {
    /// Whether this test called `require("git")`: [`files::git`] insists, so
    /// that no test reaches git without the rule above.
    static GIT_REQUIRED: Cell<bool> = const { Cell::new(false) };
}

/// Panics unless the running test called `require("git")` first.
pub(crate) fn assert_git_required() {
    assert!(
        GIT_REQUIRED.get(),
        "this test runs git: start it with `let Some(_) = require(\"git\") else {{ return }};`"
    );
}
