//! Node scripts that answer one JSON request: the reference evaluators
//! (flagd-core, unleash-client) the differential tests compare against.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `node SCRIPT` in `dir` with `request` on its stdin and returns its
/// stdout; a script that fails fails the test with its stderr. The request
/// is written from another thread, so a script that answers while still
/// reading cannot deadlock on a full pipe.
pub fn answer(node: &Path, dir: &Path, script: &str, request: &serde_json::Value) -> Vec<u8> {
    let mut child = Command::new(node)
        .arg(script)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run node {script}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let body = serde_json::to_vec(request).unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().expect("write the request to node");
    assert!(
        out.status.success(),
        "{script} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
